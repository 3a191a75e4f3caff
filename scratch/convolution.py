"""Convolution and pooling layers (7.4.3, 7.4.4, 8.1), built on im2col.

The book's common/layers.py with PyTorch's semantics: ``forward(x)`` on
(N, C, H, W) data, ``backward(dout)`` returning dx, and the convolution's
parameter gradients in ``dW`` and ``db``.

* ``Convolution``: im2col, one matrix product, a reshape; backward: the
  product's transposes, then col2im. W (FN, C, FH, FW) and b (FN,), as in
  the book and ``F.conv2d``.
* ``Pooling``: im2col, one window per row, the row's maximum; backward: dout
  into each row at its maximum, then col2im. It pads with -infinity, as
  PyTorch's ``max_pool2d`` does (the book pads with 0, which can beat
  negative inputs), accepts only pad <= pool/2 (PyTorch's rule), and among
  equal maxima takes the first one in row-major window order (PyTorch's
  choice; ties are common: zeros after ReLU).
* Chapter 8's architectures add ``AvgPooling`` (``F.avg_pool2d``, zero
  padding counted in the average), ``GlobalAvgPooling`` (GoogLeNet's and
  ResNet's last pooling) and LeNet-5's trained ``Subsampling``.

``scratch.fast.convolution`` holds subclasses of ``Convolution`` and
``Pooling`` that compute the same numbers faster; the networks use those.
"""
import numpy as np

from .checks import (check_backward, check_convolution_input, check_convolution_parameters, check_count,
                     check_images, check_pool, check_size, check_subsampling_input, dtype_of)
from .util import col2im, im2col

__all__ = ["Convolution", "Pooling", "AvgPooling", "GlobalAvgPooling", "Subsampling"]


class Convolution:
    """Convolution layer (7.4.3): out[n, f] = sum_c W[f, c] (slid over) x[n, c] + b[f], like ``F.conv2d``.

    col = im2col(x), (N*OH*OW, C*FH*FW): one row per region the filters see;
    W_col = W.reshape(FN, C*FH*FW): one row per filter; dout_2d: dout as
    (N*OH*OW, FN), its rows ordered as col's.

        forward:   out_2d = col W_col^T + b, reshaped from (N, OH, OW, FN) to (N, FN, OH, OW)
        backward:  db = sum of dout_2d's rows,  dW = (col^T dout_2d)^T,
                   dcol = dout_2d W_col,  dx = col2im(dcol)

    ``need_dx = False`` skips dx (a network's first layer needs none).
    """

    def __init__(self, W, b, stride=1, pad=0):
        check_convolution_parameters(W, b)
        self.W, self.b = W, b
        self.stride = check_count(stride, "stride", 1)
        self.pad = check_count(pad, "pad", 0)
        self.need_dx = True
        self.x = None
        self.col = None
        self.col_W = None
        self.out_shape = None
        self.dW = None
        self.db = None

    def forward(self, x):
        x = np.asarray(x)
        N, _, _, _, out_h, out_w = check_convolution_input(x, self.W, self.stride, self.pad)
        FN, C, FH, FW = self.W.shape
        self.x = x
        self.col = im2col(x, FH, FW, self.stride, self.pad)  # (N*OH*OW, C*FH*FW)
        self.col_W = self.W.reshape(FN, -1)  # (FN, C*FH*FW)
        out = self.col @ self.col_W.T + self.b  # (N*OH*OW, FN)
        out = out.reshape(N, out_h, out_w, FN).transpose(0, 3, 1, 2)
        self.out_shape = out.shape  # for backward's check; the output itself is not kept
        return out

    def backward(self, dout):
        dout = check_backward(np.asarray(dout), self.out_shape, "Convolution", self.W)
        FN, C, FH, FW = self.W.shape
        dout_2d = dout.transpose(0, 2, 3, 1).reshape(-1, FN)  # (N*OH*OW, FN), rows as col's
        self.db = dout_2d.sum(axis=0)
        self.dW = (self.col.T @ dout_2d).T.reshape(FN, C, FH, FW)
        if not self.need_dx:
            return None
        dcol = dout_2d @ self.col_W  # (N*OH*OW, C*FH*FW): what each region's copy of a pixel gets
        return col2im(dcol, self.x.shape, FH, FW, self.stride, self.pad)


