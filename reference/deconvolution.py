"""Transposed convolution ("deconvolution") and FCN's bilinear upsampling filter (8.4), with PyTorch's operators.

``Deconvolution.forward`` is one check (``scratch.deconvolution``, shared with
the NumPy layer, so both raise the same errors) and ``F.conv_transpose2d``;
``backward`` asks autograd for dx, dW and db. ``bilinear_kernel`` builds
FCN's filter from torch operators.
"""
import torch
import torch.nn.functional as F

from scratch.deconvolution import check_bilinear_args, check_deconvolution_input, check_deconvolution_parameters
from scratch.checks import check_backward

from ._tensor import as_param, as_tensor, backprop, torch_dtype, track

__all__ = ["Deconvolution", "bilinear_kernel"]


class Deconvolution:
    """Transposed convolution, as ``F.conv_transpose2d(x, W, b, stride, pad, output_padding)``.

    ``W`` has shape (C_in, C_out, FH, FW), ``b`` shape (C_out,); the output is
    (N, C_out, (H - 1)*stride - 2*pad + FH + output_padding, likewise for the width).
    """

    def __init__(self, W, b, stride=1, pad=0, output_padding=0):
        self.W, self.b = as_param(W), as_param(b)
        self.stride, self.pad, self.output_padding = check_deconvolution_parameters(self.W, self.b, stride, pad,
                                                                                    output_padding)
        self.x = None
        self.out = None
        self.dW = None
        self.db = None

    def forward(self, x):
        x = as_tensor(x)
        check_deconvolution_input(x, self.W, self.stride, self.pad, self.output_padding)
        self.x = track(x)
        self.out = F.conv_transpose2d(self.x, self.W, self.b, self.stride, self.pad, self.output_padding)
        return self.out

    def backward(self, dout):
        dout = check_backward(as_tensor(dout), self.out, "Deconvolution", self.W)
        dx, self.dW, self.db = backprop(self.out, (self.x, self.W, self.b), dout)
        return dx


def bilinear_kernel(channels, size, dtype="float64"):
    """FCN's bilinear upsampling filter as Deconvolution weights (channels, channels, size, size):
    the tent (1 - |i - center| / factor) in each direction, their outer product on the diagonal
    W[c, c], zeros elsewhere; factor = ceil(size / 2), center = factor - 1 (odd) or factor - 1/2 (even)."""
    channels, size = check_bilinear_args(channels, size)
    dtype = torch_dtype(dtype)
    factor = (size + 1) // 2
    center = factor - 1 if size % 2 == 1 else factor - 0.5
    taps = 1 - (torch.arange(size, dtype=dtype) - center).abs() / factor
    return torch.eye(channels, dtype=dtype)[:, :, None, None] * torch.outer(taps, taps)
