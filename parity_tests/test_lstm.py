"""Parity of the LSTM layers with PyTorch's own ``nn.LSTMCell`` and ``nn.LSTM`` (batch_first).

The truth is a plain torch module: built with the test's weights copied into
its parameters, called, and differentiated by autograd (``.backward`` and
``.grad``). Both backends, scratch.lstm (hand-derived backward) and
reference.lstm, are compared with it: forward hs and the final (h, c), dxs,
every weight gradient, the gradient of the initial state, the state carried
across stateful calls, one and two layers, T = 1 and batch 1, float64 and
float32. The map to the book's sequel (gates f, g, i, o; Wx (D, 4H)) written
in the docstring is checked against the sequel's own formulas.
"""
import numpy as np
import pytest
import torch
from parameterized import parameterized

import reference.lstm as R
import scratch.lstm as S
from conftest import DTYPES, assert_close, assert_same_error, make_rng, to_numpy

pytestmark = [pytest.mark.filterwarnings("error"), pytest.mark.usefixtures("one_torch_thread")]

BACKENDS = (("scratch", S), ("reference", R))
PARAM_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
D, H = 3, 5


def lstm_params(D, H, dtype, seed=0, scale=0.6):
    """weight_ih (4H, D), weight_hh (4H, H), bias_ih, bias_hh (4H,): large enough to saturate some gates."""
    rng = make_rng(seed)
    shapes = ((4 * H, D), (4 * H, H), (4 * H,), (4 * H,))
    return [(rng.standard_normal(shape) * scale).astype(dtype) for shape in shapes]


def data(shape, dtype, seed):
    return make_rng(seed).standard_normal(shape).astype(dtype)


def torch_lstm(layers, dtype, batch_first=True):
    """nn.LSTM(D, H, num_layers=len(layers), batch_first=True) holding copies of the given weights."""
    D, H = layers[0][0].shape[1], layers[0][1].shape[1]
    module = torch.nn.LSTM(D, H, num_layers=len(layers), batch_first=batch_first,
                           dtype=getattr(torch, np.dtype(dtype).name))
    with torch.no_grad():
        for k, params in enumerate(layers):
            for name, value in zip(PARAM_NAMES, params):
                getattr(module, f"{name}_l{k}").copy_(torch.from_numpy(value))
    return module


def leaf(a):
    return torch.from_numpy(np.array(a)).requires_grad_(True)


def torch_run(module, xs, dhs, h0=None, c0=None):
    """One call of ``module`` and autograd of sum(hs * dhs): the values every test compares with."""
    xs = leaf(xs)
    layers, N, H = module.num_layers, xs.shape[0], module.hidden_size
    zeros = np.zeros((layers, N, H), dtype=to_numpy(xs).dtype)
    h0 = leaf(zeros if h0 is None else h0)
    c0 = leaf(zeros if c0 is None else c0)
    hs, (h_n, c_n) = module(xs, (h0, c0))
    module.zero_grad()
    hs.backward(torch.from_numpy(dhs))
    grads = [[getattr(module, f"{name}_l{k}").grad for name in PARAM_NAMES] for k in range(layers)]
    return dict(hs=hs, h_n=h_n, c_n=c_n, dxs=xs.grad, dh0=h0.grad, dc0=c0.grad, grads=grads)


def assert_weight_grads(layer, expected, dtype, what):
    for name, grad in zip(PARAM_NAMES, expected):
        assert_close(getattr(layer, f"d{name}"), grad, dtype, what=f"{what} d{name}")


TIME_CASES = [(f"N{N}_T{T}_{init}_{dt_name}", N, T, init, dt)
              for N, T in ((4, 6), (1, 1), (1, 5), (3, 1))
              for init in ("zeros", "given")
              for dt_name, dt in DTYPES]


