"""train.py's training options and histories, and compare_runs.py.

* --lr-decay-at / --lr-decay (step decay), --augment-flip: their usage errors;
  ``lr_schedule`` names the right iterations and rates; the decay reaches
  ``optimizer.lr`` between steps in both backends and changes the losses from
  exactly the step after the decay on;
* --history: the JSON written beside the weights (or where --history says),
  with the options, the configuration (augment.flip), a loss per iteration
  and consistent rows;
* compare_runs.py: a scratch run and a torch run with the same seed, step
  decay and flipping augmentation agree in float64 (exit 0); a loss moved by
  1% parts them (exit 1); a missing file, a file that is not a history and
  two different trainings are usage errors (exit 2).

The two subprocess trainings are tiny (simple_convnet, 32 training images,
12 iterations) and made once for the module.
"""
import json
import shutil

import numpy as np
import pytest

from mnist_support import requires_mnist, small_mnist
from .script_support import assert_png, assert_usage_error, run_script, succeeded

# 32 images in batches of 8: 4 iterations per epoch, 12 in all; the rate drops after iterations 4 and 10
RUN = ["--model", "simple_convnet", "--dtype", "float64", "--epochs", "3", "--batch-size", "8",
       "--train-limit", "32", "--eval-samples", "8", "--lr-decay-at", "1", "2.5", "--augment",
       "--no-progress", "--no-plot"]
ITERATIONS = 12
HISTORY_KEYS = {"options", "config", "iterations", "loss", "epoch", "train_acc", "test_acc", "elapsed_s",
                "training_time_s", "versions"}


def strict_json(path):
    """The file parsed as standard JSON (no NaN or Infinity, which json.dump would write)."""
    def refuse(constant):
        raise ValueError(f"{path} holds {constant}, which is not JSON")
    return json.loads(path.read_text(), parse_constant=refuse)


