"""segment.py's machinery: the FCN of either backend, its scenes, its evaluation and its figure.

Both backends train on the very same scenes (``scratch.scenes``: training scenes from MNIST's training
images, test scenes from its test images), the same minibatches for a seed (``captioning.train``'s loop,
which drives any network with ``gradient(x, t)`` and ``last_loss``), and start from the weights the NumPy
FCN draws for the seed, so two runs compare loss for loss (``compare_runs.py``).
"""
import importlib
import time

import numpy as np

from . import backends

__all__ = ["CONFIG_KEYS", "CLASS_NAMES", "PALETTE", "fcn_module", "build_fcn", "check_saved_fcn", "load_scenes",
           "evaluate", "predict", "iou_table", "plot_curves", "draw_segmentations"]

# What a weights file's configuration holds (besides "model": "fcn").
CONFIG_KEYS = ("input_dim", "channels", "num_classes", "dtype")

# The classes of a scene's mask: the digits 0..9, then scratch.scenes.BACKGROUND = 10.
CLASS_NAMES = tuple(str(d) for d in range(10)) + ("background",)

# One fixed colour per class, the same in every figure: matplotlib's tab10 for the digits 0..9 (ten
# colours told apart easily), a near-black for the background, so that the digits stand out.
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf", "#141414")
WRONG_COLOUR = "#ff1744"  # the wrong pixels of the fourth panel, on the scene in light gray


def fcn_module(backend):
    """``scratch.fcn`` or ``reference.fcn``."""
    return importlib.import_module(f"{backends.BACKENDS[backend].package}.fcn")


def build_fcn(backend, config, seed=0, readable=False):
    """An FCN of ``backend`` for ``config`` (``CONFIG_KEYS``), holding the NumPy FCN's initial weights for
    ``seed`` (the same start in both backends)."""
    kwargs = {key: config[key] for key in CONFIG_KEYS}
    kwargs["input_dim"], kwargs["channels"] = tuple(kwargs["input_dim"]), tuple(kwargs["channels"])
    start = fcn_module("scratch").FCN(**kwargs, seed=seed, readable=readable)
    if backend == "scratch":
        return start
    return fcn_module(backend).FCN(**kwargs, seed=seed).load_params(start.params)


def check_saved_fcn(path, config=None):
    """The configuration saved in ``path``; a one-line ValueError if it holds no FCN, or one of another shape
    than ``config`` (when given; the dtype may differ)."""
    from scratch.serialization import load_config

    saved = load_config(path)
    if not saved or saved.get("model") != "fcn":
        raise ValueError(f"{path} holds no FCN (no configuration with model 'fcn')")
    if config is not None:
        listed = lambda value: list(value) if isinstance(value, (list, tuple)) else value  # noqa: E731 - JSON lists
        clashes = [f"{key} {saved.get(key)} (not {listed(config[key])})" for key in CONFIG_KEYS
                   if key != "dtype" and listed(saved.get(key)) != listed(config[key])]
        if clashes:
            raise ValueError(f"{path} holds an FCN of another shape: {', '.join(clashes)}")
    return saved


def load_scenes(n, seed, train, data_dir, download, dtype):
    """n scenes (images (N, 1, 64, 64) as ``dtype``, masks (N, 64, 64) int64) from MNIST's training or test
    images."""
    from scratch.scenes import load_scenes as make

    scenes = make(n, seed=seed, train=train, root=data_dir, download=download)
    return scenes.images.astype(dtype, copy=False), scenes.masks


def evaluate(network, images, masks, batch_size=100):
    """({"pixel_accuracy", "mean_iou", "per_class_iou", "confusion"}, seconds) of the network's segmentation."""
    start = time.perf_counter()
    scores = network.evaluate(images, masks, batch_size)
    return scores, time.perf_counter() - start


def predict(network, images, batch_size=100):
    """The predicted class of every pixel, (N, H, W) int64."""
    return network.segment(images, batch_size)


