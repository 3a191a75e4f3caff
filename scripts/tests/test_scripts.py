"""Smoke tests of the command-line scripts, run as a user runs them: ``python scripts/X.py ...``.

* train.py with both backends on a small run (the first 500 training images,
  30 iterations): the table, the saved weights and plot, the final
  ``test accuracy: 0.xxxx`` line; the same seed gives the same numbers;
* evaluate.py on the weights train.py saved prints the accuracy train.py
  reported, and on the book's ch03_sample_weight.npz prints 0.9352 with
  both backends;
* gradient_check.py prints differences far below 1e-8;
* bad arguments end with exit code 2 and one line ``error: ...``, no traceback.

The runs that need MNIST are skipped (reason shown) unless DLFS_DATA_DIR is
set; the book-weights ones unless DLFS_BOOK_WEIGHTS_DIR is set too.
"""
import re
import unittest

import numpy as np
import pytest
from parameterized import parameterized

from conftest import book_weight_file, requires_book_weights
from mnist_support import requires_mnist
from .script_support import assert_usage_error, run_script, succeeded

SMALL_RUN = ["--train-limit", "500", "--iters", "30", "--batch-size", "50", "--no-progress"]
ROW = re.compile(r"^\s*\d+\.\d\d\s+\d+\s")  # a row of train.py's table: epoch, iter, ...


def table(stdout):
    """train.py's table as rows of numbers: epoch, iteration, loss, train acc, test acc (elapsed dropped)."""
    rows = [[float(v) for v in line.split()[:5]] for line in stdout.splitlines() if ROW.match(line)]
    assert rows, f"no table rows in\n{stdout}"
    return rows


def final_accuracy(stdout, label):
    """The number on the last line, which must read ``<label>: 0.xxxx``."""
    last = stdout.strip().splitlines()[-1]
    assert re.fullmatch(rf"{label}: [01]\.\d{{4}}", last), f"last line {last!r}"
    return float(last.split(":")[1])


def train_small(tmp_path, backend, name):
    weights, plot = tmp_path / name / "w.npz", tmp_path / name / "curves.png"
    stdout = succeeded(run_script("train.py", "--backend", backend, "--threads", "1", *SMALL_RUN,
                                  "--save", weights, "--plot", plot))
    return stdout, weights, plot


# ---------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------

class TestArguments(unittest.TestCase):

    @parameterized.expand([("train.py", "random minibatches"), ("evaluate.py", "accuracy"),
                           ("gradient_check.py", "backprop")])
    def test_help_describes_the_script(self, script, words):
        stdout = succeeded(run_script(script, "--help"))
        assert stdout.startswith("usage:") and words in stdout

    @parameterized.expand([
        ("unknown_model", "train.py", ["--model", "no_such_net"], "invalid choice"),
        ("inference_only_model", "train.py", ["--model", "three_layer"], "invalid choice"),
        ("negative_iters", "train.py", ["--iters", "-5"], "positive integer"),
        ("iters_and_epochs", "train.py", ["--iters", "10", "--epochs", "1"], "not allowed with"),
        ("zero_lr", "train.py", ["--lr", "0"], "positive number"),
        ("unknown_backend", "evaluate.py", ["--backend", "jax", "--weights", "w.npz"], "invalid choice"),
        ("missing_weights", "evaluate.py", ["--weights", "no/such/file.npz"], "no weights file"),
        ("zero_samples", "gradient_check.py", ["--samples", "0"], "positive integer"),
    ])
    def test_bad_argument_is_one_line_and_exit_2(self, _name, script, args, words):
        assert_usage_error(run_script(script, *args), words)


def test_weights_that_do_not_fit_the_model(tmp_path):
    path = tmp_path / "wrong.npz"
    np.savez(path, W1=np.zeros((20, 784), np.float32), b1=np.zeros(20, np.float32),
             W2=np.zeros((10, 20), np.float32), b2=np.zeros(10, np.float32), __layout__=np.array("out_in"))
    assert_usage_error(run_script("evaluate.py", "--weights", path), "W1: expected shape (50, 784)")


def test_weights_file_that_is_not_npz(tmp_path):
    path = tmp_path / "junk.npz"
    path.write_bytes(b"not a zip file")
    assert_usage_error(run_script("evaluate.py", "--weights", path), "junk.npz")


def test_missing_mnist(tmp_path):
    result = run_script("train.py", "--data-dir", tmp_path, "--no-download", "--iters", "1")
    assert_usage_error(result, str(tmp_path / "MNIST" / "raw"))


