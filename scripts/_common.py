"""What the command-line scripts share: argument parsing with one-line errors,
the backend and model registries, MNIST (or Fashion-MNIST) loading, the weights' configuration,
a progress bar (tqdm) and PNG saving.

The scripts import this module as ``_common`` (``python scripts/train.py``
puts ``scripts/`` first on ``sys.path``). NumPy, tqdm and the NumPy package
``scratch`` are the only imports at module level, so ``--help`` and bad
arguments answer at once; torch is imported only with the torch backend.
"""
import argparse
import contextlib
import importlib
import math
import sys
import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np
from tqdm import tqdm

from _paths import check_output, write_atomically
from scratch import serialization

__all__ = ["ArgumentParser", "BACKENDS", "DATASETS", "MODELS", "ModelSpec", "add_backend_argument", "add_data_arguments",
           "add_model_arguments", "advance", "check_model_options", "check_output", "check_weights_config",
           "dataset_from_weights",
           "dataset_suffix", "fail", "load_backend",
           "load_data", "load_weights", "model_config", "model_from_weights", "network_state", "no_grad",
           "non_negative_float", "non_negative_int",
           "positive_float", "positive_int", "progress_bar", "run_main", "save_png", "say", "to_numpy"]

EXIT_USAGE = 2


# ---------------------------------------------------------------------------
# Errors: one line on stderr, exit code 2, never a traceback
# ---------------------------------------------------------------------------

def one_line(err):
    """The message of an exception on a single line (KeyError's quotes removed)."""
    text = err.args[0] if isinstance(err, KeyError) and len(err.args) == 1 else err
    return " ".join(str(text).split()) or type(err).__name__


def fail(message):
    """Print ``error: message`` on stderr and exit with status 2."""
    print(f"error: {' '.join(str(message).split())}", file=sys.stderr)
    sys.exit(EXIT_USAGE)


class ArgumentParser(argparse.ArgumentParser):
    """``argparse`` whose errors are one line, ``error: ...``, instead of usage plus message."""

    def error(self, message):
        fail(f"{message} (see {self.prog} --help)")


def one_line_warning(message, category, filename, lineno, line=None):
    """Warnings as one line, ``warning: ...``, like the errors (no source line)."""
    return f"warning: {' '.join(str(message).split())}\n"


def run_main(main):
    """Call ``main()``; turn the project's expected errors into one line and exit code 2."""
    warnings.formatwarning = one_line_warning
    try:
        main()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except (OSError, ValueError, KeyError, FloatingPointError) as err:
        fail(one_line(err))


def _int_at_least(lowest, words):
    """An argparse type: an integer >= ``lowest``, else the one-line error 'expected <words>, got ...'."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {words}, got {text!r}") from None
        if value < lowest:
            raise argparse.ArgumentTypeError(f"expected {words}, got {value}")
        return value
    return parse


positive_int = _int_at_least(1, "a positive integer")
non_negative_int = _int_at_least(0, "an integer >= 0")


def non_negative_float(text):
    """argparse type: a finite number >= 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text}")
    return value


def positive_float(text):
    """argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


# ---------------------------------------------------------------------------
# Backends
# ---------------------------------------------------------------------------

BACKENDS = {"scratch": "scratch", "torch": "reference"}  # --backend -> package


def add_backend_argument(parser):
    parser.add_argument("--backend", choices=sorted(BACKENDS), default="scratch",
                        help="scratch: the NumPy implementation; torch: its PyTorch mirror "
                             "(package reference). Default: scratch")


def load_backend(name, threads=None):
    """The package implementing backend ``name``; ``threads`` sets torch's intra-op threads."""
    backend = importlib.import_module(BACKENDS[name])
    if threads is not None:
        if name == "torch":
            import torch
            torch.set_num_threads(threads)
        else:
            print("note: --threads only applies to the torch backend; NumPy's BLAS takes "
                  "OPENBLAS_NUM_THREADS / OMP_NUM_THREADS from the environment", file=sys.stderr)
    return backend


def no_grad(backend_name):
    """A context in which the torch backend builds no autograd graph (for a loss only reported)."""
    if backend_name == "torch":
        import torch
        return torch.no_grad()
    return contextlib.nullcontext()


