"""im2col and col2im (7.4.3) with PyTorch's ``F.unfold`` and ``F.fold``.

``F.unfold`` expands each filter region into a column of a
(N, C*filter_h*filter_w, out_h*out_w) tensor; the book's im2col puts each
region into a row of one (N*out_h*out_w, C*filter_h*filter_w) matrix
(figure 7-18). So im2col here is unfold, then swap the last two axes and
stack the images; col2im undoes that rearrangement and calls ``F.fold``,
which sums overlapping regions and drops the padding, like the book's col2im.
Rows are ordered (n, y, x) and columns (c, fy, fx) in both backends.
"""
import torch.nn.functional as F

from scratch.checks import output_shape

from ._tensor import as_float_tensor

__all__ = ["im2col", "col2im"]


def im2col(input_data, filter_h, filter_w, stride=1, pad=0, fill=0):
    """(N, C, H, W) -> (N*out_h*out_w, C*filter_h*filter_w), one row per filter region, padded with ``fill``."""
    x = as_float_tensor(input_data, "input_data")
    N, C, _, _, out_h, out_w = output_shape(x.shape, filter_h, filter_w, stride, pad, "im2col")
    if fill:  # F.unfold pads with zeros only
        x, pad = F.pad(x, (pad, pad, pad, pad), value=fill), 0
    cols = F.unfold(x, (filter_h, filter_w), stride=stride, padding=pad)  # (N, C*FH*FW, out_h*out_w)
    return cols.transpose(1, 2).reshape(N * out_h * out_w, C * filter_h * filter_w)


def col2im(col, input_shape, filter_h, filter_w, stride=1, pad=0):
    """(N*out_h*out_w, C*filter_h*filter_w) -> ``input_shape``, summing where regions overlap."""
    col = as_float_tensor(col, "col")
    N, C, H, W, out_h, out_w = output_shape(input_shape, filter_h, filter_w, stride, pad, "col2im")
    expected = (N * out_h * out_w, C * filter_h * filter_w)
    if tuple(col.shape) != expected:
        raise ValueError(f"col2im: col of shape {tuple(col.shape)} does not match input shape "
                         f"{(N, C, H, W)} with a {filter_h}x{filter_w} filter, stride {stride}, "
                         f"pad {pad}: expected {expected}")
    cols = col.reshape(N, out_h * out_w, C * filter_h * filter_w).transpose(1, 2)
    return F.fold(cols, (H, W), (filter_h, filter_w), stride=stride, padding=pad)
