"""What the book's networks share: weights drawn as the book draws them, and the book's files.

``BookNetwork`` is mixed into ``scratch``'s networks. It overrides only how
a network makes its weights and layers (``_init_weight``, ``_affine``, ...):
predict, loss and gradient stay ``scratch``'s. With it a network

* computes in float64 (NumPy's default, the book's dtype);
* draws its weights from NumPy's global generator, W = std * np.random.randn(...),
  in the book's order and shapes: Affine weights (in, out), filters (FN, C, FH, FW);
* uses the book's Affine, SoftmaxWithLoss, Dropout, BatchNormalization, Convolution, Pooling
  (the readable layers, with the book's semantics);
* returns accuracies as ``np.float64``, as the book's ``np.sum(y == t) / float(N)``;
* saves its parameters as the book does, a pickle of {name: array} (``params.pkl``),
  and loads the book's pickles (through ``scratch.safe_pickle``, never plain
  ``pickle``) as well as ``.npz`` files of either layout.
"""
import os
import pickle

import numpy as np

from .. import network_base
from ..serialization import load_params as read_params_file
from ..serialization import write_atomically
from ..weight_init import weight_init_scale
from .layers import Affine, BatchNormalization, Convolution, Dropout, Pooling, SoftmaxWithLoss

__all__ = ["BookNetwork", "save_pickle"]


def save_pickle(path, obj):
    """Pickle ``obj`` to ``path`` atomically: a crash never leaves half a file."""
    write_atomically(os.fspath(path), lambda f: pickle.dump(obj, f))


class BookNetwork(network_base.Network):
    """Mixin: the book's weights, layers and files for a ``scratch`` network (see the module)."""

    def _init_weight(self, shape, weight_init_std, rng):
        """std * np.random.randn(in, out) for an Affine weight, (FN, C, FH, FW) for filters."""
        std = weight_init_scale(weight_init_std, int(np.prod(shape[1:])))
        book_shape = shape[::-1] if len(shape) == 2 else shape
        return std * np.random.randn(*book_shape)

    def _affine(self, W, b):
        return Affine(W, b)

    def _convolution(self, W, b, stride, pad):
        return Convolution(W, b, stride, pad)

    def _pooling(self, pool_h, pool_w, stride, pad):
        return Pooling(pool_h, pool_w, stride=stride, pad=pad)

    def _batch_norm(self, gamma, beta):
        return BatchNormalization(gamma, beta)

    def _dropout(self, dropout_ratio, rng):
        return Dropout(dropout_ratio)

    def _softmax_with_loss(self):
        return SoftmaxWithLoss()

    def accuracy(self, x, t, batch_size=1000):
        """The book's: the fraction of samples whose highest score is the label, an ``np.float64``.

        Evaluated ``batch_size`` samples at a time (the book's convnets skip a last
        partial batch; here every sample counts). Scores are taken as they are: a
        diverged network's NaN scores give argmax 0, as in the book (about 0.1).
        """
        t = np.asarray(t)
        if t.ndim != 1:
            t = np.argmax(t, axis=1)
        if len(x) != len(t):
            raise ValueError(f"{len(x)} samples but {len(t)} labels")
        correct = 0
        for i in range(0, len(x), batch_size):
            y = np.argmax(self.predict(x[i:i + batch_size]), axis=1)
            correct += int(np.sum(y == t[i:i + batch_size]))
        return np.float64(correct / len(x))

    def save_params(self, file_name="params.pkl"):
        """Write ``params`` as the book does: a pickle of {name: array}, Affine weights (in, out)."""
        save_pickle(file_name, {key: val for key, val in self.params.items()})

    def load_params(self, file_name="params.pkl"):
        """Copy parameters from the book's pickle, an ``.npz`` (either layout) or a dict, in place.

        Files are read by ``scratch.load_params`` (pickles through the
        restricted unpickler), which gives Affine weights as (out, in); they
        are turned back to the book's (in, out). All or nothing: every name
        and shape is checked before anything is copied.
        """
        params = file_name if isinstance(file_name, dict) else {
            key: (val.T if val.ndim == 2 and key.startswith("W") else val)
            for key, val in read_params_file(file_name).items()}
        return network_base.Network.load_params(self, params)
