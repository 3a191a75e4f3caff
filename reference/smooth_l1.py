"""Smooth L1 loss (8.4: Fast R-CNN's box-regression loss) with PyTorch's operator ``F.smooth_l1_loss``.

The formula and its conventions (beta = 0 is L1, the mean of nothing is
NaN): ``scratch.smooth_l1``. The checks are scratch's (the same errors in
both backends); the gradient comes from autograd.
"""
import torch.nn.functional as F

from scratch.checks import check_dout, check_forward_done
from scratch.smooth_l1 import check_smooth_l1_args, check_smooth_l1_input

from ._tensor import as_tensor, backprop, track

__all__ = ["SmoothL1Loss"]


class SmoothL1Loss:
    """Smooth L1 (Huber) loss, ``F.smooth_l1_loss(x, t, reduction=reduction, beta=beta)``; backward: autograd."""

    def __init__(self, beta=1.0, reduction="mean"):
        self.beta, self.reduction = check_smooth_l1_args(beta, reduction)
        self.x = None
        self.loss = None

    def forward(self, x, t):
        x, t = as_tensor(x), as_tensor(t)
        check_smooth_l1_input(x, t)
        self.x = track(x)
        self.loss = F.smooth_l1_loss(self.x, t.detach(), reduction=self.reduction, beta=self.beta)
        return self.loss

    def backward(self, dout=1):
        check_forward_done(self.loss, "SmoothL1Loss")
        check_dout(dout, (), "SmoothL1Loss")
        (dx,) = backprop(self.loss, (self.x,), dout)
        return dx
