"""Smooth L1 loss (8.4: Fast R-CNN's box-regression loss), exactly ``F.smooth_l1_loss(x, t, reduction, beta)``.

Fast R-CNN (Girshick 2015, eq. 3) regresses the box deltas with a loss that
is quadratic near 0, like L2, and linear far away, like L1, so that a badly
placed proposal's large error does not blow up the gradient:

    l(d) = 0.5 d^2 / beta      if |d| < beta            d = x - t, elementwise
         = |d| - 0.5 beta      otherwise

    dl/dd = d / beta for |d| <= beta, sign(d) beyond (continuous at |d| = beta)

Fast R-CNN's beta is 1 (the Huber loss with delta 1). beta = 0 is plain L1
(PyTorch's rule; the gradient at d = 0 is then sign(0) = 0). The loss is the
sum (``reduction="sum"``) or the mean (``"mean"``, the default, PyTorch's)
over every element; the mean of no elements is NaN, as PyTorch gives.
"""
import math
import numbers

import numpy as np

from .checks import check_dout, check_floating, check_forward_done, dtype_name

__all__ = ["SmoothL1Loss"]

REDUCTIONS = ("mean", "sum")


# --- checks, shared with reference.smooth_l1 (they read only .shape and .dtype)

def check_smooth_l1_args(beta, reduction, who="SmoothL1Loss"):
    """beta a finite real >= 0, reduction 'mean' or 'sum'; returns (beta as a float, reduction)."""
    if isinstance(beta, bool) or not isinstance(beta, numbers.Real) or not (math.isfinite(beta) and beta >= 0):
        raise ValueError(f"{who}: beta must be a finite number >= 0, got {beta!r}")
    if reduction not in REDUCTIONS:
        raise ValueError(f"{who}: reduction must be 'mean' or 'sum', got {reduction!r}")
    return float(beta), reduction


def check_smooth_l1_input(x, t, who="SmoothL1Loss"):
    """Floating predictions x and targets t of one shape (never broadcast) and one dtype."""
    check_floating(x, who)
    if tuple(x.shape) != tuple(t.shape):
        raise ValueError(f"{who}: predictions of shape {tuple(x.shape)} and targets of shape {tuple(t.shape)} "
                         f"differ; give one target per prediction")
    if dtype_name(x.dtype) != dtype_name(t.dtype):
        raise TypeError(f"{who}: predictions are {dtype_name(x.dtype)} but targets are {dtype_name(t.dtype)}")


class SmoothL1Loss:
    """Smooth L1 (Huber) loss between predictions x and targets t, as ``F.smooth_l1_loss``.

        forward:   d = x - t;  l = 0.5 d^2 / beta where |d| < beta, |d| - 0.5 beta elsewhere;
                   L = sum(l), or sum(l) / d.size for the mean
        backward:  dx = clip(d / beta, -1, 1) * dout   (sign(d) * dout when beta = 0),
                   divided by d.size for the mean; the targets get no gradient
    """

    def __init__(self, beta=1.0, reduction="mean"):
        self.beta, self.reduction = check_smooth_l1_args(beta, reduction)
        self.diff = None
        self.loss = None

    def forward(self, x, t):
        check_smooth_l1_input(x, t)
        d = self.diff = x - t
        a, beta = np.abs(d), d.dtype.type(self.beta)
        l = np.where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta) if self.beta > 0 else a
        total = np.sum(l, dtype=d.dtype)
        if self.reduction == "sum":
            self.loss = total
        else:
            self.loss = total / d.dtype.type(d.size) if d.size else d.dtype.type(np.nan)
        return self.loss

    def backward(self, dout=1):
        check_forward_done(self.diff, "SmoothL1Loss")
        check_dout(dout, (), "SmoothL1Loss")
        d, dtype = self.diff, self.diff.dtype.type
        if self.beta > 0:
            beta = dtype(self.beta)
            dx = np.where(d < -beta, dtype(-1), np.where(d > beta, dtype(1), d / beta))
        else:
            dx = np.sign(d)
        scale = dtype(dout) / dtype(d.size) if self.reduction == "mean" else dtype(dout)
        return (dx * scale).astype(d.dtype, copy=False)
