"""Recurrent layers (8.4, image captioning; the sequel's chapter 5), in NumPy.

The weights have the layout of PyTorch's ``nn.RNN`` (one layer, tanh, with
biases), so that they copy one-to-one:

    weight_ih (H, D)   weight_hh (H, H)   bias_ih (H,)   bias_hh (H,)

The sequel (Deep Learning from Scratch 2, ``common/time_layers.py``) stores
Wx (D, H), Wh (H, H) and one b (H,) and writes h W instead of h W^T:

    Wx = weight_ih.T,   Wh = weight_hh.T,   b = bias_ih + bias_hh

(PyTorch's two biases only ever appear as their sum, so both receive the same
gradient.) Gradients are stored as ``dweight_ih``, ``dweight_hh``,
``dbias_ih``, ``dbias_hh``: the parameter's name with a ``d`` in front, like
``dW`` and ``dgamma``. Sequences are batch first, (N, T, D), as
``nn.RNN(batch_first=True)``.

The input checks below are public so that ``reference.recurrent`` raises the
same errors with the same words.
"""
import numpy as np

from .checks import check_backward, check_batch, check_forward_done, check_recurrent_params, dtype_name

__all__ = ["RNN", "TimeRNN"]


# --- checks shared with reference.recurrent (they read only ``shape`` and ``dtype``)

def check_hidden(h, N, weight_hh, who, name="h_prev"):
    """A hidden state of shape (N, H) in the parameters' dtype."""
    H = weight_hh.shape[0]
    if tuple(h.shape) != (N, H):
        raise ValueError(f"{who}: {name} must have shape ({N}, {H}) (batch, hidden), got {tuple(h.shape)}")
    if dtype_name(h.dtype) != dtype_name(weight_hh.dtype):
        raise TypeError(f"{who}: {name} dtype {dtype_name(h.dtype)} does not match parameter dtype "
                        f"{dtype_name(weight_hh.dtype)}")


def check_rnn_input(x, h_prev, weight_ih, weight_hh, who="RNN"):
    """One step: x (N, D) and h_prev (N, H), both in the parameters' dtype."""
    D = weight_ih.shape[1]
    if len(x.shape) != 2 or x.shape[1] != D:
        raise ValueError(f"{who} expects x of shape (N, {D}), got {tuple(x.shape)}")
    N = check_batch(x.shape, who)
    if dtype_name(x.dtype) != dtype_name(weight_ih.dtype):
        raise TypeError(f"{who}: x dtype {dtype_name(x.dtype)} does not match parameter dtype "
                        f"{dtype_name(weight_ih.dtype)}")
    check_hidden(h_prev, N, weight_hh, who)


def check_sequence_input(xs, h, weight_ih, weight_hh, who="TimeRNN"):
    """T steps: xs (N, T, D) with N, T >= 1 in the parameters' dtype; a carried state h (N, H), if any."""
    D = weight_ih.shape[1]
    if len(xs.shape) != 3 or xs.shape[2] != D:
        raise ValueError(f"{who} expects xs of shape (N, T, {D}) (batch first), got {tuple(xs.shape)}")
    N = check_batch(xs.shape, who)
    if xs.shape[1] == 0:
        raise ValueError(f"{who}: xs of shape {tuple(xs.shape)} has no time steps")
    if dtype_name(xs.dtype) != dtype_name(weight_ih.dtype):
        raise TypeError(f"{who}: xs dtype {dtype_name(xs.dtype)} does not match parameter dtype "
                        f"{dtype_name(weight_ih.dtype)}")
    if h is not None:
        check_hidden(h, N, weight_hh, who, "the carried state h")


def check_state(h, weight_hh, who="TimeRNN"):
    """set_state's h: (N, H) in the parameters' dtype (N is checked against xs at the next forward)."""
    if len(h.shape) != 2 or h.shape[0] < 1:
        raise ValueError(f"{who}.set_state: h must have shape (N, {weight_hh.shape[0]}), got {tuple(h.shape)}")
    check_hidden(h, h.shape[0], weight_hh, f"{who}.set_state", "h")


# --- layers

