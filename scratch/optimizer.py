"""Optimizers (chapter 6): ``update(params, grads)`` changes ``params`` in place."""

__all__ = ["SGD"]


class SGD:
    """Stochastic gradient descent (6.1.2): W <- W - lr * dL/dW.

    ``lr`` may be changed between steps.
    """

    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for key in params:
            params[key] -= self.lr * grads[key]
