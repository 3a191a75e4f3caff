"""detect.py's machinery: R-CNN and Fast R-CNN of either backend, their scenes and proposals, the training
loop, detection with its timing, mAP and the figure.

Both backends train on the very same scenes (``scratch.scenes``: training scenes from MNIST's training
images, test scenes from its test images), the very same proposals, labels and regression targets
(``scratch.proposals``: proposals are data, computed in NumPy once), the same minibatches for a seed (drawn
here, in NumPy), and start from the weights the NumPy network draws for the seed, so two runs compare loss
for loss (``compare_runs.py``).

Minibatches (``TrainingSet``):

* ``fast_rcnn``: a step takes ``batch_size`` scenes (a fresh order each epoch) and, from each, ROIS_PER_SCENE
  proposals drawn by ``sample_proposals`` (a quarter foreground, the rest background; Fast R-CNN's 64 RoIs
  per image), the scene's true boxes among its proposals; one pass over the scenes is an epoch;
* ``rcnn``: a step takes ``batch_size`` proposals drawn by ``sample_proposals`` from the proposals of all
  training scenes (R-CNN's 32 windows of foreground and 96 of background out of every image's), warped to
  28x28 then and there (warping all ~100 proposals of 10000 scenes at once would take 3 GB). An epoch is as
  many proposals as Fast R-CNN's: ROIS_PER_SCENE per training scene, train_size * 64 / batch_size steps.

Detection (``detect``), what is timed as "scenes per second": the proposals of each scene
(``propose_scenes``), for R-CNN the warping of every proposal, the network, and ``detect_boxes``' box
decoding and per-class NMS (R-CNN's and Fast R-CNN's ``detect``), in chunks of scenes.
"""
import importlib
import math
import time

import numpy as np

from . import backends, progress

__all__ = ["METHODS", "CONFIG_KEYS", "ROIS_PER_SCENE", "CLASS_NAMES", "network_module", "build_network",
           "check_saved_network", "load_scenes", "TrainingSet", "train", "detect", "scores", "ap_table",
           "plot_curves", "draw_detections"]

METHODS = ("rcnn", "fast_rcnn")
# What a weights file's configuration holds (besides "model": the method), per method.
CONFIG_KEYS = {"rcnn": ("input_dim", "channels", "hidden_size", "num_classes", "dtype"),
               "fast_rcnn": ("input_dim", "channels", "pooled_size", "hidden_size", "num_classes", "dtype")}
CLASS_NAME = {"rcnn": "RCNN", "fast_rcnn": "FastRCNN"}
ROIS_PER_SCENE = 64       # Fast R-CNN's sample of each scene's proposals per step (R = 128 for N = 2 in the paper)
CLASS_NAMES = tuple(str(d) for d in range(10))
# matplotlib's tab10: one colour per digit class, as segment.py's figures
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf")


def network_module(method, backend):
    """``scratch.rcnn``, ``reference.fast_rcnn``, ..."""
    return importlib.import_module(f"{backends.BACKENDS[backend].package}.{method}")


def build_network(method, backend, config, seed=0, readable=False):
    """An RCNN or FastRCNN of ``backend`` for ``config`` (``CONFIG_KEYS[method]``), holding the NumPy
    network's initial weights for ``seed`` (the same start in both backends)."""
    kwargs = {key: config[key] for key in CONFIG_KEYS[method]}
    kwargs["input_dim"], kwargs["channels"] = tuple(kwargs["input_dim"]), tuple(kwargs["channels"])
    cls = CLASS_NAME[method]
    start = getattr(network_module(method, "scratch"), cls)(**kwargs, seed=seed, readable=readable)
    if backend == "scratch":
        return start
    return getattr(network_module(method, backend), cls)(**kwargs, seed=seed).load_params(start.params)


def check_saved_network(path, config=None):
    """The configuration saved in ``path``; a one-line ValueError if it holds no R-CNN or Fast R-CNN, or
    (``config`` given) another method or shape (the dtype may differ)."""
    from scratch.serialization import load_config

    saved = load_config(path)
    if not saved or saved.get("model") not in METHODS:
        raise ValueError(f"{path} holds no detector (no configuration with model 'rcnn' or 'fast_rcnn')")
    if config is not None:
        if saved["model"] != config["model"]:
            raise ValueError(f"{path} holds a {saved['model']} network, not a {config['model']} one (--method)")
        listed = lambda value: list(value) if isinstance(value, (list, tuple)) else value  # noqa: E731 - JSON lists
        clashes = [f"{key} {saved.get(key)} (not {listed(config[key])})" for key in CONFIG_KEYS[config["model"]]
                   if key != "dtype" and listed(saved.get(key)) != listed(config[key])]
        if clashes:
            raise ValueError(f"{path} holds a {saved['model']} network of another shape: {', '.join(clashes)}")
    return saved


