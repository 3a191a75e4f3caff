"""Chapter 8's layers: AvgPooling, GlobalAvgPooling, Subsampling, Tanh, LocalResponseNorm, Concat, Residual.

Identical inputs, parameters and dout go to the NumPy layer (hand-derived
backward) and the PyTorch layer (``F.avg_pool2d``, ``F.adaptive_avg_pool2d``,
``torch.tanh``, ``F.local_response_norm``, ``torch.cat``, ``+`` and autograd);
out, dx and every parameter gradient must agree (float64 to 1e-10, float32 to
1e-5) and keep the input's dtype. The error cases raise the same exception
class in both backends.
"""
import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from parameterized import parameterized

import reference
import scratch
from conftest import DTYPES, assert_close, assert_same_error, make_rng, to_numpy

pytestmark = [pytest.mark.filterwarnings("error"), pytest.mark.usefixtures("one_torch_thread")]

DTYPE_NAMES = [name for name, _ in DTYPES]


def check_all(pairs, dtype):
    """assert_close on (what, NumPy result, PyTorch result) triples, dtype kept."""
    for what, a, e in pairs:
        assert np.asarray(a).dtype == np.dtype(dtype), f"{what} is {np.asarray(a).dtype}, expected {dtype}"
        assert_close(a, e, dtype, what=what)


def run_both(s, r, x, dout_of):
    """Forward both layers on x, backward on the same dout; returns (out, ref_out, dx, ref_dx)."""
    out = s.forward(x.copy())
    ref_out = r.forward(torch.from_numpy(x.copy()))
    dout = dout_of(tuple(ref_out.shape))
    dx = s.backward(dout.copy())
    ref_dx = r.backward(torch.from_numpy(dout.copy()))
    return out, ref_out, dx, ref_dx


def normal(shape, dtype, seed=0):
    return make_rng(seed).standard_normal(shape).astype(dtype)


# ---------------------------------------------------------------- AvgPooling

# (pool_h, pool_w, stride, pad, input shape)
AVG_GEOMETRIES = [
    (2, 2, 2, 0, (4, 3, 6, 8)),   # exact cover
    (2, 2, 2, 0, (1, 1, 7, 9)),   # last row / column in no window
    (2, 2, 2, 1, (4, 3, 6, 8)),   # padding counted in the average
    (3, 3, 2, 0, (1, 3, 7, 9)),   # overlapping windows
    (3, 3, 2, 1, (4, 1, 7, 9)),
    (3, 3, 3, 1, (4, 3, 7, 9)),
    (2, 2, 1, 1, (4, 3, 7, 9)),
    (3, 2, 2, 1, (1, 3, 9, 7)),
    (2, 2, 3, 0, (4, 3, 7, 9)),   # gaps between windows
    (1, 1, 1, 0, (1, 3, 7, 9)),
    (4, 4, 2, 2, (4, 3, 7, 9)),
    (5, 5, 1, 2, (2, 2, 5, 5)),   # GoogLeNet-like "same" pooling
    (2, 3, 1, 1, (1, 1, 7, 9)),
]
AVG_CASES = [(f"{ph}x{pw}_s{s}_p{p}_{'x'.join(map(str, shape))}_{dt}", ph, pw, s, p, shape, dt)
             for (ph, pw, s, p, shape), dt in itertools.product(AVG_GEOMETRIES, DTYPE_NAMES)]


class TestAvgPooling:
    @parameterized.expand(AVG_CASES)
    def test_forward_and_dx(self, _, ph, pw, stride, pad, shape, dtype):
        x = normal(shape, dtype)
        s, r = scratch.AvgPooling(ph, pw, stride, pad), reference.AvgPooling(ph, pw, stride, pad)
        out, ref_out, dx, ref_dx = run_both(s, r, x, lambda sh: normal(sh, dtype, 1))
        expected = F.avg_pool2d(torch.from_numpy(x), (ph, pw), stride, padding=pad)
        assert_close(ref_out, expected, dtype, what="reference is avg_pool2d")
        check_all([("out", out, ref_out), ("dx", dx, ref_dx)], dtype)

    def test_zero_padding_counts_in_the_average(self):
        x = np.ones((1, 1, 2, 2))
        for backend in (scratch, reference):
            out = to_numpy(backend.AvgPooling(2, 2, 2, 1).forward(x))
            np.testing.assert_array_equal(out, np.full((1, 1, 2, 2), 0.25))

    def test_input_and_dout_are_not_modified(self):
        x, dout = normal((2, 2, 6, 6), np.float64), normal((2, 2, 3, 3), np.float64, 1)
        x0, dout0 = x.copy(), dout.copy()
        layer = scratch.AvgPooling(3, 3, 2, 1)
        layer.forward(x)
        layer.backward(dout)
        np.testing.assert_array_equal(x, x0)
        np.testing.assert_array_equal(dout, dout0)