# ---------------------------------------------------------------------------
# Models: one entry per network; ``build(backend, args)`` returns it
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class ModelSpec:
    """How the scripts build one network.

    build: (backend package, parsed arguments) -> network.
    flatten: the network takes MNIST as (N, 784) rather than (N, 1, 28, 28).
    trainable: train.py may train it (three_layer is inference only).
    takes_weight_file: the constructor reads ``args.weights`` itself (no ``load_params``).
    optimizer, lr: train.py's defaults (the book's choice for this network).
    eval_samples: train.py measures per-epoch accuracy on this many images (None: all),
        as the book's Trainer(evaluate_sample_num_per_epoch=...); the final test is always full.
    shape_options: the options (argument names) that shape the network beside ``--model``;
        train.py saves them with the weights (``model_config``).
    """

    build: Callable
    flatten: bool
    summary: str
    trainable: bool = True
    takes_weight_file: bool = False
    optimizer: str = "sgd"
    lr: float = 0.1
    eval_samples: int | None = None
    shape_options: tuple = ()


MODELS = {
    "two_layer": ModelSpec(
        build=lambda backend, args: backend.TwoLayerNet(
            784, args.hidden_size, 10, weight_init_std=args.weight_init_std,
            activation=args.activation, dtype=args.dtype, seed=args.seed),
        flatten=True, shape_options=("hidden_size", "activation"),
        summary="784-hidden-10, Affine-ReLU/Sigmoid-Affine-SoftmaxWithLoss (chapters 4-5)"),
    "three_layer": ModelSpec(
        build=lambda backend, args: backend.ThreeLayerNet(args.weights, dtype=args.dtype),
        flatten=True, trainable=False, takes_weight_file=True,
        summary="784-50-100-10 sigmoid network of chapter 3, inference only "
                "(e.g. ch03_sample_weight.npz or the book's ch03/sample_weight.pkl)"),
    "simple_convnet": ModelSpec(
        build=lambda backend, args: backend.SimpleConvNet(dtype=args.dtype, seed=args.seed),
        flatten=False, optimizer="adam", lr=0.001, eval_samples=1000,
        summary="conv(30 5x5)-relu-pool-affine(100)-relu-affine of chapter 7 (Adam, lr 0.001)"),
    "deep_convnet": ModelSpec(
        build=lambda backend, args: backend.DeepConvNet(dtype=args.dtype, seed=args.seed),
        flatten=False, optimizer="adam", lr=0.001, eval_samples=1000,
        summary="6 conv layers, 3 poolings, 2 affine layers with dropout, of chapter 8 (Adam, lr 0.001)"),
    # Chapter 8's architectures (8.2). A network taking (N, 1, 28, 28) images needs only an entry
    # like these: build from (backend, args) with dtype and seed (the torch backend then starts from
    # the NumPy backend's draw), flatten=False (which also allows --augment), the book-style
    # optimizer, lr and eval_samples, and a summary. Batch norms listed by a ``batch_norms()``
    # method have their running statistics saved with the weights (``network_state``).
    "lenet": ModelSpec(
        build=lambda backend, args: backend.LeNet(dtype=args.dtype, seed=args.seed),
        flatten=False, optimizer="adam", lr=0.001, eval_samples=1000,
        summary="LeNet-5 (LeCun et al. 1998), conv 6 5x5 pad 2 - tanh - subsampling - conv 16 5x5 - tanh - "
                "subsampling - affine 120-84-10 with tanh, of chapter 8 (Adam, lr 0.001)"),
    "resnet": ModelSpec(
        build=lambda backend, args: backend.ResNet(channels=stage_channels(args), dtype=args.dtype, seed=args.seed),
        flatten=False, optimizer="adam", lr=0.001, eval_samples=1000, shape_options=("channels",),
        summary="a small ResNet (He et al. 2016) of chapter 8: conv 16 - 3 residual blocks (16, 32, 64 "
                "channels) with batch norm - global average pooling - affine (Adam, lr 0.001)"),
    "alexnet": ModelSpec(
        build=lambda backend, args: backend.AlexNet(dtype=args.dtype, seed=args.seed),
        flatten=False, optimizer="adam", lr=0.001, eval_samples=1000,
        summary="a small AlexNet (Krizhevsky et al. 2012) of chapter 8: conv - relu - LRN - overlapping max pool "
                "(twice), 3 convs, dropout - affine 256 - dropout - affine (Adam, lr 0.001)"),
    "vgg": ModelSpec(
        build=lambda backend, args: backend.VGG(stages=tuple((c, c) for c in stage_channels(args)),
                                                dtype=args.dtype, seed=args.seed),
        flatten=False, optimizer="adam", lr=0.001, eval_samples=1000, shape_options=("channels",),
        summary="a small VGG (Simonyan and Zisserman 2015) of chapter 8: 3 stages of two 3x3 convs and a max "
                "pool (16, 32, 64 channels), affine 256 - dropout - affine (Adam, lr 0.001)"),
    "googlenet": ModelSpec(
        build=lambda backend, args: backend.GoogLeNet(dtype=args.dtype, seed=args.seed),
        flatten=False, optimizer="adam", lr=0.001, eval_samples=1000,
        summary="a small GoogLeNet (Szegedy et al. 2015) of chapter 8: conv stem - 2 inception blocks "
                "(1x1, 3x3, 5x5 and pool paths concatenated) - global average pooling - affine (Adam, lr 0.001)"),
}


