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

from scratch.checks import check_batch_norm_input, check_batch_norm_params, check_dout, check_forward_done, \
    check_running_statistic

from ._tensor import as_float_tensor, as_param, backprop, track

__all__ = ["BatchNormalization"]


class BatchNormalization:
    """Batch Normalization layer (6.3) over (N, C) or (N, C, H, W) input, per channel.

    ``gamma`` and ``beta`` (shape (C,)) become parameters shared with the
    network (``as_param``). ``momentum`` has the book's meaning (weight of the
    old value) and is passed to ``F.batch_norm`` as 1 - momentum.
    ``running_mean``/``running_var`` default to zeros/ones (PyTorch; the
    book starts both at zeros), given values are copied. See
    scratch.batch_normalization for how the book differs (eps 1e-6,
    per-element statistics on 4-D input, biased running variance).
    """

    def __init__(self, gamma, beta, momentum=0.9, running_mean=None, running_var=None, eps=1e-5):
        self.gamma, self.beta = as_param(gamma), as_param(beta)
        check_batch_norm_params(self.gamma, self.beta, momentum, eps)
        self.momentum, self.eps = float(momentum), float(eps)
        self.running_mean = self._statistic(running_mean, torch.zeros, "running_mean")
        self.running_var = self._statistic(running_var, torch.ones, "running_var")
        self.x = None
        self.out = None
        self.dgamma = None
        self.dbeta = None

    def _statistic(self, value, default, name):
        if value is None:
            return default(self.gamma.shape, dtype=self.gamma.dtype)
        value = as_float_tensor(value, name)
        check_running_statistic(value, self.gamma, name)
        return value.detach().clone()

    def forward(self, x, train_flg=True):
        self.x = track(x)
        check_batch_norm_input(self.x, self.gamma, train_flg)
        self.out = F.batch_norm(self.x, self.running_mean, self.running_var, self.gamma, self.beta,
                                training=train_flg, momentum=1 - self.momentum, eps=self.eps)
        return self.out

    def backward(self, dout):
        check_forward_done(self.out, "BatchNormalization")
        check_dout(dout, self.out.shape, "BatchNormalization")
        dx, self.dgamma, self.dbeta = backprop(self.out, (self.x, self.gamma, self.beta), dout)
        return dx