# ---------------------------------------------------------- GlobalAvgPooling

GAP_CASES = [(f"{'x'.join(map(str, shape))}_{dt}", shape, dt)
             for shape, dt in itertools.product([(1, 1, 1, 1), (4, 3, 7, 9), (2, 16, 1, 5), (3, 5, 8, 8)],
                                                DTYPE_NAMES)]


class TestGlobalAvgPooling:
    @parameterized.expand(GAP_CASES)
    def test_forward_and_dx(self, _, shape, dtype):
        x = normal(shape, dtype)
        s, r = scratch.GlobalAvgPooling(), reference.GlobalAvgPooling()
        out, ref_out, dx, ref_dx = run_both(s, r, x, lambda sh: normal(sh, dtype, 1))
        assert tuple(ref_out.shape) == shape[:2]
        assert_close(ref_out, F.adaptive_avg_pool2d(torch.from_numpy(x), 1).flatten(1), dtype,
                     what="reference is adaptive_avg_pool2d")
        check_all([("out", out, ref_out), ("dx", dx, ref_dx)], dtype)
        assert dx.flags.writeable


# --------------------------------------------------------------- Subsampling

# (channels, pool, input shape)
SUB_GEOMETRIES = [(1, 2, (4, 1, 28, 28)), (6, 2, (3, 6, 28, 28)), (16, 2, (2, 16, 10, 10)),
                  (3, 2, (2, 3, 7, 9)),   # the last row and column fill no window
                  (4, 3, (2, 4, 9, 6)), (2, 1, (3, 2, 4, 5)), (5, 4, (1, 5, 8, 11))]
SUB_CASES = [(f"c{c}_pool{p}_{'x'.join(map(str, shape))}_{dt}", c, p, shape, dt)
             for (c, p, shape), dt in itertools.product(SUB_GEOMETRIES, DTYPE_NAMES)]


def set_subsampling_params(s, r, W, b):
    """The same trained coefficient and bias in both layers (the NumPy arrays updated in place)."""
    s.W[...], s.b[...] = W, b
    with torch.no_grad():
        r.W.copy_(torch.from_numpy(W))
        r.b.copy_(torch.from_numpy(b))


class TestSubsampling:
    @parameterized.expand(SUB_CASES)
    def test_forward_and_gradients(self, _, channels, pool, shape, dtype):
        x = normal(shape, dtype)
        s, r = scratch.Subsampling(channels, pool, dtype=dtype), reference.Subsampling(channels, pool, dtype=dtype)
        W, b = normal(channels, dtype, 2), normal(channels, dtype, 3)
        set_subsampling_params(s, r, W, b)
        out, ref_out, dx, ref_dx = run_both(s, r, x, lambda sh: normal(sh, dtype, 1))
        expected = F.avg_pool2d(torch.from_numpy(x), pool) * torch.from_numpy(W)[:, None, None] \
            + torch.from_numpy(b)[:, None, None]
        assert_close(ref_out, expected, dtype, what="reference")
        check_all([("out", out, ref_out), ("dx", dx, ref_dx), ("dW", s.dW, r.dW), ("db", s.db, r.db)], dtype)
        assert s.dW.shape == s.db.shape == (channels,)

    @parameterized.expand(DTYPES)
    def test_starts_as_a_plain_average(self, _, dtype):
        x = normal((2, 3, 6, 6), dtype)
        for backend in (scratch, reference):
            layer = backend.Subsampling(3, dtype=dtype)
            assert to_numpy(layer.W).dtype == to_numpy(layer.b).dtype == np.dtype(dtype)
            assert_close(to_numpy(layer.forward(x)), F.avg_pool2d(torch.from_numpy(x), 2), dtype)

    def test_docstring_says_it_is_not_random(self):
        doc = scratch.Subsampling.__doc__
        assert "random" in doc and "trained coefficient" in doc and "sigmoid" in doc
        assert "not random" in reference.Subsampling.__doc__


