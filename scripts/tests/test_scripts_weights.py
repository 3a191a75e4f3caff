"""What the scripts make of the files they read and of a run that blows up, run as a user runs them.

* every kind of bad weights file (cut short, empty, a .npy, text, NaN or inf
  inside, not an .npz, object arrays, a damaged member) given to every script
  that reads weights is one line ``error: ...`` naming the file and the problem;
* train.py stops a diverging run, naming the iteration and suggesting a lower
  --lr, and writes nothing; unusable initial weights are blamed, not the learning rate;
  the loss check and the weight check each catch NaN themselves (called directly);
* ResNet's batch-norm running statistics: every one is loaded, and a missing one or
  one of the wrong shape is named;
* an MNIST label outside 0..9 is refused, naming the file;
* train.py stores the network's configuration with the weights (VGG's and
  ResNet's --channels too); evaluate.py takes it from there, and any script
  refuses weights saved for another network.

The runs without MNIST point --data-dir at an empty folder: the weights must be refused before MNIST is needed.
"""
import json
import pickle
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
from parameterized import parameterized

import scratch
import scratch.serialization
from mnist_support import MNIST_DIR, requires_mnist
from .script_support import assert_usage_error, run_script, succeeded

SMALL_RUN = ["--train-limit", "500", "--iters", "30", "--batch-size", "50", "--no-progress", "--no-plot"]
NETWORKS = {"two_layer": lambda: scratch.TwoLayerNet(784, 50, 10, seed=3),
            "simple_convnet": lambda: scratch.SimpleConvNet(seed=3),
            "deep_convnet": lambda: scratch.DeepConvNet(seed=3)}


# ---------------------------------------------------------------------------
# Bad weight files
# ---------------------------------------------------------------------------

def good_params(model):
    return {name: np.asarray(value) for name, value in NETWORKS[model]().params.items()}


def write_npz(path, model, change=None):
    """``model``'s parameters saved by save_params, ``change(params)`` applied first."""
    params = good_params(model)
    if change is not None:
        change(params)
    scratch.serialization.save_params(path, params)


def damage(path, model, how):
    """``model``'s weights at ``path``, then ``how`` applied to the bytes of the file."""
    write_npz(path, model)
    data = bytearray(path.read_bytes())
    path.write_bytes(how(data))


def with_value(name, value):
    def change(params):
        params[name].flat[0] = value
    return change


