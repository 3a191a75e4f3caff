"""What the command-line scripts share: argument parsing with one-line errors,
the backend and model registries, MNIST loading, a progress bar and PNG saving.

The scripts import this module as ``_common`` (``python scripts/train.py``
puts ``scripts/`` first on ``sys.path``). NumPy is the only import at module
level, so ``--help`` and bad arguments answer at once; torch is imported only
with the torch backend.
"""
import argparse
import contextlib
import importlib
import math
import os
import sys
import tempfile
import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np

from scratch.progress import ProgressBar

__all__ = ["ArgumentParser", "BACKENDS", "MODELS", "ModelSpec", "Progress", "add_backend_argument",
           "add_data_arguments", "add_model_arguments", "fail", "load_backend", "load_data", "no_grad",
           "non_negative_int", "positive_float", "positive_int", "run_main", "save_png", "to_numpy"]

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
    """

    build: Callable
    flatten: bool
    summary: str
    trainable: bool = True
    takes_weight_file: bool = False
    optimizer: str = "sgd"
    lr: float = 0.1
    eval_samples: int | None = None


MODELS = {
    "two_layer": ModelSpec(
        build=lambda backend, args: backend.TwoLayerNet(
            784, args.hidden_size, 10, weight_init_std=args.weight_init_std,
            activation=args.activation, dtype=args.dtype, seed=args.seed),
        flatten=True,
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
}


def model_help(trainable_only):
    return "; ".join(f"{name}: {spec.summary}" for name, spec in MODELS.items()
                     if spec.trainable or not trainable_only)


def add_model_arguments(parser, trainable_only):
    """--model and the architecture options (evaluate.py needs the ones the weights were trained with)."""
    names = [name for name, spec in MODELS.items() if spec.trainable or not trainable_only]
    parser.add_argument("--model", choices=names, default="two_layer",
                        help=f"{model_help(trainable_only)}. Default: two_layer")
    parser.add_argument("--hidden-size", type=positive_int, default=50,
                        help="two_layer: hidden units (default 50)")
    parser.add_argument("--activation", choices=["relu", "sigmoid"], default="relu",
                        help="two_layer: hidden activation; relu is chapter 5's net, sigmoid "
                             "chapter 4's (default relu)")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32",
                        help="parameter and image dtype (default float32)")


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------

def add_data_arguments(parser):
    parser.add_argument("--data-dir", metavar="DIR", default=None,
                        help="directory containing MNIST/raw/ (default: $DLFS_DATA_DIR, "
                             "else ~/.cache/dlfs/data)")
    parser.add_argument("--download", action=argparse.BooleanOptionalAction, default=True,
                        help="download MNIST through torchvision if it is missing (default: yes)")


def load_data(args, flatten):
    """MNIST as ``(x_train, t_train), (x_test, t_test)``: pixels in [0, 1] as ``args.dtype``, integer labels."""
    from scratch.mnist import load_mnist

    return load_mnist(normalize=True, flatten=flatten, one_hot_label=False, root=args.data_dir,
                      download=args.download, dtype=np.dtype(args.dtype))


# ---------------------------------------------------------------------------
# Progress bar on stderr
# ---------------------------------------------------------------------------

Progress = ProgressBar  # the package's bar: Progress(total, enabled), update(n, loss), clear(), close(n, loss)


# ---------------------------------------------------------------------------
# Output files
# ---------------------------------------------------------------------------

def to_numpy(x):
    """A NumPy array for a tensor (detached, on the CPU) or an array: what both backends return."""
    return x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)


def save_png(figure, path):
    """Write a matplotlib ``Figure`` to ``path`` atomically: a temporary file in the same folder, then rename."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".png")
    try:
        with os.fdopen(fd, "wb") as f:
            figure.savefig(f, format="png")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes the file private (0600)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
