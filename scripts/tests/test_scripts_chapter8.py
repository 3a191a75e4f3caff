"""Chapter 8's networks and data augmentation in the command-line scripts.

* train.py --model lenet / resnet: both backends take the same first steps
  from the same initial weights (the losses agree to 1e-5);
* train.py --augment: the augmented minibatches change the losses, the same
  --seed repeats them exactly, and the torch backend sees the same batches;
  refused (a usage error) for two_layer, whose input is flat;
* the settings are saved with the weights; evaluate.py reads lenet's and
  resnet's weights (resnet's with its batch-norm running statistics) and
  reports the accuracy train.py reported;
* benchmark.py times lenet and resnet.

The in-process runs call train.py's own functions (``train``, ``build_network``)
so that the losses are compared at full precision, not as the table prints them.
"""
import json

import numpy as np
import pytest

from mnist_support import requires_mnist
from .script_support import assert_usage_error, run_script, succeeded

TINY = ["--iters", "3", "--batch-size", "8", "--train-limit", "64", "--eval-samples", "8", "--no-progress",
        "--no-plot"]


def train_in_process(tmp_path, model, backend, *extra):
    """The minibatch losses of a tiny train.py run (the final accuracy on 50 test images only)."""
    import train
    from toolkit import backends, training
    from toolkit.models import OPTIMIZERS, ModelConfig

    args = train.parse_args(["--model", model, "--backend", backend, *TINY, *extra,
                             "--save", str(tmp_path / f"{model}-{backend}.npz")])
    config = ModelConfig.from_options(args)
    backend_package = backends.load_backend(backend)
    network = training.build_network(args, config, backend_package)
    (x_train, t_train), (x_test, t_test) = training.load_training_data(args, config)
    optimizer = getattr(backend_package, OPTIMIZERS[args.optimizer])(lr=args.lr)
    losses, *_ = training.train(args, network, optimizer, ((x_train, t_train), (x_test[:50], t_test[:50])),
                                args.iters, len(x_train) / args.batch_size,
                                training.make_augmenter(args, backend_package))
    assert len(losses) == 3 and all(np.isfinite(losses))
    return np.array(losses)


def final_accuracy(stdout, label):
    last = stdout.strip().splitlines()[-1]
    assert last.startswith(f"{label}: "), last
    return float(last.split(":")[1])


# ---------------------------------------------------------------------------
# Arguments (no MNIST needed)
# ---------------------------------------------------------------------------

def test_help_lists_the_new_models_and_augment():
    stdout = succeeded(run_script("train.py", "--help"))
    for words in ("lenet", "resnet", "--augment", "--augment-angle", "--augment-shift", "--augment-scale"):
        assert words in stdout, words
    assert "lenet" in succeeded(run_script("evaluate.py", "--help"))


@pytest.mark.parametrize("args, words", [
    (["--augment"], "two_layer takes flat vectors"),
    (["--model", "two_layer", "--augment", "--augment-angle", "5"], "two_layer takes flat vectors"),
    (["--model", "lenet", "--augment-angle", "5"], "--augment-angle needs --augment"),
    (["--model", "lenet", "--augment", "--augment-scale", "1.2", "1.1"], "LOW <= HIGH"),
    (["--model", "lenet", "--augment", "--augment-shift", "-1"], "expected a number >= 0"),
])
def test_bad_augment_options_are_usage_errors(tmp_path, args, words):
    assert_usage_error(run_script("train.py", *args, "--data-dir", tmp_path, "--no-download"), words)


# ---------------------------------------------------------------------------
# Training (in process, full-precision losses)
# ---------------------------------------------------------------------------

@requires_mnist
@pytest.mark.parametrize("model", ["lenet", "resnet"])
def test_both_backends_take_the_same_first_steps(tmp_path, model):
    ours = train_in_process(tmp_path, model, "scratch")
    theirs = train_in_process(tmp_path, model, "torch")
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-5)
    np.testing.assert_array_equal(ours, train_in_process(tmp_path, model, "scratch"))  # the seed repeats it


