"""Shared MNIST helpers for the parity tests.

Tests that need the real data set are marked ``@requires_mnist``; they run
only when the environment variable DLFS_DATA_DIR points at a directory that
contains ``MNIST/raw/`` (the tests never download anything).  Otherwise they
are skipped, with the reason shown by ``pytest -ra``.

``small_mnist`` gives a cached subset (the first ``n_train`` / ``n_test``
samples) so training tests stay fast.
"""

import functools
import os

import numpy as np
import pytest

MNIST_DIR = os.environ.get("DLFS_DATA_DIR")

MNIST_SKIP_REASON = "set DLFS_DATA_DIR to a directory containing MNIST/raw/ to run this test"

requires_mnist = pytest.mark.skipif(not MNIST_DIR, reason=MNIST_SKIP_REASON)

__all__ = ["MNIST_DIR", "MNIST_SKIP_REASON", "requires_mnist", "small_mnist"]


@functools.lru_cache(maxsize=None)
def _full_mnist_uint8():
    """All of MNIST as uint8 images (N, 784) and int64 labels, loaded once."""
    from scratch.mnist import load_mnist

    return load_mnist(normalize=False, flatten=True, one_hot_label=False,
                      root=MNIST_DIR, download=False)


@functools.lru_cache(maxsize=None)
def _subset(n_train, n_test, dtype, flatten, one_hot_label):
    (x_train, t_train), (x_test, t_test) = _full_mnist_uint8()
    out = []
    for x, t, n in ((x_train, t_train, n_train), (x_test, t_test, n_test)):
        if not 0 < n <= len(x):
            raise ValueError(f"asked for {n} samples, the split has {len(x)}")
        x = x[:n].astype(dtype) / dtype.type(255)
        if not flatten:
            x = x.reshape(n, 1, 28, 28)
        t = t[:n].copy()
        if one_hot_label:
            t = np.eye(10, dtype=dtype)[t]
        out.append((x, t))
    return tuple(out)


def small_mnist(n_train=1000, n_test=200, dtype=np.float64, flatten=True,
                one_hot_label=False):
    """The first n_train training and n_test test samples of MNIST, normalized.

    Returns ``(x_train, t_train), (x_test, t_test)`` like ``load_mnist``
    (pixels in [0, 1] as ``dtype``: float64 or float32).  Results are cached;
    each call returns fresh copies, so callers may modify them.  Skips the
    calling test if DLFS_DATA_DIR is not set.
    """
    if not MNIST_DIR:
        pytest.skip(MNIST_SKIP_REASON)
    dtype = np.dtype(dtype)
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype must be float32 or float64, got {dtype}")
    (x_train, t_train), (x_test, t_test) = _subset(
        int(n_train), int(n_test), dtype, bool(flatten), bool(one_hot_label))
    return (x_train.copy(), t_train.copy()), (x_test.copy(), t_test.copy())
