"""Transposed convolution ("deconvolution") and FCN's bilinear upsampling filter (8.4), built on im2col.

FCN (Long, Shelhamer and Darrell 2015) upsamples its coarse class scores
back to the picture's size with a layer it calls deconvolution: the
backward pass of a convolution used as a forward pass. A convolution with
filters W (FN, C, FH, FW) maps (N, C, OH, OW) to (N, FN, H, W), and its dx
maps (N, FN, H, W) back to (N, C, OH, OW): that map is the transposed
convolution. So ``Deconvolution`` is ``Convolution`` run backwards, and its
backward is ``Convolution``'s forward:

* forward:  x as rows (N*H*W, C_in) times W_col (C_in, C_out*FH*FW), then
  col2im: each input pixel stamps its filter-weighted copy onto the output,
  overlapping stamps add up;
* backward: im2col of dout times W_col^T (a plain convolution of dout).

W has ``F.conv_transpose2d``'s layout (C_in, C_out, FH, FW) (a
convolution's (FN, C, FH, FW) read the other way round), b shape (C_out,).
The output size is (H - 1)*stride - 2*pad + FH + output_padding: ``pad``
cuts rows and columns off the output's borders, ``output_padding`` (smaller
than the stride, PyTorch's rule) adds rows and columns at the bottom and
right that no input pixel reaches (they hold the bias only), to pick among
the output sizes a stride-s convolution maps to the same H.

``bilinear_kernel(channels, size)`` is FCN's initialisation of its
upsampling layers: each channel upsampled on its own by bilinear
interpolation.
"""
import operator

import numpy as np

from .checks import (check_backward, check_batch, check_count, check_floating, check_param_dtype, dtype_name,
                     dtype_of)
from .util import col2im, im2col

__all__ = ["Deconvolution", "bilinear_kernel"]


# --- checks, shared with reference.deconvolution (they read only .shape and .dtype)

def deconvolution_output_size(input_size, filter_size, stride=1, pad=0, output_padding=0):
    """(input_size - 1)*stride - 2*pad + filter_size + output_padding, as ``F.conv_transpose2d``."""
    return (input_size - 1) * stride - 2 * pad + filter_size + output_padding


def check_deconvolution_parameters(W, b, stride, pad, output_padding, who="Deconvolution"):
    """W (C_in, C_out, FH, FW) and b (C_out,) of one floating dtype; stride >= 1, pad >= 0 and
    0 <= output_padding < stride (PyTorch's rule). Returns (stride, pad, output_padding) as ints."""
    if len(W.shape) != 4 or tuple(b.shape) != (W.shape[1],):
        raise ValueError(f"{who} needs W of shape (C_in, C_out, FH, FW) and b of shape (C_out,), "
                         f"got W {tuple(W.shape)} and b {tuple(b.shape)}")
    if min(W.shape) < 1:
        raise ValueError(f"{who}: W of shape {tuple(W.shape)} has an empty dimension")
    check_floating(W, who)
    if dtype_name(W.dtype) != dtype_name(b.dtype):
        raise TypeError(f"{who}: W is {dtype_name(W.dtype)} but b is {dtype_name(b.dtype)}")
    stride = check_count(stride, "stride", 1)
    pad = check_count(pad, "pad", 0)
    output_padding = check_count(output_padding, "output_padding", 0)
    if output_padding >= stride:
        raise ValueError(f"{who}: output_padding must be smaller than stride (PyTorch's rule), "
                         f"got output_padding={output_padding} with stride={stride}")
    return stride, pad, output_padding


def check_deconvolution_input(x, W, stride, pad, output_padding, who="Deconvolution"):
    """A batch of floating (N, C_in, H, W) images in W's dtype whose output is at least 1x1;
    returns (N, C_out, out_h, out_w), the output shape."""
    check_floating(x, who)
    shape = tuple(x.shape)
    if len(shape) != 4:
        raise ValueError(f"{who} expects 4-D data (N, C, H, W), got shape {shape}")
    check_batch(shape, who)
    C_in, C_out, FH, FW = W.shape
    if shape[1] != C_in:
        raise ValueError(f"{who}: W expects {C_in} input channels, got input of shape {shape}")
    if shape[2] < 1 or shape[3] < 1:
        raise ValueError(f"{who}: input of shape {shape} has no pixels")
    check_param_dtype(x, W, who, "input")
    out_h = deconvolution_output_size(shape[2], FH, stride, pad, output_padding)
    out_w = deconvolution_output_size(shape[3], FW, stride, pad, output_padding)
    if out_h < 1 or out_w < 1:
        raise ValueError(f"{who}: input of shape {shape} with a {FH}x{FW} filter, stride {stride}, pad {pad} "
                         f"and output_padding {output_padding} gives an empty output {out_h}x{out_w}; "
                         f"lower pad")
    return shape[0], C_out, out_h, out_w


