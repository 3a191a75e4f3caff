"""Parity of the recurrent layers: scratch.recurrent vs reference.recurrent vs PyTorch's nn.RNNCell / nn.RNN.

The NumPy backend derives every gradient by hand; the reference gets them from
autograd through PyTorch's own RNN. Each test also builds ``nn.RNN`` (or
``nn.RNNCell``) directly, copies the same weights into its parameters and
compares with it, so that the reference cannot drift from PyTorch either.
"""
import numpy as np
import pytest
import torch
from parameterized import parameterized
from torch import nn

import reference.optimizer as R_optimizer
import reference.recurrent as R
import scratch.optimizer as S_optimizer
import scratch.recurrent as S
from conftest import DTYPES, assert_close, assert_same_error, make_rng, to_numpy

pytestmark = [pytest.mark.filterwarnings("error"), pytest.mark.usefixtures("one_torch_thread")]

GRADS = ("dweight_ih", "dweight_hh", "dbias_ih", "dbias_hh")
TORCH_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def rnn_weights(D, H, dtype, seed=3):
    """weight_ih (H, D), weight_hh (H, H), bias_ih (H,), bias_hh (H,), drawn like nn.RNN's U(-1/sqrt(H), 1/sqrt(H))
    but wider, so that tanh is well inside its curved part."""
    rng = make_rng(seed)
    k = 2 / np.sqrt(H)
    return [rng.uniform(-k, k, shape).astype(dtype) for shape in ((H, D), (H, H), (H,), (H,))]


def torch_module(module, weights, suffix=""):
    """``module`` (nn.RNNCell or nn.RNN) with ``weights`` copied into its parameters."""
    with torch.no_grad():
        for name, w in zip(TORCH_NAMES, weights):
            getattr(module, name + suffix).copy_(torch.from_numpy(w))
    return module


def nn_rnn(weights, dtype):
    H, D = weights[0].shape
    return torch_module(nn.RNN(D, H, batch_first=True, dtype=torch.float64 if dtype == np.float64 else torch.float32),
                        weights, "_l0")


def nn_rnn_call(module, xs, dhs, h0):
    """One call of nn.RNN from h0 (N, H), with backward given dhs: (hs, h_n, dxs, dh0, {grad name: grad})."""
    module.zero_grad(set_to_none=True)
    x = torch.from_numpy(xs).requires_grad_(True)
    h = torch.from_numpy(np.array(h0)).requires_grad_(True)
    hs, h_n = module(x, h[None])
    hs.backward(torch.from_numpy(dhs))
    grads = {g: getattr(module, name + "_l0").grad for g, name in zip(GRADS, TORCH_NAMES)}
    return hs, h_n[0], x.grad, h.grad, grads


STEP_CASES = [(f"{name}_{dt_name}", n, dt) for name, n in (("batch1", 1), ("batch7", 7)) for dt_name, dt in DTYPES]