def check_model_options(parser, args):
    """Architecture options only for the networks they shape: --channels for VGG and ResNet."""
    if getattr(args, "channels", None) is not None and args.model not in WIDTH_MODELS:
        parser.error(f"--channels sets the stages of {' and '.join(WIDTH_MODELS)}, not of --model {args.model}")


def model_help(trainable_only):
    return "; ".join(f"{name}: {spec.summary}" for name, spec in MODELS.items()
                     if spec.trainable or not trainable_only)


MODEL_DEFAULTS = {"model": "two_layer", "hidden_size": 50, "activation": "relu", "channels": None}
DEFAULT_CHANNELS = [16, 32, 64]  # VGG's and ResNet's three stages
WIDTH_MODELS = tuple(name for name, spec in MODELS.items() if "channels" in spec.shape_options)


def stage_channels(args):
    """--channels, or the networks' default three stages when it is not given (or not recorded)."""
    return list(DEFAULT_CHANNELS if getattr(args, "channels", None) is None else args.channels)


def add_model_arguments(parser, trainable_only, from_weights=False):
    """--model and the architecture options.

    ``from_weights``: their defaults are None, to be taken from the weights
    file's configuration (``model_from_weights``), else ``MODEL_DEFAULTS``.
    """
    names = [name for name, spec in MODELS.items() if spec.trainable or not trainable_only]
    default = (lambda key: None) if from_weights else MODEL_DEFAULTS.get
    origin = "the weights file's configuration, else " if from_weights else ""
    parser.add_argument("--model", choices=names, default=default("model"),
                        help=f"{model_help(trainable_only)}. Default: {origin}two_layer")
    parser.add_argument("--hidden-size", type=positive_int, default=default("hidden_size"),
                        help=f"two_layer: hidden units (default: {origin}50)")
    parser.add_argument("--activation", choices=["relu", "sigmoid"], default=default("activation"),
                        help="two_layer: hidden activation; relu is chapter 5's net, sigmoid "
                             f"chapter 4's (default: {origin}relu)")
    parser.add_argument("--channels", type=positive_int, nargs=3, default=None, metavar=("C1", "C2", "C3"),
                        help=f"{', '.join(WIDTH_MODELS)}: the channels of the three stages (default: {origin}"
                             f"{' '.join(map(str, DEFAULT_CHANNELS))}); a convolution's cost grows with the "
                             "product of its input and output channels, so doubling them costs about 4x")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32",
                        help="parameter and image dtype (default float32)")


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------

# --dataset -> (the loader in scratch.mnist, its folder under --data-dir). Both are 28x28 grey images of 10 classes.
DATASETS = {"mnist": ("load_mnist", "MNIST"), "fashion_mnist": ("load_fashion_mnist", "FashionMNIST")}
DEFAULT_DATASET = "mnist"


def add_data_arguments(parser, from_weights=False, dataset=True):
    """--data-dir, --download and (unless not ``dataset``) --dataset.

    ``from_weights``: --dataset defaults to None, to be taken from the weights
    file's configuration (``dataset_from_weights``), else mnist.
    """
    if dataset:
        origin = "the weights file's configuration, else " if from_weights else ""
        parser.add_argument("--dataset", choices=list(DATASETS), default=None if from_weights else DEFAULT_DATASET,
                            help="mnist: the handwritten digits; fashion_mnist: Zalando's Fashion-MNIST "
                                 f"(10 kinds of clothing, the same sizes) (default: {origin}mnist)")
    parser.add_argument("--data-dir", metavar="DIR", default=None,
                        help="directory containing MNIST/raw/ (FashionMNIST/raw/ for --dataset fashion_mnist) "
                             "(default: $DLFS_DATA_DIR, else ~/.cache/dlfs/data)")
    parser.add_argument("--download", action=argparse.BooleanOptionalAction, default=True,
                        help="download the data set through torchvision if it is missing (default: yes)")


