"""Convolution and pooling layers (7.4.3, 7.4.4, 8.1) with PyTorch's operators.

The forward pass is ``F.conv2d`` / ``F.max_pool2d`` / ``F.avg_pool2d`` /
``F.adaptive_avg_pool2d``; the backward pass asks
autograd for the gradients (``torch.autograd.grad``), nothing derived by
hand. ``max_pool2d`` pads with -infinity, accepts only pad <= pool/2, and
among equal maxima sends the gradient to the first one in row-major window
order (a NaN window: its last NaN); ``scratch.convolution`` reproduces that.
"""
import torch
import torch.nn.functional as F

from scratch.checks import check_batch, check_dout, check_forward_done, check_size
from scratch.convolution import _check_pool
from scratch.util import _count, _output_shape

from ._tensor import as_param, as_tensor, backprop, torch_dtype, track

__all__ = ["Convolution", "Pooling", "AvgPooling", "GlobalAvgPooling", "Subsampling"]


def _check_dout(dout, out, who):
    check_forward_done(out, who)
    return check_dout(as_tensor(dout), out.shape, who)


def _check_float_input(x, who):
    x = as_tensor(x)
    if not x.is_floating_point():
        raise TypeError(f"{who} expects floating-point input, got dtype {x.dtype}")
    return x


class Convolution:
    """Convolution layer (7.4.3), as ``F.conv2d(x, W, b, stride, pad)``.

    ``W`` has shape (FN, C, FH, FW), ``b`` shape (FN,). With ``need_dx = False``
    autograd is asked for dW and db only and ``backward`` returns None.
    """

    def __init__(self, W, b, stride=1, pad=0):
        if W.ndim != 4 or tuple(b.shape) != (W.shape[0],):
            raise ValueError(f"Convolution needs W of shape (FN, C, FH, FW) and b of shape (FN,), "
                             f"got W {tuple(W.shape)} and b {tuple(b.shape)}")
        self.W, self.b = as_param(W), as_param(b)
        if self.W.dtype != self.b.dtype:
            raise TypeError(f"Convolution: W is {self.W.dtype} but b is {self.b.dtype}")
        self.stride = _count(stride, "stride", 1)
        self.pad = _count(pad, "pad", 0)
        self.need_dx = True
        self.x = None
        self.out = None
        self.dW = None
        self.db = None

    def forward(self, x):
        x = _check_float_input(x, "Convolution")
        FN, C, FH, FW = self.W.shape
        _output_shape(x.shape, FH, FW, self.stride, self.pad, "Convolution")
        check_batch(x.shape, "Convolution")
        if x.shape[1] != C:
            raise ValueError(f"Convolution: filters expect {C} input channels, "
                             f"got input of shape {tuple(x.shape)}")
        if x.dtype != self.W.dtype:
            raise TypeError(f"Convolution: input dtype {x.dtype} does not match parameter dtype {self.W.dtype}")
        self.x = track(x) if self.need_dx else x
        self.out = F.conv2d(self.x, self.W, self.b, self.stride, self.pad)
        return self.out

    def backward(self, dout):
        dout = _check_dout(dout, self.out, "Convolution")
        if dout.dtype != self.W.dtype:
            raise TypeError(f"Convolution: dout dtype {dout.dtype} does not match parameter dtype {self.W.dtype}")
        if not self.need_dx:
            self.dW, self.db = backprop(self.out, (self.W, self.b), dout)
            return None
        dx, self.dW, self.db = backprop(self.out, (self.x, self.W, self.b), dout)
        return dx


class Pooling:
    """Max pooling (7.4.4), as ``F.max_pool2d(x, (pool_h, pool_w), stride, padding=pad)``."""

    def __init__(self, pool_h, pool_w, stride=2, pad=0):
        self.pool_h, self.pool_w, self.stride, self.pad = _check_pool(pool_h, pool_w, stride, pad)
        self.x = None
        self.out = None

    def forward(self, x):
        x = _check_float_input(x, "Pooling")
        _output_shape(x.shape, self.pool_h, self.pool_w, self.stride, self.pad, "Pooling")
        check_batch(x.shape, "Pooling")
        self.x = track(x)
        self.out = F.max_pool2d(self.x, (self.pool_h, self.pool_w), self.stride, padding=self.pad)
        return self.out

    def backward(self, dout):
        dout = _check_dout(dout, self.out, "Pooling")
        (dx,) = backprop(self.out, (self.x,), dout)
        return dx