class Pooling:
    """Max pooling (7.4.4): out[n, c, y, x] = the maximum of its pool_h x pool_w window, like ``F.max_pool2d``.

    col = im2col(x) padded with -inf, (N*OH*OW, C*PH*PW): each row holds the
    C windows of one output position side by side (columns ordered c, fy, fx),
    so reshaped to (N*OH*OW*C, PH*PW) it holds one window per row.

        forward:   out = the maximum of each row, arg_max = its position in the row
        backward:  dcol = zeros, dcol[row, arg_max[row]] = dout of that row; dx = col2im(dcol)

    (overlapping windows, stride < pool, add their gradients in col2im.)
    Among equal maxima np.argmax takes the first, in row-major window order,
    as PyTorch does; a window holding NaN has the maximum NaN and sends its
    gradient to its last NaN, as PyTorch does. One case is left to
    ``scratch.fast.convolution.Pooling``: a window whose real pixels are all
    -inf, with padding, where PyTorch picks its first real pixel and argmax
    the padding (the gradient is lost there).
    """

    padding_value = -np.inf  # padding never wins a maximum (the book's subclass pads with 0)

    def __init__(self, pool_h, pool_w, stride=2, pad=0):
        self.pool_h, self.pool_w, self.stride, self.pad = check_pool(pool_h, pool_w, stride, pad)
        self.x = None
        self.arg_max = None
        self.out = None

    def forward(self, x):
        x = np.asarray(x)
        N, C, _, _, out_h, out_w = check_images(x, self.pool_h, self.pool_w, self.stride, self.pad, "Pooling")
        col = im2col(x, self.pool_h, self.pool_w, self.stride, self.pad, fill=self.padding_value)
        col = col.reshape(-1, self.pool_h * self.pool_w)  # one window per row, rows ordered (n, y, x, c)
        out = np.max(col, axis=1)
        self.arg_max = np.argmax(col, axis=1)  # the first maximum in the row, or the first NaN
        nan = np.isnan(out)  # PyTorch takes the last NaN: the first one in the reversed row
        self.arg_max[nan] = col.shape[1] - 1 - np.argmax(np.isnan(col[nan, ::-1]), axis=1)
        self.x = x
        self.out = out.reshape(N, out_h, out_w, C).transpose(0, 3, 1, 2)
        return self.out

    def backward(self, dout):
        dout = check_backward(np.asarray(dout), self.out, "Pooling")
        N, C, out_h, out_w = dout.shape
        dcol = np.zeros((dout.size, self.pool_h * self.pool_w), dtype=self.x.dtype)  # one window per row
        dcol[np.arange(dout.size), self.arg_max] = dout.transpose(0, 2, 3, 1).reshape(-1)
        dcol = dcol.reshape(N * out_h * out_w, -1)  # im2col's layout: rows (n, y, x), columns (c, fy, fx)
        return col2im(dcol, self.x.shape, self.pool_h, self.pool_w, self.stride, self.pad)


def _window_slices(pool_h, pool_w, stride, out_h, out_w):
    """The slices of the padded input seen by window offset (i, j), one per offset."""
    for i in range(pool_h):
        for j in range(pool_w):
            yield (slice(None), slice(None),
                   slice(i, i + stride * (out_h - 1) + 1, stride),
                   slice(j, j + stride * (out_w - 1) + 1, stride))