def check_bilinear_args(channels, size, who="bilinear_kernel"):
    """channels >= 1 and size >= 1, as Python ints."""
    try:
        channels, size = operator.index(channels), operator.index(size)
    except TypeError:
        raise TypeError(f"{who}: channels and size must be integers, got {channels!r} and {size!r}") from None
    if channels < 1 or size < 1:
        raise ValueError(f"{who}: channels and size must be >= 1, got channels={channels}, size={size}")
    return channels, size


# --- the layer

class Deconvolution:
    """Transposed convolution (FCN's "deconvolution"), like ``F.conv_transpose2d(x, W, b, stride, pad,
    output_padding)``: out[n, o] = sum_c (x[n, c] spread out by W[c, o]) + b[o].

    x_2d = x as (N*H*W, C_in), rows ordered (n, y, x); W_col = W.reshape(C_in, C_out*FH*FW);
    out has shape (N, C_out, OH, OW), OH = (H - 1)*stride - 2*pad + FH + output_padding.

        forward:   col = x_2d W_col  (N*H*W, C_out*FH*FW): one row per input pixel, its stamp;
                   out = col2im(col) + b  (the stamps added up where they overlap, the borders cut by pad)
        backward:  dcol = im2col(dout)  (N*H*W, C_out*FH*FW): what each stamp's entries received;
                   dx = dcol W_col^T as (N, C_in, H, W),  dW = x_2d^T dcol,  db = sum of dout over n, y, x

    Exactly ``Convolution``'s backward and forward swapped, with the same im2col/col2im: the
    windows of a stride-s convolution of the (OH, OW) output are the H x W input pixels.
    """

    def __init__(self, W, b, stride=1, pad=0, output_padding=0):
        self.stride, self.pad, self.output_padding = check_deconvolution_parameters(W, b, stride, pad,
                                                                                    output_padding)
        self.W, self.b = W, b
        self.x_2d = None
        self.x_shape = None
        self.out_shape = None
        self.dW = None
        self.db = None

    def forward(self, x):
        x = np.asarray(x)
        self.out_shape = check_deconvolution_input(x, self.W, self.stride, self.pad, self.output_padding)
        C_in, C_out, FH, FW = self.W.shape
        self.x_shape = x.shape
        self.x_2d = x.transpose(0, 2, 3, 1).reshape(-1, C_in)  # (N*H*W, C_in)
        col = self.x_2d @ self.W.reshape(C_in, -1)  # (N*H*W, C_out*FH*FW): each pixel's stamp
        out = col2im(col, self.out_shape, FH, FW, self.stride, self.pad)
        return out + self.b[:, None, None]

    def backward(self, dout):
        dout = check_backward(np.asarray(dout), self.out_shape, "Deconvolution", self.W)
        C_in, C_out, FH, FW = self.W.shape
        N, _, H, W = self.x_shape
        dcol = im2col(dout, FH, FW, self.stride, self.pad)  # (N*H*W, C_out*FH*FW), rows as x_2d's
        W_col = self.W.reshape(C_in, -1)
        self.db = dout.sum(axis=(0, 2, 3))
        self.dW = (self.x_2d.T @ dcol).reshape(self.W.shape)
        dx_2d = dcol @ W_col.T  # (N*H*W, C_in)
        return dx_2d.reshape(N, H, W, C_in).transpose(0, 3, 1, 2)


def bilinear_kernel(channels, size, dtype=np.float64):
    """FCN's bilinear upsampling filter (``upsample_filt`` in the FCN code), as Deconvolution
    weights W (channels, channels, size, size): each channel upsampled on its own, so
    W[c, c] = f, the filter below, and W[c, o] = 0 for c != o.

        factor = ceil(size / 2),  center = factor - 1 (odd size) or factor - 1/2 (even size)
        f[i, j] = (1 - |i - center| / factor) * (1 - |j - center| / factor)

    With size = 2*s - s % 2, stride s and pad ceil((s - 1) / 2) (size 4, stride 2, pad 1 for s = 2)
    the deconvolution maps H to s*H and is bilinear interpolation: away from the borders
    it equals ``F.interpolate(x, scale_factor=s, mode="bilinear", align_corners=False)``
    (at the borders the zeros outside the picture weigh in). A constant stays that constant
    and a linear ramp stays a ramp with 1/s of its slope per pixel.
    """
    channels, size = check_bilinear_args(channels, size)
    dtype = dtype_of(dtype)
    factor = (size + 1) // 2
    center = factor - 1 if size % 2 == 1 else factor - 0.5
    taps = 1 - np.abs(np.arange(size) - center) / factor  # the 1-D tent, (size,)
    W = np.zeros((channels, channels, size, size), dtype=dtype)
    W[np.arange(channels), np.arange(channels)] = np.outer(taps, taps)
    return W