# ---------------------------------------------------------------------- Tanh

TANH_CASES = [(f"{'x'.join(map(str, shape))}_{dt}", shape, dt)
              for shape, dt in itertools.product([(3, 4), (2, 3, 5, 5), (7,)], DTYPE_NAMES)]


class TestTanh:
    @parameterized.expand(TANH_CASES)
    def test_forward_and_dx(self, _, shape, dtype):
        x = (3 * normal(shape, dtype)).astype(dtype)  # some saturated values
        out, ref_out, dx, ref_dx = run_both(scratch.Tanh(), reference.Tanh(), x, lambda sh: normal(sh, dtype, 1))
        check_all([("out", out, ref_out), ("dx", dx, ref_dx)], dtype)

    def test_saturates_without_nan(self):
        x = np.array([[-1e4, -30.0, 0.0, 30.0, 1e4, np.inf, -np.inf]])
        results = []
        for backend in (scratch, reference):
            layer = backend.Tanh()
            out = to_numpy(layer.forward(x.copy()))
            results.append((out, to_numpy(layer.backward(np.ones_like(x)))))
        np.testing.assert_array_equal(results[0][0], results[1][0])
        np.testing.assert_allclose(results[0][1], results[1][1], rtol=0, atol=1e-15)


# --------------------------------------------------------- LocalResponseNorm

# (size, alpha, beta, k, input shape)
LRN_GEOMETRIES = [
    (5, 1e-4, 0.75, 1.0, (2, 8, 5, 5)),     # the defaults
    (5, 1e-4, 0.75, 2.0, (2, 8, 5, 5)),     # AlexNet's k
    (5, 1.0, 0.75, 2.0, (2, 8, 5, 5)),      # a large alpha: the normalization matters
    (1, 0.5, 0.5, 1.0, (3, 4, 3, 3)),
    (2, 0.5, 0.75, 1.0, (3, 4, 3, 3)),      # even size: the window is not symmetric
    (3, 2.0, 0.75, 1.0, (2, 6, 4, 3)),
    (4, 1.0, 1.0, 0.5, (2, 7, 3, 4)),
    (7, 0.8, 0.6, 1.5, (2, 5, 3, 3)),       # window wider than the channels
    (9, 1.0, 0.75, 1.0, (1, 1, 4, 4)),      # one channel
    (3, 1.0, 0.75, 1.0, (4, 6, 10)),        # 3-D input (N, C, L)
    (4, 0.7, 0.75, 1.0, (2, 5, 3, 2, 2)),   # 5-D input
]
LRN_CASES = [(f"size{n}_a{a:g}_b{b:g}_k{k:g}_{'x'.join(map(str, shape))}_{dt}", n, a, b, k, shape, dt)
             for (n, a, b, k, shape), dt in itertools.product(LRN_GEOMETRIES, DTYPE_NAMES)]


