"""``scripts/caption.py`` run as a learner runs it: a tiny training, its evaluation and its figure, on real
MNIST pictures.

The full training (the issue's 0.97 exact-caption target) is a long run reported in the docs, never a test;
here a few steps check that training writes its weights and history, that evaluation and ``show`` read them
back and agree with the history, and that bad arguments are one line.
"""
import json
import re

import numpy as np
import pytest

from mnist_support import requires_mnist
from .script_support import assert_png, assert_usage_error, run_script, succeeded


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Two epochs of 4 steps on 256 new pictures each (--fresh), the rate halved after the first."""
    folder = tmp_path_factory.mktemp("caption")
    weights, history = folder / "captioner.npz", folder / "captioner.json"
    stdout = succeeded(run_script("caption.py", "train", "--epochs", "2", "--train-size", "256", "--test-size", "128",
                                  "--eval-samples", "64", "--batch-size", "64", "--fresh", "--lr-decay-at", "1",
                                  "--lr-decay", "0.5", "--save", weights, "--history", history, "--no-progress",
                                  timeout=300))
    return weights, json.loads(history.read_text()), stdout


def accuracies(stdout):
    exact = re.search(r"exact-caption accuracy: ([0-9.]+)", stdout)
    token = re.search(r"token accuracy: ([0-9.]+)", stdout)
    assert exact and token, stdout
    return float(exact.group(1)), float(token.group(1))


@requires_mnist
def test_a_tiny_training_saves_weights_curves_and_a_history_of_every_step(trained):
    weights, history, stdout = trained
    assert weights.is_file(), stdout
    assert_png(weights.with_suffix(".png"))  # the curves, beside the weights by default
    assert history["iterations"] == len(history["loss"]) == 8, history["iterations"]
    assert history["epoch"] == [1, 2] and len(history["test_acc"]) == 2
    assert "step 4: learning rate now 0.0005" in stdout, stdout  # the decay at epoch 1 of 4 steps each
    exact, token = accuracies(stdout)
    assert (exact, token) == (round(history["test_exact"], 4), round(history["test_token"], 4))
    assert 0.0 <= exact <= token <= 1.0


@requires_mnist
def test_evaluate_reads_the_weights_back_and_measures_what_training_measured(trained):
    weights, history, _ = trained
    result = succeeded(run_script("caption.py", "evaluate", "--weights", weights, "--test-size", "128", timeout=300))
    assert accuracies(result) == (round(history["test_exact"], 4), round(history["test_token"], 4)), result


@requires_mnist
def test_show_draws_the_pictures_and_counts_the_wrong_captions(trained, tmp_path):
    weights, history, _ = trained
    figure = tmp_path / "captions.png"
    result = succeeded(run_script("caption.py", "show", "--weights", weights, "--count", "4", "--out", figure,
                                  timeout=300))
    assert_png(figure)
    assert re.search(r"wrong captions: [0-4] of 4 test pictures", result), result
    wrong_figure = tmp_path / "wrong.png"
    result = succeeded(run_script("caption.py", "show", "--weights", weights, "--wrong", "--count", "3",
                                  "--test-size", "128", "--out", wrong_figure, timeout=300))
    assert_png(wrong_figure)
    wrong = int(re.search(r"wrong captions: (\d+) of 128", result).group(1))
    assert wrong == round((1 - history["test_exact"]) * 128), (wrong, history["test_exact"])


@requires_mnist
def test_training_on_from_saved_weights_starts_from_them(trained, tmp_path):
    """--init-weights: with a negligible rate, the weights after a few steps are still the saved ones (and
    not the seed's); a captioner of another shape is refused in one line."""
    weights, _, _ = trained
    on = tmp_path / "on.npz"
    succeeded(run_script("caption.py", "train", "--init-weights", weights, "--epochs", "1", "--train-size", "64",
                         "--test-size", "32", "--eval-samples", "32", "--lr", "1e-12", "--save", on, "--no-plot",
                         "--no-progress", timeout=300))
    with np.load(weights) as saved, np.load(on) as after:
        for name in ("W1", "weight_hh", "W_out"):
            np.testing.assert_allclose(after[name], saved[name], rtol=0, atol=1e-9, err_msg=name)
    other = run_script("caption.py", "train", "--init-weights", weights, "--hidden-size", "64", "--epochs", "1",
                       "--train-size", "64", "--save", tmp_path / "other.npz", "--no-plot", "--no-progress")
    assert other.returncode != 0 and "holds a captioner of another shape: hidden_size 256 (not 64)" in other.stderr, \
        other.stderr
    assert len(other.stderr.strip().splitlines()) == 1, other.stderr


@pytest.mark.parametrize("args, words", [
    (("train", "--epochs", "0"), "positive integer"),
    (("train", "--epochs", "2", "--lr-decay-at", "2"), "at or past the end of training"),
    (("train", "--lr-decay-at", "1", "--lr-decay", "1.5"), "must be below 1"),
    (("train", "--epochs", "2", "--warmup", "1000", "--lr-decay-at", "1"), "falls inside the --warmup"),
    (("evaluate", "--weights", "no-such-file.npz"), "no weights file at no-such-file.npz"),
    (("show", "--weights", "no-such-file.npz"), "no weights file at no-such-file.npz"),
    (("train", "--init-weights", "no-such-file.npz"), "no weights file at no-such-file.npz"),
])
def test_bad_arguments_are_one_line(args, words):
    assert_usage_error(run_script("caption.py", *args), words)


@requires_mnist
def test_both_backends_train_the_same_loss_curve_in_float64(tmp_path):
    """compare_runs.py on caption.py's histories: the whole-run parity check, in miniature (6 steps, the
    first 3 a warmup)."""
    histories = []
    for backend in ("scratch", "torch"):
        weights = tmp_path / f"captioner-{backend}.npz"
        succeeded(run_script("caption.py", "train", "--backend", backend, "--dtype", "float64", "--epochs", "2",
                             "--train-size", "96", "--test-size", "32", "--eval-samples", "32", "--batch-size", "32",
                             "--fresh", "--warmup", "3", "--save", weights, "--no-plot", "--no-progress",
                             timeout=300))
        histories.append(weights.with_suffix(".json"))
    result = succeeded(run_script("compare_runs.py", *histories, timeout=120))
    assert "captioner, float64, 6 iterations" in result, result
    assert "agree within 1e-09" in result, result