class TestLSTM:
    """One step against nn.LSTMCell: h', c', dx, dh_prev, dc_prev and the four weight gradients."""

    @parameterized.expand([(f"N{N}_{dt_name}", N, dt) for N in (1, 4) for dt_name, dt in DTYPES])
    def test_step(self, _, N, dtype):
        params = lstm_params(D, H, dtype)
        x, h, c = data((N, D), dtype, 1), data((N, H), dtype, 2), data((N, H), dtype, 3)
        dh, dc = data((N, H), dtype, 4), data((N, H), dtype, 5)

        cell = torch.nn.LSTMCell(D, H, dtype=getattr(torch, np.dtype(dtype).name))
        with torch.no_grad():
            for name, value in zip(PARAM_NAMES, params):
                getattr(cell, name).copy_(torch.from_numpy(value))
        tx, th, tc = leaf(x), leaf(h), leaf(c)
        h_next, c_next = cell(tx, (th, tc))
        torch.autograd.backward((h_next, c_next), (torch.from_numpy(dh), torch.from_numpy(dc)))

        keep = [a.copy() for a in (x, h, c, dh, dc)]
        for backend_name, backend in BACKENDS:
            layer = backend.LSTM(*params)
            ours_h, ours_c = layer.forward(x, h, c)
            assert_close(ours_h, h_next, dtype, what=f"{backend_name} h_next")
            assert_close(ours_c, c_next, dtype, what=f"{backend_name} c_next")
            for _ in range(2):  # twice: backward accumulates nothing
                dx, dh_prev, dc_prev = layer.backward(dh, dc)
                assert_close(dx, tx.grad, dtype, what=f"{backend_name} dx")
                assert_close(dh_prev, th.grad, dtype, what=f"{backend_name} dh_prev")
                assert_close(dc_prev, tc.grad, dtype, what=f"{backend_name} dc_prev")
                assert_weight_grads(layer, [getattr(cell, name).grad for name in PARAM_NAMES], dtype,
                                    backend_name)
        for a, b in zip((x, h, c, dh, dc), keep):
            np.testing.assert_array_equal(a, b)


