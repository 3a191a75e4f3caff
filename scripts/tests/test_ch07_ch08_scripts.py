"""Smoke tests of the chapter 7-8 picture scripts and the half-precision evaluation, run as a
user runs them (``python scripts/X.py ...``) with tiny settings:

* ch07_visualize_filters.py draws the filters and feature maps of a SimpleConvNet;
* ch08_misclassified.py evaluates a DeepConvNet on 100 test images and draws its mistakes;
* ch08_half_precision.py prints float32 and float16 accuracies for both backends;
* every script answers --help, and a missing weights file is one line ``error: ...``, exit 2.

The weights are freshly initialised networks saved by the test (no training, no book
files needed); the runs need MNIST and are skipped unless DLFS_DATA_DIR is set.
"""
import re

import numpy as np
from parameterized import parameterized

import scratch
from mnist_support import requires_mnist
from .script_support import assert_png, run_script, succeeded

SCRIPTS = ["ch07_visualize_filters.py", "ch08_misclassified.py", "ch08_half_precision.py"]


def saved_weights(tmp_path, cls_name):
    """A freshly initialised network's parameters in our .npz layout."""
    path = tmp_path / f"{cls_name}.npz"
    getattr(scratch, cls_name)(dtype=np.float32, seed=3).save_params(path)
    return path


@parameterized.expand([(name,) for name in SCRIPTS])
def test_help(script):
    stdout = succeeded(run_script(script, "--help"))
    assert stdout.startswith("usage:") and "--weights" in stdout and "--backend" in stdout


@parameterized.expand([
    ("ch07_visualize_filters.py", []),
    ("ch08_misclassified.py", []),
    ("ch08_half_precision.py", ["--model", "simple_convnet"]),
])
def test_missing_weights_file_is_one_line_exit_2(script, args):
    result = run_script(script, *args, "--weights", "no/such/weights.npz")
    assert result.returncode == 2, result
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "no weights file at no/such/weights.npz" in result.stderr
    assert "Traceback" not in result.stderr


def test_weights_of_another_model_are_one_line_exit_2(tmp_path):
    result = run_script("ch08_misclassified.py", "--weights", saved_weights(tmp_path, "SimpleConvNet"),
                        "--data-dir", tmp_path / "no-mnist", "--no-download")
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    assert "parameters do not fit this network: missing" in result.stderr


@requires_mnist
def test_visualize_filters(tmp_path):
    stdout = succeeded(run_script("ch07_visualize_filters.py", "--weights", saved_weights(tmp_path, "SimpleConvNet"),
                                  "--seed", "1", "--image-index", "3", "--out-dir", tmp_path / "out"))
    for name in ("ch07_filters-scratch.png", "ch07_feature_maps-scratch.png"):
        assert f"saved {tmp_path / 'out' / name}" in stdout
        assert_png(tmp_path / "out" / name)
    assert "test image 3: label 0" in stdout  # MNIST's fourth test image is a 0


@requires_mnist
def test_misclassified(tmp_path):
    png = tmp_path / "wrong.png"
    stdout = succeeded(run_script("ch08_misclassified.py", "--backend", "torch", "--samples", "100", "--max", "6",
                                  "--weights", saved_weights(tmp_path, "DeepConvNet"), "--out", png))
    accuracy = float(re.search(r"^accuracy: ([01]\.\d{4}) on 100 test images$", stdout, re.M).group(1))
    wrong = int(re.search(r"^misclassified: (\d+) of 100$", stdout, re.M).group(1))
    assert wrong == round(100 * (1 - accuracy)) and wrong > 6  # an untrained network is mostly wrong
    drawn = re.search(r"^drawn \(test index: predicted / true\): (.*)$", stdout, re.M).group(1)
    assert len(drawn.split(", ")) == 6
    assert_png(png)


@requires_mnist
def test_half_precision_both_backends(tmp_path):
    stdout = succeeded(run_script("ch08_half_precision.py", "--model", "simple_convnet", "--backend", "both",
                                  "--samples", "50", "--weights", saved_weights(tmp_path, "SimpleConvNet")))
    assert "first 50 of 10000 test images" in stdout
    rows = {line.split()[0]: line.split() for line in stdout.splitlines()
            if line.split() and line.split()[0] in ("scratch", "torch")}
    assert sorted(rows) == ["scratch", "torch"], stdout
    for backend, row in rows.items():
        acc32, acc16 = float(row[1]), float(row[2])
        assert 0 <= acc32 <= 1 and 0 <= acc16 <= 1
        assert "float16" in row, f"{backend} float16 scores are not float16: {row}"
    # the same weights and images: both backends' accuracies are the same in float32
    assert rows["scratch"][1] == rows["torch"][1]


def test_half_precision_defaults_to_a_subset_for_numpy_deep_convnet(tmp_path):
    """NumPy float16 is slow: the scratch DeepConvNet default is 1000 images, and the output says so."""
    import ch08_half_precision as script
    weights = str(tmp_path / "book_style.npz")  # parse_args reads only the file's configuration (none here)
    np.savez(weights, W1=np.zeros((2, 2)))
    for backend, model, expected in (("scratch", "deep_convnet", 1000), ("both", "deep_convnet", 1000),
                                     ("torch", "deep_convnet", 10000), ("scratch", "simple_convnet", 10000)):
        args = script.parse_args(["--model", model, "--backend", backend, "--weights", weights])
        n, note = script.default_samples(args)
        assert n == expected and (note is not None) == (expected < 10000), (backend, model, n, note)
    args = script.parse_args(["--model", "deep_convnet", "--weights", weights, "--samples", "10000"])
    assert script.default_samples(args) == (10000, None)
