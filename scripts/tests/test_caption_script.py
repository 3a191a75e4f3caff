"""``scripts/caption.py`` run as a learner runs it: a tiny training and its evaluation, on real MNIST pictures.

The full training (the issue's 0.97 exact-caption target) is a long run reported in the docs, never a test;
here a few steps check that training writes its weights and history, that evaluation reads them back
and prints both accuracies, and that bad arguments are one line.
"""
import json
import re

from mnist_support import requires_mnist
from .script_support import assert_usage_error, run_script, succeeded


@requires_mnist
def test_a_tiny_training_saves_weights_and_history_and_evaluate_reads_them(tmp_path):
    weights, history = tmp_path / "captioner.npz", tmp_path / "captioner.json"
    stdout = succeeded(run_script("caption.py", "train", "--epochs", "1", "--train-size", "256", "--test-size", "128",
                                  "--eval-samples", "64", "--batch-size", "64", "--save", weights, "--history", history,
                                  "--no-progress", timeout=300))
    assert weights.is_file() and history.is_file(), stdout
    losses = json.loads(history.read_text())
    assert losses, "the history is empty"
    result = succeeded(run_script("caption.py", "evaluate", "--weights", weights, "--test-size", "128", timeout=300))
    exact = re.search(r"exact[- ]caption accuracy:?\s*([0-9.]+)", result, re.IGNORECASE)
    token = re.search(r"token accuracy:?\s*([0-9.]+)", result, re.IGNORECASE)
    assert exact and token, result
    assert 0.0 <= float(exact.group(1)) <= float(token.group(1)) <= 1.0, result


def test_bad_arguments_are_one_line():
    assert_usage_error(run_script("caption.py", "train", "--epochs", "0"), "positive integer")
