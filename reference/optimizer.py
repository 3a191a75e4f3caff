"""Optimizers (chapter 6.1) driving ``torch.optim``: ``update(params, grads)`` changes ``params`` in place.

The book's interface, PyTorch's arithmetic: each class builds the matching
``torch.optim`` optimizer over the parameter tensors at the first update,
hands it the gradients as ``.grad`` and calls ``step()``. ``lr`` and the other
hyperparameters are plain attributes, copied into the optimizer's parameter
group before every step, so they may be changed between steps.
"""
import torch

from ._tensor import as_tensor

__all__ = ["SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam"]


class _TorchOptimizer:
    """Feeds the book's ``update(params, grads)`` to a ``torch.optim`` optimizer."""

    def _make(self, tensors):
        raise NotImplementedError

    def _hyperparameters(self):
        return {"lr": self.lr}

    def update(self, params, grads):
        tensors = list(params.values())
        if getattr(self, "_optimizer", None) is None or self._tensor_ids != [id(p) for p in tensors]:
            self._optimizer = self._make(tensors)
            self._tensor_ids = [id(p) for p in tensors]
        for group in self._optimizer.param_groups:
            group.update(self._hyperparameters())
        for key, p in params.items():
            p.grad = as_tensor(grads[key]).detach().to(p.dtype)
        self._optimizer.step()
        for p in tensors:
            p.grad = None


class SGD(_TorchOptimizer):
    """Stochastic gradient descent (6.1.2): W <- W - lr * dL/dW, as ``torch.optim.SGD``."""

    def __init__(self, lr=0.01):
        self.lr = lr

    def _make(self, tensors):
        return torch.optim.SGD(tensors, lr=self.lr, foreach=False)


class Momentum(_TorchOptimizer):
    """Momentum SGD (6.1.4), as ``torch.optim.SGD(momentum=...)``: v <- momentum * v + g, W <- W - lr * v."""

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = lr
        self.momentum = momentum

    def _hyperparameters(self):
        return {"lr": self.lr, "momentum": self.momentum}

    def _make(self, tensors):
        return torch.optim.SGD(tensors, lr=self.lr, momentum=self.momentum, foreach=False)


class Nesterov(Momentum):
    """Nesterov's accelerated gradient, as ``torch.optim.SGD(nesterov=True)``: W <- W - lr * (g + momentum * v)."""

    def _make(self, tensors):
        return torch.optim.SGD(tensors, lr=self.lr, momentum=self.momentum, nesterov=True, foreach=False)


class AdaGrad(_TorchOptimizer):
    """AdaGrad (6.1.5), as ``torch.optim.Adagrad``: h <- h + g*g, W <- W - lr * g / (sqrt(h) + eps)."""

    def __init__(self, lr=0.01, eps=1e-10):
        self.lr = lr
        self.eps = eps

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

    def _hyperparameters(self):
        return {"lr": self.lr, "betas": (self.beta1, self.beta2), "eps": self.eps}

    def _make(self, tensors):
        return torch.optim.Adam(tensors, lr=self.lr, betas=(self.beta1, self.beta2), eps=self.eps, foreach=False)
