"""RoI pooling (8.4, Fast R-CNN) from PyTorch's operators, with autograd for backward.

PyTorch itself has no RoI pooling (torchvision's ``roi_pool`` is the third
opinion in the tests, never called here). The layer is built from tensor
operators: each roi's bins (torchvision's conventions, written out in
``scratch.roi_pooling``) become masks over the rows and columns of the
map, and a bin's maximum is a maximum over its columns (``max(dim)``) and
then over its rows. ``max(dim)`` returns the first maximum among equal
values, so the chosen element is the first in row-major order of the bin,
and autograd sends each output's gradient to it alone (``amax`` would share
it among ties); ``x[batch index]`` adds the gradients of rois on one image.
"""
import torch

from scratch.roi_pooling import check_roi_dout, check_roi_input, check_roi_pooling_args

from ._tensor import as_tensor, backprop, to_numpy, track

__all__ = ["RoIPooling"]


def _round_half_away(v):
    """Halves away from zero, as C's ``round`` (``torch.round`` rounds them to even)."""
    a = v.abs()
    whole = a.floor()
    return v.sign() * (whole + (a - whole >= 0.5).to(v.dtype))


def _bins(start, end, pooled, size, scale):
    """(R,) first and last roi coordinates -> bin boundaries lo, hi (R, pooled), clipped to [0, size],
    computed in the rois' dtype like torchvision's kernel."""
    dtype = start.dtype
    start = _round_half_away(start * torch.tensor(scale, dtype=dtype))
    end = _round_half_away(end * torch.tensor(scale, dtype=dtype))
    bin_size = torch.clamp(end - start + 1, min=1) / torch.tensor(pooled, dtype=dtype)
    k = torch.arange(pooled, dtype=dtype)
    lo = torch.floor(k * bin_size[:, None]) + start[:, None]
    hi = torch.ceil((k + 1) * bin_size[:, None]) + start[:, None]
    return lo.clamp(0, size).long(), hi.clamp(0, size).long()


class RoIPooling:
    """RoI max pooling, the values of ``torchvision.ops.roi_pool(x, rois, output_size, spatial_scale)``:
    (N, C, H, W) maps and (R, 5) rois (batch index, x1, y1, x2, y2) -> (R, C, oh, ow)."""

    def __init__(self, output_size, spatial_scale=1.0):
        self.output_size, self.spatial_scale = check_roi_pooling_args(output_size, spatial_scale)
        self.x = None
        self.out = None

    def forward(self, x, rois):
        x = as_tensor(x)
        rois = torch.from_numpy(check_roi_input(x, to_numpy(rois)))
        self.x = track(x)
        H, W = x.shape[2:]
        oh, ow = self.output_size
        rows_lo, rows_hi = _bins(rois[:, 2], rois[:, 4], oh, H, self.spatial_scale)  # (R, oh)
        cols_lo, cols_hi = _bins(rois[:, 1], rois[:, 3], ow, W, self.spatial_scale)  # (R, ow)
        rows, cols = torch.arange(H), torch.arange(W)
        in_row = (rows >= rows_lo[..., None]) & (rows < rows_hi[..., None])  # (R, oh, H)
        in_col = (cols >= cols_lo[..., None]) & (cols < cols_hi[..., None])  # (R, ow, W)
        maps = self.x[rois[:, 0].long()]  # (R, C, H, W)
        # every row's maximum over each column bin: (R, C, H, ow, W) -> (R, C, H, ow)
        by_row = maps[:, :, :, None, :].masked_fill(~in_col[:, None, None], -torch.inf).max(dim=4).values
        # then the maximum of those over each row bin: (R, C, oh, H, ow) -> (R, C, oh, ow)
        pooled = by_row[:, :, None].masked_fill(~in_row[:, None, :, :, None], -torch.inf).max(dim=3).values
        empty = (rows_hi <= rows_lo)[:, :, None] | (cols_hi <= cols_lo)[:, None, :]  # (R, oh, ow)
        self.out = pooled.masked_fill(empty[:, None], 0)
        return self.out

    def backward(self, dout):
        dout = check_roi_dout(as_tensor(dout), self.out)
        (dx,) = backprop(self.out, (self.x,), dout)
        return dx
