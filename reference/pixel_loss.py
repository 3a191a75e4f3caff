"""Per-pixel softmax cross-entropy (8.4) with PyTorch's operator: ``F.cross_entropy`` on 4-D scores.

The check is ``scratch.pixel_loss``'s (the same errors in both backends);
the gradient comes from autograd.
"""
import torch
import torch.nn.functional as F

from scratch.checks import check_dout, check_forward_done
from scratch.pixel_loss import check_pixel_scores
from scratch.time_layers import check_ignore_index

from ._tensor import as_tensor, backprop, to_numpy, track

__all__ = ["PixelSoftmaxWithLoss"]


class PixelSoftmaxWithLoss:
    """Softmax cross-entropy at every pixel, as ``F.cross_entropy(x, t, ignore_index=ignore_index)`` on
    scores (N, C, H, W) and labels (N, H, W): the mean over the pixels whose label is not
    ``ignore_index`` (-100 by default); NaN, with a zero gradient, if every one is."""

    def __init__(self, ignore_index=-100):
        self.ignore_index = check_ignore_index(ignore_index, "PixelSoftmaxWithLoss")
        self.x = None
        self.loss = None
        self.y = None
        self.t = None

    def forward(self, x, t):
        x = as_tensor(x)
        self.t = torch.from_numpy(check_pixel_scores(x, to_numpy(t), self.ignore_index))
        self.x = track(x)
        self.loss = F.cross_entropy(self.x, self.t, ignore_index=self.ignore_index)
        self.y = F.softmax(self.x.detach(), dim=1)
        return self.loss

    def backward(self, dout=1):
        check_forward_done(self.loss, "PixelSoftmaxWithLoss")
        check_dout(dout, (), "PixelSoftmaxWithLoss")
        (dx,) = backprop(self.loss, (self.x,), dout)
        return dx