class TestTimeLSTM:
    """T steps against nn.LSTM(batch_first=True): hs, the final (h, c), dxs, weight and initial-state gradients."""

    @parameterized.expand(TIME_CASES)
    def test_sequence(self, _, N, T, init, dtype):
        params = lstm_params(D, H, dtype)
        xs, dhs = data((N, T, D), dtype, 1), data((N, T, H), dtype, 2)
        h0 = c0 = None
        if init == "given":
            h0, c0 = data((N, H), dtype, 3), data((N, H), dtype, 4)
        expected = torch_run(torch_lstm([params], dtype), xs, dhs,
                             None if h0 is None else h0[None], None if c0 is None else c0[None])

        keep = [xs.copy(), dhs.copy()]
        for backend_name, backend in BACKENDS:
            layer = backend.TimeLSTM(*params)
            if h0 is not None:
                layer.set_state(h0, c0)
            assert_close(layer.forward(xs), expected["hs"], dtype, what=f"{backend_name} hs")
            assert_close(layer.h, expected["h_n"][0], dtype, what=f"{backend_name} final h")
            assert_close(layer.c, expected["c_n"][0], dtype, what=f"{backend_name} final c")
            for _ in range(2):  # twice: backward accumulates nothing
                assert_close(layer.backward(dhs), expected["dxs"], dtype, what=f"{backend_name} dxs")
                assert_weight_grads(layer, expected["grads"][0], dtype, backend_name)
                assert_close(layer.dh, expected["dh0"][0], dtype, what=f"{backend_name} dh")
                assert_close(layer.dc, expected["dc0"][0], dtype, what=f"{backend_name} dc")
        np.testing.assert_array_equal(xs, keep[0])
        np.testing.assert_array_equal(dhs, keep[1])

    @parameterized.expand(DTYPES)
    def test_saturated_gates(self, _, dtype):
        """Weights and inputs large enough that sigmoid and tanh round to 0, 1 or -1 in many places."""
        params = lstm_params(D, H, dtype, scale=20)
        xs, dhs = data((3, 5, D), dtype, 1) * 5, data((3, 5, H), dtype, 2)
        expected = torch_run(torch_lstm([params], dtype), xs, dhs)
        for backend_name, backend in BACKENDS:
            layer = backend.TimeLSTM(*params)
            assert_close(layer.forward(xs), expected["hs"], dtype, what=f"{backend_name} hs")
            assert_close(layer.backward(dhs), expected["dxs"], dtype, what=f"{backend_name} dxs")
            assert_weight_grads(layer, expected["grads"][0], dtype, backend_name)

    @parameterized.expand(DTYPES)
    def test_set_state_without_c(self, _, dtype):
        """set_state(h) starts from h and c = 0; the call after it, not stateful, from zeros again."""
        params = lstm_params(D, H, dtype)
        xs, dhs, h0 = data((2, 4, D), dtype, 1), data((2, 4, H), dtype, 2), data((2, H), dtype, 3)
        module = torch_lstm([params], dtype)
        given = torch_run(module, xs, dhs, h0[None])
        fresh = torch_run(module, xs, dhs)
        for backend_name, backend in BACKENDS:
            layer = backend.TimeLSTM(*params)
            layer.set_state(h0)
            assert_close(layer.forward(xs), given["hs"], dtype, what=f"{backend_name} hs from h0")
            layer.backward(dhs)
            assert_close(layer.dh, given["dh0"][0], dtype, what=f"{backend_name} dh")
            assert_close(layer.dc, given["dc0"][0], dtype, what=f"{backend_name} dc")
            assert_close(layer.forward(xs), fresh["hs"], dtype, what=f"{backend_name} hs from zeros")

    @parameterized.expand(DTYPES)
    def test_updates_in_place_reach_the_next_call(self, _, dtype):
        """An optimizer updates the layer's parameter arrays (tensors) in place; the next call uses them."""
        params = lstm_params(D, H, dtype)
        xs, dhs = data((2, 3, D), dtype, 1), data((2, 3, H), dtype, 2)
        step = [data(p.shape, dtype, 5 + k) * dtype(0.1) for k, p in enumerate(params)]
        expected = torch_run(torch_lstm([[p - s for p, s in zip(params, step)]], dtype), xs, dhs)
        for backend_name, backend in BACKENDS:
            layer = backend.TimeLSTM(*[p.copy() for p in params])
            layer.forward(xs)
            for name, s in zip(PARAM_NAMES, step):
                param = getattr(layer, name)
                with torch.no_grad():
                    param -= s if backend is S else torch.from_numpy(s)
            assert_close(layer.forward(xs), expected["hs"], dtype, what=f"{backend_name} hs after the update")
            assert_close(layer.backward(dhs), expected["dxs"], dtype, what=f"{backend_name} dxs after the update")

    @parameterized.expand(DTYPES)
    def test_state_from_an_encoder(self, _, dtype):
        """reference: a state computed by torch (an encoder's output, not a leaf) gets its gradient dh."""
        params = lstm_params(D, H, dtype)
        xs, dhs, z = data((2, 3, D), dtype, 1), data((2, 3, H), dtype, 2), data((2, H), dtype, 3)
        expected = torch_run(torch_lstm([params], dtype), xs, dhs, np.tanh(z)[None])
        layer = R.TimeLSTM(*params)
        layer.set_state(torch.tanh(leaf(z)))
        assert_close(layer.forward(xs), expected["hs"], dtype, what="hs")
        layer.backward(dhs)
        assert_close(layer.dh, expected["dh0"][0], dtype, what="dh")

    @parameterized.expand(DTYPES)
    def test_sequel_layout(self, _, dtype):
        """The docstring's map to the sequel: Wx = weight_ih[order].T, Wh = weight_hh[order].T,
        b = (bias_ih + bias_hh)[order], with the sequel's own step (slices f, g, i, o)."""
        weight_ih, weight_hh, bias_ih, bias_hh = lstm_params(D, H, dtype)
        order = np.r_[H:2 * H, 2 * H:3 * H, 0:H, 3 * H:4 * H]
        Wx, Wh, b = weight_ih[order].T, weight_hh[order].T, (bias_ih + bias_hh)[order]
        xs = data((3, 4, D), dtype, 1)
        h = c = np.zeros((3, H), dtype=dtype)
        hs = []
        for t in range(xs.shape[1]):  # Deep Learning from Scratch 2, common/time_layers.py, LSTM.forward
            A = xs[:, t] @ Wx + h @ Wh + b
            f, g, i, o = A[:, :H], A[:, H:2 * H], A[:, 2 * H:3 * H], A[:, 3 * H:]
            f, g, i, o = 1 / (1 + np.exp(-f)), np.tanh(g), 1 / (1 + np.exp(-i)), 1 / (1 + np.exp(-o))
            c = f * c + g * i
            h = o * np.tanh(c)
            hs.append(h)
        layer = S.TimeLSTM(weight_ih, weight_hh, bias_ih, bias_hh)
        assert_close(layer.forward(xs), np.stack(hs, axis=1), dtype, what="sequel hs")


