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

__all__ = ["CONFIG_KEYS", "captioner_module", "build_captioner", "load_pictures", "train", "evaluate"]

# What a weights file's configuration holds (besides "model": "captioner").
CONFIG_KEYS = ("input_dim", "channels", "hidden_size", "embed_size", "dtype")


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


def load_pictures(n, seed, train, data_dir, download, dtype):
    """n multi-digit pictures (images as ``dtype``, captions padded with -1) from MNIST's training or test images."""
    from scratch.multi_digit import load_multi_digit

    pictures = load_multi_digit(n, seed=seed, train=train, root=data_dir, download=download)
    return pictures.images.astype(dtype, copy=False), pictures.captions


def train(network, optimizer, images, captions, epochs, batch_size, seed, show_progress=True, on_epoch=None,
          redraw=None):
    """``epochs`` passes over the pictures in minibatches (a fresh order each epoch from ``seed``'s
    NumPy generator, the same in both backends); returns the loss of every step. ``on_epoch(epoch)``
    is called after each epoch; ``redraw(epoch)``, when given, returns the (images, captions) of epoch
    2, 3, ... (new pictures of as many). A NaN or infinite loss stops the run with a FloatingPointError."""
    rng = np.random.default_rng(seed)
    steps = len(images) // batch_size
    losses = []
    with progress.progress_bar(epochs * steps, show_progress, unit="step") as bar:
        for epoch in range(1, epochs + 1):
            if redraw is not None and epoch > 1:
                images, captions = redraw(epoch)
            order = rng.permutation(len(images))
            for i in range(steps):
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