def load_scenes(n, seed, train, data_dir, download):
    """n scenes (``scratch.scenes.MultiDigitScenes``) from MNIST's training or test images."""
    from scratch.scenes import load_scenes as make

    return make(n, seed=seed, train=train, root=data_dir, download=download)


class TrainingSet:
    """The training scenes' proposals, labelled, with their true boxes added (no crops), and the minibatches
    of ``method`` drawn from them (module docstring)."""

    def __init__(self, method, scenes, batch_size, dtype, rois_per_scene=ROIS_PER_SCENE):
        from scratch.proposals import proposal_set

        self.method, self.batch_size, self.dtype, self.rois_per_scene = method, batch_size, dtype, rois_per_scene
        self.images = scenes.images.astype(dtype, copy=False)
        self.proposals = proposal_set(scenes, with_ground_truth=True, warp_crops=False)
        n = len(self.images)
        self.starts = np.searchsorted(self.proposals.scene, np.arange(n + 1))  # scene i: rows starts[i]:starts[i+1]
        if method == "fast_rcnn":
            self.steps = n // batch_size
        else:
            self.steps = n * rois_per_scene // batch_size

    def batches(self, rng):
        """The arguments of ``network.gradient`` for each step of one epoch, drawn from ``rng``."""
        from scratch.proposals import sample_proposals, warp

        p = self.proposals
        if self.method == "fast_rcnn":
            order = rng.permutation(len(self.images))
            for i in range(self.steps):
                chosen = order[i * self.batch_size:(i + 1) * self.batch_size]
                rows, index = [], []
                for k, scene in enumerate(chosen):
                    start, end = self.starts[scene], self.starts[scene + 1]
                    picked = start + sample_proposals(p.labels[start:end], self.rois_per_scene, rng)
                    rows.append(picked)
                    index.append(np.full(len(picked), k, dtype=np.float64))
                rows, index = np.concatenate(rows), np.concatenate(index)
                rois = np.concatenate([index[:, None], p.boxes[rows]], axis=1)
                yield self.images[chosen], rois, p.labels[rows], p.targets[rows]
        else:
            for _ in range(self.steps):
                rows = sample_proposals(p.labels, self.batch_size, rng)
                crops = warp(self.images, p.boxes[rows], p.scene[rows]).astype(self.dtype, copy=False)
                yield crops, p.labels[rows], p.targets[rows]


def train(network, optimizer, data, epochs, seed, show_progress=True, on_epoch=None, redraw=None, schedule=None,
          losses=None):
    """``epochs`` passes of ``data.batches`` (a ``TrainingSet``; minibatches from ``seed``'s NumPy generator,
    the same in both backends); returns the loss of every step. As ``captioning.train``: ``on_epoch(epoch)``
    after each epoch, ``redraw(epoch)`` the ``TrainingSet`` of epochs 2, 3, ..., ``schedule`` {step: rate},
    ``losses`` the list appended to; a NaN or infinite loss stops the run with a FloatingPointError."""
    rng = np.random.default_rng(seed)
    losses = [] if losses is None else losses
    step = 0
    with progress.progress_bar(epochs * data.steps, show_progress, unit="step") as bar:
        for epoch in range(1, epochs + 1):
            if redraw is not None and epoch > 1:
                data = redraw(epoch)
            for batch in data.batches(rng):
                if schedule and step in schedule:
                    optimizer.lr = schedule[step]
                    progress.say(f"step {step}: learning rate now {optimizer.lr:g}")
                grads = network.gradient(*batch)
                optimizer.update(network.params, grads)
                loss = float(network.last_loss)
                if not math.isfinite(loss):
                    raise FloatingPointError(f"the loss is {loss} at step {len(losses) + 1}; lower --lr")
                losses.append(loss)
                progress.advance(bar, loss)
                step += 1
            if on_epoch is not None:
                on_epoch(epoch)
    return losses


def detect(network, method, images, dtype, chunk=25):
    """(detections per scene, seconds): proposals, (R-CNN) warping, the network, box decoding and per-class
    NMS, ``chunk`` scenes at a time (25: twice as fast as 100 for Fast R-CNN's NumPy network, whose im2col
    arrays of 100 scenes outgrow the caches; measured 1.15 s against 2.4 s for 200 test scenes). Detections
    are dicts {"boxes", "scores", "labels"} of NumPy arrays."""
    from scratch.proposals import propose_scenes, warp

    start = time.perf_counter()
    detections = []
    for i in range(0, len(images), chunk):
        scenes = images[i:i + chunk]
        boxes = propose_scenes(scenes)
        index = np.concatenate([np.full(len(b), k, dtype=np.float64) for k, b in enumerate(boxes)])
        if not len(index):  # no stroke in any of these scenes: nothing proposed, nothing found
            detections += [{"boxes": np.zeros((0, 4)), "scores": np.zeros(0), "labels": np.zeros(0, np.int64)}
                           for _ in scenes]
            continue
        boxes = np.concatenate(boxes)
        rois = np.concatenate([index[:, None], boxes], axis=1)
        if method == "rcnn":
            crops = warp(scenes, boxes, index.astype(np.int64)).astype(dtype, copy=False)
            found = network.detect(crops, rois, num_images=len(scenes))
        else:
            found = network.detect(scenes.astype(dtype, copy=False), rois)
        detections += [{key: backends.to_numpy(value) for key, value in d.items()} for d in found]
    return detections, time.perf_counter() - start


