"""Layers that join branches (chapter 8): ``Concat`` for inception blocks, ``Residual`` for ResNet.

``forward`` takes several inputs and ``backward(dout)`` returns one gradient
per input, as a tuple (like ``MulLayer`` and ``AddLayer``). Inputs must be
floating point; shapes are checked and never broadcast, and every error is
the same in both backends. ``backward`` before ``forward`` is a RuntimeError.
"""
import numpy as np

from .checks import check_concat, check_concat_axis, check_dout, check_forward_done, check_residual

__all__ = ["Concat", "Residual"]


class Concat:
    """Concatenation along ``axis`` (the channels, 1, by default), as in an inception block.

    out = [x_1, x_2, ..., x_k] joined along ``axis``, like ``torch.cat``; the
    inputs must agree in every other dimension and in dtype.
    Backward: dout is split back along ``axis`` into pieces of the inputs'
    sizes, dx_i = dout[..., offset_i : offset_i + size_i, ...], returned as
    a tuple of arrays (copies, not views of dout).
    """

    def __init__(self, axis=1):
        self.axis = check_concat_axis(axis)
        self.sizes = None
        self.out_shape = None
        self._axis = None

    def forward(self, *xs):
        xs = [np.asarray(x) for x in xs]
        self._axis = check_concat(xs, self.axis)
        out = np.concatenate(xs, axis=self._axis)
        self.sizes, self.out_shape = [x.shape[self._axis] for x in xs], out.shape
        return out

    def backward(self, dout):
        check_forward_done(self.out_shape, "Concat")
        dout = check_dout(np.asarray(dout), self.out_shape, "Concat")
        cuts = np.cumsum(self.sizes)[:-1]
        return tuple(part.copy() for part in np.split(dout, cuts, axis=self._axis))


class Residual:
    """The join of a residual block (ResNet): out = x + shortcut.

    ``x`` is the block's output, ``shortcut`` its input (or a projection of
    it); both of one shape, never broadcast, and one dtype.
    Backward: the sum passes dout unchanged to both, (dx, dshortcut) = (dout, dout)
    (two copies).
    """

    def __init__(self):
        self.out_shape = None

    def forward(self, x, shortcut):
        x, shortcut = np.asarray(x), np.asarray(shortcut)
        check_residual(x, shortcut)
        out = x + shortcut
        self.out_shape = out.shape
        return out

    def backward(self, dout):
        check_forward_done(self.out_shape, "Residual")
        dout = check_dout(np.asarray(dout), self.out_shape, "Residual")
        # order="K": the copies keep dout's memory layout (channel-major after a convolution),
        # which the layers below read fastest; a plain copy() would transpose them to (N, C, H, W)
        return dout.copy(order="K"), dout.copy(order="K")
