"""Long short-term memory (8.4: the RNN of image captioning), one step and T steps, like ``nn.LSTM``.

The gates in PyTorch's order (i, f, g, o) and the weights in ``nn.LSTM``'s
layout, for an input of D features and H hidden units:

    weight_ih (4H, D), weight_hh (4H, H), bias_ih (4H,), bias_hh (4H,),
    rows [0:H] the input gate i, [H:2H] the forget gate f,
    [2H:3H] the candidate g, [3H:4H] the output gate o.

    a  = x weight_ih^T + bias_ih + h weight_hh^T + bias_hh      (N, 4H)
    i = sigmoid(a[:, 0:H])      f = sigmoid(a[:, H:2H])
    g = tanh(a[:, 2H:3H])       o = sigmoid(a[:, 3H:4H])
    c' = f * c + i * g          h' = o * tanh(c')

The book's sequel (Deep Learning from Scratch 2, ch. 6) writes the same cell
as A = x Wx + h Wh + b with Wx (D, 4H), Wh (H, 4H), one bias b (4H,) and the
slices ordered (f, g, i, o). With ``order = [H:2H, 2H:3H, 0:H, 3H:4H]``
(PyTorch's rows of f, g, i, o):

    Wx = weight_ih[order].T     Wh = weight_hh[order].T     b = (bias_ih + bias_hh)[order]

PyTorch keeps two biases (cuDNN's layout); only their sum matters, and both
get the same gradient.

``LSTM`` is one step: ``forward(x, h_prev, c_prev) -> (h_next, c_next)`` and
``backward(dh_next, dc_next) -> (dx, dh_prev, dc_prev)``, with the parameter
gradients in ``dweight_ih``, ``dweight_hh``, ``dbias_ih``, ``dbias_hh``
(``d`` + the parameter's name, as Affine's ``dW``, ``db``).
``TimeLSTM`` runs T steps over batch-first input (N, T, D) -> (N, T, H), as
``nn.LSTM(D, H, batch_first=True)``. The checks are shared with
``reference.lstm``, so that both backends raise the same one-line errors.
"""
import numpy as np

from .checks import check_backward, check_batch, check_param_dtype, check_recurrent_params, dtype_name
from .functions import sigmoid

__all__ = ["LSTM", "TimeLSTM"]


# --- checks (NumPy arrays and torch tensors alike: only shape and dtype are read)

def check_lstm_state(state, N, weight_hh, who, name):
    """A hidden or cell state (N, H) in the parameters' dtype; N None: any batch size."""
    H = weight_hh.shape[1]
    shape = tuple(state.shape)
    if len(shape) != 2 or shape[1] != H or (N is not None and shape[0] != N):
        raise ValueError(f"{who}: {name} must have shape ({'N' if N is None else N}, {H}), got {shape}")
    check_param_dtype(state, weight_hh, who, name)


def check_lstm_input(x, h_prev, c_prev, weight_ih, weight_hh, who="LSTM"):
    """One step: x (N, D) in the parameters' dtype, N >= 1; h_prev and c_prev (N, H)."""
    D = weight_ih.shape[1]
    if len(x.shape) != 2 or x.shape[1] != D:
        raise ValueError(f"{who} expects x of shape (N, {D}), got {tuple(x.shape)}")
    check_batch(x.shape, who)
    check_param_dtype(x, weight_ih, who, "x")
    check_lstm_state(h_prev, x.shape[0], weight_hh, who, "h_prev")
    check_lstm_state(c_prev, x.shape[0], weight_hh, who, "c_prev")


