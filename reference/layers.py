"""Layers with forward and backward passes (chapter 5), with PyTorch's operators.

The forward pass calls PyTorch's own operator and keeps its output; the
backward pass asks autograd for the gradients of that output given ``dout``
(``torch.autograd.grad``). Nothing is derived by hand here: that is the point
of comparing against the NumPy backend. Parameters are tensors with
``requires_grad``; gradients are stored as ``dW``, ``db`` like the book.
``dout`` must have the shape of the forward output; ``backward`` before
``forward`` is a RuntimeError; Affine and SoftmaxWithLoss refuse an empty batch.
"""
import torch
import torch.nn.functional as F

from scratch.checks import check_affine_input, check_affine_params, check_dout, check_forward_done, check_scores

from ._tensor import as_param, backprop, to_numpy, track

__all__ = ["MulLayer", "AddLayer", "Relu", "Sigmoid", "Tanh", "Affine", "SoftmaxWithLoss"]


class MulLayer:
    """out = x * y (5.4.1), as ``torch.mul``."""

    def __init__(self):
        self.x = None
        self.y = None
        self.out = None

    def forward(self, x, y):
        self.x, self.y = track(x), track(y)
        self.out = torch.mul(self.x, self.y)
        return self.out

    def backward(self, dout):
        check_forward_done(self.out, "MulLayer")
        check_dout(dout, self.out.shape, "MulLayer")
        return backprop(self.out, (self.x, self.y), dout)


class AddLayer:
    """out = x + y (5.4.2), as ``torch.add``."""

    def __init__(self):
        self.x = None
        self.y = None
        self.out = None

    def forward(self, x, y):
        self.x, self.y = track(x), track(y)
        self.out = torch.add(self.x, self.y)
        return self.out

    def backward(self, dout):
        check_forward_done(self.out, "AddLayer")
        check_dout(dout, self.out.shape, "AddLayer")
        return backprop(self.out, (self.x, self.y), dout)


class Relu:
    """ReLU (5.5.1), as ``F.relu``."""

    def __init__(self):
        self.x = None
        self.out = None

    def forward(self, x):
        self.x = track(x)
        self.out = F.relu(self.x)
        return self.out

    def backward(self, dout):
        check_forward_done(self.out, "Relu")
        check_dout(dout, self.out.shape, "Relu")
        (dx,) = backprop(self.out, (self.x,), dout)
        return dx


class Sigmoid:
    """Sigmoid (5.5.2), as ``torch.sigmoid``."""

    def __init__(self):
        self.x = None
        self.out = None

    def forward(self, x):
        self.x = track(x)
        self.out = torch.sigmoid(self.x)
        return self.out

    def backward(self, dout):
        check_forward_done(self.out, "Sigmoid")
        check_dout(dout, self.out.shape, "Sigmoid")
        (dx,) = backprop(self.out, (self.x,), dout)
        return dx


class Tanh:
    """Hyperbolic tangent (chapter 8), as ``torch.tanh``."""

    def __init__(self):
        self.x = None
        self.out = None

    def forward(self, x):
        self.x = track(x)
        self.out = torch.tanh(self.x)
        return self.out

    def backward(self, dout):
        check_forward_done(self.out, "Tanh")
        check_dout(dout, self.out.shape, "Tanh")
        (dx,) = backprop(self.out, (self.x,), dout)
        return dx


class Affine:
    """Fully connected layer (5.6.2), as ``F.linear(x, W, b)`` = x W^T + b.

    ``W`` has shape (out_features, in_features), the layout of ``nn.Linear``;
    the book stores the transpose. Input of shape (N, ...) is flattened to
    (N, in_features); dx comes back in the input's shape.
    """

    def __init__(self, W, b):
        self.W, self.b = as_param(W), as_param(b)
        check_affine_params(self.W, self.b)
        self.x = None
        self.out = None
        self.dW = None
        self.db = None

    def forward(self, x):
        self.x = track(x)
        check_affine_input(self.x, self.W)
        self.out = F.linear(self.x.reshape(self.x.shape[0], -1), self.W, self.b)
        return self.out

    def backward(self, dout):
        check_forward_done(self.out, "Affine")
        check_dout(dout, self.out.shape, "Affine")
        dx, self.dW, self.db = backprop(self.out, (self.x, self.W, self.b), dout)
        return dx


class SoftmaxWithLoss:
    """Softmax followed by cross-entropy error (5.6.3), as ``F.cross_entropy``.

    ``t`` holds integer labels or one-hot rows.
    """

    def __init__(self):
        self.x = None
        self.loss = None
        self.y = None
        self.t = None

    def forward(self, x, t):
        self.x = track(x)
        self.t = torch.from_numpy(check_scores(self.x, to_numpy(t)))
        self.loss = F.cross_entropy(self.x, self.t)
        self.y = F.softmax(self.x.detach(), dim=1)
        return self.loss

    def backward(self, dout=1):
        check_forward_done(self.loss, "SoftmaxWithLoss")
        check_dout(dout, (), "SoftmaxWithLoss")
        (dx,) = backprop(self.loss, (self.x,), dout)
        return dx
