"""What every network shares: accuracy, and saving and loading its ``params``."""
import numpy as np

from .checks import check_batch, class_indices, nonfinite_samples
from .batch_normalization import BatchNormalization
from .convolution import Convolution, Pooling
from .dropout import Dropout
from .layers import Affine, SoftmaxWithLoss
from .serialization import load_params as read_params_file
from .serialization import save_params as write_params_file
from .util import _count
from .weight_init import init_weight

__all__ = ["Network"]


class Network:
    """Base class: a subclass sets ``self.params`` (name -> array), ``self.dtype`` and ``predict``.

    A network makes its weights and layers through the ``_init_weight``,
    ``_affine``, ... methods below. ``scratch.book``'s networks override these,
    and only these, to get the book's weight layout, random draws and layers;
    everything else (predict, loss, gradient) is shared.
    """

    def _init_weight(self, shape, weight_init_std, rng):
        """Initial weights of ``shape`` ((out, in) or (FN, C, FH, FW)) in the network's dtype."""
        return init_weight(shape, weight_init_std, rng, self.dtype)

    def _affine(self, W, b):
        return Affine(W, b)

    def _convolution(self, W, b, stride, pad):
        return Convolution(W, b, stride, pad)

    def _pooling(self, pool_h, pool_w, stride, pad):
        return Pooling(pool_h, pool_w, stride=stride, pad=pad)

    def _batch_norm(self, gamma, beta):
        return BatchNormalization(gamma, beta)

    def _dropout(self, dropout_ratio, rng):
        return Dropout(dropout_ratio, seed=int(rng.integers(2**31)))

    def _softmax_with_loss(self):
        return SoftmaxWithLoss()

    def _as_input(self, x):
        """The network's own dtype for its input (float32 images stay float32); an empty batch is refused."""
        x = np.asarray(x)
        check_batch(x.shape, type(self).__name__)
        if x.dtype != self.dtype:
            x = x.astype(self.dtype)
        return x

    def _as_images(self, x):
        """``_as_input`` for a convnet: images of shape (N, *self.input_dim), else a ValueError."""
        x = self._as_input(x)
        if x.ndim != 4 or tuple(x.shape[1:]) != tuple(self.input_dim):
            raise ValueError(f"{type(self).__name__} expects images of shape "
                             f"(N, {', '.join(map(str, self.input_dim))}), got {x.shape}; "
                             f"load MNIST with flatten=False")
        return x

    def accuracy(self, x, t, batch_size=1000):
        """Fraction of samples whose highest score is the true class, evaluated in batches.

        The contract, the same in both backends: ``predict``, ``loss`` and
        ``gradient`` propagate NaN and inf as PyTorch does. ``accuracy``
        refuses NaN or inf in ``x`` (a ValueError naming how many samples hold
        it), an empty ``x``, and labels ``t`` other than integers in
        [0, classes) or one-hot rows (ValueError; fractional labels TypeError).
        Scores are ranked as NumPy's and PyTorch's argmax rank them, which
        agree: a NaN counts as the highest (the first NaN of a row wins). So a
        diverged network, all NaN, scores the share of class-0 labels, as in
        the book (figure 6-19); that is a result of the chapter-6 experiments,
        not an error.
        """
        x = np.asarray(x)
        n = check_batch(x.shape, "accuracy")
        batch_size = _count(batch_size, "batch_size", 1)
        if np.ndim(t) == 0 or np.shape(t)[0] != n:
            raise ValueError(f"accuracy: {n} samples but labels of shape {tuple(np.shape(t))}")
        labels, correct, bad = None, 0, 0
        for i in range(0, n, batch_size):
            xb = x[i:i + batch_size]
            bad += nonfinite_samples(xb)
            if bad:  # count the rest, predict nothing more
                continue
            y = self.predict(xb)
            if labels is None:
                labels = class_indices(t, y.shape[1], (n,))
            correct += int(np.count_nonzero(np.argmax(y, axis=1) == labels[i:i + batch_size]))
        if bad:
            raise ValueError(f"accuracy: {bad} of {n} samples hold NaN or inf in their input")
        return correct / n

    def save_params(self, path):
        """Save ``params`` to an ``.npz`` file (atomic write)."""
        write_params_file(path, self.params)

    def load_params(self, source):
        """Copy parameters from an ``.npz`` path or a dict into ``params``, in place.

        Every name must be present with the right shape; values are cast to the
        network's dtype. Book files (2-D weights stored (in, out)) are transposed.
        """
        new = read_params_file(source) if not isinstance(source, dict) else source
        missing, extra = sorted(set(self.params) - set(new)), sorted(set(new) - set(self.params))
        if missing or extra:
            raise KeyError(f"parameters do not fit this network: missing {missing}, unexpected {extra}")
        values = {name: np.asarray(new[name]) for name in self.params}
        for name, param in self.params.items():  # check everything first: all or nothing
            if values[name].shape != param.shape:
                raise ValueError(f"{name}: expected shape {param.shape}, file has {values[name].shape}")
        for name, param in self.params.items():
            param[...] = values[name]
        return self