class AvgPooling:
    """Average pooling: the mean of each pool_h x pool_w window, like ``F.avg_pool2d``.

    out[n, c, y, x] = 1/(pool_h*pool_w) sum_{i, j} xp[n, c, y*stride + i, x*stride + j]
    with xp the input padded by ``pad`` zeros, which count in the average
    (PyTorch's default ``count_include_pad=True``: a window always divides by
    pool_h*pool_w). pad <= pool/2 as in PyTorch.

    Backward: every position of a window receives dout / (pool_h*pool_w);
    overlapping windows (stride < pool) add up, pixels in no window get 0.
    Both passes add one strided view per window offset: no im2col copy.
    """

    def __init__(self, pool_h, pool_w, stride=2, pad=0):
        self.pool_h, self.pool_w, self.stride, self.pad = check_pool(pool_h, pool_w, stride, pad, "AvgPooling")
        self.x_shape = None
        self.out_shape = None

    def forward(self, x):
        x = np.asarray(x)
        out_h, out_w = check_images(x, self.pool_h, self.pool_w, self.stride, self.pad, "AvgPooling")[4:]
        p = self.pad
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p))) if p else x
        out = None
        for sl in _window_slices(self.pool_h, self.pool_w, self.stride, out_h, out_w):
            if out is None:
                out = xp[sl].copy()
            else:
                out += xp[sl]
        out /= self.pool_h * self.pool_w  # in place: float32 stays float32
        self.x_shape, self.out_shape = x.shape, out.shape
        return out

    def backward(self, dout):
        dout = check_backward(np.asarray(dout), self.out_shape, "AvgPooling")
        N, C, H, W = self.x_shape
        p = self.pad
        out_h, out_w = self.out_shape[2:]
        share = dout / np.asarray(self.pool_h * self.pool_w, dtype=dout.dtype)
        dxp = np.zeros((N, C, H + 2 * p, W + 2 * p), dtype=share.dtype)
        for sl in _window_slices(self.pool_h, self.pool_w, self.stride, out_h, out_w):
            dxp[sl] += share
        return dxp[:, :, p:H + p, p:W + p] if p else dxp


class GlobalAvgPooling:
    """Global average pooling: the mean of each channel, (N, C, H, W) -> (N, C).

    out[n, c] = 1/(H*W) sum_{y, x} x[n, c, y, x], i.e.
    ``F.adaptive_avg_pool2d(x, 1)`` flattened to (N, C) (the pooling before
    the classifier in GoogLeNet and ResNet). Backward: dx[n, c, y, x] =
    dout[n, c] / (H*W).
    """

    def __init__(self):
        self.x_shape = None
        self.out_shape = None

    def forward(self, x):
        x = np.asarray(x)
        check_images(x, 1, 1, 1, 0, "GlobalAvgPooling")
        self.x_shape, self.out_shape = x.shape, x.shape[:2]
        return x.mean(axis=(2, 3))

    def backward(self, dout):
        dout = check_backward(np.asarray(dout), self.out_shape, "GlobalAvgPooling")
        H, W = self.x_shape[2:]
        dx = np.empty(self.x_shape, dtype=dout.dtype)
        dx[...] = (dout / np.asarray(H * W, dtype=dout.dtype))[:, :, None, None]
        return dx


class Subsampling:
    """LeNet-5's subsampling layer (LeCun et al. 1998), per channel c:

    out[n, c, y, x] = W[c] * mean(x[n, c, pool*y:pool*(y+1), pool*x:pool*(x+1)]) + b[c]

    Is LeNet's subsampling random? No: nothing is sampled. Each output is the
    average of a non-overlapping pool x pool window (the paper adds the four
    inputs and multiplies by the coefficient, the same thing up to a factor),
    times a trained coefficient ``W`` (C,) plus a trained bias ``b`` (C,);
    the paper then passes it through a sigmoid-like squashing function
    (a scaled tanh), left here to a separate activation layer. Rows and
    columns that fill no whole window are dropped, as ``F.avg_pool2d`` does.
    ``W`` starts at 1 and ``b`` at 0 (a plain average), in ``dtype``.

    With a = avg_pool(x): db[c] = sum_{n, y, x} dout, dW[c] = sum_{n, y, x} dout * a,
    dx = the average pooling's backward of dout * W[c] (each window position
    gets dout * W[c] / pool^2).
    """

    def __init__(self, channels, pool=2, dtype=np.float64):
        self.channels = check_size(channels, "channels", "Subsampling")
        self.pool = check_count(pool, "pool", 1)
        dtype = dtype_of(dtype)
        self.W = np.ones(self.channels, dtype=dtype)
        self.b = np.zeros(self.channels, dtype=dtype)
        self._avg = AvgPooling(self.pool, self.pool, stride=self.pool)
        self.a = None
        self.dW = None
        self.db = None

    def forward(self, x):
        x = np.asarray(x)
        check_subsampling_input(x, self.channels, self.pool, self.W)
        self.a = self._avg.forward(x)
        return self.a * self.W[:, None, None] + self.b[:, None, None]

    def backward(self, dout):
        dout = check_backward(np.asarray(dout), self.a, "Subsampling", self.W)
        self.db = dout.sum(axis=(0, 2, 3))
        self.dW = (dout * self.a).sum(axis=(0, 2, 3))
        return self._avg.backward(dout * self.W[:, None, None])
