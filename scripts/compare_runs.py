"""Compare two train.py runs curve for curve: whole-run parity of the two backends.

Train the same network twice, once per backend, from the same seed (the same
initial weights, minibatches and augmentation draws), then compare the JSON
histories train.py saved beside the weights:

    python scripts/train.py --model lenet --epochs 1 --dtype float64 --backend scratch --save runs/parity/lenet-scratch.npz
    python scripts/train.py --model lenet --epochs 1 --dtype float64 --backend torch --save runs/parity/lenet-torch.npz
    python scripts/compare_runs.py runs/parity/lenet-scratch.json runs/parity/lenet-torch.json --plot runs/parity/lenet.png

It prints the largest difference of the minibatch loss over all iterations
(absolute, and relative to the loss) and of the train and test accuracies,
and fails (exit 1) if the loss curves part by more than --tolerance
(relative) at any iteration. The runs must have been made with the same
options apart from the backend and the output paths.
"""
import toolkit  # noqa: F401 - first: a Python without the project's packages gets one line, exit 2
import json
import os
import sys

import numpy as np

from toolkit import cli, figures, paths

DESCRIPTION = """Compare the histories (.json) of two train.py runs, typically the same run
with --backend scratch and --backend torch: the minibatch loss at every
iteration and the accuracies of every row. Fails if the options differ (apart
from the backend and the output paths) or if the loss curves part by more than
--tolerance relative to the loss. --plot draws both loss curves and their
difference."""

# Options that may differ between two runs of the same training: where the files went, and how it ran.
IGNORED_OPTIONS = {"backend", "save", "plot", "history", "threads", "no_progress", "no_plot", "data_dir",
                   "download"}
DEFAULT_TOLERANCE = {"float64": 1e-9, "float32": 1e-3}


def parse_args(argv=None):
    parser = cli.ArgumentParser(prog="compare_runs.py", description=DESCRIPTION)
    parser.add_argument("first", metavar="FIRST.json", help="a history saved by train.py (--history)")
    parser.add_argument("second", metavar="SECOND.json", help="the other run's history")
    parser.add_argument("--tolerance", type=cli.positive_float, default=None,
                        help="largest relative difference of the minibatch loss allowed at any iteration "
                             "(default 1e-9 for float64 runs, 1e-3 for float32, where rounding "
                             "differences grow over thousands of updates)")
    parser.add_argument("--plot", metavar="PATH", default=None,
                        help="draw both loss curves and their relative difference per iteration")
    args = parser.parse_args(argv)
    for path in (args.first, args.second):
        if not os.path.isfile(path):
            parser.error(f"no history file at {path}")
    if args.plot is not None:
        paths.check_output("--plot", args.plot)
    return args


def load_history(path):
    """A history saved by train.py, with a clear error for anything else."""
    try:
        with open(path) as f:
            history = json.load(f)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path} is not a train.py history (JSON): {err}") from None
    if not isinstance(history, dict) or not isinstance(history.get("options", {}), dict):
        raise ValueError(f"{path} is not a train.py history: its JSON is not an object "
                         "holding the run's options")
    missing = [key for key in ("options", "loss", "epoch", "train_acc", "test_acc") if key not in history]
    if missing:
        raise ValueError(f"{path} is not a train.py history: it lacks {', '.join(missing)}")
    return history


def check_same_training(first, second, paths):
    """Both histories are the same training (same options) but for the backend and output paths."""
    a, b = first["options"], second["options"]
    differing = sorted(key for key in set(a) | set(b) - IGNORED_OPTIONS
                       if key not in IGNORED_OPTIONS and a.get(key) != b.get(key))
    if differing:
        details = "; ".join(f"--{key.replace('_', '-')} {a.get(key)!r} vs {b.get(key)!r}" for key in differing)
        raise ValueError(f"{paths[0]} and {paths[1]} are different trainings, not the same one twice: {details}")


def differences(first, second):
    """{quantity: (largest absolute difference, at which index, largest relative difference)}."""
    found = {}
    for key in ("loss", "train_acc", "test_acc"):
        x, y = np.asarray(first[key], dtype=np.float64), np.asarray(second[key], dtype=np.float64)
        if x.shape != y.shape:
            raise ValueError(f"the runs recorded {len(x)} and {len(y)} values of {key}: not the same training")
        diff = np.abs(x - y)
        at = int(np.argmax(diff))
        found[key] = (float(diff[at]), at, float(np.max(diff / np.maximum(np.abs(y), 1e-300))))
    return found


def plot(path, first, second, labels):
    """Both loss curves (left) and their relative difference per iteration on a log scale (right)."""
    from matplotlib.figure import Figure

    x, y = np.asarray(first["loss"]), np.asarray(second["loss"])
    steps = np.arange(1, len(x) + 1)
    fig = Figure(figsize=(10, 4), layout="tight")
    ax_loss, ax_diff = fig.subplots(1, 2)
    ax_loss.plot(steps, x, linewidth=1.2, label=labels[0])
    ax_loss.plot(steps, y, linewidth=0.6, linestyle="--", label=labels[1])
    ax_loss.set_xlabel("iteration")
    ax_loss.set_ylabel("minibatch loss")
    ax_loss.legend()
    relative = np.abs(x - y) / np.abs(y)
    ax_diff.semilogy(steps, np.maximum(relative, 1e-17), linewidth=0.6)  # an exact 0 drawn at 1e-17
    ax_diff.set_xlabel("iteration")
    ax_diff.set_ylabel("|difference| / loss")
    ax_diff.set_title("relative difference of the two curves\n(iterations where they are equal drawn at 1e-17)",
                      fontsize=10)
    options = first["options"]
    fig.suptitle(f"{options['model']}, {options['dtype']}: {labels[0]} vs {labels[1]}")
    figures.save_png(fig, path)


def label(history, path):
    return history["options"].get("backend") or os.path.basename(path)


def main(argv=None):
    args = parse_args(argv)
    paths = (args.first, args.second)
    first, second = (load_history(path) for path in paths)
    check_same_training(first, second, paths)
    found = differences(first, second)
    dtype = first["options"].get("dtype", "float32")
    tolerance = args.tolerance or DEFAULT_TOLERANCE.get(dtype, DEFAULT_TOLERANCE["float32"])
    labels = (label(first, args.first), label(second, args.second))
    print(f"{first['options']['model']}, {dtype}, {len(first['loss'])} iterations, "
          f"{len(first['epoch'])} accuracy rows: {labels[0]} vs {labels[1]}")
    for key, (absolute, at, relative) in found.items():
        where = f"iteration {at + 1}" if key == "loss" else f"row {at + 1} (epoch {first['epoch'][at]:.2f})"
        print(f"  {key:9s} largest difference {absolute:.3g} at {where}, relative {relative:.3g}")
    if args.plot is not None:
        plot(args.plot, first, second, labels)
        print(f"saved plot: {args.plot}")
    relative = found["loss"][2]
    if relative > tolerance:
        print(f"error: the loss curves part: relative difference {relative:.3g} > tolerance {tolerance:g}",
              file=sys.stderr)
        sys.exit(1)  # a measured disagreement, not a usage error (2)
    print(f"the loss curves agree within {tolerance:g} (relative) at every iteration")


if __name__ == "__main__":
    cli.run_main(main)
