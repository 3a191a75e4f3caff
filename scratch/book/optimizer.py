"""The book's ``common/optimizer.py`` (6.1): the update rules as the book writes them.

``SGD`` is ``scratch``'s (PyTorch's SGD is the same). ``AdaGrad`` and
``RMSprop`` are ``scratch``'s with the book's eps, 1e-7 (PyTorch: 1e-10 and
1e-8). ``Momentum``, ``Nesterov`` and ``Adam`` are the book's formulas, which
differ from ``torch.optim`` in how the learning rate and eps enter (see each).

As in the book, ``from scratch.book import *`` also brings ``np``.
"""
import numpy as np

from .. import optimizer
from ..optimizer import SGD

__all__ = ["SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam", "BOOK_EPS"]

BOOK_EPS = 1e-7


def zeros_like_params(params):
    return {key: np.zeros_like(val) for key, val in params.items()}


class Momentum(optimizer.Momentum):
    """Momentum SGD (6.1.4), the book's form: v <- momentum v - lr dL/dW, W <- W + v, v starting at 0.

    ``scratch.Momentum`` (= ``torch.optim.SGD``) keeps lr outside the
    velocity, v <- momentum v + dL/dW, W <- W - lr v; for a constant lr the
    two walk the same path (v here = -lr v there). Same arguments and checks.
    """

    def update(self, params, grads):
        self._check_update(params, grads)
        if self.v is None:
            self.v = zeros_like_params(params)
        for key in params:
            self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
            params[key] += self.v[key]


class Nesterov(Momentum):
    """Nesterov's accelerated gradient, the book's form (Bengio et al. 2012, arXiv:1212.0901):

        W <- W + momentum^2 v - (1 + momentum) lr dL/dW
        v <- momentum v - lr dL/dW

    For a constant lr the same path as ``torch.optim.SGD(nesterov=True)``.
    """

    def update(self, params, grads):
        self._check_update(params, grads)
        if self.v is None:
            self.v = zeros_like_params(params)
        for key in params:
            params[key] += self.momentum * self.momentum * self.v[key]
            params[key] -= (1 + self.momentum) * self.lr * grads[key]
            self.v[key] *= self.momentum
            self.v[key] -= self.lr * grads[key]


class AdaGrad(optimizer.AdaGrad):
    """AdaGrad (6.1.5): h <- h + g*g, W <- W - lr g / (sqrt(h) + 1e-7). ``scratch.AdaGrad`` with eps 1e-7."""

    def __init__(self, lr=0.01):
        super().__init__(lr, eps=BOOK_EPS)


class RMSprop(optimizer.RMSprop):
    """RMSprop: h <- decay h + (1 - decay) g*g, W <- W - lr g / (sqrt(h) + 1e-7). ``scratch.RMSprop`` with eps 1e-7."""

    def __init__(self, lr=0.01, decay_rate=0.99):
        super().__init__(lr, decay_rate, eps=BOOK_EPS)


class Adam(optimizer.Adam):
    """Adam (6.1.6), the book's form, at step t = 1, 2, ...:

        m <- m + (1 - beta1) (g - m),   v <- v + (1 - beta2) (g*g - v)
        lr_t = lr sqrt(1 - beta2^t) / (1 - beta1^t)
        W <- W - lr_t m / (sqrt(v) + 1e-7)

    Both bias corrections are folded into lr_t, so eps is added to the
    uncorrected sqrt(v): this is ``torch.optim.Adam`` with eps = 1e-7 /
    sqrt(1 - beta2^t), a step-dependent eps (``scratch.Adam``: 1e-8 after
    the correction). The two differ when gradients are tiny.
    """

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        super().__init__(lr, beta1, beta2, eps=BOOK_EPS)

    def update(self, params, grads):
        self._check_update(params, grads)
        if self.m is None:
            self.m, self.v = zeros_like_params(params), zeros_like_params(params)
        self.iter += 1
        lr_t = self.lr * np.sqrt(1.0 - self.beta2 ** self.iter) / (1.0 - self.beta1 ** self.iter)
        for key in params:
            self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
            self.v[key] += (1 - self.beta2) * (grads[key] ** 2 - self.v[key])
            params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + self.eps)