class RNN:
    """One time step of a simple RNN: h_next = tanh(x weight_ih^T + bias_ih + h_prev weight_hh^T + bias_hh).

    The sequel's ``RNN``, h_next = tanh(h_prev Wh + x Wx + b), with the weights
    of ``nn.RNNCell``: weight_ih (H, D) = Wx^T, weight_hh (H, H) = Wh^T, and
    bias_ih + bias_hh = b. x (N, D), h_prev (N, H), h_next (N, H).

    Backward, with dt = dh_next (1 - h_next^2) (tanh's derivative):
        dbias_ih = dbias_hh = sum_n dt,   dweight_ih = dt^T x,   dweight_hh = dt^T h_prev,
        dx = dt weight_ih,   dh_prev = dt weight_hh
    """

    def __init__(self, weight_ih, weight_hh, bias_ih, bias_hh):
        check_recurrent_params(weight_ih, weight_hh, bias_ih, bias_hh, 1, "RNN")
        self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh = weight_ih, weight_hh, bias_ih, bias_hh
        self.cache = None
        self.dweight_ih = None
        self.dweight_hh = None
        self.dbias_ih = None
        self.dbias_hh = None

    def forward(self, x, h_prev):
        check_rnn_input(x, h_prev, self.weight_ih, self.weight_hh)
        t = x @ self.weight_ih.T + self.bias_ih + h_prev @ self.weight_hh.T + self.bias_hh
        h_next = np.tanh(t)
        self.cache = (x, h_prev, h_next)
        return h_next

    def backward(self, dh_next):
        check_forward_done(self.cache, "RNN")
        x, h_prev, h_next = self.cache
        check_backward(dh_next, h_next, "RNN", self.weight_hh)
        dt = dh_next * (1 - h_next * h_next)
        self.dbias_ih = np.sum(dt, axis=0)
        self.dbias_hh = self.dbias_ih.copy()
        self.dweight_ih = dt.T @ x
        self.dweight_hh = dt.T @ h_prev
        dx = dt @ self.weight_ih
        dh_prev = dt @ self.weight_hh
        return dx, dh_prev


class TimeRNN:
    """T steps of ``RNN`` over xs (N, T, D), batch first, like ``nn.RNN(D, H, batch_first=True)``.

    forward(xs) -> hs (N, T, H), hs[:, t] the hidden state after step t; the
    last one is kept as ``h``. One ``RNN`` per step shares the weights.
    Backward runs the steps in reverse: step t receives dhs[:, t] plus the dh
    its successor sent back; the weight gradients are summed over the steps.
    ``dh``, the gradient with respect to the state the sequence started from,
    is kept for a layer before (an encoder, as in the sequel's seq2seq).

    ``stateful=False``: every call starts from h = 0. ``stateful=True``: a call
    starts from the ``h`` the previous call ended with (truncated
    backpropagation through time: the gradient stops at the call's border,
    ``dh`` is only reported). ``set_state(h)`` sets that state;
    ``reset_state()`` returns to h = 0.
    """

    def __init__(self, weight_ih, weight_hh, bias_ih, bias_hh, stateful=False):
        check_recurrent_params(weight_ih, weight_hh, bias_ih, bias_hh, 1, "TimeRNN")
        self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh = weight_ih, weight_hh, bias_ih, bias_hh
        self.stateful = bool(stateful)
        self.layers = None
        self.h = None
        self.dh = None
        self.dweight_ih = None
        self.dweight_hh = None
        self.dbias_ih = None
        self.dbias_hh = None

    def set_state(self, h):
        check_state(h, self.weight_hh)
        self.h = h

    def reset_state(self):
        self.h = None

    def forward(self, xs):
        check_sequence_input(xs, self.h if self.stateful else None, self.weight_ih, self.weight_hh)
        N, T, _ = xs.shape
        H = self.weight_hh.shape[0]
        params = (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        if not self.stateful or self.h is None:
            self.h = np.zeros((N, H), dtype=xs.dtype)
        hs = np.empty((N, T, H), dtype=xs.dtype)
        self.layers = []
        for t in range(T):
            layer = RNN(*params)
            self.h = layer.forward(xs[:, t, :], self.h)
            hs[:, t, :] = self.h
            self.layers.append(layer)
        return hs

    def backward(self, dhs):
        check_forward_done(self.layers, "TimeRNN")
        N, T, H = len(self.layers[0].cache[0]), len(self.layers), self.weight_hh.shape[0]
        check_backward(dhs, (N, T, H), "TimeRNN", self.weight_hh)
        D = self.weight_ih.shape[1]
        dxs = np.empty((N, T, D), dtype=dhs.dtype)
        dh = np.zeros((N, H), dtype=dhs.dtype)
        grads = [np.zeros_like(p) for p in (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)]
        for t in reversed(range(T)):
            layer = self.layers[t]
            dxs[:, t, :], dh = layer.backward(dhs[:, t, :] + dh)
            for grad, step in zip(grads, (layer.dweight_ih, layer.dweight_hh, layer.dbias_ih, layer.dbias_hh)):
                grad += step
        self.dweight_ih, self.dweight_hh, self.dbias_ih, self.dbias_hh = grads
        self.dh = dh
        return dxs
