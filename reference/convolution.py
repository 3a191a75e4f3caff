"""Convolution and pooling layers (7.4.3, 7.4.4, 8.1) with PyTorch's operators.

Each ``forward`` is one check (``scratch.checks``, shared with the NumPy
layers, so both raise the same errors) and one PyTorch operator:
``F.conv2d`` / ``F.max_pool2d`` / ``F.avg_pool2d`` / ``F.adaptive_avg_pool2d``;
``backward`` asks autograd for the gradients (``torch.autograd.grad``),
nothing derived by hand. ``max_pool2d`` pads with -infinity, accepts only
pad <= pool/2, and among equal maxima sends the gradient to the first one in
row-major window order (a NaN window: its last NaN); ``scratch.convolution``
reproduces that.
"""
import torch
import torch.nn.functional as F

from scratch.checks import (check_backward, check_convolution_input, check_convolution_parameters, check_count,
                            check_images, check_pool, check_size, check_subsampling_input)

from ._tensor import as_param, as_tensor, backprop, torch_dtype, track

__all__ = ["Convolution", "Pooling", "AvgPooling", "GlobalAvgPooling", "Subsampling"]


class Convolution:
    """Convolution layer (7.4.3), as ``F.conv2d(x, W, b, stride, pad)``.

    ``W`` has shape (FN, C, FH, FW), ``b`` shape (FN,). With ``need_dx = False``
    autograd is asked for dW and db only and ``backward`` returns None.
    """

    def __init__(self, W, b, stride=1, pad=0):
        self.W, self.b = as_param(W), as_param(b)
        check_convolution_parameters(self.W, self.b)
        self.stride = check_count(stride, "stride", 1)
        self.pad = check_count(pad, "pad", 0)
        self.need_dx = True
        self.x = None
        self.out = None
        self.dW = None
        self.db = None

    def forward(self, x):
        x = as_tensor(x)
        check_convolution_input(x, self.W, self.stride, self.pad)
        self.x = track(x) if self.need_dx else x
        self.out = F.conv2d(self.x, self.W, self.b, self.stride, self.pad)
        return self.out

    def backward(self, dout):
        dout = check_backward(as_tensor(dout), self.out, "Convolution", self.W)
        if not self.need_dx:
            self.dW, self.db = backprop(self.out, (self.W, self.b), dout)
            return None
        dx, self.dW, self.db = backprop(self.out, (self.x, self.W, self.b), dout)
        return dx


class Pooling:
    """Max pooling (7.4.4), as ``F.max_pool2d(x, (pool_h, pool_w), stride, padding=pad)``."""

    def __init__(self, pool_h, pool_w, stride=2, pad=0):
        self.pool_h, self.pool_w, self.stride, self.pad = check_pool(pool_h, pool_w, stride, pad)
        self.x = None
        self.out = None

    def forward(self, x):
        x = as_tensor(x)
        check_images(x, self.pool_h, self.pool_w, self.stride, self.pad, "Pooling")
        self.x = track(x)
        self.out = F.max_pool2d(self.x, (self.pool_h, self.pool_w), self.stride, padding=self.pad)
        return self.out

    def backward(self, dout):
        dout = check_backward(as_tensor(dout), self.out, "Pooling")
        (dx,) = backprop(self.out, (self.x,), dout)
        return dx


class AvgPooling:
    """Average pooling, as ``F.avg_pool2d(x, (pool_h, pool_w), stride, padding=pad)``.

    PyTorch's default ``count_include_pad=True``: the zero padding counts in
    the average, every window divides by pool_h*pool_w.
    """

    def __init__(self, pool_h, pool_w, stride=2, pad=0):
        self.pool_h, self.pool_w, self.stride, self.pad = check_pool(pool_h, pool_w, stride, pad, "AvgPooling")
        self.x = None
        self.out = None

    def forward(self, x):
        x = as_tensor(x)
        check_images(x, self.pool_h, self.pool_w, self.stride, self.pad, "AvgPooling")
        self.x = track(x)
        self.out = F.avg_pool2d(self.x, (self.pool_h, self.pool_w), self.stride, padding=self.pad)
        return self.out

    def backward(self, dout):
        dout = check_backward(as_tensor(dout), self.out, "AvgPooling")
        (dx,) = backprop(self.out, (self.x,), dout)
        return dx


class GlobalAvgPooling:
    """Global average pooling, as ``F.adaptive_avg_pool2d(x, 1)`` flattened to (N, C)."""

    def __init__(self):
        self.x = None
        self.out = None

    def forward(self, x):
        x = as_tensor(x)
        check_images(x, 1, 1, 1, 0, "GlobalAvgPooling")
        self.x = track(x)
        self.out = F.adaptive_avg_pool2d(self.x, 1).flatten(1)
        return self.out

    def backward(self, dout):
        dout = check_backward(as_tensor(dout), self.out, "GlobalAvgPooling")
        (dx,) = backprop(self.out, (self.x,), dout)
        return dx


class Subsampling:
    """LeNet-5's subsampling (LeCun et al. 1998): ``F.avg_pool2d(x, pool)`` times a trained
    coefficient ``W`` (C,) plus a trained bias ``b`` (C,) per channel; not random.

    ``W`` starts at 1 and ``b`` at 0, in ``dtype``; gradients from autograd.
    """

    def __init__(self, channels, pool=2, dtype="float64"):
        self.channels = check_size(channels, "channels", "Subsampling")
        self.pool = check_count(pool, "pool", 1)
        dtype = torch_dtype(dtype)
        self.W = torch.ones(self.channels, dtype=dtype, requires_grad=True)
        self.b = torch.zeros(self.channels, dtype=dtype, requires_grad=True)
        self.x = None
        self.out = None
        self.dW = None
        self.db = None

    def forward(self, x):
        x = as_tensor(x)
        check_subsampling_input(x, self.channels, self.pool, self.W)
        self.x = track(x)
        pooled = F.avg_pool2d(self.x, self.pool)
        self.out = pooled * self.W[:, None, None] + self.b[:, None, None]
        return self.out

    def backward(self, dout):
        dout = check_backward(as_tensor(dout), self.out, "Subsampling", self.W)
        dx, self.dW, self.db = backprop(self.out, (self.x, self.W, self.b), dout)
        return dx