class TestRNN:
    @parameterized.expand(STEP_CASES)
    def test_forward_backward(self, _, N, dtype):
        D, H = 4, 6
        weights = rnn_weights(D, H, dtype)
        rng = make_rng(1)
        x, h_prev, dh_next = (rng.standard_normal(s).astype(dtype) for s in ((N, D), (N, H), (N, H)))
        keep = [a.copy() for a in (x, h_prev, dh_next)]
        ours, theirs = S.RNN(*weights), R.RNN(*weights)
        cell = torch_module(nn.RNNCell(D, H, dtype=torch.from_numpy(x).dtype), weights)
        tx, th = (torch.from_numpy(a).requires_grad_(True) for a in (x, h_prev))
        out = cell(tx, th)
        out.backward(torch.from_numpy(dh_next))

        h_next = ours.forward(x, h_prev)
        assert_close(h_next, theirs.forward(x, h_prev), dtype, what="h_next")
        assert_close(h_next, out, dtype, what="h_next vs nn.RNNCell")
        for _ in range(2):  # twice: nothing accumulates
            dx, dh_prev = ours.backward(dh_next)
            ref_dx, ref_dh_prev = theirs.backward(dh_next)
            for a, b, c, what in ((dx, ref_dx, tx.grad, "dx"), (dh_prev, ref_dh_prev, th.grad, "dh_prev")):
                assert_close(a, b, dtype, what=what)
                assert_close(a, c, dtype, what=f"{what} vs nn.RNNCell")
            for g, name in zip(GRADS, TORCH_NAMES):
                assert_close(getattr(ours, g), getattr(theirs, g), dtype, what=g)
                assert_close(getattr(ours, g), getattr(cell, name).grad, dtype, what=f"{g} vs nn.RNNCell")
        for a, b in zip((x, h_prev, dh_next), keep):
            np.testing.assert_array_equal(a, b)

    @parameterized.expand(DTYPES)
    def test_sequel_layout(self, _, dtype):
        """The docstring's map: the sequel's h_next = tanh(h_prev Wh + x Wx + b) with Wx = weight_ih^T,
        Wh = weight_hh^T, b = bias_ih + bias_hh; its db equals both dbias_ih and dbias_hh."""
        D, H, N = 3, 5, 4
        weight_ih, weight_hh, bias_ih, bias_hh = rnn_weights(D, H, dtype)
        Wx, Wh, b = weight_ih.T, weight_hh.T, bias_ih + bias_hh
        rng = make_rng(2)
        x, h_prev, dh_next = (rng.standard_normal(s).astype(dtype) for s in ((N, D), (N, H), (N, H)))
        layer = S.RNN(weight_ih, weight_hh, bias_ih, bias_hh)
        h_next = layer.forward(x, h_prev)
        sequel = np.tanh(h_prev @ Wh + x @ Wx + b)
        assert_close(h_next, sequel, dtype, what="sequel forward")
        layer.backward(dh_next)
        dt = dh_next * (1 - sequel ** 2)  # the sequel's RNN.backward
        assert_close(layer.dweight_ih, (x.T @ dt).T, dtype, what="dWx^T")
        assert_close(layer.dweight_hh, (h_prev.T @ dt).T, dtype, what="dWh^T")
        assert_close(layer.dbias_ih, dt.sum(axis=0), dtype, what="db")
        assert_close(layer.dbias_hh, dt.sum(axis=0), dtype, what="db")

    def test_bad_input(self):
        D, H, N = 3, 5, 4
        weights = rnn_weights(D, H, np.float64)
        x, h = np.zeros((N, D)), np.zeros((N, H))

        def both(call, error, match):
            assert_same_error(lambda: call(S.RNN(*weights)), lambda: call(R.RNN(*weights)), error, match=match)

        both(lambda layer: layer.forward(x, h[:, :4]), ValueError, "h_prev must have shape (4, 5)")
        both(lambda layer: layer.forward(x, h[:2]), ValueError, "h_prev must have shape (4, 5)")
        both(lambda layer: layer.forward(x[None], h), ValueError, "x of shape (n, 3)")
        both(lambda layer: layer.forward(x[:, :2], h), ValueError, "x of shape (n, 3)")
        both(lambda layer: layer.forward(x[:0], h[:0]), ValueError, "empty batch")
        both(lambda layer: layer.forward(x.astype(np.float32), h), TypeError, "x dtype float32")
        both(lambda layer: layer.forward(x, h.astype(np.float32)), TypeError, "h_prev dtype float32")
        both(lambda layer: layer.backward(h), RuntimeError, "before")

        def after_forward(layer):
            layer.forward(x, h)
            layer.backward(h[:, :4])
        both(after_forward, ValueError, "does not match")
        w_ih, w_hh, b_ih, b_hh = weights
        for bad in ((w_ih, w_hh[:4], b_ih, b_hh), (w_ih, w_hh, b_ih[:4], b_hh), (w_ih[0], w_hh, b_ih, b_hh)):
            assert_same_error(lambda: S.RNN(*bad), lambda: R.RNN(*bad), ValueError, match="needs weight_ih (h, d)")
        mixed = (w_ih, w_hh, b_ih, b_hh.astype(np.float32))
        assert_same_error(lambda: S.RNN(*mixed), lambda: R.RNN(*mixed), TypeError, match="one dtype")
        with pytest.raises(ValueError) as info:
            S.RNN(*weights).forward(x, h[:, :4])
        assert "\n" not in str(info.value)


