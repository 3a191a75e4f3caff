"""The scripts' ``--dataset fashion_mnist``: train.py records the data set with the weights, evaluate.py
takes it from the file and refuses a contradicting one, default output names carry it, and a missing
folder is one line. (``load_fashion_mnist`` itself: parity_tests/test_fashion_mnist.py.)"""
import json
import os

import numpy as np
import pytest

import scratch
from mnist_support import MNIST_DIR
from scratch import serialization
from scratch.mnist import load_fashion_mnist, load_mnist
from .script_support import assert_usage_error, run_script, succeeded

requires_fashion_mnist = pytest.mark.skipif(
    not MNIST_DIR, reason="set DLFS_DATA_DIR to a directory containing FashionMNIST/raw/ to run this test")
TINY_RUN = ("--model", "two_layer", "--dataset", "fashion_mnist", "--iters", "50", "--no-progress", "--no-plot")


@requires_fashion_mnist
def test_scripts_train_and_evaluate_on_fashion_mnist(tmp_path):
    weights = tmp_path / "fashion.npz"
    trained = succeeded(run_script("train.py", *TINY_RUN, "--save", weights))
    assert "fashion_mnist" in trained.splitlines()[0]
    with np.load(weights) as data:
        assert json.loads(str(data["__config__"])) == {"model": "two_layer", "hidden_size": 50,
                                                       "activation": "relu", "dataset": "fashion_mnist"}
    accuracy = trained.strip().splitlines()[-1].split(": ")[1]
    assert 0.3 < float(accuracy) < 0.95, accuracy  # learned something in 50 iterations
    # ... on Fashion-MNIST: the saved weights score that there, and otherwise on MNIST
    net = scratch.TwoLayerNet(784, 50, 10, dtype="float32")
    net.load_params(weights)
    _, (x_test, t_test) = load_fashion_mnist(download=False)
    assert f"{net.accuracy(x_test, t_test):.4f}" == accuracy
    _, (x_digits, t_digits) = load_mnist(download=False)
    assert f"{net.accuracy(x_digits, t_digits):.4f}" != accuracy
    # evaluate.py takes the data set from the file: the same test images, the same accuracy
    assert succeeded(run_script("evaluate.py", "--weights", weights)).strip() == f"accuracy: {accuracy}"
    assert succeeded(run_script("evaluate.py", "--weights", weights, "--dataset", "fashion_mnist")
                     ).strip() == f"accuracy: {accuracy}"
    assert_usage_error(run_script("evaluate.py", "--weights", weights, "--dataset", "mnist"),
                       f"{weights} holds the weights of --model two_layer --activation relu --dataset fashion_mnist "
                       f"--hidden-size 50, not of --dataset mnist")


def test_mnist_weights_are_refused_for_fashion_mnist(tmp_path):
    """A file saved for MNIST records no data set (as before --dataset existed): it means MNIST."""
    weights = tmp_path / "mnist.npz"
    net = scratch.TwoLayerNet(784, 50, 10)
    serialization.save_params(weights, net.params, config={"model": "two_layer", "hidden_size": 50,
                                                           "activation": "relu"})
    assert_usage_error(run_script("evaluate.py", "--weights", weights, "--dataset", "fashion_mnist",
                                  "--data-dir", tmp_path / "none", "--no-download"),
                       f"{weights} holds the weights of --model two_layer --activation relu --dataset mnist "
                       f"--hidden-size 50, not of --dataset fashion_mnist")
    # without --dataset the file's (MNIST) is used: the error is then that MNIST is missing
    assert_usage_error(run_script("evaluate.py", "--weights", weights, "--data-dir", tmp_path / "none",
                                  "--no-download"), f"MNIST not found in {tmp_path / 'none' / 'MNIST' / 'raw'}")


def test_fashion_weights_evaluate_on_fashion_mnist_by_default(tmp_path):
    weights = tmp_path / "fashion.npz"
    net = scratch.TwoLayerNet(784, 50, 10)
    serialization.save_params(weights, net.params, config={"model": "two_layer", "hidden_size": 50,
                                                           "activation": "relu", "dataset": "fashion_mnist"})
    missing = tmp_path / "none" / "FashionMNIST" / "raw"
    assert_usage_error(run_script("evaluate.py", "--weights", weights, "--data-dir", tmp_path / "none",
                                  "--no-download"), f"Fashion-MNIST not found in {missing}")


def test_default_output_names_do_not_collide():
    import train
    assert train.parse_args(["--no-plot"]).save == os.path.join("runs", "two_layer-scratch.npz")
    args = train.parse_args(["--dataset", "fashion_mnist"])
    assert args.save == os.path.join("runs", "two_layer-scratch-fashion_mnist.npz")
    assert args.plot == os.path.join("runs", "two_layer-scratch-fashion_mnist.png")
    assert args.dataset == "fashion_mnist"
    import ch06_optimizer_compare as experiments
    assert experiments.parse_args(["--dataset", "fashion_mnist"]).plot == os.path.join(
        "runs", "ch06_optimizer_compare-scratch-fashion_mnist.png")


def test_unknown_dataset_is_a_usage_error():
    assert_usage_error(run_script("train.py", "--dataset", "cifar10"), "argument --dataset: invalid choice")

def test_missing_folder_is_one_line(tmp_path):
    assert_usage_error(run_script("train.py", "--dataset", "fashion_mnist", "--no-plot", "--data-dir", tmp_path,
                                  "--no-download", "--save", tmp_path / "w.npz"),
                       f"Fashion-MNIST not found in {tmp_path / 'FashionMNIST' / 'raw'}")
