"""Batch Normalization (6.3), as PyTorch's ``F.batch_norm``.

Training: out = gamma * (x - mu) / sqrt(var + eps) + beta with the batch's
mean and biased variance per channel; ``F.batch_norm`` itself updates the
running statistics in place (momentum_torch = 1 - momentum):

    running_mean = (1 - m) * running_mean + m * mu
    running_var  = (1 - m) * running_var  + m * var * n / (n - 1)

Gradients come from autograd, not from the book's hand-derived graph.
"""
import torch
import torch.nn.functional as F

from scratch.checks import check_batch, check_dout, check_forward_done

from ._tensor import as_float_tensor, as_param, backprop, track

__all__ = ["BatchNormalization"]


class BatchNormalization:
    """Batch Normalization layer (6.3) over (N, C) or (N, C, H, W) input, per channel.

    ``gamma`` and ``beta`` (shape (C,)) become parameters shared with the
    network (``as_param``). ``momentum`` has the book's meaning (weight of the
    old value) and is passed to ``F.batch_norm`` as 1 - momentum.
    ``running_mean``/``running_var`` default to zeros/ones (PyTorch; the
    book starts both at zeros), given values are copied. ``book_running_var``
    moves the running variance towards the biased batch variance like the
    book; ``F.batch_norm`` cannot, so that option updates both statistics with
    ``torch.var_mean`` outside it. See scratch.batch_normalization for how the
    book differs (eps 1e-6, per-element statistics on 4-D input).
    """

    def __init__(self, gamma, beta, momentum=0.9, running_mean=None, running_var=None,
                 eps=1e-5, book_running_var=False):
        self.gamma, self.beta = as_param(gamma), as_param(beta)
        if self.gamma.ndim != 1 or self.beta.shape != self.gamma.shape:
            raise ValueError(f"BatchNormalization needs gamma and beta of shape (C,), "
                             f"got gamma {tuple(self.gamma.shape)} and beta {tuple(self.beta.shape)}")
        if self.beta.dtype != self.gamma.dtype:
            raise TypeError(f"BatchNormalization needs gamma and beta of one dtype, "
                            f"got gamma {self.gamma.dtype} and beta {self.beta.dtype}")
        if not 0 <= momentum <= 1:
            raise ValueError(f"momentum must lie in [0, 1], got {momentum}")
        if not eps >= 0:
            raise ValueError(f"eps must be >= 0, got {eps}")
        self.momentum, self.eps = float(momentum), float(eps)
        self.book_running_var = book_running_var
        channels = self.gamma.shape[0]
        self.running_mean = self._statistic(running_mean, torch.zeros, channels, "running_mean")
        self.running_var = self._statistic(running_var, torch.ones, channels, "running_var")
        self.x = None
        self.out = None
        self.dgamma = None
        self.dbeta = None

    def _statistic(self, value, default, channels, name):
        if value is None:
            return default(channels, dtype=self.gamma.dtype)
        value = as_float_tensor(value, name)
        if tuple(value.shape) != (channels,):
            raise ValueError(f"BatchNormalization: {name} must have shape ({channels},), got {tuple(value.shape)}")
        if value.dtype != self.gamma.dtype:
            raise TypeError(f"BatchNormalization: {name} dtype {value.dtype} does not match "
                            f"parameter dtype {self.gamma.dtype}")
        return value.detach().clone()

    def forward(self, x, train_flg=True):
        self.x = track(x)
        check_batch(self.x.shape, "BatchNormalization")
        channels = self.gamma.shape[0]
        if self.x.ndim < 2 or self.x.shape[1] != channels:
            raise ValueError(f"BatchNormalization expects input of shape (N, {channels}) or "
                             f"(N, {channels}, H, W), got {tuple(self.x.shape)}")
        if self.x.dtype != self.gamma.dtype:
            raise TypeError(f"BatchNormalization: input dtype {self.x.dtype} does not match "
                            f"parameter dtype {self.gamma.dtype}")
        if train_flg and self.book_running_var:
            self.out = F.batch_norm(self.x, None, None, self.gamma, self.beta, training=True, eps=self.eps)
            with torch.no_grad():
                axes = (0,) + tuple(range(2, self.x.ndim))
                var, mu = torch.var_mean(self.x, dim=axes, correction=0)
                self.running_mean.mul_(self.momentum).add_(mu, alpha=1 - self.momentum)
                self.running_var.mul_(self.momentum).add_(var, alpha=1 - self.momentum)
        else:
            self.out = F.batch_norm(self.x, self.running_mean, self.running_var, self.gamma, self.beta,
                                    training=train_flg, momentum=1 - self.momentum, eps=self.eps)
        return self.out

    def backward(self, dout):
        check_forward_done(self.out, "BatchNormalization")
        check_dout(dout, self.out.shape, "BatchNormalization")
        dx, self.dgamma, self.dbeta = backprop(self.out, (self.x, self.gamma, self.beta), dout)
        return dx
