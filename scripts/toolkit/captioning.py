"""caption.py's machinery: the captioner of either backend, its pictures, its training loop and its evaluation.

Both backends train on the very same pictures (``scratch.multi_digit``: training pictures from MNIST's
training images, test pictures from its test images), the same minibatches for a seed, and start from the
weights the NumPy captioner draws for the seed, so two runs compare loss for loss (``compare_runs.py``).
"""
import importlib
import math
import time

import numpy as np

from . import backends, progress

__all__ = ["CONFIG_KEYS", "captioner_module", "build_captioner", "check_saved_captioner", "load_pictures", "train", "evaluate", "predict",
           "caption_text", "draw_captions"]

# What a weights file's configuration holds (besides "model": "captioner").
CONFIG_KEYS = ("input_dim", "channels", "encoder_size", "hidden_size", "embed_size", "dtype")


def captioner_module(backend):
    """``scratch.captioner`` or ``reference.captioner``."""
    return importlib.import_module(f"{backends.BACKENDS[backend].package}.captioner")


def build_captioner(backend, config, seed=0, readable=False):
    """A Captioner of ``backend`` for ``config`` (``CONFIG_KEYS``), holding the NumPy captioner's initial
    weights for ``seed`` (the same start in both backends)."""
    kwargs = {key: config[key] for key in CONFIG_KEYS}
    kwargs["input_dim"], kwargs["channels"] = tuple(kwargs["input_dim"]), tuple(kwargs["channels"])
    start = captioner_module("scratch").Captioner(**kwargs, seed=seed, readable=readable)
    if backend == "scratch":
        return start
    return captioner_module(backend).Captioner(**kwargs, seed=seed).load_params(start.params)


def check_saved_captioner(path, config=None):
    """The configuration saved in ``path``; a one-line ValueError if it holds no captioner, or one of another
    shape than ``config`` (when given; the dtype may differ)."""
    from scratch.serialization import load_config

    saved = load_config(path)
    if not saved or saved.get("model") != "captioner":
        raise ValueError(f"{path} holds no captioner (no configuration with model 'captioner')")
    if config is not None:
        listed = lambda value: list(value) if isinstance(value, (list, tuple)) else value  # noqa: E731 - JSON lists
        clashes = [f"{key} {saved.get(key)} (not {listed(config[key])})" for key in CONFIG_KEYS
                   if key != "dtype" and listed(saved.get(key)) != listed(config[key])]
        if clashes:
            raise ValueError(f"{path} holds a captioner of another shape: {', '.join(clashes)}")
    return saved


def load_pictures(n, seed, train, data_dir, download, dtype):
    """n multi-digit pictures (images as ``dtype``, captions padded with -1) from MNIST's training or test images."""
    from scratch.multi_digit import load_multi_digit

    pictures = load_multi_digit(n, seed=seed, train=train, root=data_dir, download=download)
    return pictures.images.astype(dtype, copy=False), pictures.captions


def train(network, optimizer, images, captions, epochs, batch_size, seed, show_progress=True, on_epoch=None,
          redraw=None, schedule=None, losses=None):
    """``epochs`` passes over the pictures in minibatches (a fresh order each epoch from ``seed``'s
    NumPy generator, the same in both backends); returns the loss of every step. ``on_epoch(epoch)``
    is called after each epoch; ``redraw(epoch)``, when given, returns the (images, captions) of epoch
    2, 3, ... (new pictures of as many); ``schedule`` maps a step (0-based) to the learning rate from
    then on (``training.lr_schedule``). ``losses``, when given, is the list the losses are appended to
    (so that ``on_epoch`` can save them). A NaN or infinite loss stops the run with a FloatingPointError."""
    rng = np.random.default_rng(seed)
    steps = len(images) // batch_size
    losses = [] if losses is None else losses
    with progress.progress_bar(epochs * steps, show_progress, unit="step") as bar:
        for epoch in range(1, epochs + 1):
            if redraw is not None and epoch > 1:
                images, captions = redraw(epoch)
            order = rng.permutation(len(images))
            for i in range(steps):
                step = (epoch - 1) * steps + i
                if schedule and step in schedule:
                    if schedule[step] < optimizer.lr:  # a decay; the warmup's rise goes unannounced
                        progress.say(f"step {step}: learning rate now {schedule[step]:g}")
                    optimizer.lr = schedule[step]
                batch = order[i * batch_size:(i + 1) * batch_size]
                grads = network.gradient(images[batch], captions[batch])
                optimizer.update(network.params, grads)
                loss = float(network.last_loss)
                if not math.isfinite(loss):
                    raise FloatingPointError(f"the loss is {loss} at step {len(losses) + 1}; lower --lr")
                losses.append(loss)
                progress.advance(bar, loss)
            if on_epoch is not None:
                on_epoch(epoch)
    return losses


def evaluate(network, images, captions, batch_size=500):
    """(exact-caption accuracy, token accuracy, seconds) of greedy captions."""
    start = time.perf_counter()
    exact, token = network.evaluate(images, captions, batch_size)
    return exact, token, time.perf_counter() - start


def predict(network, images, batch_size=500):
    """Greedy captions (N, 6) of every picture, digits padded with -1, batch by batch."""
    return np.concatenate([network.generate(images[i:i + batch_size]) for i in range(0, len(images), batch_size)])


def caption_text(caption):
    """'3 0 7' for a caption padded with -1; '(empty)' for none."""
    digits = [str(int(d)) for d in caption if d >= 0]
    return " ".join(digits) if digits else "(empty)"


def draw_captions(path, images, predicted, captions, indices, title):
    """One picture per panel, its predicted caption under it: black when right, red with the truth when wrong."""
    from . import figures

    columns = 3 if len(images) > 4 else 1
    rows = max(1, -(-len(images) // columns))
    height, width = images.shape[-2:]
    fig = figures.new_figure(figsize=(3.2 * columns, (3.2 * height / width + 0.55) * rows + 0.7))
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for k, ax in enumerate(axes):
        ax.set_xticks([])
        ax.set_yticks([])
        if k >= len(images):
            ax.set_axis_off()
            continue
        ax.imshow(images[k].reshape(height, width), cmap="gray_r", interpolation="nearest")
        said, true = caption_text(predicted[k]), caption_text(captions[k])
        right = said == true
        label = said if right else f"{said}   (true {true})"
        ax.set_xlabel(label, color="black" if right else "tab:red", fontsize=11,
                      fontweight="normal" if right else "bold")
        ax.set_title(f"#{indices[k]}", fontsize=8, loc="left")
        if not right:
            for spine in ax.spines.values():
                spine.set_edgecolor("tab:red")
                spine.set_linewidth(2)
    if not len(images):
        axes[0].text(0.5, 0.5, "no pictures to show", ha="center", va="center")
    fig.suptitle(title)
    figures.save_png(fig, path)
