"""Recurrent layers (8.4, image captioning; the sequel's chapter 5), with PyTorch's operators.

The weights have the layout of ``nn.RNN`` (weight_ih (H, D), weight_hh (H, H),
bias_ih (H,), bias_hh (H,)); the sequel's Wx (D, H), Wh (H, H) and one b are
weight_ih.T, weight_hh.T and bias_ih + bias_hh. ``RNN`` computes one step with
``torch.tanh`` and ``F.linear``; ``TimeRNN`` runs PyTorch's own ``nn.RNN``
(batch_first) on this layer's parameter tensors (``torch.func.functional_call``),
so that what is compared is PyTorch's RNN. Gradients come from autograd
(``torch.autograd.grad``) and are stored as ``dweight_ih``, ``dweight_hh``,
``dbias_ih``, ``dbias_hh``.
"""
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from scratch.checks import check_backward, check_forward_done, check_recurrent_params
from scratch.recurrent import check_rnn_input, check_sequence_input, check_state

from ._tensor import as_param, as_tensor, backprop, track

__all__ = ["RNN", "TimeRNN"]


class RNN:
    """One time step of a simple RNN (``nn.RNNCell``'s formula), as
    ``torch.tanh(F.linear(x, weight_ih, bias_ih) + F.linear(h_prev, weight_hh, bias_hh))``."""

    def __init__(self, weight_ih, weight_hh, bias_ih, bias_hh):
        self.weight_ih, self.weight_hh = as_param(weight_ih), as_param(weight_hh)
        self.bias_ih, self.bias_hh = as_param(bias_ih), as_param(bias_hh)
        check_recurrent_params(self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, 1, "RNN")
        self.x = None
        self.h_prev = None
        self.out = None
        self.dweight_ih = None
        self.dweight_hh = None
        self.dbias_ih = None
        self.dbias_hh = None

    def forward(self, x, h_prev):
        self.x, self.h_prev = track(x), track(h_prev)
        check_rnn_input(self.x, self.h_prev, self.weight_ih, self.weight_hh)
        self.out = torch.tanh(F.linear(self.x, self.weight_ih, self.bias_ih)
                              + F.linear(self.h_prev, self.weight_hh, self.bias_hh))
        return self.out

    def backward(self, dh_next):
        check_forward_done(self.out, "RNN")
        check_backward(dh_next, self.out, "RNN", self.weight_hh)
        (dx, dh_prev, self.dweight_ih, self.dweight_hh, self.dbias_ih, self.dbias_hh) = backprop(
            self.out, (self.x, self.h_prev, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh), dh_next)
        return dx, dh_prev


class TimeRNN:
    """T steps over xs (N, T, D), as ``nn.RNN(D, H, batch_first=True)`` called on this layer's weights.

    ``stateful``: each call starts from the previous call's final ``h``,
    detached (truncated backpropagation through time); ``dh`` is the gradient
    with respect to the state a call started from. ``set_state(h)``,
    ``reset_state()``.
    """

    def __init__(self, weight_ih, weight_hh, bias_ih, bias_hh, stateful=False):
        self.weight_ih, self.weight_hh = as_param(weight_ih), as_param(weight_hh)
        self.bias_ih, self.bias_hh = as_param(bias_ih), as_param(bias_hh)
        check_recurrent_params(self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, 1, "TimeRNN")
        H, D = self.weight_ih.shape
        with torch.random.fork_rng(devices=[]):  # its own random weights are never used: leave torch's seed alone
            self.rnn = nn.RNN(D, H, batch_first=True, dtype=self.weight_ih.dtype)
        self.stateful = bool(stateful)
        self.xs = None
        self.h0 = None
        self.out = None
        self.h = None
        self.dh = None
        self.dweight_ih = None
        self.dweight_hh = None
        self.dbias_ih = None
        self.dbias_hh = None

    def set_state(self, h):
        h = as_tensor(h)
        check_state(h, self.weight_hh)
        self.h = h.detach()

    def reset_state(self):
        self.h = None

    def _params(self):
        return (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)

    def forward(self, xs):
        self.xs = track(xs)
        check_sequence_input(self.xs, self.h if self.stateful else None, self.weight_ih, self.weight_hh)
        N, H = self.xs.shape[0], self.weight_hh.shape[0]
        if not self.stateful or self.h is None:
            self.h = torch.zeros((N, H), dtype=self.xs.dtype)
        self.h0 = self.h.detach().clone().requires_grad_(True)  # the gradient stops here (TBPTT)
        names = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
        self.out, h_n = functional_call(self.rnn, dict(zip(names, self._params())), (self.xs, self.h0[None]))
        self.h = h_n[0].detach()
        return self.out

    def backward(self, dhs):
        check_forward_done(self.out, "TimeRNN")
        check_backward(dhs, self.out, "TimeRNN", self.weight_hh)
        (dxs, self.dh, self.dweight_ih, self.dweight_hh, self.dbias_ih, self.dbias_hh) = backprop(
            self.out, (self.xs, self.h0) + self._params(), dhs)
        return dxs