SEQUENCE_CASES = [(f"N{n}_T{t}_{dt_name}", n, t, dt)
                  for n, t in ((3, 5), (1, 4), (2, 1), (1, 1)) for dt_name, dt in DTYPES]


def sequence_data(N, T, D, H, dtype, seed=4):
    rng = make_rng(seed)
    return rng.standard_normal((N, T, D)).astype(dtype), rng.standard_normal((N, T, H)).astype(dtype)


class TestTimeRNN:
    def compare(self, ours, theirs, torch_result, xs, dhs, dtype, label):
        """One forward/backward of both layers, checked against each other and against nn.RNN's result."""
        hs_t, h_n, dxs_t, dh_t, grads_t = torch_result
        hs = ours.forward(xs)
        assert_close(hs, theirs.forward(xs), dtype, what=f"{label} hs")
        assert_close(hs, hs_t, dtype, what=f"{label} hs vs nn.RNN")
        assert_close(ours.h, theirs.h, dtype, what=f"{label} final h")
        assert_close(ours.h, h_n, dtype, what=f"{label} final h vs nn.RNN h_n")
        dxs = ours.backward(dhs)
        assert_close(dxs, theirs.backward(dhs), dtype, what=f"{label} dxs")
        assert_close(dxs, dxs_t, dtype, what=f"{label} dxs vs nn.RNN")
        assert_close(ours.dh, theirs.dh, dtype, what=f"{label} dh")
        assert_close(ours.dh, dh_t, dtype, what=f"{label} dh vs nn.RNN's h0 gradient")
        for g in GRADS:
            assert_close(getattr(ours, g), getattr(theirs, g), dtype, what=f"{label} {g}")
            assert_close(getattr(ours, g), grads_t[g], dtype, what=f"{label} {g} vs nn.RNN")

    @parameterized.expand(SEQUENCE_CASES)
    def test_forward_backward(self, _, N, T, dtype):
        D, H = 4, 6
        weights = rnn_weights(D, H, dtype)
        xs, dhs = sequence_data(N, T, D, H, dtype)
        keep = xs.copy(), dhs.copy()
        expected = nn_rnn_call(nn_rnn(weights, dtype), xs, dhs, np.zeros((N, H), dtype))
        ours, theirs = S.TimeRNN(*weights), R.TimeRNN(*weights)
        self.compare(ours, theirs, expected, xs, dhs, dtype, "call 1")
        # not stateful: a second call starts from h = 0 again and gives the same results
        self.compare(ours, theirs, expected, xs, dhs, dtype, "call 2")
        np.testing.assert_array_equal(xs, keep[0])
        np.testing.assert_array_equal(dhs, keep[1])

    @parameterized.expand(SEQUENCE_CASES)
    def test_stateful_truncated_bptt(self, _, N, T, dtype):
        """Two stateful calls: the second starts from the first's final h; its gradients stop at the
        border (nn.RNN called again from h_n.detach()), and dh is the gradient for that h."""
        D, H = 4, 6
        weights = rnn_weights(D, H, dtype)
        xs1, dhs1 = sequence_data(N, T, D, H, dtype, seed=5)
        xs2, dhs2 = sequence_data(N, T, D, H, dtype, seed=6)
        module = nn_rnn(weights, dtype)
        first = nn_rnn_call(module, xs1, dhs1, np.zeros((N, H), dtype))
        second = nn_rnn_call(module, xs2, dhs2, to_numpy(first[1]))
        ours, theirs = S.TimeRNN(*weights, stateful=True), R.TimeRNN(*weights, stateful=True)
        self.compare(ours, theirs, first, xs1, dhs1, dtype, "call 1")
        self.compare(ours, theirs, second, xs2, dhs2, dtype, "call 2")
        from_zero = nn_rnn_call(module, xs2, dhs2, np.zeros((N, H), dtype))[0]
        assert not np.allclose(to_numpy(second[0]), to_numpy(from_zero))  # the carried state matters
        # reset_state: back to h = 0, as the first call
        ours.reset_state(), theirs.reset_state()
        self.compare(ours, theirs, first, xs1, dhs1, dtype, "after reset_state")
        # set_state: start from the given h (the first call's final state)
        ours.set_state(to_numpy(first[1]).copy()), theirs.set_state(to_numpy(first[1]).copy())
        self.compare(ours, theirs, second, xs2, dhs2, dtype, "after set_state")

    @parameterized.expand(DTYPES)
    def test_set_state_without_stateful_is_ignored_at_forward(self, _, dtype):
        """Not stateful: every forward starts from 0, whatever h was set (like the sequel)."""
        D, H, N, T = 3, 4, 2, 3
        weights = rnn_weights(D, H, dtype)
        xs, dhs = sequence_data(N, T, D, H, dtype)
        expected = nn_rnn_call(nn_rnn(weights, dtype), xs, dhs, np.zeros((N, H), dtype))
        ours, theirs = S.TimeRNN(*weights), R.TimeRNN(*weights)
        h = np.ones((N, H), dtype)
        ours.set_state(h), theirs.set_state(h)
        self.compare(ours, theirs, expected, xs, dhs, dtype, "set_state, not stateful")

    @parameterized.expand(DTYPES)
    def test_two_layers_stacked(self, _, dtype):
        """Two TimeRNNs, the second reading the first's hs, equal nn.RNN(num_layers=2, batch_first=True);
        in the reference the second layer takes the first's output tensor and autograd runs through both."""
        D, H, N, T = 4, 5, 2, 3
        first, second = rnn_weights(D, H, dtype, seed=7), rnn_weights(H, H, dtype, seed=8)
        xs, dhs = sequence_data(N, T, D, H, dtype)
        module = nn.RNN(D, H, num_layers=2, batch_first=True, dtype=torch.from_numpy(xs).dtype)
        torch_module(torch_module(module, first, "_l0"), second, "_l1")
        x = torch.from_numpy(xs).requires_grad_(True)
        hs_t, h_n = module(x)
        hs_t.backward(torch.from_numpy(dhs))
        for backend in (S, R):
            lower, upper = backend.TimeRNN(*first), backend.TimeRNN(*second)
            hs = upper.forward(lower.forward(xs))
            assert_close(hs, hs_t, dtype, what=f"{backend.__name__} hs vs nn.RNN(num_layers=2)")
            for layer, i in ((lower, 0), (upper, 1)):
                assert_close(layer.h, h_n[i], dtype, what=f"{backend.__name__} h_n[{i}]")
            dxs = lower.backward(upper.backward(dhs))
            assert_close(dxs, x.grad, dtype, what=f"{backend.__name__} dxs vs nn.RNN(num_layers=2)")
            for layer, suffix in ((lower, "_l0"), (upper, "_l1")):
                for g, name in zip(GRADS, TORCH_NAMES):
                    assert_close(getattr(layer, g), getattr(module, name + suffix).grad, dtype,
                                 what=f"{backend.__name__} {g}{suffix}")

    @parameterized.expand(DTYPES)
    def test_optimizer_updates_the_weights_in_place(self, _, dtype):
        """An SGD step through the book's ``update(params, grads)`` reaches the weights the next forward uses
        (the reference calls nn.RNN on the layer's own tensors, not on copies)."""
        D, H, N, T = 3, 4, 2, 3
        weights = rnn_weights(D, H, dtype)
        xs, dhs = sequence_data(N, T, D, H, dtype)
        ours, theirs = S.TimeRNN(*[w.copy() for w in weights]), R.TimeRNN(*weights)
        for layer, optimizer in ((ours, S_optimizer.SGD(lr=0.5)), (theirs, R_optimizer.SGD(lr=0.5))):
            layer.forward(xs)
            layer.backward(dhs)
            optimizer.update({name: getattr(layer, name) for name in TORCH_NAMES},
                             {name: getattr(layer, "d" + name) for name in TORCH_NAMES})
        updated = [getattr(ours, name) for name in TORCH_NAMES]
        assert not np.allclose(updated[0], weights[0])
        expected = nn_rnn_call(nn_rnn(updated, dtype), xs, dhs, np.zeros((N, H), dtype))
        for name in TORCH_NAMES:
            assert_close(getattr(ours, name), getattr(theirs, name), dtype, what=f"updated {name}")
        self.compare(ours, theirs, expected, xs, dhs, dtype, "after an SGD step")

    def test_bad_input(self):
        D, H, N, T = 3, 5, 4, 2
        weights = rnn_weights(D, H, np.float64)
        xs = np.zeros((N, T, D))

        def both(call, error, match, stateful=False):
            assert_same_error(lambda: call(S.TimeRNN(*weights, stateful=stateful)),
                              lambda: call(R.TimeRNN(*weights, stateful=stateful)), error, match=match)

        both(lambda layer: layer.forward(xs[0]), ValueError, "xs of shape (n, t, 3) (batch first)")
        both(lambda layer: layer.forward(xs[None]), ValueError, "xs of shape (n, t, 3)")
        both(lambda layer: layer.forward(xs[:, :, :2]), ValueError, "xs of shape (n, t, 3)")
        both(lambda layer: layer.forward(xs[:, :0]), ValueError, "no time steps")
        both(lambda layer: layer.forward(xs[:0]), ValueError, "empty batch")
        both(lambda layer: layer.forward(xs.astype(np.float32)), TypeError, "xs dtype float32")
        both(lambda layer: layer.set_state(np.zeros((N, H + 1))), ValueError, "h must have shape (4, 5)")
        both(lambda layer: layer.set_state(np.zeros(H)), ValueError, "h must have shape (n, 5)")
        both(lambda layer: layer.set_state(np.zeros((N, H), np.float32)), TypeError, "h dtype float32")

        def carried_batch_changes(layer):
            layer.forward(xs)
            layer.forward(xs[:2])
        both(carried_batch_changes, ValueError, "the carried state h must have shape (2, 5)", stateful=True)

        def set_state_batch_differs(layer):
            layer.set_state(np.zeros((N + 1, H)))
            layer.forward(xs)
        both(set_state_batch_differs, ValueError, "must have shape (4, 5)", stateful=True)
        both(lambda layer: layer.backward(np.zeros((N, T, H))), RuntimeError, "before")

        def wrong_dhs(layer):
            layer.forward(xs)
            layer.backward(np.zeros((N, T, H + 1)))
        both(wrong_dhs, ValueError, "does not match")

        def float32_dhs(layer):
            layer.forward(xs)
            layer.backward(np.zeros((N, T, H), np.float32))
        both(float32_dhs, TypeError, "dout dtype float32")
        bad = (weights[0], weights[1][:, :4], weights[2], weights[3])
        assert_same_error(lambda: S.TimeRNN(*bad), lambda: R.TimeRNN(*bad), ValueError, match="needs weight_ih")

    def test_reference_leaves_torch_seed_alone(self):
        """Building the reference (it makes an nn.RNN to call) draws nothing from torch's generator."""
        torch.manual_seed(0)
        before = torch.rand(3)
        torch.manual_seed(0)
        R.TimeRNN(*rnn_weights(3, 4, np.float64))
        torch.testing.assert_close(torch.rand(3), before, rtol=0, atol=0)
