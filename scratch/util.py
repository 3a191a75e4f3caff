"""im2col and col2im (7.4.3), the book's common/util.py: convolution as one matrix product.

im2col expands the input data in the way the filter sees it: each region the
filter is applied to (a 3-D block of C x filter_h x filter_w values) becomes
one row, and the regions are visited from the top left, left to right and
then down, image after image (figure 7-18). With output size
out_h = (H + 2*pad - filter_h) // stride + 1 (likewise out_w), the result has
shape (N*out_h*out_w, C*filter_h*filter_w): rows ordered (n, y, x), columns
ordered (c, fy, fx), and

    col[(n*out_h + y)*out_w + x, (c*filter_h + fy)*filter_w + fx]
        = padded_input[n, c, y*stride + fy, x*stride + fx].

col2im goes back: every entry of col is added to the input pixel it was
copied from, so pixels shared by overlapping regions sum their
contributions. It is the adjoint (transpose) of im2col, which is exactly what
the backward pass of a convolution needs.

The book builds col with a Python loop over the filter offsets; here im2col is
one copy out of a strided view (``sliding_window_view``), no loop at all.
col2im keeps the book's loop over the filter_h*filter_w offsets (small), each
step one vectorised addition over the whole batch.

PyTorch's ``F.unfold`` returns the same numbers laid out (N, C*filter_h*filter_w,
out_h*out_w): the transpose of each image's block of rows. ``Convolution``
uses the transpose of the whole col instead (``_unfold``/``_fold_unfolded``):
(C*filter_h*filter_w, N*out_h*out_w), rows ordered (c, fy, fx), columns
(n, y, x). Then each pass of the layer is one large matrix product over the
whole batch, which a BLAS library runs faster than N small ones, and each
filter offset (fy, fx) is one block of rows, filled or added back with one
vectorised copy.
"""
import operator

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["im2col", "col2im"]


def _count(value, name, minimum):
    """``value`` as a Python int >= ``minimum``, or a clear error."""
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {value!r}") from None
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def _output_size(input_size, filter_size, stride=1, pad=0):
    """(input_size + 2*pad - filter_size) // stride + 1 (7.2.4, equation 7.1).

    The book divides with ``/`` and hopes for an integer; here positions that
    do not fit a whole filter are dropped, as PyTorch does, and a filter
    larger than the padded input is an error.
    """
    input_size = _count(input_size, "input size", 0)
    filter_size = _count(filter_size, "filter size", 1)
    stride = _count(stride, "stride", 1)
    pad = _count(pad, "pad", 0)
    if filter_size > input_size + 2 * pad:
        raise ValueError(f"filter of size {filter_size} does not fit an input of size {input_size} "
                         f"with padding {pad} (padded size {input_size + 2 * pad})")
    return (input_size + 2 * pad - filter_size) // stride + 1


def _output_shape(input_shape, filter_h, filter_w, stride, pad, who):
    """(N, C, H, W, out_h, out_w) for a 4-D input shape, with clear errors."""
    input_shape = tuple(input_shape)
    if len(input_shape) != 4:
        raise ValueError(f"{who} expects 4-D data (N, C, H, W), got shape {input_shape}")
    N, C, H, W = (_count(s, "input dimension", 0) for s in input_shape)
    try:
        out_h = _output_size(H, filter_h, stride, pad)
        out_w = _output_size(W, filter_w, stride, pad)
    except ValueError as err:
        raise ValueError(f"{who}: window {filter_h}x{filter_w} (stride {stride}, pad {pad}) "
                         f"on input of shape {input_shape}: {err}") from None
    return N, C, H, W, out_h, out_w


def _windows(x, filter_h, filter_w, stride, pad, fill=0):
    """Read-only strided view (N, C, out_h, out_w, filter_h, filter_w) of the padded input."""
    if pad:
        x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), constant_values=fill)
    return sliding_window_view(x, (filter_h, filter_w), axis=(2, 3))[:, :, ::stride, ::stride]


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    """Expand (N, C, H, W) data into the 2-D matrix (N*out_h*out_w, C*filter_h*filter_w).

    One row per filter region (rows ordered n, y, x; columns c, fy, fx),
    figure 7-18. The dtype of the input is kept (float32 stays float32).
    """
    x = np.asarray(input_data)
    N, C, _, _, out_h, out_w = _output_shape(x.shape, filter_h, filter_w, stride, pad, "im2col")
    col = np.empty((N, out_h, out_w, C, filter_h, filter_w), dtype=x.dtype)
    col[...] = _windows(x, filter_h, filter_w, stride, pad).transpose(0, 2, 3, 1, 4, 5)
    return col.reshape(N * out_h * out_w, C * filter_h * filter_w)


