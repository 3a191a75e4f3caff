"""The book's ``dataset/mnist.py``: ``load_mnist(normalize, flatten, one_hot_label)`` with the book's dtypes.

The files are found (or downloaded) exactly as by ``scratch.load_mnist``
(``root``, else ``$DLFS_DATA_DIR``, else ``~/.cache/dlfs/data``; checked
IDX files, no pickle). What comes back is what the book's loader returns:

* images: float32 in [0, 1] with ``normalize=True``, else uint8 0..255;
  (N, 784) with ``flatten=True``, else (N, 1, 28, 28);
* labels: uint8 (N,), or one-hot float64 (N, 10) with ``one_hot_label=True``.
"""
import numpy as np

from .. import mnist

__all__ = ["load_mnist"]


def load_mnist(normalize=True, flatten=True, one_hot_label=False, *, root=None, download=True):
    """``(x_train, t_train), (x_test, t_test)`` in the book's dtypes (see the module)."""
    splits = mnist.load_mnist(normalize=False, flatten=flatten, root=root, download=download)
    out = []
    for x, t in splits:
        if normalize:
            x = x.astype(np.float32)
            x /= 255.0
        t = t.astype(np.uint8)
        if one_hot_label:
            one_hot = np.zeros((t.size, 10))
            one_hot[np.arange(t.size), t] = 1
            t = one_hot
        out.append((x, t))
    return tuple(out)