def scores(detections, scenes):
    """{"map50", "map50_95", "per_class_ap" (10 values, NaN for a digit absent from the scenes),
    "digits" (10 counts)} of the detections against the scenes' ground truth."""
    from scratch.detection_metrics import average_precisions, mean_average_precision, mean_average_precision_50_95
    from scratch.scenes import ground_truth

    truth = ground_truth(scenes)
    aps = average_precisions(detections, truth, 0.5)
    labels = np.concatenate([t["labels"] for t in truth])
    return {"map50": mean_average_precision(detections, truth, 0.5),
            "map50_95": mean_average_precision_50_95(detections, truth),
            "per_class_ap": np.array([aps.get(c, np.nan) for c in range(10)]),
            "digits": np.bincount(labels, minlength=10)[:10]}


def ap_table(result):
    """The per-class AP@0.5 as lines of text: each digit, its AP, and how many of it the scenes hold."""
    lines = [f"{'digit':>6s}  {'AP@0.5':>6s}  {'boxes':>6s}"]
    for name, ap, count in zip(CLASS_NAMES, result["per_class_ap"], result["digits"]):
        value = "   n/a" if np.isnan(ap) else f"{ap:6.4f}"
        lines.append(f"{name:>6s}  {value}  {int(count):6d}")
    return lines


def plot_curves(path, losses, epochs, train_map, test_map, title):
    """Loss per step (left) and mAP@0.5 per epoch (right)."""
    from . import figures

    fig = figures.new_figure(layout="tight", figsize=(10, 4))
    ax_loss, ax_map = fig.subplots(1, 2)
    ax_loss.plot(np.arange(1, len(losses) + 1), losses, linewidth=0.6)
    ax_loss.set_xlabel("iteration")
    ax_loss.set_ylabel("loss")
    ax_loss.set_title("training loss (minibatch: classification + box regression)")
    ax_map.plot(epochs, train_map, marker="o", label="train")
    ax_map.plot(epochs, test_map, marker="s", linestyle="--", label="test")
    ax_map.set_xlabel("epochs")
    ax_map.set_ylabel("mAP@0.5")
    ax_map.set_ylim(0, 1.0)
    ax_map.legend(loc="lower right")
    fig.suptitle(title)
    figures.save_png(fig, path)


def draw_detections(path, images, detections, truth, indices, title, min_score=0.5):
    """One scene per panel: the true boxes dashed gray, the detections scoring at least ``min_score`` in
    their digit's colour with "digit score" above; the panel's caption counts them."""
    from matplotlib.patches import Rectangle

    from . import figures

    n = len(images)
    columns = 3 if n > 4 else max(n, 1)
    rows = max(1, -(-n // columns))
    fig = figures.new_figure(figsize=(3.3 * columns, 3.6 * rows + 0.7))
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for k, ax in enumerate(axes):
        ax.set_xticks([])
        ax.set_yticks([])
        if k >= n:
            ax.set_axis_off()
            continue
        ax.imshow(images[k].reshape(images.shape[-2:]), cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
        for x1, y1, x2, y2 in truth[k]["boxes"]:
            ax.add_patch(Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False, edgecolor="0.45",
                                   linestyle="--", linewidth=1.0))
        d = detections[k]
        shown = d["scores"] >= min_score
        for (x1, y1, x2, y2), score, label in zip(d["boxes"][shown], d["scores"][shown], d["labels"][shown]):
            colour = PALETTE[int(label)]
            ax.add_patch(Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False, edgecolor=colour,
                                   linewidth=1.6))
            ax.text(x1 - 0.5, y1 - 1.0, f"{int(label)} {score:.2f}", color="white", fontsize=8,
                    bbox={"facecolor": colour, "edgecolor": "none", "pad": 1.0})
        true = " ".join(str(int(c)) for c in truth[k]["labels"])
        ax.set_xlabel(f"true {true}: {int(shown.sum())} found", fontsize=9)
        ax.set_title(f"#{indices[k]}", fontsize=8, loc="left")
    if not n:
        axes[0].text(0.5, 0.5, "no scenes to show", ha="center", va="center")
    fig.suptitle(title)
    figures.save_png(fig, path)