class TestStatefulTimeLSTM:
    """Truncated BPTT: a stateful layer's second call starts from the first call's final (h, c)."""

    @parameterized.expand([(f"N{N}_T{T}_{dt_name}", N, T, dt) for N, T in ((3, 4), (1, 1))
                           for dt_name, dt in DTYPES])
    def test_two_calls(self, _, N, T, dtype):
        params = lstm_params(D, H, dtype)
        xs1, xs2 = data((N, T, D), dtype, 1), data((N, T, D), dtype, 2)
        dhs1, dhs2 = data((N, T, H), dtype, 3), data((N, T, H), dtype, 4)
        module = torch_lstm([params], dtype)
        first = torch_run(module, xs1, dhs1)
        second = torch_run(module, xs2, dhs2, to_numpy(first["h_n"]), to_numpy(first["c_n"]))
        for backend_name, backend in BACKENDS:
            layer = backend.TimeLSTM(*params, stateful=True)
            for run, xs, dhs, call in ((first, xs1, dhs1, "call 1"), (second, xs2, dhs2, "call 2")):
                what = f"{backend_name} {call}"
                assert_close(layer.forward(xs), run["hs"], dtype, what=f"{what} hs")
                assert_close(layer.h, run["h_n"][0], dtype, what=f"{what} carried h")
                assert_close(layer.c, run["c_n"][0], dtype, what=f"{what} carried c")
                assert_close(layer.backward(dhs), run["dxs"], dtype, what=f"{what} dxs")
                assert_weight_grads(layer, run["grads"][0], dtype, what)
                assert_close(layer.dh, run["dh0"][0], dtype, what=f"{what} dh")
                assert_close(layer.dc, run["dc0"][0], dtype, what=f"{what} dc")
            layer.reset_state()
            assert_close(layer.forward(xs1), first["hs"], dtype, what=f"{backend_name} hs after reset_state")


class TestTwoLayerTimeLSTM:
    """Two TimeLSTMs stacked against nn.LSTM(num_layers=2), over two stateful calls."""

    @parameterized.expand([(f"N{N}_T{T}_{dt_name}", N, T, dt) for N, T in ((4, 5), (1, 1))
                           for dt_name, dt in DTYPES])
    def test_stacked(self, _, N, T, dtype):
        layers = [lstm_params(D, H, dtype, seed=10), lstm_params(H, H, dtype, seed=11)]
        xs1, xs2 = data((N, T, D), dtype, 1), data((N, T, D), dtype, 2)
        dhs1, dhs2 = data((N, T, H), dtype, 3), data((N, T, H), dtype, 4)
        module = torch_lstm(layers, dtype)
        first = torch_run(module, xs1, dhs1)
        second = torch_run(module, xs2, dhs2, to_numpy(first["h_n"]), to_numpy(first["c_n"]))
        for backend_name, backend in BACKENDS:
            stack = [backend.TimeLSTM(*params, stateful=True) for params in layers]
            for run, xs, dhs, call in ((first, xs1, dhs1, "call 1"), (second, xs2, dhs2, "call 2")):
                what = f"{backend_name} {call}"
                hs = stack[1].forward(stack[0].forward(xs))
                assert_close(hs, run["hs"], dtype, what=f"{what} hs")
                for k, layer in enumerate(stack):
                    assert_close(layer.h, run["h_n"][k], dtype, what=f"{what} layer {k} final h")
                    assert_close(layer.c, run["c_n"][k], dtype, what=f"{what} layer {k} final c")
                dxs = stack[0].backward(stack[1].backward(dhs))
                assert_close(dxs, run["dxs"], dtype, what=f"{what} dxs")
                for k, layer in enumerate(stack):
                    assert_weight_grads(layer, run["grads"][k], dtype, f"{what} layer {k}")
                    assert_close(layer.dh, run["dh0"][k], dtype, what=f"{what} layer {k} dh")
                    assert_close(layer.dc, run["dc0"][k], dtype, what=f"{what} layer {k} dc")


def params64(D=D, H=H):
    return lstm_params(D, H, np.float64)


def f64(*shape):
    return np.zeros(shape)


def step(backend, x, h, c, dh=None, dc=None):
    """LSTM.forward(x, h, c), then backward(dh, dc) if given."""
    layer = backend.LSTM(*params64())
    layer.forward(x, h, c)
    if dh is not None:
        layer.backward(dh, dc)


def sequence(backend, *xss, state=None, dhs=None, stateful=False):
    """TimeLSTM: set_state(*state) if given, forward each xs, then backward(dhs) if given."""
    layer = backend.TimeLSTM(*params64(), stateful=stateful)
    if state is not None:
        layer.set_state(*state)
    for xs in xss:
        layer.forward(xs)
    if dhs is not None:
        layer.backward(dhs)