class TestLocalResponseNorm:
    @parameterized.expand(LRN_CASES)
    def test_forward_and_dx(self, _, size, alpha, beta, k, shape, dtype):
        x = (2 * normal(shape, dtype)).astype(dtype)
        s, r = scratch.LocalResponseNorm(size, alpha, beta, k), reference.LocalResponseNorm(size, alpha, beta, k)
        out, ref_out, dx, ref_dx = run_both(s, r, x, lambda sh: normal(sh, dtype, 1))
        assert_close(ref_out, F.local_response_norm(torch.from_numpy(x), size, alpha, beta, k), dtype,
                     what="reference is local_response_norm")
        check_all([("out", out, ref_out), ("dx", dx, ref_dx)], dtype)

    def test_the_formula_of_the_docstring(self):
        """alpha is divided by size; the window runs from c - size//2 to c + (size-1)//2."""
        rng = make_rng(7)
        x = rng.standard_normal((2, 6, 3, 3))
        size, alpha, beta, k = 4, 0.9, 0.75, 1.3
        expected = np.empty_like(x)
        for c in range(6):
            lo, hi = max(0, c - size // 2), min(6, c + (size - 1) // 2 + 1)
            d = k + alpha / size * (x[:, lo:hi] ** 2).sum(axis=1)
            expected[:, c] = x[:, c] / d ** beta
        for backend in (scratch, reference):
            out = backend.LocalResponseNorm(size, alpha, beta, k).forward(x)
            assert_close(to_numpy(out), expected, np.float64)


# -------------------------------------------------------------------- Concat

# (axis, input shapes)
CONCAT_GEOMETRIES = [
    (1, [(2, 3, 4, 4), (2, 5, 4, 4), (2, 1, 4, 4), (2, 2, 4, 4)]),  # an inception block's four branches
    (1, [(3, 2, 5, 5)]),
    (0, [(2, 3), (4, 3)]),
    (-1, [(2, 3, 2), (2, 3, 4)]),
    (2, [(1, 2, 3, 4), (1, 2, 1, 4)]),
    (1, [(2, 0, 3, 3), (2, 4, 3, 3)]),  # a branch with no channels
]
CONCAT_CASES = [(f"axis{axis}_{len(shapes)}inputs_{i}_{dt}", axis, shapes, dt)
                for i, (axis, shapes) in enumerate(CONCAT_GEOMETRIES) for dt in DTYPE_NAMES]


class TestConcat:
    @parameterized.expand(CONCAT_CASES)
    def test_forward_and_split_gradients(self, _, axis, shapes, dtype):
        xs = [normal(shape, dtype, i) for i, shape in enumerate(shapes)]
        s, r = scratch.Concat(axis), reference.Concat(axis)
        out = s.forward(*[x.copy() for x in xs])
        ref_out = r.forward(*[torch.from_numpy(x.copy()) for x in xs])
        dout = normal(tuple(ref_out.shape), dtype, 9)
        dxs, ref_dxs = s.backward(dout.copy()), r.backward(torch.from_numpy(dout.copy()))
        assert isinstance(dxs, tuple) and len(dxs) == len(ref_dxs) == len(xs)
        check_all([("out", out, ref_out)] + [(f"dx{i}", a, e) for i, (a, e) in enumerate(zip(dxs, ref_dxs))],
                  dtype)
        for x, dx in zip(xs, dxs):
            assert dx.shape == x.shape

    def test_one_input_passed_twice_gets_a_gradient_for_each(self):
        x = normal((2, 3, 2, 2), np.float64)
        dout = normal((2, 6, 2, 2), np.float64, 1)
        for backend in (scratch, reference):
            layer = backend.Concat()
            t = torch.from_numpy(x) if backend is reference else x
            layer.forward(t, t)
            dx0, dx1 = layer.backward(dout)
            np.testing.assert_array_equal(to_numpy(dx0), dout[:, :3])
            np.testing.assert_array_equal(to_numpy(dx1), dout[:, 3:])

    def test_gradients_are_not_views_of_dout(self):
        layer = scratch.Concat()
        layer.forward(np.zeros((1, 1, 2)), np.zeros((1, 2, 2)))
        dout = np.ones((1, 3, 2))
        for dx in layer.backward(dout):
            assert not np.shares_memory(dx, dout)


# ------------------------------------------------------------------ Residual

RES_CASES = [(f"{'x'.join(map(str, shape))}_{dt}", shape, dt)
             for shape, dt in itertools.product([(2, 3, 4, 4), (5, 7), (1, 16, 8, 8)], DTYPE_NAMES)]


class TestResidual:
    @parameterized.expand(RES_CASES)
    def test_forward_and_gradients(self, _, shape, dtype):
        x, shortcut = normal(shape, dtype), normal(shape, dtype, 1)
        s, r = scratch.Residual(), reference.Residual()
        out = s.forward(x.copy(), shortcut.copy())
        ref_out = r.forward(torch.from_numpy(x.copy()), torch.from_numpy(shortcut.copy()))
        dout = normal(shape, dtype, 2)
        (dx, ds), (ref_dx, ref_ds) = s.backward(dout.copy()), r.backward(torch.from_numpy(dout.copy()))
        check_all([("out", out, ref_out), ("dx", dx, ref_dx), ("dshortcut", ds, ref_ds)], dtype)
        np.testing.assert_array_equal(dx, dout)
        np.testing.assert_array_equal(ds, dout)

    def test_identity_shortcut_of_the_same_array(self):
        x = normal((2, 3), np.float64)
        dout = normal((2, 3), np.float64, 1)
        for backend in (scratch, reference):
            layer = backend.Residual()
            t = torch.from_numpy(x) if backend is reference else x
            layer.forward(t, t)
            for g in layer.backward(dout):
                np.testing.assert_array_equal(to_numpy(g), dout)


    @parameterized.expand(DTYPE_NAMES)
    def test_gradients_are_two_copies_not_views_of_dout(self, dtype):
        """The two branches get their own arrays: a layer below that works in place on its dout
        (as ReLU's backward may) must not change the other branch's gradient or the caller's dout."""
        layer = scratch.Residual()
        shape = (2, 3, 4, 4)
        layer.forward(normal(shape, dtype), normal(shape, dtype, 1))
        dout = normal(shape, dtype, 2)
        kept = dout.copy()
        dx, dshortcut = layer.backward(dout)
        assert dx is not dshortcut and not np.shares_memory(dx, dshortcut)
        for g in (dx, dshortcut):
            assert not np.shares_memory(g, dout)
        dx[...] = 0
        np.testing.assert_array_equal(dshortcut, kept)
        np.testing.assert_array_equal(dout, kept)


# -------------------------------------------------------------------- errors

def both(make_and_call):
    return (lambda: make_and_call(scratch), lambda: make_and_call(reference))


def image(shape=(2, 3, 6, 6), dtype=np.float64):
    return normal(shape, dtype)


# name -> (make layer, call forward with good input)
LAYERS = {
    "AvgPooling": (lambda b: b.AvgPooling(2, 2, 2), lambda layer, x: layer.forward(x), (2, 3, 6, 6)),
    "GlobalAvgPooling": (lambda b: b.GlobalAvgPooling(), lambda layer, x: layer.forward(x), (2, 3, 6, 6)),
    "Subsampling": (lambda b: b.Subsampling(3), lambda layer, x: layer.forward(x), (2, 3, 6, 6)),
    "Tanh": (lambda b: b.Tanh(), lambda layer, x: layer.forward(x), (2, 3, 6, 6)),
    "LocalResponseNorm": (lambda b: b.LocalResponseNorm(3), lambda layer, x: layer.forward(x), (2, 3, 6, 6)),
    "Concat": (lambda b: b.Concat(), lambda layer, x: layer.forward(x, x[:, :1].copy()), (2, 3, 6, 6)),
    "Residual": (lambda b: b.Residual(), lambda layer, x: layer.forward(x, x[::-1].copy()), (2, 3, 6, 6)),
}
BATCH_LAYERS = ["AvgPooling", "GlobalAvgPooling", "Subsampling", "LocalResponseNorm"]


class TestErrors:
    @parameterized.expand([(name,) for name in LAYERS])
    def test_backward_before_forward_is_a_runtime_error(self, name):
        make, _, _ = LAYERS[name]
        assert_same_error(*both(lambda b: make(b).backward(np.ones((2, 3)))), RuntimeError,
                          match="backward called before")

    @parameterized.expand([(name,) for name in LAYERS])
    def test_a_dout_of_another_shape_is_never_broadcast(self, name):
        make, forward, shape = LAYERS[name]

        def call(backend):
            layer = make(backend)
            out = forward(layer, image(shape))
            layer.backward(np.ones(tuple(out.shape)[-1:]))
        assert_same_error(*both(call), ValueError, match="does not match the forward output shape")

    @parameterized.expand([(name,) for name in BATCH_LAYERS])
    def test_an_empty_batch_is_refused(self, name):
        make, forward, shape = LAYERS[name]
        assert_same_error(*both(lambda b: forward(make(b), np.zeros((0,) + shape[1:]))), ValueError,
                          match="empty batch")

    @parameterized.expand([(name,) for name in LAYERS if name != "Tanh"])
    def test_integer_input_is_refused(self, name):
        make, forward, shape = LAYERS[name]
        assert_same_error(*both(lambda b: forward(make(b), np.zeros(shape, np.int64))), TypeError,
                          match="floating")

    @parameterized.expand([
        ("AvgPooling_not_4d", lambda b: b.AvgPooling(2, 2).forward(np.zeros((3, 6, 6))), ValueError, "4-d"),
        ("AvgPooling_window_does_not_fit", lambda b: b.AvgPooling(3, 3, 1).forward(np.zeros((1, 1, 2, 6))),
         ValueError, "does not fit"),
        ("AvgPooling_pad_more_than_half", lambda b: b.AvgPooling(2, 2, 2, 2), ValueError, "at most half"),
        ("AvgPooling_stride_zero", lambda b: b.AvgPooling(2, 2, 0), ValueError, ">= 1"),
        ("AvgPooling_pool_not_integer", lambda b: b.AvgPooling(2.5, 2), TypeError, "integer"),
        ("GlobalAvgPooling_not_4d", lambda b: b.GlobalAvgPooling().forward(np.zeros((2, 3, 4))), ValueError, "4-d"),
        ("GlobalAvgPooling_no_pixels", lambda b: b.GlobalAvgPooling().forward(np.zeros((2, 3, 0, 4))),
         ValueError, "does not fit"),
        ("Subsampling_wrong_channels", lambda b: b.Subsampling(4).forward(image()), ValueError, "channels"),
        ("Subsampling_dtype_mismatch", lambda b: b.Subsampling(3).forward(image(dtype=np.float32)),
         TypeError, "dtype"),
        ("Subsampling_pool_does_not_fit", lambda b: b.Subsampling(3, 7).forward(image()), ValueError,
         "does not fit"),
        ("Subsampling_not_4d", lambda b: b.Subsampling(3).forward(np.zeros((3, 6, 6))), ValueError, "4-d"),
        ("Subsampling_zero_channels", lambda b: b.Subsampling(0), ValueError, "channels"),
        ("Subsampling_zero_pool", lambda b: b.Subsampling(3, 0), ValueError, ">= 1"),
        ("Subsampling_integer_dtype", lambda b: b.Subsampling(3, dtype="int64"), TypeError, "floating"),
        ("LocalResponseNorm_2d_input", lambda b: b.LocalResponseNorm(3).forward(np.zeros((2, 3))), ValueError,
         "3 or more dimensions"),
        ("LocalResponseNorm_size_zero", lambda b: b.LocalResponseNorm(0), ValueError, "size"),
        ("LocalResponseNorm_size_float", lambda b: b.LocalResponseNorm(2.0), ValueError, "size"),
        ("LocalResponseNorm_alpha_string", lambda b: b.LocalResponseNorm(3, alpha="1"), TypeError, "alpha"),
        ("Concat_no_inputs", lambda b: b.Concat().forward(), ValueError, "at least one"),
        ("Concat_other_sizes", lambda b: b.Concat().forward(np.zeros((2, 3, 4, 4)), np.zeros((2, 3, 4, 5))),
         ValueError, "except along axis"),
        ("Concat_other_batch", lambda b: b.Concat().forward(np.zeros((2, 3)), np.zeros((3, 3))),
         ValueError, "except along axis"),
        ("Concat_other_ndim", lambda b: b.Concat().forward(np.zeros((2, 3, 4)), np.zeros((2, 3))),
         ValueError, "dimensions"),
        ("Concat_axis_out_of_range", lambda b: b.Concat(2).forward(np.zeros((2, 3)), np.zeros((2, 3))),
         ValueError, "out of range"),
        ("Concat_0d", lambda b: b.Concat(0).forward(np.zeros(()), np.zeros(())), ValueError, "0-d"),
        ("Concat_dtypes_differ", lambda b: b.Concat().forward(np.zeros((2, 3)), np.zeros((2, 3), np.float32)),
         TypeError, "dtypes"),
        ("Concat_axis_not_integer", lambda b: b.Concat(1.0), TypeError, "integer"),
        ("Residual_shapes_differ", lambda b: b.Residual().forward(np.zeros((2, 3)), np.zeros((2, 1))),
         ValueError, "differ"),
        ("Residual_dtypes_differ", lambda b: b.Residual().forward(np.zeros((2, 3)), np.zeros((2, 3), np.float32)),
         TypeError, "float32"),
    ])
    def test_rejects(self, _, call, error, match):
        assert_same_error(*both(call), error, match=match)

    def test_subsampling_rejects_dout_of_another_dtype(self):
        def call(backend):
            layer = backend.Subsampling(3)
            layer.forward(image())
            layer.backward(np.zeros((2, 3, 3, 3), np.float32))
        assert_same_error(*both(call), TypeError, match="dtype")
