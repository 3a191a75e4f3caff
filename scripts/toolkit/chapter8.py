"""Chapter 8's results table behind ``scripts/ch08_results.py``: the rows (train.py commands), training the
missing ones, the Markdown table and the learning curves.

Each row of ``RUNS`` is one train.py command (the scratch backend, float32,
seed 0); the run writes its weights, curves and a JSON history under the
output folder, which the table and the figure read back.
"""
import os
import shlex
import subprocess
import sys
from dataclasses import dataclass

import numpy as np

from . import figures
from .history import load_history

__all__ = ["Run", "RUNS", "RUN_NAMES", "train_command", "history_path", "data_options", "run_missing", "load_histories", "table",
           "plot"]

TRAIN = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "train.py")


@dataclass(frozen=True)
class Run:
    """One row of the table: a name, the train.py options, and what the row shows."""

    name: str
    options: str
    note: str = ""
    seed: int = 0

    @property
    def dataset(self):
        return "fashion_mnist" if "fashion_mnist" in self.options else "mnist"

    @property
    def model(self):
        return self.options.split("--model ")[1].split()[0]

    @property
    def network(self):
        """The model, with its stages' channels where --channels sets them: 'vgg 32-64-128'."""
        if "--channels " not in self.options:
            return self.model
        return f"{self.model} " + "-".join(self.options.split("--channels ")[1].split()[:3])


SCHEDULE_5 = "--epochs 5 --lr-decay-at 4"  # Adam lr 0.001, then 0.0001 for the last epoch
SCHEDULE_8 = "--epochs 8 --lr-decay-at 6 7.5"
SCHEDULE_12 = "--epochs 12 --lr-decay-at 8 11"
SCHEDULE_16 = "--epochs 16 --lr-decay-at 11 14.5"
SCHEDULE_20 = "--epochs 20 --lr-decay-at 14 18"
SCHEDULE_22 = "--epochs 22 --lr-decay-at 15 20"
SCHEDULE_24 = "--epochs 24 --lr-decay-at 16 21"
MNIST_AUGMENT = "--augment"  # train.py's defaults: up to 10 degrees, 2 pixels, scale 0.9-1.1
# clothes may be mirrored but are photographed upright: flip and shift, no rotation or scaling
FASHION_AUGMENT = "--augment --augment-flip --augment-angle 0 --augment-shift 2 --augment-scale 1 1"
FASHION_FLIP = "--augment --augment-flip --augment-angle 0 --augment-shift 0 --augment-scale 1 1"  # mirroring only

RUNS = [
    Run("two_layer-mnist", "--model two_layer --iters 10000", "the book's chapter 5 (SGD lr 0.1)"),
    Run("lenet-mnist", f"--model lenet {SCHEDULE_5}"),
    Run("simple_convnet-mnist", f"--model simple_convnet {SCHEDULE_5}"),
    Run("alexnet-mnist", f"--model alexnet {SCHEDULE_5}"),
    Run("vgg-mnist", f"--model vgg {SCHEDULE_5}"),
    Run("googlenet-mnist", f"--model googlenet {SCHEDULE_5}"),
    Run("deep_convnet-mnist", f"--model deep_convnet {SCHEDULE_5}"),
    Run("resnet-mnist", f"--model resnet {SCHEDULE_5}"),
    Run("resnet-mnist-augment", f"--model resnet {SCHEDULE_12} {MNIST_AUGMENT}"),
    Run("resnet-mnist-augment-more", "--model resnet --init-weights {out}/resnet-mnist-augment.npz "
        f"--epochs 6 --lr 0.0005 --lr-decay-at 4 5.5 {MNIST_AUGMENT}", "6 more epochs from the row above",
        seed=1),  # other minibatches and augmentations than the row above drew
    Run("resnet-mnist-augment-24", f"--model resnet {SCHEDULE_24} {MNIST_AUGMENT}", "24 epochs from the start"),
    Run("deep_convnet-fashion_mnist", f"--model deep_convnet --dataset fashion_mnist {SCHEDULE_8}"),
    Run("deep_convnet-fashion_mnist-augment",
        f"--model deep_convnet --dataset fashion_mnist {SCHEDULE_8} {FASHION_AUGMENT}"),
    Run("resnet-fashion_mnist", f"--model resnet --dataset fashion_mnist {SCHEDULE_8}"),
    Run("resnet-fashion_mnist-augment", f"--model resnet --dataset fashion_mnist {SCHEDULE_8} {FASHION_AUGMENT}"),
    Run("vgg-fashion_mnist", f"--model vgg --dataset fashion_mnist {SCHEDULE_12}"),
    Run("resnet-fashion_mnist-augment-22",
        f"--model resnet --dataset fashion_mnist {SCHEDULE_22} {FASHION_AUGMENT}", "22 epochs"),
    Run("vgg-fashion_mnist-augment-16",
        f"--model vgg --dataset fashion_mnist {SCHEDULE_16} {FASHION_AUGMENT}", "16 epochs"),
    Run("vgg-fashion_mnist-augment-24",
        f"--model vgg --dataset fashion_mnist {SCHEDULE_24} {FASHION_AUGMENT}", "24 epochs"),
    Run("vgg-fashion_mnist-flip-20", f"--model vgg --dataset fashion_mnist {SCHEDULE_20} {FASHION_FLIP}",
        "20 epochs, mirroring only"),
    Run("vgg_wide-fashion_mnist-flip-12",
        f"--model vgg --channels 32 64 128 --dataset fashion_mnist {SCHEDULE_12} {FASHION_FLIP}",
        "twice the channels, mirroring only"),
]
RUN_NAMES = [run.name for run in RUNS]


