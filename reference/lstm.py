"""Long short-term memory (8.4), one step and T steps, with PyTorch's own ``nn.LSTMCell`` and ``nn.LSTM``.

The parameters are ``nn.LSTM``'s (gates i, f, g, o; weight_ih (4H, D),
weight_hh (4H, H), bias_ih and bias_hh (4H,)); the formulas and the map to
the book's sequel are in ``scratch.lstm``'s docstring. Each layer holds a
module built on the ``meta`` device (no memory, no random draws) and calls it
with the layer's own parameter tensors through ``torch.func.functional_call``:
the same as copying them into the module's parameters, while an optimizer's
in-place updates of those tensors reach the next call. Backward asks autograd
for the gradients of the kept outputs; nothing is derived by hand here.
"""
import torch
from torch import nn
from torch.func import functional_call

from scratch.checks import check_backward, check_recurrent_params
from scratch.lstm import check_lstm_input, check_lstm_state, check_time_lstm_input

from ._tensor import as_param, as_tensor, backprop, track

__all__ = ["LSTM", "TimeLSTM"]


class LSTM:
    """One LSTM step, as ``nn.LSTMCell``: (h', c') = cell(x, (h, c))."""

    def __init__(self, weight_ih, weight_hh, bias_ih, bias_hh):
        self.weight_ih, self.weight_hh = as_param(weight_ih), as_param(weight_hh)
        self.bias_ih, self.bias_hh = as_param(bias_ih), as_param(bias_hh)
        D, H = check_recurrent_params(self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, 4, "LSTM")
        self.cell = nn.LSTMCell(D, H, device="meta")
        self.inputs = None
        self.out = None
        self.dweight_ih = None
        self.dweight_hh = None
        self.dbias_ih = None
        self.dbias_hh = None

    def params(self):
        return {"weight_ih": self.weight_ih, "weight_hh": self.weight_hh,
                "bias_ih": self.bias_ih, "bias_hh": self.bias_hh}

    def forward(self, x, h_prev, c_prev):
        check_lstm_input(as_tensor(x), as_tensor(h_prev), as_tensor(c_prev), self.weight_ih, self.weight_hh)
        x, h_prev, c_prev = track(x), track(h_prev), track(c_prev)
        self.inputs = (x, h_prev, c_prev)
        self.out = functional_call(self.cell, self.params(), (x, (h_prev, c_prev)))
        return self.out

    def backward(self, dh_next, dc_next):
        out_shape = None if self.out is None else self.out[0].shape
        check_backward(dh_next, out_shape, "LSTM", self.weight_ih)
        check_backward(dc_next, out_shape, "LSTM", self.weight_ih)
        grads = torch.autograd.grad(
            self.out, self.inputs + tuple(self.params().values()),
            grad_outputs=[torch.as_tensor(d, dtype=self.weight_ih.dtype) for d in (dh_next, dc_next)],
            retain_graph=True)
        dx, dh_prev, dc_prev, self.dweight_ih, self.dweight_hh, self.dbias_ih, self.dbias_hh = grads
        return dx, dh_prev, dc_prev


class TimeLSTM:
    """T LSTM steps over xs (N, T, D) -> hs (N, T, H), as ``nn.LSTM(D, H, batch_first=True)``.

    The state works as in ``scratch.lstm.TimeLSTM``: zeros, or the state given
    with ``set_state`` before the call, or, when ``stateful``, the last call's
    final state (detached: truncated backpropagation through time). ``h`` and
    ``c`` hold the final state (``nn.LSTM``'s h_n, c_n without the layer axis);
    ``dh`` and ``dc`` the gradient with respect to the state the call started from.
    """

    def __init__(self, weight_ih, weight_hh, bias_ih, bias_hh, stateful=False):
        self.weight_ih, self.weight_hh = as_param(weight_ih), as_param(weight_hh)
        self.bias_ih, self.bias_hh = as_param(bias_ih), as_param(bias_hh)
        D, H = check_recurrent_params(self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, 4, "TimeLSTM")
        self.lstm = nn.LSTM(D, H, batch_first=True, device="meta")
        self.stateful = bool(stateful)
        self.inputs = None
        self.hs = None
        self.h, self.c = None, None
        self.state_given = False
        self.dh, self.dc = None, None
        self.dweight_ih = None
        self.dweight_hh = None
        self.dbias_ih = None
        self.dbias_hh = None

    def params(self):
        return {"weight_ih_l0": self.weight_ih, "weight_hh_l0": self.weight_hh,
                "bias_ih_l0": self.bias_ih, "bias_hh_l0": self.bias_hh}

    def set_state(self, h, c=None):
        """Start the next call from h (N, H) and c (zeros when None)."""
        h = as_tensor(h)
        check_lstm_state(h, None, self.weight_hh, "TimeLSTM", "the state h")
        if c is not None:
            c = as_tensor(c)
            check_lstm_state(c, h.shape[0], self.weight_hh, "TimeLSTM", "the state c")
        self.h, self.c = h, c
        self.state_given = True

    def reset_state(self):
        self.h, self.c = None, None
        self.state_given = False

    def forward(self, xs):
        carry = self.stateful or self.state_given
        h, c = (self.h, self.c) if carry else (None, None)
        xs = as_tensor(xs)
        check_time_lstm_input(xs, h, c, self.weight_ih, self.weight_hh, carried=carry and not self.state_given)
        zeros = torch.zeros((xs.shape[0], self.weight_hh.shape[1]), dtype=self.weight_hh.dtype)
        xs, h, c = track(xs), track(zeros if h is None else h), track(zeros.clone() if c is None else c)
        self.inputs = (xs, h, c)
        self.hs, (h_n, c_n) = functional_call(self.lstm, self.params(), (xs, (h[None], c[None])))
        self.h, self.c = h_n[0].detach(), c_n[0].detach()
        self.state_given = False
        return self.hs

    def backward(self, dhs):
        check_backward(dhs, self.hs, "TimeLSTM", self.weight_ih)
        grads = backprop(self.hs, self.inputs + tuple(self.params().values()), dhs)
        dxs, self.dh, self.dc, self.dweight_ih, self.dweight_hh, self.dbias_ih, self.dbias_hh = grads
        return dxs