# ---------------------------------------------------------------------------
# Training and evaluating
# ---------------------------------------------------------------------------

@requires_mnist
def test_scratch_training_repeats_exactly_and_evaluate_agrees(tmp_path):
    first, weights, plot = train_small(tmp_path, "scratch", "first")
    second, weights_again, _ = train_small(tmp_path, "scratch", "second")

    rows = table(first)
    assert [row[1] for row in rows] == [1, 11, 21, 30]  # the book's i % iter_per_epoch == 0, and the end
    assert rows == table(second)
    accuracy = final_accuracy(first, "test accuracy")
    assert accuracy == rows[-1][4]
    with np.load(weights) as a, np.load(weights_again) as b:
        assert sorted(a.files) == ["W1", "W2", "__config__", "__layout__", "b1", "b2"]
        for name in ("W1", "b1", "W2", "b2"):
            assert a[name].dtype == np.float32
            np.testing.assert_array_equal(a[name], b[name])
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in plot.parent.iterdir() if p.name.startswith(".tmp-")]  # no temporary left

    evaluated = succeeded(run_script("evaluate.py", "--backend", "scratch", "--weights", weights))
    assert final_accuracy(evaluated, "accuracy") == accuracy


@requires_mnist
def test_torch_training_and_evaluate_agree(tmp_path):
    stdout, weights, plot = train_small(tmp_path, "torch", "torch")
    rows = table(stdout)
    assert [row[1] for row in rows] == [1, 11, 21, 30]
    assert rows[-1][2] < rows[0][2]  # the loss went down
    accuracy = final_accuracy(stdout, "test accuracy")
    assert plot.exists()
    evaluated = succeeded(run_script("evaluate.py", "--backend", "torch", "--weights", weights))
    assert final_accuracy(evaluated, "accuracy") == accuracy


class TestBookWeights(unittest.TestCase):

    @parameterized.expand([("scratch",), ("torch",)])
    @requires_mnist
    @requires_book_weights
    def test_chapter3_network_scores_like_the_book(self, backend):
        weights = book_weight_file("ch03_sample_weight.npz")
        stdout = succeeded(run_script("evaluate.py", "--backend", backend, "--model", "three_layer",
                                      "--weights", weights))
        assert final_accuracy(stdout, "accuracy") == 0.9352


@requires_mnist
def test_gradient_check_differences_are_tiny():
    # The torch backend compares its backprop with autograd and with the scratch
    # network's central differences; hidden 10 keeps the finite differences quick.
    stdout = succeeded(run_script("gradient_check.py", "--backend", "torch", "--hidden-size", "10"))
    rows = {line.split("|")[0].strip(): [float(v) for v in line.split("|")[1:]]
            for line in stdout.splitlines() if re.match(r"^[Wb]\d\s", line)}
    assert sorted(rows) == ["W1", "W2", "b1", "b2"], stdout
    for name, diffs in rows.items():
        assert len(diffs) == 2 and all(0 <= d < 1e-8 for d in diffs), (name, diffs)


@requires_mnist
def test_both_backends_start_from_the_same_initial_weights(tmp_path):
    """Unless --native-init, the torch backend starts from the NumPy backend's weights for the seed,
    so the two tables agree up to float32 rounding."""
    scratch_rows = table(train_small(tmp_path, "scratch", "scratch")[0])
    torch_rows = table(train_small(tmp_path, "torch", "torch")[0])
    assert len(scratch_rows) == len(torch_rows)
    for ours, theirs in zip(scratch_rows, torch_rows):
        assert ours[2] == pytest.approx(theirs[2], rel=1e-3)  # loss
        assert ours[3:5] == pytest.approx(theirs[3:5], abs=2e-3)  # accuracies: a rounding may flip an image


@requires_mnist
def test_init_weights_starts_from_a_saved_file(tmp_path):
    _, weights, _ = train_small(tmp_path, "scratch", "first")
    evaluated = final_accuracy(succeeded(run_script("evaluate.py", "--weights", weights)), "accuracy")
    stdout = succeeded(run_script("train.py", "--init-weights", weights, "--iters", "1", "--lr", "1e-12",
                                  "--train-limit", "500", "--no-plot", "--no-progress",
                                  "--save", tmp_path / "again.npz"))
    assert f"starting from {weights}" in stdout
    assert final_accuracy(stdout, "test accuracy") == evaluated
