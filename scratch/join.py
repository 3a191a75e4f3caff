"""Layers that join branches (chapter 8): ``Concat`` for inception blocks, ``Residual`` for ResNet.

``forward`` takes several inputs and ``backward(dout)`` returns one gradient
per input, as a tuple (like ``MulLayer`` and ``AddLayer``). Inputs must be
floating point; shapes are checked and never broadcast, and every error is
the same in both backends. ``backward`` before ``forward`` is a RuntimeError.
"""
import operator

import numpy as np

from .checks import check_dout, check_forward_done

__all__ = ["Concat", "Residual"]


def _check_axis(axis):
    """The concatenation axis as a Python int (negative counts from the end)."""
    try:
        return operator.index(axis)
    except TypeError:
        raise TypeError(f"Concat: axis must be an integer, got {axis!r}") from None


def _check_concat(shapes, dtypes, axis):
    """``axis`` made non-negative, after checking that the inputs can be concatenated along it.

    ``shapes`` are tuples, ``dtypes`` anything whose ``str`` names the dtype.
    """
    if not shapes:
        raise ValueError("Concat.forward needs at least one input")
    ndim = len(shapes[0])
    if ndim == 0:
        raise ValueError("Concat cannot join 0-d inputs")
    for i, shape in enumerate(shapes[1:], 1):
        if len(shape) != ndim:
            raise ValueError(f"Concat: input {i} of shape {shape} has {len(shape)} dimensions, "
                             f"input 0 of shape {shapes[0]} has {ndim}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"Concat: axis {axis} is out of range for inputs of {ndim} dimensions")
    axis %= ndim
    for i, shape in enumerate(shapes[1:], 1):
        if shape[:axis] + shape[axis + 1:] != shapes[0][:axis] + shapes[0][axis + 1:]:
            raise ValueError(f"Concat: input {i} of shape {shape} does not match input 0 of shape "
                             f"{shapes[0]} except along axis {axis}")
    names = [str(d).removeprefix("torch.") for d in dtypes]
    if len(set(names)) > 1:
        raise TypeError(f"Concat: inputs of different dtypes {names}; convert them to one dtype")
    return axis


def _check_residual(x_shape, s_shape, x_dtype, s_dtype):
    """x and shortcut of one shape (no broadcasting) and one dtype."""
    if tuple(x_shape) != tuple(s_shape):
        raise ValueError(f"Residual: x of shape {tuple(x_shape)} and shortcut of shape {tuple(s_shape)} differ; "
                         f"project the shortcut (a 1x1 convolution) to the block's output shape")
    if str(x_dtype).removeprefix("torch.") != str(s_dtype).removeprefix("torch."):
        raise TypeError(f"Residual: x is {x_dtype} but shortcut is {s_dtype}")


def _float_array(x, who):
    x = np.asarray(x)
    if x.dtype.kind != "f":
        raise TypeError(f"{who} expects floating-point input, got dtype {x.dtype}")
    return x


class Concat:
    """Concatenation along ``axis`` (the channels, 1, by default), as in an inception block.

    out = [x_1, x_2, ..., x_k] joined along ``axis``, like ``torch.cat``; the
    inputs must agree in every other dimension and in dtype.
    Backward: dout is split back along ``axis`` into pieces of the inputs'
    sizes, dx_i = dout[..., offset_i : offset_i + size_i, ...], returned as
    a tuple of arrays (copies, not views of dout).
    """

    def __init__(self, axis=1):
        self.axis = _check_axis(axis)
        self.sizes = None
        self.out_shape = None
        self._axis = None

    def forward(self, *xs):
        xs = [_float_array(x, "Concat") for x in xs]
        self._axis = _check_concat([x.shape for x in xs], [x.dtype for x in xs], self.axis)
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
        x, shortcut = _float_array(x, "Residual"), _float_array(shortcut, "Residual")
        _check_residual(x.shape, shortcut.shape, x.dtype, shortcut.dtype)
        out = x + shortcut
        self.out_shape = out.shape
        return out

    def backward(self, dout):
        check_forward_done(self.out_shape, "Residual")
        dout = check_dout(np.asarray(dout), self.out_shape, "Residual")
        # order="K": the copies keep dout's memory layout (channel-major after a convolution),
        # which the layers below read fastest; a plain copy() would transpose them to (N, C, H, W)
        return dout.copy(order="K"), dout.copy(order="K")
