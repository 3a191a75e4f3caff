"""Optimizers (chapter 6.1): ``update(params, grads)`` changes ``params`` in place.

Each follows PyTorch's update rule (``torch.optim``) to the letter, so that
the two backends agree step for step; each docstring gives the book's formula
and how it differs. ``lr`` and the other hyperparameters are plain attributes
and may be changed between steps. State (velocities, moments) is kept per
parameter name, created at the first update.

Checked at construction and before every step, as ``torch.optim`` checks its
own: lr >= 0, eps >= 0, momentum, decay_rate and betas in [0, 1) (Nesterov:
momentum in (0, 1)), else a ValueError. ``grads`` must hold a gradient for
every parameter (KeyError) of its shape (ValueError) and dtype (TypeError);
nothing is changed when a check fails. Extra entries in ``grads`` are ignored.
"""
import math

import numpy as np

from .checks import check_fraction, check_non_negative

__all__ = ["SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam"]


def check_gradients(params, grads, who, shape_of=np.shape, dtype_of=lambda a: np.asarray(a).dtype):
    """A gradient for every parameter, of its shape and dtype: never broadcast, never cast."""
    missing = [key for key in params if key not in grads]
    if missing:
        raise KeyError(f"{who}.update: grads lack {missing}; every parameter needs a gradient")
    for key, param in params.items():
        g_shape, p_shape = tuple(shape_of(grads[key])), tuple(shape_of(param))
        if g_shape != p_shape:
            raise ValueError(f"{who}.update: gradient {key!r} has shape {g_shape}, "
                             f"but the parameter has shape {p_shape}")
        g_dtype, p_dtype = dtype_of(grads[key]), dtype_of(param)
        if g_dtype != p_dtype:
            raise TypeError(f"{who}.update: gradient {key!r} is {g_dtype}, but the parameter is {p_dtype}")


class _Optimizer:
    """What every optimizer checks before a step: its hyperparameters (``_check``) and ``grads``."""

    def _check(self):
        raise NotImplementedError

    def _check_update(self, params, grads):
        self._check()
        check_gradients(params, grads, type(self).__name__)


class SGD(_Optimizer):
    """Stochastic gradient descent (6.1.2): W <- W - lr * dL/dW, as ``torch.optim.SGD``."""

    def __init__(self, lr=0.01):
        self.lr = lr
        self._check()

    def _check(self):
        check_non_negative(self.lr, "lr")

    def update(self, params, grads):
        self._check_update(params, grads)
        for key in params:
            params[key] -= self.lr * grads[key]


class Momentum(_Optimizer):
    """Momentum SGD (6.1.4), as ``torch.optim.SGD(momentum=...)``:

        v <- momentum * v + dL/dW   (v = dL/dW at the first step)
        W <- W - lr * v

    The book keeps the learning rate inside the velocity, v <- momentum * v -
    lr * dL/dW and W <- W + v; with a constant lr the two are the same walk
    (book v = -lr * v here), but they differ once lr changes.
    """

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = lr
        self.momentum = momentum
        self.v = None
        self._check()

    def _check(self):
        check_non_negative(self.lr, "lr")
        check_fraction(self.momentum, "momentum")

    def _velocity(self, params, grads):
        if self.v is None:
            self.v = {key: grads[key].copy() for key in params}
            return
        for key in params:
            self.v[key] *= self.momentum
            self.v[key] += grads[key]

    def update(self, params, grads):
        self._check_update(params, grads)
        self._velocity(params, grads)
        for key in params:
            params[key] -= self.lr * self.v[key]


class Nesterov(Momentum):
    """Nesterov's accelerated gradient (6.1.4's note), as ``torch.optim.SGD(nesterov=True)``:

        v <- momentum * v + dL/dW   (v = dL/dW at the first step)
        W <- W - lr * (dL/dW + momentum * v)

    The book's version (``common/optimizer.py``) updates W by
    momentum^2 * v - (1 + momentum) * lr * dL/dW with the lr kept inside v:
    the same walk for a constant lr, written differently.
    """

    def _check(self):
        check_non_negative(self.lr, "lr")
        check_fraction(self.momentum, "momentum", positive=True)  # torch.optim: nesterov needs momentum > 0

    def update(self, params, grads):
        self._check_update(params, grads)
        self._velocity(params, grads)
        for key in params:
            params[key] -= self.lr * (grads[key] + self.momentum * self.v[key])


class AdaGrad(_Optimizer):
    """AdaGrad (6.1.5), as ``torch.optim.Adagrad``:

        h <- h + dL/dW * dL/dW
        W <- W - lr * dL/dW / (sqrt(h) + eps)

    PyTorch's default eps is 1e-10; the book writes 1e-7.
    """

    def __init__(self, lr=0.01, eps=1e-10):
        self.lr = lr
        self.eps = eps
        self.h = None
        self._check()

    def _check(self):
        check_non_negative(self.lr, "lr")
        check_non_negative(self.eps, "eps")

    def update(self, params, grads):
        self._check_update(params, grads)
        if self.h is None:
            self.h = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params:
            self.h[key] += grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + self.eps)


class RMSprop(_Optimizer):
    """RMSprop (6.1.5's note), as ``torch.optim.RMSprop(alpha=decay_rate)``:

        h <- decay_rate * h + (1 - decay_rate) * dL/dW * dL/dW
        W <- W - lr * dL/dW / (sqrt(h) + eps)

    PyTorch's default eps is 1e-8; the book writes 1e-7.
    """

    def __init__(self, lr=0.01, decay_rate=0.99, eps=1e-8):
        self.lr = lr
        self.decay_rate = decay_rate
        self.eps = eps
        self.h = None
        self._check()

    def _check(self):
        check_non_negative(self.lr, "lr")
        check_fraction(self.decay_rate, "decay_rate")
        check_non_negative(self.eps, "eps")

    def update(self, params, grads):
        self._check_update(params, grads)
        if self.h is None:
            self.h = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params:
            self.h[key] *= self.decay_rate
            self.h[key] += (1 - self.decay_rate) * grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + self.eps)


class Adam(_Optimizer):
    """Adam (6.1.6), as ``torch.optim.Adam(betas=(beta1, beta2))``, at step t = 1, 2, ...:

        m <- m + (1 - beta1) * (dL/dW - m)
        v <- beta2 * v + (1 - beta2) * dL/dW * dL/dW
        W <- W - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    The book folds both bias corrections into the learning rate,
    lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t), and divides by
    sqrt(v) + 1e-7: its eps is added before the correction of v, PyTorch's
    (1e-8 by default) after it. The two differ when gradients are tiny.
    """

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.iter = 0
        self.m = None
        self.v = None
        self._check()

    def _check(self):
        check_non_negative(self.lr, "lr")
        check_fraction(self.beta1, "beta1")
        check_fraction(self.beta2, "beta2")
        check_non_negative(self.eps, "eps")

    def update(self, params, grads):
        self._check_update(params, grads)
        if self.m is None:
            self.m = {key: np.zeros_like(val) for key, val in params.items()}
            self.v = {key: np.zeros_like(val) for key, val in params.items()}
        self.iter += 1
        step_size = self.lr / (1 - self.beta1 ** self.iter)
        bias_correction2_sqrt = math.sqrt(1 - self.beta2 ** self.iter)
        for key in params:
            g = grads[key]
            self.m[key] += (1 - self.beta1) * (g - self.m[key])
            self.v[key] *= self.beta2
            self.v[key] += (1 - self.beta2) * g * g
            denom = np.sqrt(self.v[key]) / bias_correction2_sqrt + self.eps
            params[key] -= step_size * self.m[key] / denom
