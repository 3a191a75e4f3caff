"""train.py's histories: the JSON beside the weights, written, read back, and two of them compared.

A history holds every option of the run, its configuration, the loss of every
iteration, the epoch, train and test accuracy and elapsed seconds of every
table row, and the versions it ran on (``save_history``). ``compare_runs.py``
compares two (``check_same_training``, ``differences``, ``plot_comparison``),
``ch08_results.py`` tabulates many (``toolkit.chapter8``).
"""
import json
import os

import numpy as np

from . import backends, figures, paths, weights

__all__ = ["save_history", "load_history", "IGNORED_OPTIONS", "check_same_training", "differences",
           "plot_comparison", "backend_label"]

# Options that may differ between two runs of the same training: where the files went, and how it ran
# (--readable: the readable layers instead of the fast plug-ins, which compute the same numbers).
IGNORED_OPTIONS = {"backend", "save", "plot", "history", "threads", "no_progress", "no_plot", "data_dir",
                   "download", "readable"}


def save_history(args, iters_num, losses, epochs, train_acc, test_acc, seconds, elapsed):
    """The run's numbers as JSON (atomically), for figures and for comparing two runs
    (``scripts/compare_runs.py``): every option, the loss per iteration, one entry per table row."""
    history = {"options": {key: value for key, value in vars(args).items()},
               "config": weights.model_config(args), "iterations": iters_num,
               "loss": losses, "epoch": epochs, "train_acc": train_acc, "test_acc": test_acc,
               "elapsed_s": seconds, "training_time_s": elapsed,
               "versions": backends.versions(args.backend)}
    paths.write_text(args.history, json.dumps(history, indent=1))


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


def check_same_training(first, second, files):
    """Both histories are the same training (same options) but for the backend and output paths."""
    a, b = first["options"], second["options"]
    differing = sorted(key for key in set(a) | set(b) - IGNORED_OPTIONS
                       if key not in IGNORED_OPTIONS and a.get(key) != b.get(key))
    if differing:
        details = "; ".join(f"--{key.replace('_', '-')} {a.get(key)!r} vs {b.get(key)!r}" for key in differing)
        raise ValueError(f"{files[0]} and {files[1]} are different trainings, not the same one twice: {details}")


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


def plot_comparison(path, first, second, labels):
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


def backend_label(history, path):
    """The backend a history ran on, 'scratch (readable)' on the readable layers (its file name for a
    history without one)."""
    backend = history["options"].get("backend")
    if not backend:
        return os.path.basename(path)
    return f"{backend} (readable)" if history["options"].get("readable") else backend