def check_time_lstm_input(xs, h, c, weight_ih, weight_hh, carried=False, who="TimeLSTM"):
    """T steps: xs (N, T, D), N >= 1, T >= 1, in the parameters' dtype; a given or ``carried`` state h, c (N, H)."""
    D = weight_ih.shape[1]
    if len(xs.shape) != 3 or xs.shape[2] != D:
        raise ValueError(f"{who} expects xs of shape (N, T, {D}) (batch first), got {tuple(xs.shape)}")
    check_batch(xs.shape, who)
    if xs.shape[1] == 0:
        raise ValueError(f"{who}: empty sequence (xs of shape {tuple(xs.shape)}); it needs T >= 1")
    check_param_dtype(xs, weight_ih, who, "xs")
    for state, name in ((h, "h"), (c, "c")):
        if state is not None and carried and state.shape[0] != xs.shape[0]:
            raise ValueError(f"{who}: the carried state {name} holds a batch of {state.shape[0]}, xs one of "
                             f"{xs.shape[0]}; call reset_state() before a batch of another size")
        if state is not None:
            check_lstm_state(state, xs.shape[0], weight_hh, who, f"the state {name}")


# --- layers

class LSTM:
    """One LSTM step, like ``nn.LSTMCell``: (h', c') from (x, h, c); formulas in the module docstring.

    Backward, node by node from the output back (dh', dc' given):

        do = dh' * tanh(c')
        dc = dc' + dh' * o * (1 - tanh(c')^2)        (c' feeds h' and the next step)
        dc_prev = dc * f,  df = dc * c,  di = dc * g,  dg = dc * i
        da = [di * i(1-i), df * f(1-f), dg * (1-g^2), do * o(1-o)]   (N, 4H), the gates' order
        dx = da weight_ih,  dh_prev = da weight_hh
        dweight_ih = da^T x,  dweight_hh = da^T h,  dbias_ih = dbias_hh = sum_n da
    """

    def __init__(self, weight_ih, weight_hh, bias_ih, bias_hh):
        check_recurrent_params(weight_ih, weight_hh, bias_ih, bias_hh, 4, "LSTM")
        self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh = weight_ih, weight_hh, bias_ih, bias_hh
        self.cache = None
        self.dweight_ih = None
        self.dweight_hh = None
        self.dbias_ih = None
        self.dbias_hh = None

    def forward(self, x, h_prev, c_prev):
        x, h_prev, c_prev = np.asarray(x), np.asarray(h_prev), np.asarray(c_prev)
        check_lstm_input(x, h_prev, c_prev, self.weight_ih, self.weight_hh)
        H = self.weight_hh.shape[1]
        a = x @ self.weight_ih.T + self.bias_ih + h_prev @ self.weight_hh.T + self.bias_hh
        i = sigmoid(a[:, :H])
        f = sigmoid(a[:, H:2 * H])
        g = np.tanh(a[:, 2 * H:3 * H])
        o = sigmoid(a[:, 3 * H:])
        c_next = f * c_prev + i * g
        tanh_c = np.tanh(c_next)
        h_next = o * tanh_c
        self.cache = (x, h_prev, c_prev, i, f, g, o, tanh_c)
        return h_next, c_next

    def backward(self, dh_next, dc_next):
        out_shape = None if self.cache is None else self.cache[1].shape
        dh_next, dc_next = np.asarray(dh_next), np.asarray(dc_next)
        check_backward(dh_next, out_shape, "LSTM", self.weight_ih)
        check_backward(dc_next, out_shape, "LSTM", self.weight_ih)
        x, h_prev, c_prev, i, f, g, o, tanh_c = self.cache

        do = dh_next * tanh_c
        dc = dc_next + dh_next * o * (1 - tanh_c * tanh_c)
        dc_prev = dc * f
        df = dc * c_prev
        di = dc * g
        dg = dc * i
        da = np.hstack((di * i * (1 - i), df * f * (1 - f), dg * (1 - g * g), do * o * (1 - o)))

        self.dweight_ih = da.T @ x
        self.dweight_hh = da.T @ h_prev
        self.dbias_ih = da.sum(axis=0)
        self.dbias_hh = self.dbias_ih.copy()
        dx = da @ self.weight_ih
        dh_prev = da @ self.weight_hh
        return dx, dh_prev, dc_prev


