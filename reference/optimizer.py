"""Optimizers (chapter 6.1) driving ``torch.optim``: ``update(params, grads)`` changes ``params`` in place.

The book's interface, PyTorch's arithmetic: each class builds the matching
``torch.optim`` optimizer over the parameter tensors at the first update,
hands it the gradients as ``.grad`` and calls ``step()``. ``lr`` and the other
hyperparameters are plain attributes, copied into the optimizer's parameter
group before every step, so they may be changed between steps. They and
``grads`` are checked as in ``scratch.optimizer`` (same errors), at
construction and before every step.
"""
import torch

from scratch.checks import check_fraction, check_non_negative
from scratch.optimizer import check_gradients

from ._tensor import as_tensor

__all__ = ["SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam"]


def _dtype_name(x):
    """'float32' for a tensor, array or number: the dtypes of both backends in one spelling."""
    return str(as_tensor(x).dtype).removeprefix("torch.")


class _TorchOptimizer:
    """Feeds the book's ``update(params, grads)`` to a ``torch.optim`` optimizer."""

    def _make(self, tensors):
        raise NotImplementedError

    def _check(self):
        check_non_negative(self.lr, "lr")

    def _hyperparameters(self):
        return {"lr": self.lr}

    def update(self, params, grads):
        self._check()
        check_gradients(params, grads, type(self).__name__, shape_of=lambda a: as_tensor(a).shape,
                        dtype_of=_dtype_name)
        tensors = list(params.values())
        if getattr(self, "_optimizer", None) is None or self._tensor_ids != [id(p) for p in tensors]:
            self._optimizer = self._make(tensors)
            self._tensor_ids = [id(p) for p in tensors]
        for group in self._optimizer.param_groups:
            group.update(self._hyperparameters())
        for key, p in params.items():
            p.grad = as_tensor(grads[key]).detach()
        self._optimizer.step()
        for p in tensors:
            p.grad = None


class SGD(_TorchOptimizer):
    """Stochastic gradient descent (6.1.2): W <- W - lr * dL/dW, as ``torch.optim.SGD``."""

    def __init__(self, lr=0.01):
        self.lr = lr
        self._check()

    def _make(self, tensors):
        return torch.optim.SGD(tensors, lr=self.lr, foreach=False)


class Momentum(_TorchOptimizer):
    """Momentum SGD (6.1.4), as ``torch.optim.SGD(momentum=...)``: v <- momentum * v + g, W <- W - lr * v."""

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = lr
        self.momentum = momentum
        self._check()

    def _check(self):
        check_non_negative(self.lr, "lr")
        check_fraction(self.momentum, "momentum")

    def _hyperparameters(self):
        return {"lr": self.lr, "momentum": self.momentum}

    def _make(self, tensors):
        return torch.optim.SGD(tensors, lr=self.lr, momentum=self.momentum, foreach=False)


class Nesterov(Momentum):
    """Nesterov's accelerated gradient, as ``torch.optim.SGD(nesterov=True)``: W <- W - lr * (g + momentum * v)."""

    def _check(self):
        check_non_negative(self.lr, "lr")
        check_fraction(self.momentum, "momentum", positive=True)  # torch.optim: nesterov needs momentum > 0

    def _make(self, tensors):
        return torch.optim.SGD(tensors, lr=self.lr, momentum=self.momentum, nesterov=True, foreach=False)


class AdaGrad(_TorchOptimizer):
    """AdaGrad (6.1.5), as ``torch.optim.Adagrad``: h <- h + g*g, W <- W - lr * g / (sqrt(h) + eps)."""

    def __init__(self, lr=0.01, eps=1e-10):
        self.lr = lr
        self.eps = eps
        self._check()

    def _check(self):
        check_non_negative(self.lr, "lr")
        check_non_negative(self.eps, "eps")

    def _hyperparameters(self):
        return {"lr": self.lr, "eps": self.eps}

    def _make(self, tensors):
        return torch.optim.Adagrad(tensors, lr=self.lr, eps=self.eps, foreach=False)


class RMSprop(_TorchOptimizer):
    """RMSprop, as ``torch.optim.RMSprop(alpha=decay_rate)``: h <- a*h + (1-a)*g*g, W <- W - lr * g / (sqrt(h) + eps)."""

    def __init__(self, lr=0.01, decay_rate=0.99, eps=1e-8):
        self.lr = lr
        self.decay_rate = decay_rate
        self.eps = eps
        self._check()

    def _check(self):
        check_non_negative(self.lr, "lr")
        check_fraction(self.decay_rate, "decay_rate")
        check_non_negative(self.eps, "eps")

    def _hyperparameters(self):
        return {"lr": self.lr, "alpha": self.decay_rate, "eps": self.eps}

    def _make(self, tensors):
        return torch.optim.RMSprop(tensors, lr=self.lr, alpha=self.decay_rate, eps=self.eps, foreach=False)


class Adam(_TorchOptimizer):
    """Adam (6.1.6), as ``torch.optim.Adam(betas=(beta1, beta2))``, bias-corrected, eps after the correction."""

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self._check()

    def _check(self):
        check_non_negative(self.lr, "lr")
        check_fraction(self.beta1, "beta1")
        check_fraction(self.beta2, "beta2")
        check_non_negative(self.eps, "eps")

    def _hyperparameters(self):
        return {"lr": self.lr, "betas": (self.beta1, self.beta2), "eps": self.eps}

    def _make(self, tensors):
        return torch.optim.Adam(tensors, lr=self.lr, betas=(self.beta1, self.beta2), eps=self.eps, foreach=False)
