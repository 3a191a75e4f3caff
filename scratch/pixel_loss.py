"""Per-pixel softmax cross-entropy (8.4): FCN's loss, the book's SoftmaxWithLoss at every pixel.

A segmentation network scores every class at every pixel, (N, C, H, W); the
truth is one class per pixel, (N, H, W). The loss is the mean, over the
pixels that count, of each pixel's softmax cross-entropy: exactly
``F.cross_entropy`` on 4-D input, with its ``ignore_index`` (-100 by
default, PyTorch's) for pixels that carry no label (a "don't care" border
in the masks, say).
"""
import numpy as np

from .checks import check_batch, check_dout, check_floating, check_forward_done
from .time_layers import check_ignore_index

__all__ = ["PixelSoftmaxWithLoss"]


def check_pixel_scores(x, t, ignore_index, who="PixelSoftmaxWithLoss"):
    """Floating scores (N, C, H, W), N, C, H, W >= 1, and integer labels (N, H, W), each in [0, C)
    or equal to ``ignore_index``; returns the labels as an int64 NumPy array (x may be a tensor)."""
    check_floating(x, who)
    shape = tuple(x.shape)
    if len(shape) != 4:
        raise ValueError(f"{who} expects scores of shape (N, classes, H, W), got {shape}")
    check_batch(shape, who)
    if min(shape[1:]) < 1:
        raise ValueError(f"{who}: scores of shape {shape} have no classes or no pixels")
    N, C, H, W = shape
    t = np.asarray(t)
    if t.shape != (N, H, W):
        raise ValueError(f"{who}: labels of shape {t.shape} do not match scores of shape {shape}; "
                         f"labels (N, H, W) = {(N, H, W)} expected")
    if t.dtype.kind not in "iu":
        raise TypeError(f"{who} expects integer labels, got dtype {t.dtype}")
    bad = (t != ignore_index) & ((t < 0) | (t >= C))
    if np.any(bad):
        raise ValueError(f"{who}: labels must lie in [0, {C}) or equal ignore_index={ignore_index}, "
                         f"got {t[bad][0]} ({int(np.count_nonzero(bad))} of {t.size} outside)")
    return t.astype(np.int64, copy=False)


class PixelSoftmaxWithLoss:
    """Softmax cross-entropy at every pixel, exactly ``F.cross_entropy(x, t, ignore_index=ignore_index)``
    on scores x (N, C, H, W) and labels t (N, H, W).

    Forward: L = -1/M sum over the M pixels (n, i, j) with t[n, i, j] != ignore_index of
    log softmax(x[n, :, i, j])[t[n, i, j]], the softmax over the class axis 1, shifted by the
    maximum as in ``SoftmaxWithLoss``. Ignored pixels count neither in the sum nor in M.
    Backward: dx[n, :, i, j] = (y[n, :, i, j] - onehot(t[n, i, j])) / M * dout, and 0 at
    ignored pixels (the book's (y - t) / batch_size, with M pixels in place of the batch).
    When every pixel is ignored, M = 0: the loss is NaN (0/0), as PyTorch's mean reduction
    gives, and dx is all zeros, as PyTorch's gradient is.
    """

    def __init__(self, ignore_index=-100):
        self.ignore_index = check_ignore_index(ignore_index, "PixelSoftmaxWithLoss")
        self.loss = None
        self.y = None
        self.t = None
        self.mask = None

    def forward(self, x, t):
        self.t = check_pixel_scores(x, t, self.ignore_index)
        self.mask = self.t != self.ignore_index  # (N, H, W): the pixels that count
        shifted = x - x.max(axis=1, keepdims=True)
        log_y = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        self.y = np.exp(log_y)
        picked = np.take_along_axis(log_y, np.where(self.mask, self.t, 0)[:, None], axis=1)[:, 0]  # (N, H, W)
        count = int(np.count_nonzero(self.mask))
        total = -np.sum(picked, where=self.mask)
        self.loss = total / count if count else np.full((), np.nan, dtype=x.dtype)[()]
        return self.loss

    def backward(self, dout=1):
        check_forward_done(self.y, "PixelSoftmaxWithLoss")
        check_dout(dout, (), "PixelSoftmaxWithLoss")
        dx = self.y.copy()
        n, i, j = np.nonzero(self.mask)
        dx[n, self.t[n, i, j], i, j] -= 1
        dx *= self.mask[:, None]
        dx *= dout / max(int(np.count_nonzero(self.mask)), 1)  # in place: keeps float32 float32
        return dx