@requires_mnist
def test_augment_changes_the_losses_and_the_seed_repeats_them(tmp_path):
    plain = train_in_process(tmp_path, "lenet", "scratch")
    augmented = train_in_process(tmp_path, "lenet", "scratch", "--augment")
    assert np.all(np.abs(augmented - plain) > 1e-6)  # every batch was changed
    np.testing.assert_array_equal(augmented, train_in_process(tmp_path, "lenet", "scratch", "--augment"))
    np.testing.assert_allclose(train_in_process(tmp_path, "lenet", "torch", "--augment"), augmented,
                               rtol=0, atol=1e-5)  # the torch backend sees the same batches
    other_seed = train_in_process(tmp_path, "lenet", "scratch", "--augment", "--seed", "1")
    assert not np.array_equal(other_seed, augmented)
    stronger = train_in_process(tmp_path, "lenet", "scratch", "--augment", "--augment-angle", "30",
                                "--augment-shift", "0", "--augment-scale", "1", "1")
    assert not np.array_equal(stronger, augmented)


# ---------------------------------------------------------------------------
# The scripts end to end
# ---------------------------------------------------------------------------

@requires_mnist
def test_lenet_weights_with_augment_settings_evaluate_and_restart(tmp_path):
    weights = tmp_path / "lenet.npz"
    stdout = succeeded(run_script("train.py", "--model", "lenet", "--threads", "1", *TINY, "--augment",
                                  "--augment-angle", "15", "--save", weights))
    assert "augmented (angle 15, shift 2, scale 0.9-1.1)" in stdout
    accuracy = final_accuracy(stdout, "test accuracy")
    with np.load(weights) as saved:
        config = json.loads(str(saved["__config__"]))
    assert config == {"model": "lenet", "augment": {"angle": 15.0, "shift": 2.0, "scale": [0.9, 1.1]}}
    for backend in ("scratch", "torch"):  # the model comes from the file; evaluation does not augment
        evaluated = succeeded(run_script("evaluate.py", "--backend", backend, "--weights", weights))
        assert final_accuracy(evaluated, "accuracy") == pytest.approx(accuracy, abs=1e-4)
    # the augment settings do not tie the file to a network: training on from it, without --augment, is fine
    succeeded(run_script("train.py", "--model", "lenet", *TINY, "--init-weights", weights,
                         "--save", tmp_path / "again.npz"))
    assert_usage_error(run_script("evaluate.py", "--model", "resnet", "--weights", weights),
                       "holds the weights of --model lenet, not of --model resnet")


@requires_mnist
def test_resnet_saves_its_running_statistics_and_evaluate_uses_them(tmp_path):
    weights = tmp_path / "resnet.npz"
    stdout = succeeded(run_script("train.py", "--model", "resnet", "--threads", "1", *TINY, "--save", weights,
                                  timeout=300))
    accuracy = final_accuracy(stdout, "test accuracy")
    with np.load(weights) as saved:
        means = [name for name in saved.files if name.endswith(".running_mean")]
        assert "stem_bn.running_mean" in means and "s2b1.bnp.running_var" in saved.files
        assert np.any(saved["stem_bn.running_mean"] != 0)  # the training batches moved them
    evaluated = succeeded(run_script("evaluate.py", "--backend", "torch", "--weights", weights, timeout=300))
    assert final_accuracy(evaluated, "accuracy") == pytest.approx(accuracy, abs=1e-4)


def test_benchmark_times_lenet_and_resnet(tmp_path):
    out = tmp_path / "bench.json"
    result = subprocess_benchmark("--models", "lenet,resnet", "--repeats", "1", "--warmup", "0", "--rounds", "1",
                                  "--inference-images", "20", "--batch-size", "8", "--threads", "1",
                                  "--no-memory", "--json", out)
    assert "lenet" in result and "resnet" in result
    rows = json.loads(out.read_text())["results"]
    assert [row["model"] for row in rows] == ["lenet", "resnet"]
    for row in rows:
        for side in ("scratch", "reference", "plain"):
            assert row["step_ms"][side] > 0 and row["inference_ms"][side] > 0, (row["model"], side)
        assert "peak_mib" not in row


def subprocess_benchmark(*args):
    return succeeded(run_script("benchmark.py", *args, timeout=300))
