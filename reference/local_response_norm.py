"""Local response normalization (AlexNet, chapter 8), as ``F.local_response_norm``; autograd backward."""
import torch.nn.functional as F

from scratch.checks import check_dout, check_forward_done, check_lrn_args, check_lrn_input

from ._tensor import as_tensor, backprop, track

__all__ = ["LocalResponseNorm"]


class LocalResponseNorm:
    """Local response normalization across channels, ``F.local_response_norm(x, size, alpha, beta, k)``:
    y = x / (k + alpha/size * sum of x^2 over a window of ``size`` channels)^beta, the window
    zero-padded by size//2 channels before and (size-1)//2 after."""

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        self.size, self.alpha, self.beta, self.k = check_lrn_args(size, alpha, beta, k)
        self.x = None
        self.out = None

    def forward(self, x):
        x = as_tensor(x)
        check_lrn_input(x)
        self.x = track(x)
        self.out = F.local_response_norm(self.x, self.size, self.alpha, self.beta, self.k)
        return self.out

    def backward(self, dout):
        check_forward_done(self.out, "LocalResponseNorm")
        dout = check_dout(as_tensor(dout), self.out.shape, "LocalResponseNorm")
        (dx,) = backprop(self.out, (self.x,), dout)
        return dx