def _fold(cols, input_shape, filter_h, filter_w, stride, pad):
    """Sum (N, C, filter_h, filter_w, out_h, out_w) window values back into (N, C, H, W)."""
    N, C, H, W = input_shape
    out_h, out_w = cols.shape[4:]
    img = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=cols.dtype)
    for y in range(filter_h):
        y_max = y + stride * (out_h - 1) + 1
        for x in range(filter_w):
            x_max = x + stride * (out_w - 1) + 1
            img[:, :, y:y_max:stride, x:x_max:stride] += cols[:, :, y, x]
    return img[:, :, pad:H + pad, pad:W + pad] if pad else img


def col2im(col, input_shape, filter_h, filter_w, stride=1, pad=0):
    """The inverse direction of ``im2col``: (N*out_h*out_w, C*filter_h*filter_w) -> ``input_shape``.

    Each value goes back to the pixel it came from; pixels covered by several
    filter regions receive the sum (so col2im is the transpose of im2col, not
    its inverse). Padding is cut off at the end.
    """
    col = np.asarray(col)
    N, C, H, W, out_h, out_w = _output_shape(input_shape, filter_h, filter_w, stride, pad, "col2im")
    expected = (N * out_h * out_w, C * filter_h * filter_w)
    if col.shape != expected:
        raise ValueError(f"col2im: col of shape {col.shape} does not match input shape {(N, C, H, W)} "
                         f"with a {filter_h}x{filter_w} filter, stride {stride}, pad {pad}: "
                         f"expected {expected}")
    cols = col.reshape(N, out_h, out_w, C, filter_h, filter_w).transpose(0, 3, 4, 5, 1, 2)
    return _fold(cols, (N, C, H, W), filter_h, filter_w, stride, pad)


def _unfold(x, filter_h, filter_w, stride, pad, out=None):
    """The transpose of im2col, as (C, filter_h, filter_w, N, out_h, out_w).

    col[c, fy, fx, n, y, x] = padded_input[n, c, y*stride + fy, x*stride + fx]:
    reshaped to (C*filter_h*filter_w, N*out_h*out_w) it is ``im2col(x).T``,
    one row per (c, fy, fx) and one column per filter region (figure 7-18).
    The padded input is built channel-major, (C, N, H + 2*pad, W + 2*pad), so
    that each filter offset is one strided slice copied into its rows. ``out``,
    an array of the right shape and dtype (say, the col of the previous step),
    is filled instead of allocating a new one.
    """
    N, C, H, W, out_h, out_w = _output_shape(x.shape, filter_h, filter_w, stride, pad, "im2col")
    padded = np.zeros((C, N, H + 2 * pad, W + 2 * pad), dtype=x.dtype)
    padded[:, :, pad:pad + H, pad:pad + W] = x.transpose(1, 0, 2, 3)
    shape = (C, filter_h, filter_w, N, out_h, out_w)
    col = out if out is not None and out.shape == shape and out.dtype == x.dtype else np.empty(shape, x.dtype)
    for fy in range(filter_h):
        y_max = fy + stride * (out_h - 1) + 1
        for fx in range(filter_w):
            x_max = fx + stride * (out_w - 1) + 1
            col[:, fy, fx] = padded[:, :, fy:y_max:stride, fx:x_max:stride]
    return col


def _fold_unfolded(cols, input_shape, filter_h, filter_w, stride, pad):
    """col2im for ``_unfold``'s layout: (C, filter_h, filter_w, N, out_h, out_w) -> ``input_shape``.

    The sums are formed in a channel-major (C, N, H + 2*pad, W + 2*pad) image,
    where each filter offset adds one block of rows of ``cols`` with one
    strided addition; the result is a (N, C, H, W) view of it.
    """
    N, C, H, W, out_h, out_w = _output_shape(input_shape, filter_h, filter_w, stride, pad, "col2im")
    img = np.zeros((C, N, H + 2 * pad, W + 2 * pad), dtype=cols.dtype)
    for fy in range(filter_h):
        y_max = fy + stride * (out_h - 1) + 1
        for fx in range(filter_w):
            x_max = fx + stride * (out_w - 1) + 1
            img[:, :, fy:y_max:stride, fx:x_max:stride] += cols[:, fy, fx]
    return img[:, :, pad:H + pad, pad:W + pad].transpose(1, 0, 2, 3)