def dataset_suffix(args):
    """'' for MNIST, else '-<dataset>': what default output names get, so no run overwrites another data set's."""
    dataset = getattr(args, "dataset", None) or DEFAULT_DATASET
    return "" if dataset == DEFAULT_DATASET else f"-{dataset}"


def load_data(args, flatten):
    """MNIST (``args.dataset``: also Fashion-MNIST) as ``(x_train, t_train), (x_test, t_test)``:
    pixels in [0, 1] as ``args.dtype``, integer labels."""
    from scratch import mnist

    load = getattr(mnist, DATASETS[getattr(args, "dataset", None) or DEFAULT_DATASET][0])
    return load(normalize=True, flatten=flatten, one_hot_label=False, root=args.data_dir,
                download=args.download, dtype=np.dtype(args.dtype))


# ---------------------------------------------------------------------------
# The network's configuration, saved beside its weights
# ---------------------------------------------------------------------------

# Entries a configuration may lack, and what that means: MNIST is not recorded (nor was it before
# --dataset existed), so a file saved for MNIST, old or new, has no "dataset"; a run without
# --augment records no "augment".
CONFIG_DEFAULTS = {"dataset": DEFAULT_DATASET, "augment": None}
# Entries that record how the weights were trained, not which network or data they fit: never
# compared with the options of a later run, nor shown in its errors.
TRAINING_ONLY = ("augment",)


def model_config(args):
    """What train.py stores with the weights: ``--model``, the options that shape that model,
    ``--dataset`` unless it is mnist (``CONFIG_DEFAULTS``), and with --augment the augmentation
    settings as "augment": {"angle": degrees, "shift": pixels, "scale": [low, high]} (and
    "flip": true with --augment-flip)."""
    config = {"model": args.model, **{key: getattr(args, key) for key in MODELS[args.model].shape_options}}
    if "channels" in config:
        config["channels"] = stage_channels(args)
    if args.dataset != DEFAULT_DATASET:
        config["dataset"] = args.dataset
    if getattr(args, "augment", False):
        config["augment"] = {"angle": args.augment_angle, "shift": args.augment_shift,
                             "scale": list(args.augment_scale)}
        if getattr(args, "augment_flip", False):
            config["augment"]["flip"] = True
    return config


def _options(config):
    """A configuration as command-line options: '--model two_layer --hidden-size 50 ...'."""
    keys = sorted(config, key=lambda key: (key != "model", key))  # --model first, then alphabetical
    def value(v):
        return " ".join(map(str, v)) if isinstance(v, (list, tuple)) else v

    return " ".join(f"--{key.replace('_', '-')} {value(config[key])}" for key in keys)


def check_weights_config(path, expected):
    """Raise a one-line ValueError if the weights file ``path`` was saved for another network than ``expected``.

    ``expected``: {option name: value}, e.g. {"model": "deep_convnet"}. Files without a
    configuration (the book's, or saved by ``save_params`` without one) pass.
    """
    saved = serialization.load_config(path)
    if saved is None:
        return
    recorded = {key: value for key, value in {**CONFIG_DEFAULTS, **saved}.items() if key not in TRAINING_ONLY}
    clashes = {key: value for key, value in expected.items()
               if value is not None and key in recorded and recorded[key] != value}
    if clashes:
        shown = {key: value for key, value in recorded.items() if key in saved or key in clashes}
        raise ValueError(f"{path} holds the weights of {_options(shown)}, not of {_options(clashes)}")


def model_from_weights(args):
    """Fill ``args``' model options left None from the configuration in ``args.weights``, else the defaults.

    An option given on the command line that contradicts the file is an error (``check_weights_config``).
    """
    defaults = {key: value for key, value in {**MODEL_DEFAULTS, **CONFIG_DEFAULTS}.items()
                if key not in TRAINING_ONLY}  # --dataset too
    given = {key: getattr(args, key) for key in defaults}
    check_weights_config(args.weights, given)
    saved = serialization.load_config(args.weights) or {}
    for key, default in defaults.items():
        if given[key] is None:
            setattr(args, key, saved.get(key, default))
    return args