def last_line_value(stdout, label):
    last = stdout.strip().splitlines()[-1]
    assert last.startswith(f"{label}: "), last
    return float(last.split(":")[1])


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Three tiny trainings: scratch and torch with --augment-flip (torch's history at an explicit
    --history path in a folder not yet made), and scratch without the flip."""
    folder = tmp_path_factory.mktemp("runs")
    made = {}
    for name, extra in [("scratch", ["--backend", "scratch", "--augment-flip"]),
                        ("torch", ["--backend", "torch", "--threads", "1", "--augment-flip",
                                   "--history", folder / "histories" / "torch.json"]),
                        ("noflip", ["--backend", "scratch"])]:
        weights = folder / f"{name}.npz"
        stdout = succeeded(run_script("train.py", *RUN, *extra, "--save", weights, timeout=300))
        history = folder / "histories" / "torch.json" if name == "torch" else folder / f"{name}.json"
        made[name] = {"weights": weights, "history": history, "stdout": stdout}
    made["folder"] = folder
    return made


# ---------------------------------------------------------------------------
# Usage errors (no MNIST needed)
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("args, words", [
    (["--model", "simple_convnet", "--lr-decay", "0.5"], "--lr-decay needs --lr-decay-at"),
    (["--model", "simple_convnet", "--lr-decay-at", "1", "--lr-decay", "1.5"],
     "--lr-decay multiplies the learning rate and must be below 1, got 1.5"),
    (["--model", "simple_convnet", "--lr-decay-at", "1", "--lr-decay", "1"], "must be below 1, got 1"),
    (["--model", "simple_convnet", "--augment-flip"], "--augment-flip needs --augment"),
    (["--model", "two_layer", "--augment", "--augment-flip"], "two_layer takes flat vectors"),
    (["--model", "lenet", "--history", "{tmp}/w.npz"], "--save and --history name the same file"),
    (["--model", "lenet", "--plot", "{tmp}/w.json"], "--history and --plot name the same file"),
])
def test_bad_training_options_are_usage_errors(tmp_path, args, words):
    args = [arg.format(tmp=tmp_path) for arg in args]
    assert_usage_error(run_script("train.py", *args, "--data-dir", tmp_path, "--no-download",
                                  "--save", tmp_path / "w.npz"), words)
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_compare_runs_refuses_a_missing_file_and_files_that_are_not_histories(tmp_path):
    missing = tmp_path / "missing.json"
    not_json = tmp_path / "weights.json"
    not_json.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff not a history")
    no_keys = tmp_path / "other.json"
    no_keys.write_text(json.dumps({"options": {}, "loss": [1.0]}))
    assert_usage_error(run_script("compare_runs.py", missing, no_keys), f"no history file at {missing}")
    assert_usage_error(run_script("compare_runs.py", no_keys, missing), f"no history file at {missing}")
    assert_usage_error(run_script("compare_runs.py", not_json, no_keys),
                       f"{not_json} is not a train.py history (JSON)")
    assert_usage_error(run_script("compare_runs.py", no_keys, no_keys),
                       f"{no_keys} is not a train.py history: it lacks epoch, train_acc, test_acc")
    for text in ("null", "3", "[1, 2]", '{"options": 5}'):
        other = tmp_path / "other-json.json"
        other.write_text(text)
        assert_usage_error(run_script("compare_runs.py", other, no_keys),
                           f"{other} is not a train.py history: its JSON is not an object")


# ---------------------------------------------------------------------------
# The schedule, in process
# ---------------------------------------------------------------------------

def test_lr_schedule_names_the_iterations_and_rates(tmp_path):
    import train
    from toolkit import training

    args = train.parse_args(["--model", "simple_convnet", "--epochs", "3", "--lr-decay-at", "2.5", "1",
                             "--save", str(tmp_path / "w.npz"), "--no-plot"])
    assert args.lr == 0.001 and args.lr_decay == 0.1 and args.lr_decay_at == (1.0, 2.5)  # sorted
    schedule = training.lr_schedule(args, 4.0)  # e.g. --train-limit 32 --batch-size 8
    assert list(schedule) == [4, 10]  # after 1 epoch (4 updates) and 2.5 epochs (10 updates)
    assert schedule[4] == pytest.approx(0.001 * 0.1, rel=1e-15, abs=0)
    assert schedule[10] == pytest.approx(0.001 * 0.01, rel=1e-15, abs=0)
    assert training.lr_schedule(args, 600.0) == pytest.approx({600: 1e-4, 1500: 1e-5}, rel=1e-15, abs=0)  # full MNIST
    assert list(training.lr_schedule(args, 3.0)) == [3, 8]  # 7.5 updates: the drop after the 8th
    halving = train.parse_args(["--model", "simple_convnet", "--lr", "0.01", "--lr-decay-at", "1", "2",
                                "--lr-decay", "0.5", "--save", str(tmp_path / "w.npz"), "--no-plot"])
    assert training.lr_schedule(halving, 5.0) == {5: 0.005, 10: 0.0025}
    rounding = train.parse_args(["--model", "simple_convnet", "--lr-decay-at", "1.1",
                                 "--save", str(tmp_path / "w.npz"), "--no-plot"])
    assert list(training.lr_schedule(rounding, 100.0)) == [110]  # 1.1 * 100 = 110.00000000000001 in floats
    constant = train.parse_args(["--model", "simple_convnet", "--save", str(tmp_path / "w.npz"), "--no-plot"])
    assert constant.lr_decay_at == () and training.lr_schedule(constant, 4.0) == {}


def test_lr_schedule_warms_up_linearly_then_decays():
    """caption.py's --warmup W: lr * (i + 1) / W at iterations 0..W-1, then the step decay; a decay inside
    the warmup is refused."""
    from types import SimpleNamespace

    from toolkit import training

    args = SimpleNamespace(lr=0.001, warmup=4, lr_decay_at=(2.0,), lr_decay=0.1)
    assert training.lr_schedule(args, 3.0) == pytest.approx({0: 0.00025, 1: 0.0005, 2: 0.00075, 3: 0.001,
                                                             6: 0.0001}, rel=1e-15, abs=0)
    with pytest.raises(ValueError, match="falls inside the --warmup of 4 iterations"):
        training.lr_schedule(SimpleNamespace(lr=0.001, warmup=4, lr_decay_at=(1.0,), lr_decay=0.1), 3.0)


def train_two_layer(tmp_path, backend_name, *extra):
    """A tiny two_layer run through train.train (40 images, batches of 8: 5 iterations per epoch, 10 in
    all); returns train's five lists and the learning rate each update used."""
    import train
    from toolkit import backends, training
    from toolkit.models import OPTIMIZERS, ModelConfig

    args = train.parse_args(["--model", "two_layer", "--backend", backend_name, "--dtype", "float64",
                             "--iters", "10", "--batch-size", "8", "--no-progress", "--no-plot", *extra,
                             "--save", str(tmp_path / f"{backend_name}.npz")])
    backend = backends.load_backend(backend_name)
    network = training.build_network(args, ModelConfig.from_options(args), backend)
    optimizer = getattr(backend, OPTIMIZERS[args.optimizer])(lr=args.lr)
    used = []
    step = optimizer.update

    def update(params, grads):
        step(params, grads)
        # the rate the update ran with: torch.optim's own, for the torch backend
        used.append(optimizer._optimizer.param_groups[0]["lr"] if backend_name == "torch" else optimizer.lr)

    optimizer.update = update
    data = small_mnist(n_train=40, n_test=20, dtype=np.float64)
    curves = training.train(args, network, optimizer, data, 10, 40 / 8)
    assert len(curves) == 5
    losses, epochs, train_acc, test_acc, seconds = curves
    assert len(losses) == 10 and np.all(np.isfinite(losses))
    assert epochs == [0.2, 1.2, 2.0] and len(train_acc) == len(test_acc) == len(seconds) == 3
    return np.array(losses), used


