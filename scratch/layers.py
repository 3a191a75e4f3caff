"""Layers with forward and backward passes (chapter 5).

Each layer keeps what its backward pass needs from the forward pass, returns
the gradient with respect to its input from ``backward(dout)``, and stores the
gradients of its parameters as attributes (``dW``, ``db``). ``backward`` never
writes into the caller's ``dout``, which must have the shape of the forward
output (no broadcasting); ``backward`` before ``forward`` is a RuntimeError.
Layers that see a batch (Affine, SoftmaxWithLoss) refuse an empty one. NaN and
infinity propagate as in PyTorch.
"""
import numpy as np

from .checks import check_affine_input, check_affine_params, check_dout, check_forward_done, check_scores
from .functions import sigmoid

__all__ = ["MulLayer", "AddLayer", "Relu", "Sigmoid", "Tanh", "Affine", "SoftmaxWithLoss"]


def _sum_to_shape(g, shape):
    """The gradient of an input broadcast to ``g``'s shape: ``g`` summed over the broadcast axes."""
    if np.shape(g) == shape:
        return g
    g = np.sum(g, axis=tuple(range(np.ndim(g) - len(shape))))
    return np.sum(g, axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True)


class MulLayer:
    """out = x * y; backward: dx = dout * y, dy = dout * x (5.4.1).

    x and y may broadcast, as in ``torch.mul``: each gradient is summed back
    to the shape of its input.
    """

    def __init__(self):
        self.x = None
        self.y = None
        self.out_shape = None

    def forward(self, x, y):
        self.x, self.y = x, y
        out = x * y
        self.out_shape = np.shape(out)
        return out

    def backward(self, dout):
        check_forward_done(self.out_shape, "MulLayer")
        check_dout(dout, self.out_shape, "MulLayer")
        return _sum_to_shape(dout * self.y, np.shape(self.x)), _sum_to_shape(dout * self.x, np.shape(self.y))


class AddLayer:
    """out = x + y; backward passes dout through to both inputs (5.4.2), summed to their shapes."""

    def __init__(self):
        self.shapes = None
        self.out_shape = None

    def forward(self, x, y):
        out = x + y
        self.shapes, self.out_shape = (np.shape(x), np.shape(y)), np.shape(out)
        return out

    def backward(self, dout):
        check_forward_done(self.out_shape, "AddLayer")
        check_dout(dout, self.out_shape, "AddLayer")
        return _sum_to_shape(dout * 1, self.shapes[0]), _sum_to_shape(dout * 1, self.shapes[1])


class Relu:
    """ReLU (5.5.1): y = max(0, x); dx = dout where x > 0, else 0.

    ``mask`` marks x <= 0, as in the book. Multiplying by the kept positions
    is ten times faster than ``np.where``; only a non-finite ``dout`` takes
    ``np.where``, because inf * 0 would give NaN where PyTorch gives 0.
    """

    def __init__(self):
        self.mask = None

    def forward(self, x):
        self.mask = x <= 0
        return np.maximum(x, 0)

    def backward(self, dout):
        check_forward_done(self.mask, "Relu")
        check_dout(dout, np.shape(self.mask), "Relu")
        if np.isfinite(dout).all():
            return dout * ~self.mask
        return np.where(self.mask, 0, dout)


class Sigmoid:
    """Sigmoid (5.5.2): y = 1 / (1 + exp(-x)); dx = dout * y * (1 - y)."""

    def __init__(self):
        self.out = None

    def forward(self, x):
        self.out = sigmoid(x)
        return self.out

    def backward(self, dout):
        check_forward_done(self.out, "Sigmoid")
        check_dout(dout, np.shape(self.out), "Sigmoid")
        return dout * (1 - self.out) * self.out


class Tanh:
    """Hyperbolic tangent (LeNet's squashing function, chapter 8): y = tanh x; dx = dout * (1 - y^2)."""

    def __init__(self):
        self.out = None

    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout):
        check_forward_done(self.out, "Tanh")
        check_dout(dout, np.shape(self.out), "Tanh")
        return dout * (1 - self.out * self.out)


class Affine:
    """Fully connected layer (5.6.2): out = x W^T + b.

    ``W`` has shape (out_features, in_features), the layout of PyTorch's
    ``nn.Linear``; the book stores the transpose, (in, out), and writes
    x @ W. Input of any shape (N, ...) is flattened to (N, in_features) as in
    the book's chapter 7, and dx comes back in the input's shape.

    Backward: dx = dout W, dW = dout^T x, db = sum_n dout.
    """

    def __init__(self, W, b):
        check_affine_params(W, b)
        self.W, self.b = W, b
        self.x = None
        self.original_x_shape = None
        self.dW = None
        self.db = None

    def forward(self, x):
        check_affine_input(x, self.W)
        self.original_x_shape = x.shape
        self.x = x.reshape(x.shape[0], -1)
        return self.x @ self.W.T + self.b

    def backward(self, dout):
        check_forward_done(self.x, "Affine")
        check_dout(dout, (self.x.shape[0], self.W.shape[0]), "Affine")
        dx = dout @ self.W
        self.dW = dout.T @ self.x
        self.db = np.sum(dout, axis=0)
        return dx.reshape(self.original_x_shape)


class SoftmaxWithLoss:
    """Softmax followed by cross-entropy error (5.6.3), like ``F.cross_entropy``.

    Forward: L = -1/N sum_n log softmax(x)[n, t_n], computed through
    log-softmax, log y_k = (x_k - max x) - log sum_i exp(x_i - max x), so that
    no log(0) can occur (the book adds 1e-7 inside the log instead).
    Backward: dx = (y - t) / N * dout, y = softmax(x), t one-hot.
    ``t`` holds integer labels or one-hot rows.
    """

    def __init__(self):
        self.loss = None
        self.y = None
        self.t = None

    def forward(self, x, t):
        self.t = check_scores(x, t)
        shifted = x - x.max(axis=1, keepdims=True)
        log_y = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        self.y = np.exp(log_y)
        self.loss = -np.mean(log_y[np.arange(x.shape[0]), self.t])
        return self.loss

    def backward(self, dout=1):
        check_forward_done(self.y, "SoftmaxWithLoss")
        check_dout(dout, (), "SoftmaxWithLoss")
        batch_size = self.y.shape[0]
        dx = self.y.copy()
        dx[np.arange(batch_size), self.t] -= 1
        dx *= dout / batch_size  # in place: keeps float32 float32
        return dx