def dataset_from_weights(args, path):
    """Set ``args.dataset``, if None, from the configuration in the weights file ``path`` (else mnist);
    a --dataset that contradicts the file is an error (``check_weights_config``)."""
    check_weights_config(path, {"dataset": args.dataset})
    if args.dataset is None:
        args.dataset = {**CONFIG_DEFAULTS, **(serialization.load_config(path) or {})}["dataset"]
    return args


STATISTICS = ("running_mean", "running_var")


def network_state(network):
    """What the network computes with beside its parameters: the running statistics of its batch
    norms (those its ``batch_norms()`` lists, as ResNet's), as NumPy arrays named
    '<layer>.running_mean' and '<layer>.running_var'. train.py saves them beside the weights
    (parameter names hold no '.'); {} for a network without batch norms."""
    norms = network.batch_norms() if hasattr(network, "batch_norms") else {}
    return {f"{name}.{stat}": to_numpy(getattr(layer, stat)) for name, layer in norms.items() for stat in STATISTICS}


def _set_state(network, state, path):
    """Copy the running statistics ``state`` (all of ``network_state``'s names, or none) into ``network``."""
    expected = network_state(network)
    if not state:
        warnings.warn(f"{path} holds no batch-norm running statistics (not saved by train.py?); the network "
                      "predicts with the initial ones (mean 0, variance 1)")
        return
    missing = sorted(set(expected) - set(state))
    if missing:
        raise KeyError(f"running statistics do not fit this network: missing {missing}")
    for name, value in state.items():
        if value.shape != expected[name].shape:
            raise ValueError(f"{name}: expected shape {expected[name].shape}, file has {value.shape}")
    norms = network.batch_norms()
    for name, value in state.items():
        layer_name, stat = name.rsplit(".", 1)
        target = getattr(norms[layer_name], stat)
        if hasattr(target, "copy_"):  # a torch tensor
            import torch
            with torch.no_grad():
                target.copy_(torch.as_tensor(value, dtype=target.dtype))
        else:
            target[...] = value


def load_weights(network, path):
    """``network.load_params(path)``, and the running statistics of its batch norms (``network_state``)
    if it has any; an error that does not say which file gets its name in front."""
    try:
        state_names = set(network_state(network))
        if not state_names:
            return network.load_params(path)
        arrays = serialization.load_params(path)
        state = {name: arrays.pop(name) for name in list(arrays) if name in state_names}
        network.load_params(arrays)
        _set_state(network, state, path)
        return network
    except (KeyError, ValueError) as err:
        message = one_line(err)
        if str(path) in message:
            raise
        raise type(err)(f"{path}: {message}") from err


# ---------------------------------------------------------------------------
# Progress bar on stderr (tqdm)
# ---------------------------------------------------------------------------

def progress_bar(total, enabled=True, unit="it", **options):
    """A ``tqdm`` bar over ``total`` steps on stderr, drawn only on a terminal; ``options`` go to tqdm.

    Into a pipe or a log file it writes nothing (tqdm's ``disable=None``), and
    nothing at all when not ``enabled`` (--no-progress). Use it in a ``with``
    block: however the block ends, even by Ctrl-C, the bar's line is ended
    first, so an error or "interrupted" starts a line of its own.
    """
    return tqdm(total=total, disable=None if enabled else True, file=sys.stderr, unit=unit,
                dynamic_ncols=True, **options)


def advance(bar, loss):
    """One more iteration done, with the latest loss shown beside the bar."""
    bar.set_postfix_str(f"loss {loss:.4f}", refresh=False)
    bar.update()


def say(*lines):
    """Print lines on stdout above the progress bar (tqdm clears it, then redraws it)."""
    with tqdm.external_write_mode(file=sys.stdout):
        for line in lines:
            print(line, flush=True)


# ---------------------------------------------------------------------------
# Output files
# ---------------------------------------------------------------------------

def to_numpy(x):
    """A NumPy array for a tensor (detached, on the CPU) or an array: what both backends return."""
    return x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)


def save_png(figure, path):
    """Write a matplotlib ``Figure`` to ``path`` atomically (a temporary file in the same folder, then rename)."""
    write_atomically(path, lambda f: figure.savefig(f, format="png"))


def versions(backend_name):
    """{"numpy": ..., "torch": ...} (torch only for the torch backend): what a saved result ran on."""
    found = {"numpy": np.__version__}
    if backend_name == "torch":
        import torch
        found["torch"] = torch.__version__
    return found
