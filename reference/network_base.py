"""What every network shares: accuracy, and saving and loading its ``params`` (tensors)."""
import numpy as np
import torch

from scratch.checks import check_batch, check_count, class_indices
from scratch.network_base import params_mismatch

from .serialization import load_params as read_params_file
from .serialization import save_params as write_params_file
from ._tensor import as_tensor, to_numpy
from .batch_normalization import BatchNormalization
from .convolution import Convolution, Pooling
from .dropout import Dropout
from .layers import Affine, SoftmaxWithLoss
from .weight_init import init_weight

__all__ = ["Network"]


class Network:
    """Base class: a subclass sets ``self.params`` (name -> tensor), ``self.dtype`` and ``predict``.

    As in ``scratch.Network``, a network makes its weights and layers through
    the ``_init_weight``, ``_affine``, ... methods below.
    """

    def _init_weight(self, shape, weight_init_std, rng):
        """Initial weights of ``shape`` ((out, in) or (FN, C, FH, FW)) in the network's dtype, with requires_grad."""
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
        """Dropout with its own generator, seeded from the network's ``rng`` (a ``torch.Generator``)."""
        return Dropout(dropout_ratio, seed=int(torch.randint(2**31, (), generator=rng)))

    def _softmax_with_loss(self):
        return SoftmaxWithLoss()

    def _as_input(self, x):
        """The network's own dtype for its input (float32 images stay float32); an empty batch is refused."""
        x = as_tensor(x)
        check_batch(x.shape, type(self).__name__)
        if x.dtype != self.dtype:
            x = x.to(self.dtype)
        return x

    def _as_images(self, x):
        """``_as_input`` for a convnet: images of shape (N, *self.input_dim), else a ValueError."""
        x = self._as_input(x)
        if x.ndim != 4 or tuple(x.shape[1:]) != tuple(self.input_dim):
            raise ValueError(f"{type(self).__name__} expects images of shape "
                             f"(N, {', '.join(map(str, self.input_dim))}), got {tuple(x.shape)}; "
                             f"load MNIST with flatten=False")
        return x

    @torch.no_grad()
    def accuracy(self, x, t, batch_size=1000):
        """Fraction of samples whose highest score is the true class, evaluated in batches.

        The contract of ``scratch.Network.accuracy``: NaN or inf in ``x``, an
        empty ``x`` or labels outside [0, classes) are a ValueError; scores are
        ranked by ``torch.argmax`` (a NaN counts as the highest, the first NaN
        wins, as with ``np.argmax``). ``predict``, ``loss`` and ``gradient``
        propagate NaN and inf.
        """
        x = as_tensor(x)
        n = check_batch(x.shape, "accuracy")
        batch_size = check_count(batch_size, "batch_size", 1)
        if np.ndim(t) == 0 or np.shape(t)[0] != n:
            raise ValueError(f"accuracy: {n} samples but labels of shape {tuple(np.shape(t))}")
        labels, correct, bad = None, 0, 0
        for i in range(0, n, batch_size):
            xb = x[i:i + batch_size]
            if xb.is_floating_point() or xb.is_complex():
                bad += int(torch.count_nonzero(~torch.isfinite(xb).reshape(len(xb), -1).all(dim=1)))
            if bad:  # count the rest, predict nothing more
                continue
            y = self.predict(xb)
            if labels is None:
                labels = torch.from_numpy(class_indices(to_numpy(t), y.shape[1], (n,)))
            correct += int(torch.count_nonzero(torch.argmax(y, dim=1) == labels[i:i + batch_size]))
        if bad:
            raise ValueError(f"accuracy: {bad} of {n} samples hold NaN or inf in their input")
        return correct / n

    def _autograd_gradient(self, loss):
        """Gradients of ``loss`` with respect to every parameter in ONE autograd pass.

        This is how PyTorch trains (``loss.backward()``): autograd walks the
        graph the forward pass recorded once, from the loss to the parameters,
        and skips the branches no parameter needs (such as dL/dx of the
        images). The loss is kept as ``last_loss``.
        """
        names = list(self.params)
        grads = torch.autograd.grad(loss, [self.params[n] for n in names])
        self.last_loss = loss.detach()
        return dict(zip(names, grads))

    def _layerwise_gradient(self, loss):
        """The book's backpropagation (5.7.2): ``backward`` through the layers in reverse order.

        Each layer asks autograd for the gradients of its own output only
        (one ``torch.autograd.grad`` call per layer, the graph kept for the
        next), then the parameter gradients are collected from the layers'
        ``dW``, ``db`` (``dgamma``, ``dbeta``). It computes what
        ``_autograd_gradient`` computes, more slowly: the reference networks'
        ``gradient`` uses one pass, ``layerwise_gradient`` shows the book's
        loop, and the parity tests check that both agree.
        """
        self.last_loss = loss.detach()
        last_layer = getattr(self, "last_layer", None) or self.lastLayer  # TwoLayerNet keeps the book's name
        dout = last_layer.backward(1)
        for layer in reversed(self.layers.values()):
            dout = layer.backward(dout)
        grads = {}
        for layer in self.layers.values():
            for attr in ("W", "b", "gamma", "beta"):
                tensor = getattr(layer, attr, None)
                for name, param in self.params.items():
                    if tensor is param:
                        grads[name] = getattr(layer, "d" + attr)
        return {name: grads[name] for name in self.params}

    def save_params(self, path):
        """Save ``params`` to an ``.npz`` file (atomic write)."""
        write_params_file(path, {name: to_numpy(p) for name, p in self.params.items()})

    @torch.no_grad()
    def load_params(self, source):
        """Copy parameters from an ``.npz`` path or a dict into ``params``, in place.

        Every name must be present with the right shape; values are cast to the
        network's dtype. Book files (2-D weights stored (in, out)) are transposed.
        A file that does not fit is refused in one line that says what it holds
        (``scratch.network_base.params_mismatch``).
        """
        new = read_params_file(source) if not isinstance(source, dict) else source
        if set(new) != set(self.params):
            raise KeyError(params_mismatch(self, {name: np.shape(value) for name, value in new.items()}))
        values = {name: as_tensor(new[name]).detach() for name in self.params}
        for name, param in self.params.items():  # check everything first: all or nothing
            if tuple(values[name].shape) != tuple(param.shape):
                raise ValueError(params_mismatch(self, {n: v.shape for n, v in values.items()}, name))
        for name, param in self.params.items():
            param.copy_(values[name])
        return self
