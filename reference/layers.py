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

from scratch.checks import check_batch, check_dout, check_forward_done, class_indices

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
        if W.ndim != 2 or tuple(b.shape) != (W.shape[0],):
            raise ValueError(f"Affine needs W of shape (out, in) and b of shape (out,), "
                             f"got W {tuple(W.shape)} and b {tuple(b.shape)}")
        self.W, self.b = as_param(W), as_param(b)
        if self.W.dtype != self.b.dtype:
            raise TypeError(f"Affine: W is {self.W.dtype} but b is {self.b.dtype}")
        self.x = None
        self.out = None
        self.dW = None
        self.db = None

    def forward(self, x):
        self.x = track(x)
        if self.x.dtype != self.W.dtype:
            raise TypeError(f"Affine: input dtype {self.x.dtype} does not match parameter dtype {self.W.dtype}")
        check_batch(self.x.shape, "Affine")
        flat = self.x.reshape(self.x.shape[0], -1)
        if flat.shape[1] != self.W.shape[1]:
            raise ValueError(f"Affine expects {self.W.shape[1]} input features per sample, "
                             f"got input of shape {tuple(self.x.shape)}")
        self.out = F.linear(flat, self.W, self.b)
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
        if self.x.ndim != 2:
            raise ValueError(f"SoftmaxWithLoss expects scores of shape (N, classes), got {tuple(self.x.shape)}")
        check_batch(self.x.shape, "SoftmaxWithLoss")
        self.t = torch.from_numpy(class_indices(to_numpy(t), self.x.shape[1], tuple(self.x.shape[:1])))
        self.loss = F.cross_entropy(self.x, self.t)
        self.y = F.softmax(self.x.detach(), dim=1)
        return self.loss

    def backward(self, dout=1):
        check_forward_done(self.loss, "SoftmaxWithLoss")
        check_dout(dout, (), "SoftmaxWithLoss")
        (dx,) = backprop(self.loss, (self.x,), dout)
        return dx
