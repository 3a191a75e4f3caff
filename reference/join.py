"""Layers that join branches (chapter 8) with PyTorch's operators: ``torch.cat`` and ``+``.

Backward asks autograd for the gradient of each input; the checks are those
of ``scratch.join``. An input passed twice is treated as two inputs, each
with its own gradient, as the NumPy backend does (autograd would add them).
"""
import torch

from scratch.checks import check_concat, check_concat_axis, check_dout, check_forward_done, check_residual

from ._tensor import as_tensor, backprop, track

__all__ = ["Concat", "Residual"]


def _distinct(tensors):
    """Tracked tensors; a repeated one becomes a fresh leaf so that each input gets its own gradient."""
    seen, result = set(), []
    for t in tensors:
        t = track(t)
        if id(t) in seen:
            t = t.detach().requires_grad_(True)
        seen.add(id(t))
        result.append(t)
    return result


class Concat:
    """Concatenation along ``axis`` (1, the channels, by default), as ``torch.cat(xs, dim=axis)``.

    ``backward`` returns the tuple of the inputs' gradients (dout split along ``axis``).
    """

    def __init__(self, axis=1):
        self.axis = check_concat_axis(axis)
        self.xs = None
        self.out = None

    def forward(self, *xs):
        xs = [as_tensor(x) for x in xs]
        axis = check_concat(xs, self.axis)
        self.xs = _distinct(xs)
        self.out = torch.cat(self.xs, dim=axis)
        return self.out

    def backward(self, dout):
        check_forward_done(self.out, "Concat")
        dout = check_dout(as_tensor(dout), self.out.shape, "Concat")
        return backprop(self.out, tuple(self.xs), dout)


class Residual:
    """The join of a residual block, out = x + shortcut (``torch.add``); backward returns (dx, dshortcut)."""

    def __init__(self):
        self.x = None
        self.shortcut = None
        self.out = None

    def forward(self, x, shortcut):
        x, shortcut = as_tensor(x), as_tensor(shortcut)
        check_residual(x, shortcut)
        self.x, self.shortcut = _distinct([x, shortcut])
        self.out = torch.add(self.x, self.shortcut)
        return self.out

    def backward(self, dout):
        check_forward_done(self.out, "Residual")
        dout = check_dout(as_tensor(dout), self.out.shape, "Residual")
        return backprop(self.out, (self.x, self.shortcut), dout)