def train_command(run, out):
    """The train.py command line of ``run``, writing ``out/<name>.{npz,png,json}``."""
    eval_samples = "" if run.model == "two_layer" else " --eval-samples 10000"  # full test set every epoch
    options = run.options.format(out=out)  # a row may start from another row's weights
    return [sys.executable, TRAIN,
            "--backend", "scratch", "--seed", str(run.seed), "--no-progress", *shlex.split(options + eval_samples),
            "--save", os.path.join(out, f"{run.name}.npz")]


def history_path(run, out):
    return os.path.join(out, f"{run.name}.json")


def data_options(args):
    options = [] if args.data_dir is None else ["--data-dir", args.data_dir]
    return options + ([] if args.download else ["--no-download"])


def run_missing(args, names):
    """Train each named row whose history is missing, one after the other."""
    for run in RUNS:
        if names and run.name not in names:
            continue
        if os.path.exists(history_path(run, args.out)):
            print(f"{run.name}: done already ({history_path(run, args.out)})")
            continue
        command = train_command(run, args.out) + data_options(args)
        print(f"{run.name}: {shlex.join(command)}", flush=True)
        subprocess.run(command, check=True)


def load_histories(out):
    """{run name: history} of the rows whose JSON history exists under ``out``."""
    found = {}
    for run in RUNS:
        path = history_path(run, out)
        if os.path.exists(path):
            found[run.name] = load_history(path)
    return found


DATASET_TITLES = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST"}


def augmentation(history):
    """'-' or a short description of the run's --augment settings."""
    settings = history["config"].get("augment")
    if not settings:
        return "-"
    parts = []
    if settings.get("flip"):
        parts.append("flip")
    if settings["angle"]:
        parts.append(f"±{settings['angle']:g}°")
    if settings["shift"]:
        parts.append(f"±{settings['shift']:g} px")
    low, high = settings["scale"]
    if (low, high) != (1, 1):
        parts.append(f"×{low:g}-{high:g}")
    return ", ".join(parts)


def schedule(history):
    """'Adam 0.001, /10 at 8, 11' or 'SGD 0.1': the optimizer, rate and step decay."""
    options = history["options"]
    text = f"{options['optimizer'].capitalize() if options['optimizer'] != 'sgd' else 'SGD'} {options['lr']:g}"
    if options.get("lr_decay_at"):
        text += f", ×{options['lr_decay']:g} at {', '.join(f'{e:g}' for e in options['lr_decay_at'])}"
    return text.replace("Adagrad", "AdaGrad").replace("Rmsprop", "RMSprop")


def minutes(seconds):
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