@requires_mnist
def test_step_decay_changes_the_rate_between_steps_in_both_backends(tmp_path):
    losses = {}
    for backend_name in ("scratch", "torch"):
        decayed, used = train_two_layer(tmp_path, backend_name, "--lr-decay-at", "1", "--lr-decay", "0.2")
        assert used == pytest.approx([0.1] * 5 + [0.1 * 0.2] * 5, rel=1e-15, abs=0)
        constant, used = train_two_layer(tmp_path, backend_name)
        assert used == [0.1] * 10
        # the loss of iteration k is measured before its update: the first six saw only rate 0.1
        np.testing.assert_array_equal(decayed[:6], constant[:6])
        assert np.all(np.abs(decayed[6:] - constant[6:]) > 1e-12), decayed - constant
        losses[backend_name] = decayed
    np.testing.assert_allclose(losses["scratch"], losses["torch"], rtol=1e-10, atol=0)


# ---------------------------------------------------------------------------
# The scripts end to end: histories and compare_runs.py
# ---------------------------------------------------------------------------

@requires_mnist
def test_the_runs_print_the_decay_and_the_flip(runs):
    for name in ("scratch", "torch"):
        stdout = runs[name]["stdout"]
        assert f"{ITERATIONS} iterations" in stdout and "4 iterations per epoch" in stdout
        assert "augmented (angle 10, shift 2, scale 0.9-1.1, flip)" in stdout
        lines = [line.split() for line in stdout.splitlines() if "learning rate now" in line]
        assert lines == [["1.00", "4", "learning", "rate", "now", "0.0001"],
                         ["2.50", "10", "learning", "rate", "now", "1e-05"]], stdout
    assert ", flip)" not in runs["noflip"]["stdout"]