BAD_CALLS = [
    # (name, exception, words the message holds, call(backend))
    ("step_x_rank", ValueError, "x of shape (n, 3)", lambda b: step(b, f64(2, 1, D), f64(2, H), f64(2, H))),
    ("step_x_size", ValueError, "x of shape (n, 3)", lambda b: step(b, f64(2, D + 1), f64(2, H), f64(2, H))),
    ("step_x_dtype", TypeError, "dtype float32",
     lambda b: step(b, f64(2, D).astype(np.float32), f64(2, H), f64(2, H))),
    ("step_h_size", ValueError, "h_prev must have shape (2, 5)",
     lambda b: step(b, f64(2, D), f64(2, H + 1), f64(2, H))),
    ("step_h_batch", ValueError, "h_prev must have shape (2, 5)", lambda b: step(b, f64(2, D), f64(3, H), f64(2, H))),
    ("step_c_shape", ValueError, "c_prev must have shape (2, 5)", lambda b: step(b, f64(2, D), f64(2, H), f64(H))),
    ("step_empty_batch", ValueError, "empty batch", lambda b: step(b, f64(0, D), f64(0, H), f64(0, H))),
    ("step_backward_first", RuntimeError, "before", lambda b: b.LSTM(*params64()).backward(f64(2, H), f64(2, H))),
    ("step_dc_shape", ValueError, "does not match",
     lambda b: step(b, f64(2, D), f64(2, H), f64(2, H), f64(2, H), f64(1, H))),
    ("time_x_rank", ValueError, "xs of shape (n, t, 3)", lambda b: sequence(b, f64(2, D))),
    ("time_x_size", ValueError, "xs of shape (n, t, 3)", lambda b: sequence(b, f64(2, 4, D + 2))),
    ("time_empty_sequence", ValueError, "empty sequence", lambda b: sequence(b, f64(2, 0, D))),
    ("time_x_integers", TypeError, "dtype int64", lambda b: sequence(b, np.zeros((2, 4, D), np.int64))),
    ("set_state_h_size", ValueError, "the state h must have shape (n, 5)",
     lambda b: sequence(b, state=[f64(2, H + 1)])),
    ("set_state_h_rank", ValueError, "the state h must have shape (n, 5)", lambda b: sequence(b, state=[f64(1, 2, H)])),
    ("set_state_c_batch", ValueError, "the state c must have shape (2, 5)",
     lambda b: sequence(b, state=[f64(2, H), f64(3, H)])),
    ("set_state_h_dtype", TypeError, "dtype float32",
     lambda b: sequence(b, state=[f64(2, H).astype(np.float32)])),
    ("given_state_other_batch", ValueError, "the state h must have shape (4, 5)",
     lambda b: sequence(b, f64(4, 3, D), state=[f64(2, H)])),
    ("carried_state_other_batch", ValueError, "call reset_state() before a batch of another size",
     lambda b: sequence(b, f64(2, 3, D), f64(4, 3, D), stateful=True)),
    ("time_backward_first", RuntimeError, "before", lambda b: b.TimeLSTM(*params64()).backward(f64(2, 3, H))),
    ("time_dhs_shape", ValueError, "does not match", lambda b: sequence(b, f64(2, 3, D), dhs=f64(2, 2, H))),
    ("params_shape", ValueError, "weight_hh (4h, h)",
     lambda b: b.TimeLSTM(f64(4 * H, D), f64(4 * H, H + 1), f64(4 * H), f64(4 * H))),
    ("params_bias", ValueError, "bias_ih (4h,)", lambda b: b.LSTM(f64(4 * H, D), f64(4 * H, H), f64(H), f64(4 * H))),
    ("params_dtypes", TypeError, "different dtypes",
     lambda b: b.LSTM(f64(4 * H, D), f64(4 * H, H).astype(np.float32), f64(4 * H), f64(4 * H))),
]


class TestLSTMBadInput:
    """One-line errors, the same class and the same words in both backends."""

    @parameterized.expand([(name, name, error, words, call) for name, error, words, call in BAD_CALLS])
    def test_error(self, _, name, error, words, call):
        errors = assert_same_error(lambda: call(S), lambda: call(R), expected=error, match=words)
        messages = [str(e) for e in errors]
        assert messages[0] == messages[1], messages
        assert "\n" not in messages[0], messages[0]