class AvgPooling:
    """Average pooling, as ``F.avg_pool2d(x, (pool_h, pool_w), stride, padding=pad)``.

    PyTorch's default ``count_include_pad=True``: the zero padding counts in
    the average, every window divides by pool_h*pool_w.
    """

    def __init__(self, pool_h, pool_w, stride=2, pad=0):
        self.pool_h, self.pool_w, self.stride, self.pad = _check_pool(pool_h, pool_w, stride, pad, "AvgPooling")
        self.x = None
        self.out = None

    def forward(self, x):
        x = _check_float_input(x, "AvgPooling")
        _output_shape(x.shape, self.pool_h, self.pool_w, self.stride, self.pad, "AvgPooling")
        check_batch(x.shape, "AvgPooling")
        self.x = track(x)
        self.out = F.avg_pool2d(self.x, (self.pool_h, self.pool_w), self.stride, padding=self.pad)
        return self.out

    def backward(self, dout):
        dout = _check_dout(dout, self.out, "AvgPooling")
        (dx,) = backprop(self.out, (self.x,), dout)
        return dx


class GlobalAvgPooling:
    """Global average pooling, as ``F.adaptive_avg_pool2d(x, 1)`` flattened to (N, C)."""

    def __init__(self):
        self.x = None
        self.out = None

    def forward(self, x):
        x = _check_float_input(x, "GlobalAvgPooling")
        _output_shape(x.shape, 1, 1, 1, 0, "GlobalAvgPooling")
        check_batch(x.shape, "GlobalAvgPooling")
        self.x = track(x)
        self.out = F.adaptive_avg_pool2d(self.x, 1).flatten(1)
        return self.out

    def backward(self, dout):
        dout = _check_dout(dout, self.out, "GlobalAvgPooling")
        (dx,) = backprop(self.out, (self.x,), dout)
        return dx


class Subsampling:
    """LeNet-5's subsampling (LeCun et al. 1998): ``F.avg_pool2d(x, pool)`` times a trained
    coefficient ``W`` (C,) plus a trained bias ``b`` (C,) per channel; not random.

    ``W`` starts at 1 and ``b`` at 0, in ``dtype``; gradients from autograd.
    """

    def __init__(self, channels, pool=2, dtype="float64"):
        self.channels = check_size(channels, "channels", "Subsampling")
        self.pool = _count(pool, "pool", 1)
        dtype = torch_dtype(dtype)
        self.W = torch.ones(self.channels, dtype=dtype, requires_grad=True)
        self.b = torch.zeros(self.channels, dtype=dtype, requires_grad=True)
        self.x = None
        self.out = None
        self.dW = None
        self.db = None

    def forward(self, x):
        x = _check_float_input(x, "Subsampling")
        _output_shape(x.shape, self.pool, self.pool, self.pool, 0, "Subsampling")
        check_batch(x.shape, "Subsampling")
        if x.shape[1] != self.channels:
            raise ValueError(f"Subsampling expects {self.channels} channels, got input of shape {tuple(x.shape)}")
        if x.dtype != self.W.dtype:
            raise TypeError(f"Subsampling: input dtype {x.dtype} does not match parameter dtype {self.W.dtype}")
        self.x = track(x)
        pooled = F.avg_pool2d(self.x, self.pool)
        self.out = pooled * self.W[:, None, None] + self.b[:, None, None]
        return self.out

    def backward(self, dout):
        dout = _check_dout(dout, self.out, "Subsampling")
        if dout.dtype != self.W.dtype:
            raise TypeError(f"Subsampling: dout dtype {dout.dtype} does not match parameter dtype {self.W.dtype}")
        dx, self.dW, self.db = backprop(self.out, (self.x, self.W, self.b), dout)
        return dx