@requires_mnist
@pytest.mark.parametrize("name", ["scratch", "torch"])
def test_the_history_holds_the_run(runs, name):
    run = runs[name]
    assert run["weights"].is_file() and run["history"].is_file()
    history = strict_json(run["history"])
    assert set(history) == HISTORY_KEYS
    assert history["iterations"] == ITERATIONS == len(history["loss"])
    assert all(isinstance(loss, float) and 0 < loss < 10 for loss in history["loss"])
    # one entry per table row: after iterations 1, 5, 9 (the book's test) and the last
    assert history["epoch"] == [0.25, 1.25, 2.25, 3.0]
    for key in ("train_acc", "test_acc", "elapsed_s"):
        assert len(history[key]) == 4, key
    assert all(0 <= acc <= 1 for acc in history["train_acc"] + history["test_acc"])
    assert history["elapsed_s"] == sorted(history["elapsed_s"])
    assert 0 < history["elapsed_s"][-1] <= history["training_time_s"]
    assert history["test_acc"][-1] == pytest.approx(last_line_value(run["stdout"], "test accuracy"), abs=5e-5)

    expected_config = {"model": "simple_convnet",
                       "augment": {"angle": 10.0, "shift": 2.0, "scale": [0.9, 1.1], "flip": True}}
    assert history["config"] == expected_config
    with np.load(run["weights"]) as saved:
        assert json.loads(str(saved["__config__"])) == expected_config
        assert {"W1", "b1", "W2", "b2", "W3", "b3"} <= set(saved.files)
    options = history["options"]
    assert options["backend"] == name and options["seed"] == 0 and options["dtype"] == "float64"
    assert options["lr"] == 0.001 and options["lr_decay"] == 0.1 and options["lr_decay_at"] == [1.0, 2.5]
    assert options["augment"] is True and options["augment_flip"] is True
    assert options["save"] == str(run["weights"]) and options["history"] == str(run["history"])
    assert history["versions"]["numpy"] == np.__version__
    assert ("torch" in history["versions"]) == (name == "torch")
    # written atomically: no temporary files left beside it
    assert not [path.name for path in run["history"].parent.iterdir() if path.name.startswith(".tmp-")]


@requires_mnist
def test_history_goes_beside_the_weights_unless_told_otherwise(runs):
    folder = runs["folder"]
    assert (folder / "scratch.json").is_file() and (folder / "noflip.json").is_file()
    assert not (folder / "torch.json").exists()  # --history sent it to histories/torch.json
    assert sorted(path.name for path in (folder / "histories").iterdir()) == ["torch.json"]


@requires_mnist
def test_flipping_changes_the_augmented_losses(runs):
    flipped = np.array(strict_json(runs["scratch"]["history"])["loss"])
    plain_history = strict_json(runs["noflip"]["history"])
    plain = np.array(plain_history["loss"])
    assert plain_history["config"]["augment"] == {"angle": 10.0, "shift": 2.0, "scale": [0.9, 1.1]}
    assert plain_history["options"]["augment_flip"] is False
    assert flipped.shape == plain.shape == (ITERATIONS,)
    assert abs(flipped[0] - plain[0]) > 1e-9  # the first batch already had mirrored images
    assert np.sum(np.abs(flipped - plain) > 1e-9) >= ITERATIONS - 1


@requires_mnist
def test_scratch_and_torch_runs_agree_and_compare_runs_says_so(runs, tmp_path):
    scratch, torch = (strict_json(runs[name]["history"]) for name in ("scratch", "torch"))
    np.testing.assert_allclose(scratch["loss"], torch["loss"], rtol=1e-10, atol=0)
    assert scratch["train_acc"] == torch["train_acc"] and scratch["test_acc"] == torch["test_acc"]
    plot = tmp_path / "compare.png"
    stdout = succeeded(run_script("compare_runs.py", runs["scratch"]["history"], runs["torch"]["history"],
                                  "--plot", plot))
    assert f"simple_convnet, float64, {ITERATIONS} iterations, 4 accuracy rows: scratch vs torch" in stdout
    assert "the loss curves agree within 1e-09 (relative) at every iteration" in stdout
    assert_png(plot)
    tighter = succeeded(run_script("compare_runs.py", runs["torch"]["history"], runs["scratch"]["history"],
                                   "--tolerance", "1e-10"))
    assert "agree within 1e-10" in tighter


