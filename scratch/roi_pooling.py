"""RoI pooling (8.4): Fast R-CNN's fixed-size features of any rectangle of a feature map.

Fast R-CNN (Girshick 2015) runs the convolutional layers once per picture
and cuts each region proposal (RoI, region of interest) out of the shared
feature map; RoI pooling turns each cut, whatever its size, into a fixed
oh x ow grid by max pooling over an oh x ow grid of bins laid over it, so
that the same fully connected heads can classify every region.

The conventions are those of ``torchvision.ops.roi_pool`` (its CPU kernel,
``roi_pool_kernel.cpp``), so that torchvision is an exact third opinion.
For a roi (n, x1, y1, x2, y2) in picture coordinates, on an (H, W) map:

* the corners are scaled by ``spatial_scale`` (the map's size over the
  picture's, 1/16 for VGG16's conv5) and rounded to the nearest integer,
  halves away from zero (C's ``round``, not NumPy's half-to-even):
  x1' = round(x1 * spatial_scale), likewise y1', x2', y2';
* both corners are inside the roi: width w = max(x2' - x1' + 1, 1),
  height h = max(y2' - y1' + 1, 1);
* bin i of oh spans rows [y1' + floor(i * h / oh), y1' + ceil((i + 1) * h / oh)),
  bin j likewise columns, so bins overlap by a row when oh does not divide h
  and a small roi repeats rows over several bins; h / oh is computed in the
  input's dtype, as the kernel does;
* the bins are clipped to the map, [0, H) and [0, W); a bin with nothing
  left (a roi partly outside the map) outputs 0 and passes no gradient;
* the maximum among equal values is the first in row-major order of the bin
  (its index is kept for backward).

The arithmetic (scaling, rounding, bins) happens in the input's dtype: rois
are converted to it. Inputs are assumed finite (after a ReLU, as in Fast
R-CNN): torchvision's kernel skips NaN and starts its maximum at -FLT_MAX,
which neither backend copies. Bad rois (not (R, 5), non-finite, a batch
index that is no image of the batch, x2 < x1 or y2 < y1) are errors here,
where torchvision reads out of bounds or forces a malformed roi to 1x1.
"""
import math
import numbers
import operator

import numpy as np

from .checks import check_backward, check_batch, check_floating, dtype_name

__all__ = ["RoIPooling"]


# --- checks, shared with reference.roi_pooling

def check_roi_pooling_args(output_size, spatial_scale, who="RoIPooling"):
    """output_size an int or a pair (oh, ow) of ints >= 1, spatial_scale a finite real > 0;
    returns ((oh, ow), spatial_scale as a float)."""
    pair = output_size if isinstance(output_size, (tuple, list)) else (output_size, output_size)
    try:
        if len(pair) != 2:
            raise TypeError
        oh, ow = (operator.index(v) for v in pair)
    except TypeError:
        raise TypeError(f"{who}: output_size must be an integer or a pair (oh, ow) of integers, "
                        f"got {output_size!r}") from None
    if oh < 1 or ow < 1:
        raise ValueError(f"{who}: output_size must be >= 1, got {(oh, ow)}")
    if isinstance(spatial_scale, bool) or not isinstance(spatial_scale, numbers.Real):
        raise TypeError(f"{who}: spatial_scale must be a real number, got {spatial_scale!r}")
    if not (math.isfinite(spatial_scale) and spatial_scale > 0):
        raise ValueError(f"{who}: spatial_scale must be finite and > 0, got {spatial_scale}")
    return (oh, ow), float(spatial_scale)


def check_roi_input(x, rois, who="RoIPooling"):
    """A batch of floating (N, C, H, W) feature maps (x: an array or a tensor) and rois, a NumPy
    array (R, 5) of rows (batch index, x1, y1, x2, y2): finite, the batch index an integer in
    [0, N), x1 <= x2 and y1 <= y2. Returns the rois as a NumPy array in x's dtype."""
    check_floating(x, who)
    shape = tuple(x.shape)
    if len(shape) != 4:
        raise ValueError(f"{who} expects feature maps of shape (N, C, H, W), got {shape}")
    check_batch(shape, who)
    if min(shape[1:]) < 1:
        raise ValueError(f"{who}: feature maps of shape {shape} have no channels or no pixels")
    rois = np.asarray(rois)
    if rois.ndim != 2 or rois.shape[1] != 5:
        raise ValueError(f"{who} expects rois of shape (R, 5), rows (batch index, x1, y1, x2, y2), "
                         f"got {rois.shape}")
    if rois.dtype.kind not in "iuf":
        raise TypeError(f"{who}: rois must be numbers, got dtype {rois.dtype}")
    rois = rois.astype(dtype_name(x.dtype))
    if not np.all(np.isfinite(rois)):
        r = int(np.argmin(np.isfinite(rois).all(axis=1)))
        raise ValueError(f"{who}: roi {r} {rois[r].tolist()} is not finite")
    n = rois[:, 0]
    bad = (n != np.floor(n)) | (n < 0) | (n >= shape[0])
    if np.any(bad):
        r = int(np.argmax(bad))
        raise ValueError(f"{who}: roi {r} has batch index {n[r]:g}, not an image index in [0, {shape[0]})")
    for lo, hi, name in ((1, 3, "x"), (2, 4, "y")):
        bad = rois[:, hi] < rois[:, lo]
        if np.any(bad):
            r = int(np.argmax(bad))
            raise ValueError(f"{who}: roi {r} has {name}2 < {name}1 ({rois[r, hi]:g} < {rois[r, lo]:g}); "
                             f"rows are (batch index, x1, y1, x2, y2)")
    return rois