def parameter_count(weights_path):
    """How many numbers the network learns: the sizes of the saved parameters (running statistics,
    named '<layer>.running_mean', are not parameters); None if the weights file is missing."""
    if not os.path.exists(weights_path):
        return None
    from scratch import serialization

    return sum(value.size for name, value in serialization.load_params(weights_path).items() if "." not in name)


def table(histories, out):
    """The Markdown table, one row per run, in ``RUNS``' order."""
    lines = ["| network | parameters | data | augmentation | epochs | optimizer | test acc. "
             "| best test acc. (epoch) | train acc. | wall time | note |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for run in RUNS:
        if run.name not in histories:
            continue
        history = histories[run.name]
        test, epochs = history["test_acc"], history["epoch"]
        best = max(range(1, len(test)), key=lambda row: test[row]) if len(test) > 1 else 0
        count = parameter_count(os.path.join(out, f"{run.name}.npz"))
        lines.append(f"| {run.network} | {'?' if count is None else f'{count:,}'} "
                     f"| {DATASET_TITLES[run.dataset]} | {augmentation(history)} "
                     f"| {epochs[-1]:.3g} | {schedule(history)} | **{test[-1]:.4f}** "
                     f"| {test[best]:.4f} ({epochs[best]:.3g}) | {history['train_acc'][-1]:.4f} "
                     f"| {minutes(history['training_time_s'])} | {run.note} |")
    return "\n".join(lines) + "\n"


MODEL_COLORS = {"lenet": "tab:blue", "simple_convnet": "tab:orange", "alexnet": "tab:green", "vgg": "tab:red",
                "googlenet": "tab:purple", "deep_convnet": "tab:brown", "resnet": "tab:pink",
                "vgg 32-64-128": "darkred"}  # a wider network: its model's colour, darker
ERROR_TICKS = [0.3, 0.4, 0.5, 0.7, 1, 2, 3, 5, 7, 10, 15, 20, 30]  # percent
LONG_RUN_EPOCHS = 20


def continued_epochs(run, histories):
    """The epochs a row started at: the last epoch of the row it continues (its --init-weights), else 0."""
    if "{out}/" not in run.options:
        return 0.0
    earlier = run.options.split("{out}/")[1].split()[0].removesuffix(".npz")
    return histories[earlier]["epoch"][-1] if earlier in histories else 0.0


def plot(path, histories):
    """Test error per epoch (log scale): MNIST's networks on the left, Fashion-MNIST's runs on the right;
    one colour per network, dashed with augmentation, dotted for runs of 20 epochs or more; a continued
    run drawn after the run it continues."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import FixedLocator, MaxNLocator, NullFormatter

    fig = Figure(figsize=(12, 5), layout="constrained")
    axes = dict(zip(DATASET_TITLES, fig.subplots(1, 2)))
    labelled = set()
    for run in RUNS:
        history = histories.get(run.name)
        if history is None or run.model == "two_layer":
            continue
        epochs, test = np.asarray(history["epoch"]), np.asarray(history["test_acc"])
        keep = epochs >= 0.5  # the row before the first update is a guess (90% error)
        augmented = bool(history["config"].get("augment"))
        label = run.network + (f" + {augmentation(history)}" if augmented else "")
        long_run = epochs[-1] >= LONG_RUN_EPOCHS  # a long run from the start: dotted, square markers
        if long_run:
            label += f", {epochs[-1]:g} epochs"
        color = MODEL_COLORS.get(run.network, MODEL_COLORS.get(run.model))
        axes[run.dataset].plot(epochs[keep] + continued_epochs(run, histories), 100 * (1 - test[keep]),
                               ":" if long_run else "--" if augmented else "-", color=color,
                               marker="s" if long_run else "o", markersize=3,
                               label=None if (run.dataset, label) in labelled else label)
        labelled.add((run.dataset, label))
    for dataset, ax in axes.items():
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(FixedLocator(ERROR_TICKS))
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_yticklabels([f"{tick:g}%" for tick in ERROR_TICKS])
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_ylabel("test error (log scale)")
        ax.set_title(f"{DATASET_TITLES[dataset]}: test error after each epoch")
        ax.grid(True, which="major", alpha=0.3)
        if ax.has_data():
            ax.legend(fontsize=8)
    fig.suptitle("Chapter 8's networks, scratch backend (NumPy), float32, Adam with step decay")
    figures.save_png(fig, path)
