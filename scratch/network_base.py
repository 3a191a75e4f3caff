"""What every network shares: accuracy, and saving and loading its ``params``."""
import functools
import re

import numpy as np

from . import fast
from .checks import check_batch, check_count, class_indices, nonfinite_samples
from .batch_normalization import BatchNormalization
from .convolution import Convolution, Pooling
from .dropout import Dropout
from .layers import Affine, SoftmaxWithLoss
from .serialization import load_params as read_params_file
from .serialization import save_params as write_params_file
from .weight_init import init_weight

__all__ = ["Network"]

# The networks a weights file is recognised as, at their default sizes (the scripts' --model choices that
# take images).
KNOWN_NETWORKS = ("SimpleConvNet", "DeepConvNet", "LeNet", "AlexNet", "VGG", "GoogLeNet", "ResNet")


@functools.lru_cache(maxsize=1)
def _default_shapes():
    """((class name, {parameter name: shape}), ...) of the ``KNOWN_NETWORKS`` at their default sizes."""
    from . import alexnet, deep_convnet, googlenet, lenet, resnet, simple_convnet, vgg
    modules = (simple_convnet, deep_convnet, lenet, alexnet, vgg, googlenet, resnet)
    return tuple((name, {n: tuple(p.shape) for n, p in getattr(module, name)(seed=0).params.items()})
                 for name, module in zip(KNOWN_NETWORKS, modules))


def name_list(names, most=8):
    """Parameter names in short: 'W1..W7, b1..b7' for numbered names, else the first few and the count."""
    names = list(names)
    numbered = {}
    for name in names:
        match = re.fullmatch(r"([A-Za-z]+)(\d+)", name)
        if match is None:
            break
        numbered.setdefault(match[1], []).append(int(match[2]))
    else:
        parts = []
        for prefix, numbers in numbered.items():
            numbers = sorted(numbers)
            if len(numbers) > 2 and numbers == list(range(numbers[0], numbers[-1] + 1)):
                parts.append(f"{prefix}{numbers[0]}..{prefix}{numbers[-1]}")
            else:
                parts.extend(f"{prefix}{n}" for n in numbers)
        return ", ".join(parts)
    return ", ".join(names) if len(names) <= most else f"{', '.join(names[:4])}, ... ({len(names)} arrays)"


def _a(names):
    """'a LeNet', 'an AlexNet', 'a VGG or a ResNet'."""
    return " or ".join(("an " if name[0] in "AEIOUaeiou" else "a ") + name for name in names)


def which_network(shapes):
    """What a file of parameters {name: shape} is for, in words: a known network at its default sizes
    (2-D weights in either layout: the book's files store them (in, out)), else a known network of other
    sizes (the same names, dimensions and filter sizes), else just the names."""
    def same(a, b):
        return a == b or (len(a) == 2 and a == b[::-1])

    def alike(a, b):  # the same kind of array: vector, matrix, or filters of the same size
        return len(a) == len(b) and a[2:] == b[2:]

    shapes = {name: tuple(shape) for name, shape in shapes.items()}
    known = [(name, ks) for name, ks in _default_shapes() if ks.keys() == shapes.keys()]
    fits = [name for name, ks in known if all(same(ks[n], shapes[n]) for n in ks)]
    if fits:
        return f"the file holds the parameters of {_a(['default ' + name for name in fits])} ({name_list(shapes)})"
    alikes = [name for name, ks in known if all(alike(ks[n], shapes[n]) for n in ks)]
    if alikes:
        return f"the file holds the parameters of {_a(alikes)} of other sizes ({name_list(shapes)})"
    return f"the file holds {name_list(shapes)}"


def _short(names, most=8):
    """A list of names as Python prints it, the first ``most`` only when there are more."""
    return str(names) if len(names) <= most else f"[{', '.join(map(repr, names[:most]))}, +{len(names) - most} more]"


def params_mismatch(network, file_shapes, name=None):
    """The one-line message for parameters that do not fit ``network``: which names are missing or
    unexpected (or, with ``name``, which shape differs), and what the file and the network hold."""
    own = {n: tuple(p.shape) for n, p in network.params.items()}
    what = f"this is {_a([type(network).__name__])} ({name_list(own)}), {which_network(file_shapes)}"
    if name is not None:
        return f"{name}: expected shape {own[name]}, file has {tuple(file_shapes[name])}; {what}"
    missing, extra = sorted(set(own) - set(file_shapes)), sorted(set(file_shapes) - set(own))
    return f"parameters do not fit this network: missing {_short(missing)}, unexpected {_short(extra)}; {what}"


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

    # The fast plug-ins (scratch.fast) by default; ``readable=True`` (a constructor keyword of every
    # network that has these layers) builds the readable ones, the book's algorithm: the same numbers.
    readable = False

    def _convolution(self, W, b, stride, pad):
        return (Convolution if self.readable else fast.Convolution)(W, b, stride, pad)

    def _pooling(self, pool_h, pool_w, stride, pad):
        return (Pooling if self.readable else fast.Pooling)(pool_h, pool_w, stride=stride, pad=pad)

    def _batch_norm(self, gamma, beta):
        return (BatchNormalization if self.readable else fast.BatchNormalization)(gamma, beta)

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
        batch_size = check_count(batch_size, "batch_size", 1)
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
        A file that does not fit is refused in one line that says what it holds
        ("... the file holds the parameters of a default DeepConvNet") and what
        this network is (``params_mismatch``).
        """
        new = read_params_file(source) if not isinstance(source, dict) else source
        if set(new) != set(self.params):
            raise KeyError(params_mismatch(self, {name: np.shape(value) for name, value in new.items()}))
        values = {name: np.asarray(new[name]) for name in self.params}
        for name, param in self.params.items():  # check everything first: all or nothing
            if values[name].shape != param.shape:
                raise ValueError(params_mismatch(self, {n: v.shape for n, v in values.items()}, name))
        for name, param in self.params.items():
            param[...] = values[name]
        return self
