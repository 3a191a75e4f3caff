"""Optimizers (chapter 6) driving ``torch.optim``: ``update(params, grads)`` changes ``params`` in place."""
import torch

from ._tensor import as_tensor

__all__ = ["SGD"]


class _TorchOptimizer:
    """Feeds the book's ``update(params, grads)`` to a ``torch.optim`` optimizer.

    The torch optimizer is built on the first update (it keeps state per
    parameter tensor) and rebuilt if a different set of tensors arrives.
    """

    def _make(self, tensors):
        raise NotImplementedError

    def _hyperparameters(self):
        return {"lr": self.lr}

    def update(self, params, grads):
        tensors = list(params.values())
        if getattr(self, "_optimizer", None) is None or self._tensors != [id(p) for p in tensors]:
            self._optimizer = self._make(tensors)
            self._tensors = [id(p) for p in tensors]
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
        return torch.optim.SGD(tensors, lr=self.lr)