def check_roi_dout(dout, out, who="RoIPooling"):
    """``check_backward`` (forward done, dout of the output's shape), plus dout in the output's dtype."""
    check_backward(dout, out, who)
    if dtype_name(dout.dtype) != dtype_name(out.dtype):
        raise TypeError(f"{who}.backward: dout dtype {dtype_name(dout.dtype)} does not match "
                        f"the output dtype {dtype_name(out.dtype)}")
    return dout


def round_half_away(v):
    """Round to the nearest integer, halves away from zero (C's ``round``; NumPy's rounds them to even)."""
    a = np.abs(v)
    whole = np.floor(a)
    return np.sign(v) * (whole + (a - whole >= 0.5))  # a - floor(a) is exact: no 0.49999999999999994 trap


def _bins(start, end, pooled, size, scale):
    """Bin boundaries along one axis: lo, hi (R, pooled) integer arrays, bin k = [lo[:, k], hi[:, k]),
    clipped to [0, size]. ``start``, ``end`` (R,) are the roi's first and last coordinate, in the
    input's dtype, in which all the arithmetic happens (as in torchvision's kernel)."""
    dtype = start.dtype
    start = round_half_away(start * dtype.type(scale))
    end = round_half_away(end * dtype.type(scale))
    length = np.maximum(end - start + 1, 1)  # both corners inside the roi
    bin_size = length / dtype.type(pooled)  # (R,)
    k = np.arange(pooled, dtype=dtype)
    lo = np.floor(k * bin_size[:, None]) + start[:, None]
    hi = np.ceil((k + 1) * bin_size[:, None]) + start[:, None]
    return np.clip(lo, 0, size).astype(np.int64), np.clip(hi, 0, size).astype(np.int64)


# --- the layer

class RoIPooling:
    """RoI max pooling (Fast R-CNN), like ``torchvision.ops.roi_pool(x, rois, output_size, spatial_scale)``:
    out[r, c, i, j] = max of x[n_r, c] over bin (i, j) of roi r (the bins: the module's docstring),
    0 for an empty bin.

        forward:   for each roi and bin, the maximum of each channel over the bin's rows and columns,
                   and where it is (the first maximum in row-major order): arg_max, a flat index
                   into x[n_r, c] (H*W), -1 for an empty bin
        backward:  dx = zeros; dx[n_r, c].flat[arg_max[r, c, i, j]] += dout[r, c, i, j] for every
                   roi, channel and bin that is not empty: each output's gradient goes to the one
                   element it copied, and an element chosen by several bins or rois (overlapping
                   rois, repeated rows of a small roi) adds up their gradients

    rois: (R, 5) rows (batch index, x1, y1, x2, y2) in picture coordinates (``spatial_scale``
    maps them onto x); output (R, C, oh, ow). ``output_size``: oh = ow or a pair (oh, ow).
    """

    def __init__(self, output_size, spatial_scale=1.0):
        self.output_size, self.spatial_scale = check_roi_pooling_args(output_size, spatial_scale)
        self.x_shape = None
        self.batch_index = None
        self.arg_max = None
        self.out = None

    def forward(self, x, rois):
        rois = check_roi_input(x, rois)
        x = np.asarray(x)
        N, C, H, W = x.shape
        oh, ow = self.output_size
        self.batch_index = rois[:, 0].astype(np.int64)
        h_lo, h_hi = _bins(rois[:, 2], rois[:, 4], oh, H, self.spatial_scale)  # (R, oh)
        w_lo, w_hi = _bins(rois[:, 1], rois[:, 3], ow, W, self.spatial_scale)  # (R, ow)
        out = np.zeros((len(rois), C, oh, ow), dtype=x.dtype)
        self.arg_max = np.full(out.shape, -1, dtype=np.int64)
        for r, n in enumerate(self.batch_index):
            for i in range(oh):
                for j in range(ow):
                    top, bottom, left, right = h_lo[r, i], h_hi[r, i], w_lo[r, j], w_hi[r, j]
                    if bottom <= top or right <= left:
                        continue  # empty bin: 0, no gradient
                    window = x[n, :, top:bottom, left:right].reshape(C, -1)  # (C, bin pixels), row-major
                    k = np.argmax(window, axis=1)  # the first maximum of each channel
                    out[r, :, i, j] = window[np.arange(C), k]
                    self.arg_max[r, :, i, j] = (top + k // (right - left)) * W + left + k % (right - left)
        self.x_shape, self.out = x.shape, out
        return out

    def backward(self, dout):
        dout = check_roi_dout(np.asarray(dout), self.out)
        N, C, H, W = self.x_shape
        dx = np.zeros((N, C, H * W), dtype=dout.dtype)
        r, c, i, j = np.nonzero(self.arg_max >= 0)  # in order (roi, channel, bin), as torchvision adds
        np.add.at(dx, (self.batch_index[r], c, self.arg_max[r, c, i, j]), dout[r, c, i, j])  # += with repeats
        return dx.reshape(N, C, H, W)