def iou_table(scores):
    """The per-class IoU as lines of text: each class, its IoU, and the share of the pixels it truly holds."""
    confusion = np.asarray(scores["confusion"])
    pixels = confusion.sum(axis=1)
    total = max(int(pixels.sum()), 1)
    lines = [f"{'class':>10s}  {'IoU':>6s}  {'pixels':>7s}"]
    for name, iou, count in zip(CLASS_NAMES, scores["per_class_iou"], pixels):
        value = "   n/a" if np.isnan(iou) else f"{iou:6.4f}"
        lines.append(f"{name:>10s}  {value}  {100 * count / total:6.2f}%")
    return lines


def plot_curves(path, losses, epochs, train_iou, test_iou, title):
    """Loss per step (left) and mean IoU per epoch (right): ``training.plot_curves`` with the right axis
    named for what it shows."""
    from . import figures

    fig = figures.new_figure(layout="tight", figsize=(10, 4))
    ax_loss, ax_iou = fig.subplots(1, 2)
    ax_loss.plot(np.arange(1, len(losses) + 1), losses, linewidth=0.6)
    ax_loss.set_xlabel("iteration")
    ax_loss.set_ylabel("loss")
    ax_loss.set_title("training loss (minibatch, mean over pixels)")
    ax_iou.plot(epochs, train_iou, marker="o", label="train")
    ax_iou.plot(epochs, test_iou, marker="s", linestyle="--", label="test")
    ax_iou.set_xlabel("epochs")
    ax_iou.set_ylabel("mean IoU")
    ax_iou.set_ylim(0, 1.0)
    ax_iou.legend(loc="upper left")
    fig.suptitle(title)
    figures.save_png(fig, path)


def draw_segmentations(path, images, masks, predicted, indices, title):
    """One row per scene: the image, the true mask, the predicted mask (both coloured by class, ``PALETTE``)
    and the wrong pixels (in red on the scene in light gray, their count below), with a legend of the classes."""
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    from . import figures

    classes = ListedColormap(PALETTE)
    n = len(images)
    fig = figures.new_figure(figsize=(10.4, 2.5 * max(n, 1) + 1.3))
    axes = fig.subplots(max(n, 1), 4, squeeze=False)
    for row, ax_row in enumerate(axes):
        for ax in ax_row:
            ax.set_xticks([])
            ax.set_yticks([])
        if row >= n:
            for ax in ax_row:
                ax.set_axis_off()
            ax_row[0].text(0.5, 0.5, "no scenes to show", ha="center", va="center")
            continue
        image = images[row].reshape(images.shape[-2:])
        wrong = predicted[row] != masks[row]
        ax_row[0].imshow(image, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
        ax_row[1].imshow(masks[row], cmap=classes, vmin=-0.5, vmax=len(PALETTE) - 0.5, interpolation="nearest")
        ax_row[2].imshow(predicted[row], cmap=classes, vmin=-0.5, vmax=len(PALETTE) - 0.5, interpolation="nearest")
        errors = np.ones((*image.shape, 3)) - 0.4 * image[..., None]  # the scene, light
        errors[wrong] = [int(WRONG_COLOUR[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        ax_row[3].imshow(errors, interpolation="nearest")
        ax_row[0].set_ylabel(f"#{indices[row]}", fontsize=9)
        ax_row[3].set_xlabel(f"{int(wrong.sum())} wrong", fontsize=9, color="tab:red" if wrong.any() else "black")
    for ax, label in zip(axes[0], ("scene", "true mask", "predicted mask", "wrong pixels (red)")):
        ax.set_title(label, fontsize=10)
    handles = [Patch(facecolor=colour, edgecolor="gray", label=name) for name, colour in zip(CLASS_NAMES, PALETTE)]
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=8, frameon=False,
               handlelength=1.2, columnspacing=0.8)
    fig.suptitle(title)
    figures.save_png(fig, path)