class TimeLSTM:
    """T LSTM steps over xs (N, T, D) -> hs (N, T, H), like ``nn.LSTM(D, H, batch_first=True)``.

    One ``LSTM`` per step, all sharing the four parameters; their gradients
    are summed over the steps. Backward runs the steps in reverse, each
    getting dhs[:, t] plus the dh its successor sent back.

    State: the first step starts from (h, c) = (0, 0), or from the state
    given with ``set_state(h, c=None)`` (c None: zeros) before this call.
    After ``forward``, ``h`` and ``c`` hold the final state (``nn.LSTM``'s
    h_n and c_n, without the layer axis). ``stateful=True`` carries it into
    the next call (truncated backpropagation through time: the gradient
    stops at the call's start); ``reset_state()`` clears it. After
    ``backward``, ``dh`` and ``dc`` hold the gradient with respect to the
    state the call started from (for an encoder that gave it).
    """

    def __init__(self, weight_ih, weight_hh, bias_ih, bias_hh, stateful=False):
        check_recurrent_params(weight_ih, weight_hh, bias_ih, bias_hh, 4, "TimeLSTM")
        self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh = weight_ih, weight_hh, bias_ih, bias_hh
        self.stateful = bool(stateful)
        self.layers = None
        self.out_shape = None
        self.h, self.c = None, None
        self.state_given = False
        self.dh, self.dc = None, None
        self.dweight_ih = None
        self.dweight_hh = None
        self.dbias_ih = None
        self.dbias_hh = None

    def set_state(self, h, c=None):
        """Start the next call from h (N, H) and c (zeros when None)."""
        h = np.asarray(h)
        check_lstm_state(h, None, self.weight_hh, "TimeLSTM", "the state h")
        if c is not None:
            c = np.asarray(c)
            check_lstm_state(c, h.shape[0], self.weight_hh, "TimeLSTM", "the state c")
        self.h, self.c = h, c
        self.state_given = True

    def reset_state(self):
        self.h, self.c = None, None
        self.state_given = False

    def forward(self, xs):
        carry = self.stateful or self.state_given
        h, c = (self.h, self.c) if carry else (None, None)
        xs = np.asarray(xs)
        check_time_lstm_input(xs, h, c, self.weight_ih, self.weight_hh, carried=carry and not self.state_given)
        N, T, _ = xs.shape
        H = self.weight_hh.shape[1]
        zeros = np.zeros((N, H), dtype=self.weight_hh.dtype)
        h = zeros if h is None else h
        c = zeros if c is None else c

        hs = np.empty((N, T, H), dtype=self.weight_hh.dtype)
        self.layers = []
        for t in range(T):
            layer = LSTM(self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
            h, c = layer.forward(xs[:, t, :], h, c)
            hs[:, t, :] = h
            self.layers.append(layer)
        self.h, self.c = h, c
        self.state_given = False
        self.out_shape = hs.shape
        return hs

    def backward(self, dhs):
        dhs = np.asarray(dhs)
        check_backward(dhs, self.out_shape, "TimeLSTM", self.weight_ih)
        N, T, H = dhs.shape
        D = self.weight_ih.shape[1]

        dxs = np.empty((N, T, D), dtype=self.weight_ih.dtype)
        dh = np.zeros((N, H), dtype=self.weight_hh.dtype)
        dc = np.zeros((N, H), dtype=self.weight_hh.dtype)
        grads = [np.zeros_like(p) for p in (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)]
        for t in reversed(range(T)):
            layer = self.layers[t]
            dxs[:, t, :], dh, dc = layer.backward(dhs[:, t, :] + dh, dc)
            for grad, step_grad in zip(grads, (layer.dweight_ih, layer.dweight_hh, layer.dbias_ih, layer.dbias_hh)):
                grad += step_grad
        self.dweight_ih, self.dweight_hh, self.dbias_ih, self.dbias_hh = grads
        self.dh, self.dc = dh, dc
        return dxs