@requires_mnist
def test_compare_runs_fails_when_a_loss_is_one_percent_off(runs, tmp_path):
    history = strict_json(runs["torch"]["history"])
    history["loss"][5] *= 1.01  # iteration 6
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(history))
    result = run_script("compare_runs.py", runs["scratch"]["history"], edited)
    assert result.returncode == 1, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr
    assert "largest difference" in result.stdout and "at iteration 6, relative 0.0099" in result.stdout
    assert result.stderr.strip().startswith("error: the loss curves part: relative difference 0.0099")
    assert "agree" not in result.stdout
    # a tolerance above the 1% lets it through
    assert "agree within 0.02" in succeeded(run_script("compare_runs.py", runs["scratch"]["history"], edited,
                                                       "--tolerance", "0.02"))


@requires_mnist
def test_compare_runs_refuses_two_different_trainings(runs, tmp_path):
    assert_usage_error(run_script("compare_runs.py", runs["scratch"]["history"], runs["noflip"]["history"]),
                       "are different trainings, not the same one twice: --augment-flip True vs False")
    history = strict_json(runs["torch"]["history"])
    history["options"]["seed"] = 1
    other_seed = tmp_path / "seed1.json"
    other_seed.write_text(json.dumps(history))
    assert_usage_error(run_script("compare_runs.py", runs["scratch"]["history"], other_seed),
                       "--seed 0 vs 1")
    # paths and backend may differ: the same history copied elsewhere still compares
    copy = tmp_path / "copy.json"
    shutil.copy(runs["scratch"]["history"], copy)
    assert "relative 0" in succeeded(run_script("compare_runs.py", runs["scratch"]["history"], copy))


@requires_mnist
def test_a_decay_after_the_last_update_is_refused(tmp_path):
    result = run_script("train.py", "--model", "lenet", "--iters", "5", "--lr-decay-at", "0.001", "1",
                        "--no-progress", "--save", tmp_path / "w.npz")
    assert_usage_error(result, "--lr-decay-at 1 is at or past the end of training")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args, words", [
    (["--model", "simple_convnet", "--readable", "--backend", "torch"], "--readable chooses among the NumPy layers"),
    (["--model", "two_layer", "--readable"], "--model two_layer has no convolution, pooling or batch norm"),
])
def test_readable_needs_the_numpy_backend_and_a_convnet(args, words):
    assert_usage_error(run_script("train.py", *args), words)


@requires_mnist
def test_readable_and_fast_layers_train_the_same_epoch(tmp_path):
    """One epoch of SimpleConvNet in float64 (2000 images, 20 updates), on the readable layers and on the
    fast plug-ins: compare_runs.py finds the same loss at every iteration and the same accuracies."""
    common = ["--model", "simple_convnet", "--dtype", "float64", "--epochs", "1", "--train-limit", "2000",
              "--eval-samples", "500", "--no-progress", "--no-plot"]
    readable = succeeded(run_script("train.py", *common, "--readable", "--save", tmp_path / "readable.npz",
                                    timeout=300))
    fast = succeeded(run_script("train.py", *common, "--save", tmp_path / "fast.npz", timeout=300))
    assert "scratch backend, readable layers, float64" in readable.splitlines()[0]
    assert "readable" not in fast.splitlines()[0]
    histories = [strict_json(tmp_path / f"{name}.json") for name in ("readable", "fast")]
    assert histories[0]["options"]["readable"] is True and histories[1]["options"]["readable"] is False
    assert len(histories[0]["loss"]) == 20
    stdout = succeeded(run_script("compare_runs.py", tmp_path / "readable.json", tmp_path / "fast.json",
                                  "--tolerance", "1e-12"))
    assert "scratch (readable) vs scratch" in stdout
    assert "the loss curves agree within 1e-12 (relative) at every iteration" in stdout
    assert histories[0]["train_acc"] == histories[1]["train_acc"]
    assert histories[0]["test_acc"] == histories[1]["test_acc"]