# kind -> (how to write it at a path for a model, words the error must hold after the path)
BAD_FILES = {
    "truncated": (lambda p, m: damage(p, m, lambda b: bytes(b[:len(b) // 2])),
                  "is not a valid .npz parameter file: it is damaged, perhaps cut short by an interrupted copy"),
    "empty": (lambda p, m: p.write_bytes(b""), "is neither an .npz file nor a pickle (it is empty)"),
    "npy": (lambda p, m: _save(np.save, p, good_params(m)["W1"]),
            "is neither an .npz file nor a pickle: it is an .npy file (one array"),
    "text": (lambda p, m: p.write_text("W1 = 0.1, 0.2\n"), "is neither an .npz file nor a pickle"),
    "nan": (lambda p, m: write_npz(p, m, with_value("W1", np.nan)),
            ": parameter 'W1' holds 1 NaN and 0 infinite values"),
    "inf": (lambda p, m: write_npz(p, m, with_value("b1", -np.inf)),
            ": parameter 'b1' holds 0 NaN and 1 infinite values"),
    "zip_not_npz": (lambda p, m: _zip_with_text(p),
                    ": entry 'notes.txt' is not a NumPy array"),
    "object_array": (lambda p, m: _save(np.savez, p, W1=np.array([{"a": 1}], dtype=object)),
                     ": entry 'W1' holds Python objects (an object array)"),
    "damaged_member": (lambda p, m: damage(p, m, _flip_middle), "is not a valid .npz parameter file: it is damaged"),
    "text_array": (lambda p, m: write_npz(p, m, lambda params: params.update(W1=np.array(["0.1"] * 3))),
                   ": parameter 'W1' is a <U3 array, not a numeric NumPy array"),
    "cut_pickle": (lambda p, m: p.write_bytes(pickle.dumps(good_params(m), protocol=2)[:300]),
                   ": not a valid pickle"),
}


def _save(save, path, *args, **kwargs):
    """np.save / np.savez into exactly ``path`` (given a file, NumPy adds no suffix)."""
    with open(path, "wb") as f:
        save(f, *args, **kwargs)


def _zip_with_text(path):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", "weights to follow")


def _flip_middle(data):
    data[len(data) // 3] ^= 0xFF
    return bytes(data)


# script -> (the model of its weights, its arguments with {weights} and {tmp})
READERS = {
    "evaluate.py": ("two_layer", ["--weights", "{weights}"]),
    "train.py": ("two_layer", ["--init-weights", "{weights}", "--iters", "1", "--no-plot", "--save", "{tmp}/out.npz"]),
    "ch07_visualize_filters.py": ("simple_convnet", ["--weights", "{weights}", "--out-dir", "{tmp}/figures"]),
    "ch08_misclassified.py": ("deep_convnet", ["--weights", "{weights}", "--out", "{tmp}/wrong.png"]),
    "ch08_half_precision.py": ("simple_convnet", ["--model", "simple_convnet", "--weights", "{weights}"]),
}
EVERY_SCRIPT = ["truncated", "empty", "npy", "text", "nan"]
CASES = [(script, kind) for script in READERS for kind in (BAD_FILES if script == "evaluate.py" else EVERY_SCRIPT)]


@parameterized.expand([(f"{script}_{kind}", script, kind) for script, kind in CASES])
def test_bad_weights_file_is_one_line_naming_it(_name, script, kind):
    import tempfile

    model, arguments = READERS[script]
    write, words = BAD_FILES[kind]
    with tempfile.TemporaryDirectory() as folder:
        weights = Path(folder) / f"{kind}.npz"
        write(weights, model)
        result = run_script(script, *(a.format(weights=weights, tmp=folder) for a in arguments),
                            "--data-dir", Path(folder) / "no-mnist", "--no-download")
    assert_usage_error(result, f"{weights}{words}" if words.startswith(":") else f"{weights} {words}")


def test_non_finite_weights_in_a_pickle_are_refused(tmp_path):
    """The book's pickles go through the same checks as .npz files."""
    path = tmp_path / "params.pkl"
    params = good_params("simple_convnet")
    params["W2"].flat[7] = np.inf
    path.write_bytes(pickle.dumps(params, protocol=2))
    result = run_script("ch07_visualize_filters.py", "--weights", path, "--out-dir", tmp_path,
                        "--data-dir", tmp_path / "no-mnist", "--no-download")
    assert_usage_error(result, f"{path}: parameter 'W2' holds 0 NaN and 1 infinite values")


# ResNet's batch-norm running statistics: saved beside the weights, and all of them needed
def resnet_file(path, edit=lambda arrays: None):
    """A ResNet weights file as train.py saves it (running statistics not the initial 0 and 1), then ``edit``ed."""
    network = scratch.ResNet(seed=3)
    arrays = dict(network.params)
    for name, layer in network.batch_norms().items():
        channels = layer.running_mean.shape
        arrays[f"{name}.running_mean"] = np.full(channels, 0.25, np.float32)
        arrays[f"{name}.running_var"] = np.full(channels, 2.0, np.float32)
    edit(arrays)
    scratch.serialization.save_params(path, arrays, config={"model": "resnet"})
    return sorted(network.batch_norms())


def without_one_statistic(arrays):
    norms = sorted(name.rsplit(".", 1)[0] for name in arrays if name.endswith(".running_var"))
    del arrays[f"{norms[len(norms) // 2]}.running_var"]


@parameterized.expand(["scratch", "torch"])
def test_a_missing_running_statistic_is_named(backend):
    """One running_var removed: the layer would keep variance 1 and print a wrong accuracy."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        weights = Path(folder) / "resnet.npz"
        norms = resnet_file(weights, without_one_statistic)
        missing = f"{norms[len(norms) // 2]}.running_var"
        result = run_script("evaluate.py", "--weights", weights, "--backend", backend,
                            "--data-dir", Path(folder) / "no-mnist", "--no-download")
    assert_usage_error(result, f"{weights}: running statistics do not fit this network: missing ['{missing}']")


@parameterized.expand(["scratch", "torch"])
def test_a_running_statistic_of_the_wrong_shape_is_named(backend):
    import tempfile

    def widen(arrays):
        name = next(name for name in sorted(arrays) if name.endswith(".running_mean"))
        arrays[name] = np.zeros(arrays[name].shape[0] + 1, np.float32)
        widen.name, widen.shape = name, arrays[name].shape

    with tempfile.TemporaryDirectory() as folder:
        weights = Path(folder) / "resnet.npz"
        resnet_file(weights, widen)
        result = run_script("evaluate.py", "--weights", weights, "--backend", backend,
                            "--data-dir", Path(folder) / "no-mnist", "--no-download")
    expected = (widen.shape[0] - 1,)
    assert_usage_error(result, f"{weights}: {widen.name}: expected shape {expected}, file has {widen.shape}")


@parameterized.expand(["scratch", "torch"])
def test_every_running_statistic_is_loaded(backend):
    """The file's statistics, not the initial ones, are in every batch norm after loading."""
    import tempfile

    import reference

    from toolkit import weights as common
    network = (scratch if backend == "scratch" else reference).ResNet(seed=0)

    with tempfile.TemporaryDirectory() as folder:
        weights = Path(folder) / "resnet.npz"
        resnet_file(weights)
        common.load_weights(network, weights)
    state = common.network_state(network)
    assert len(state) == 2 * len(network.batch_norms()) > 0
    for name, value in state.items():
        np.testing.assert_array_equal(value, 0.25 if name.endswith("mean") else 2.0, err_msg=name)


# ---------------------------------------------------------------------------
# Divergence
# ---------------------------------------------------------------------------

def one_error_line(result):
    """The single ``error: ...`` line of a run that failed with exit status 2 (stdout may hold its table)."""
    assert result.returncode == 2, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.stderr, result.stderr
    return lines[0]


@parameterized.expand([
    ("weights_blow_up", "1e6", "training diverged at iteration 1: b2 holds a weight of magnitude"),
    ("loss_blows_up", "10", "training diverged at iteration 6: the minibatch loss is"),
])
@requires_mnist
def test_divergence_stops_the_run_and_keeps_the_saved_weights(_name, lr, words):
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        save, plot = Path(folder) / "two_layer-scratch.npz", Path(folder) / "curves.png"
        write_npz(save, "two_layer")  # the weights of an earlier, good run
        before = save.read_bytes()
        result = run_script("train.py", "--lr", lr, *SMALL_RUN[:-1], "--save", save, "--plot", plot)
        line = one_error_line(result)
        assert words in line and f"lower --lr (this run: {float(lr):g})" in line, line
        assert f"Nothing was saved: {save} was not written" in line
        assert save.read_bytes() == before and not plot.exists()


@requires_mnist
def test_bad_initial_weights_are_blamed_not_the_learning_rate(tmp_path):
    line = one_error_line(run_script("train.py", "--weight-init-std", "100", *SMALL_RUN,
                                     "--save", tmp_path / "w.npz"))
    assert line.startswith("error: the initial weights are unusable: the minibatch loss is "), line
    assert "before any update" in line and line.endswith("check --weight-init-std 100")
    assert "lower --lr" not in line

    huge = tmp_path / "huge.npz"
    write_npz(huge, "two_layer", lambda params: params["W1"].__imul__(1e6))
    line = one_error_line(run_script("train.py", "--init-weights", huge, *SMALL_RUN, "--save", tmp_path / "w.npz"))
    assert line.startswith("error: the initial weights are unusable: W1 holds a weight of magnitude "), line
    assert line.endswith(f"check --init-weights {huge}") and "lower --lr" not in line
    assert not (tmp_path / "w.npz").exists()


# The checks themselves, called directly: NaN and inf must be caught by the check meant for them,
# not a step later by another one with a message that blames the wrong thing.
def run_options(**options):
    """The options of a train.py run, as the divergence checks read them."""
    import argparse

    defaults = dict(init_weights=None, model="two_layer", weight_init_std=0.01, seed=0, lr=0.1, save="w.npz")
    return argparse.Namespace(**{**defaults, **options})


@parameterized.expand([("nan", float("nan"), "nan"), ("inf", float("inf"), "inf"), ("too_big", 1e4, "1e+04")])
def test_the_loss_check_stops_nan_inf_and_huge_losses(_name, loss, shown):
    from toolkit import training as train
    with pytest.raises(ValueError) as start:
        train.check_loss(run_options(), loss, 1)
    assert str(start.value).startswith(f"the initial weights are unusable: the minibatch loss is {shown} "
                                       "before any update"), start.value
    assert str(start.value).endswith("check --weight-init-std 0.01") and "--lr" not in str(start.value)
    with pytest.raises(FloatingPointError) as later:
        train.check_loss(run_options(), loss, 7)
    assert str(later.value).startswith(f"training diverged at iteration 7: the minibatch loss is {shown} "), later.value
    assert "lower --lr (this run: 0.1)" in str(later.value)
    for fine in (0.0, 2.3, train.LOSS_LIMIT):
        train.check_loss(run_options(), fine, 7)


@parameterized.expand([("numpy", np.asarray), ("torch", lambda a: __import__("torch").from_numpy(a))])
def test_the_weight_check_names_the_parameter_holding_nan(_name, convert):
    """NaN among finite values, in a parameter that is neither first nor the largest finite one."""
    from toolkit import training as train
    b1 = np.linspace(-1.0, 1.0, 12)
    b1[5] = np.nan
    params = {"W1": np.full((3, 4), 5.0), "b1": b1, "W2": np.full((4, 2), -9000.0), "b2": np.zeros(2)}
    params = {name: convert(value) for name, value in params.items()}
    assert train.largest_weight(params)[0] == "b1"
    with pytest.raises(FloatingPointError) as later:
        train.check_weights(run_options(), params, 3)
    assert str(later.value).startswith("training diverged at iteration 3: b1 holds a weight of magnitude nan"), later.value
    with pytest.raises(ValueError) as start:
        train.check_weights(run_options(init_weights="start.npz"), params, 0)
    assert str(start.value).startswith("the initial weights are unusable: b1 holds a weight of magnitude nan")
    assert str(start.value).endswith("check --init-weights start.npz")
    params["b1"][5] = 0.5
    train.check_weights(run_options(), params, 3)  # finite and below the limit: no error
    assert train.largest_weight(params) == ("W2", 9000.0)


@requires_mnist
def test_a_nan_weight_from_an_update_stops_the_run_and_saves_nothing(tmp_path, monkeypatch, capsys):
    """SGD's third update leaves one NaN in b2 (finite everywhere else, the loss still finite)."""
    import train
    plain_update, calls = scratch.SGD.update, []

    def update_leaving_a_nan(self, params, grads):
        plain_update(self, params, grads)
        calls.append(1)
        if len(calls) == 3:
            params["b2"][4] = np.nan

    monkeypatch.setattr(scratch.SGD, "update", update_leaving_a_nan)
    save, plot, history = tmp_path / "w.npz", tmp_path / "curves.png", tmp_path / "history.json"
    with pytest.raises(FloatingPointError) as info:
        train.main(["--data-dir", MNIST_DIR, *SMALL_RUN[:-1], "--save", str(save), "--plot", str(plot),
                    "--history", str(history)])
    assert str(info.value).startswith("training diverged at iteration 3: b2 holds a weight of magnitude nan"), info.value
    assert f"Nothing was saved: {save} was not written" in str(info.value)
    assert len(calls) == 3 and list(tmp_path.iterdir()) == []
    capsys.readouterr()


# ---------------------------------------------------------------------------
# MNIST labels
# ---------------------------------------------------------------------------

def mnist_with_bad_label(root):
    """A copy of MNIST under ``root`` whose test label 5 is 37; returns the label file's path."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    source = Path(MNIST_DIR) / "MNIST" / "raw"
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte"):
        (raw / name).symlink_to(source / name)
    labels = bytearray((source / "t10k-labels-idx1-ubyte").read_bytes())
    labels[8 + 5] = 37
    (raw / "t10k-labels-idx1-ubyte").write_bytes(labels)
    return raw / "t10k-labels-idx1-ubyte"


@requires_mnist
def test_label_outside_0_to_9_is_refused(tmp_path):
    label_file = mnist_with_bad_label(tmp_path / "data")
    words = (f"MNIST file {label_file} is corrupt: labels must be digits 0..9, but 1 of 10000 are not "
             f"(the first, at index 5, is 37)")
    with pytest.raises(ValueError, match=re.escape(words)):
        scratch.load_mnist(root=tmp_path / "data", download=False)
    weights = tmp_path / "w.npz"
    write_npz(weights, "two_layer")
    assert_usage_error(run_script("evaluate.py", "--weights", weights, "--data-dir", tmp_path / "data",
                                  "--no-download"), words)


# ---------------------------------------------------------------------------
# The configuration saved with the weights
# ---------------------------------------------------------------------------

@requires_mnist
def test_evaluate_takes_the_configuration_from_the_file(tmp_path):
    weights = tmp_path / "sigmoid.npz"
    trained = succeeded(run_script("train.py", "--activation", "sigmoid", "--hidden-size", "30", *SMALL_RUN,
                                   "--save", weights))
    with np.load(weights) as data:
        assert json.loads(str(data["__config__"])) == {"model": "two_layer", "hidden_size": 30,
                                                       "activation": "sigmoid"}
    accuracy = trained.strip().splitlines()[-1].split(": ")[1]
    assert succeeded(run_script("evaluate.py", "--weights", weights)).strip() == f"accuracy: {accuracy}"
    assert_usage_error(run_script("evaluate.py", "--weights", weights, "--activation", "relu"),
                       f"{weights} holds the weights of --model two_layer --activation sigmoid --hidden-size 30, "
                       f"not of --activation relu")


@parameterized.expand([("vgg", "scratch"), ("resnet", "torch")])
@requires_mnist
def test_channels_are_saved_and_taken_from_the_file(model, backend):
    """--channels widens VGG and ResNet; the file records them, evaluate.py builds that network from it."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        weights = Path(folder) / f"{model}.npz"
        trained = succeeded(run_script("train.py", "--model", model, "--channels", "4", "6", "8", "--backend",
                                       backend, "--train-limit", "200", "--iters", "3", "--batch-size", "20",
                                       "--eval-samples", "20", "--no-progress", "--no-plot", "--save", weights))
        config = scratch.serialization.load_config(weights)
        params = scratch.serialization.load_params(weights)
        accuracy = trained.strip().splitlines()[-1].split(": ")[1]
        evaluated = succeeded(run_script("evaluate.py", "--weights", weights, "--backend", backend)).strip()
        clash = run_script("evaluate.py", "--weights", weights, "--channels", "16", "32", "64")
    assert config == {"model": model, "channels": [4, 6, 8]}
    convolutions = sorted({value.shape[0] for name, value in params.items() if value.ndim == 4})
    assert convolutions == [4, 6, 8]  # every convolution has one of the three stages' widths
    assert evaluated == f"accuracy: {accuracy}"
    assert_usage_error(clash, f"{weights} holds the weights of --model {model} --channels 4 6 8, "
                              "not of --channels 16 32 64")


@pytest.mark.parametrize("script", ["train.py", "evaluate.py"])
def test_channels_for_a_network_without_stages_is_a_usage_error(script, tmp_path):
    arguments = ["--weights", tmp_path / "w.npz"] if script == "evaluate.py" else ["--no-plot"]
    if script == "evaluate.py":
        scratch.serialization.save_params(tmp_path / "w.npz", good_params("simple_convnet"),
                                          config={"model": "simple_convnet"})
    result = run_script(script, "--model", "simple_convnet", "--channels", "8", "8", "8", *arguments,
                        "--data-dir", tmp_path / "no-mnist", "--no-download")
    assert_usage_error(result, "--channels sets the stages of resnet and vgg, not of --model simple_convnet")


@parameterized.expand([
    ("ch08_misclassified.py", ["--out", "{tmp}/wrong.png"], "not of --model deep_convnet"),
    ("evaluate.py", ["--model", "two_layer"], "not of --model two_layer"),
    ("train.py", ["--no-plot", "--save", "{tmp}/out.npz"], "not of --model two_layer"),
])
def test_weights_saved_for_another_network_are_refused(script, arguments, words):
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        weights = Path(folder) / "simple.npz"
        scratch.serialization.save_params(weights, good_params("simple_convnet"), config={"model": "simple_convnet"})
        option = "--init-weights" if script == "train.py" else "--weights"
        result = run_script(script, option, weights, *(a.format(tmp=folder) for a in arguments),
                            "--data-dir", Path(folder) / "no-mnist", "--no-download")
    assert_usage_error(result, f"{weights} holds the weights of --model simple_convnet, {words}")


def test_book_weights_without_configuration_still_load(tmp_path):
    """A file without __config__ (the book's layout) is evaluated with the options given, as before."""
    book = {name: (value.T if value.ndim == 2 else value) for name, value in good_params("two_layer").items()}
    path = tmp_path / "book.npz"
    np.savez(path, **book)
    assert scratch.serialization.load_config(path) is None
    result = run_script("evaluate.py", "--weights", path, "--data-dir", tmp_path / "no-mnist", "--no-download")
    assert_usage_error(result, "MNIST not found")  # past the weights: only the data is missing
