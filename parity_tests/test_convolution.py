"""Convolution and Pooling (7.4): NumPy layers against ``F.conv2d`` / ``F.max_pool2d`` + autograd.

Identical inputs, weights and dout go to both backends; out, dx, dW, db must
agree (float64 to ~1e-10, float32 to ~1e-5) and keep the input's dtype. Every
parity test runs the readable layers (``scratch.convolution``) and the fast
ones (``scratch.fast.convolution``). Pooling is checked where the book and
PyTorch can disagree: ties (zeros after ReLU, repeated values), NaN, -inf,
overlapping windows, padding.
"""
import itertools
import unittest

import numpy as np
import torch
import torch.nn.functional as F
from parameterized import parameterized

import reference.convolution as R
import scratch.convolution as S
import scratch.fast.convolution as FAST
from conftest import assert_close, to_numpy

KERNELS = [(1, 1), (3, 3), (5, 5), (3, 2)]
BATCH_CHANNELS = [(1, 1), (4, 3), (1, 3), (4, 1)]
GEOMETRIES = [(kh, kw, s, p) for (kh, kw), s, p in itertools.product(KERNELS, (1, 2, 3), (0, 1, 2))]
CONV_CASES = [(f"k{kh}x{kw}_s{s}_p{p}_n{n}_c{c}_fn{fn}_{dtype}", (n, c, 7, 9), fn, kh, kw, s, p, dtype)
              for i, (kh, kw, s, p) in enumerate(GEOMETRIES)
              for (n, c), fn in [(BATCH_CHANNELS[i % 4], 1 + i % 3)]
              for dtype in ("float64", "float32")]
CONV_CASES += [(f"{name}_{dtype}", shape, fn, kh, kw, s, p, dtype)
               for name, shape, fn, kh, kw, s, p in [
                   ("mnist_like", (4, 1, 28, 28), 6, 5, 5, 1, 0),
                   ("kernel_is_whole_input", (2, 3, 7, 9), 4, 7, 9, 1, 0),
                   ("many_channels", (2, 8, 6, 5), 5, 3, 3, 1, 1),
                   ("stride_larger_than_kernel", (3, 2, 9, 7), 2, 2, 3, 4, 1)]
               for dtype in ("float64", "float32")]

# (pool_h, pool_w, stride, pad, input shape)
POOL_GEOMETRIES = [
    (2, 2, 2, 0, (4, 3, 6, 8)),   # stride == pool, exact cover: the fast path
    (2, 2, 2, 0, (1, 1, 7, 9)),   # last row / column belongs to no window
    (2, 2, 2, 1, (4, 3, 6, 8)),
    (3, 3, 2, 0, (1, 3, 7, 9)),   # overlapping windows
    (3, 3, 2, 1, (4, 1, 7, 9)),
    (3, 3, 3, 1, (4, 3, 7, 9)),
    (3, 3, 1, 1, (2, 3, 7, 9)),   # GoogLeNet's inception pool: every pixel in nine windows
    (2, 2, 1, 0, (1, 1, 7, 9)),
    (2, 2, 1, 1, (4, 3, 7, 9)),
    (3, 2, 2, 1, (1, 3, 9, 7)),
    (3, 2, 3, 0, (4, 1, 7, 9)),
    (2, 2, 3, 0, (4, 3, 7, 9)),   # gaps between windows
    (1, 1, 1, 0, (1, 3, 7, 9)),
    (1, 1, 2, 0, (4, 1, 7, 9)),
    (4, 4, 2, 2, (4, 3, 7, 9)),
    (2, 3, 1, 1, (1, 1, 7, 9)),
]
INPUTS = ["normal", "relu", "zeros", "repeated", "nan", "minus_inf", "specials"]
POOL_CASES = [(f"{ph}x{pw}_s{s}_p{p}_{'x'.join(map(str, shape))}_{kind}_{dtype}", ph, pw, s, p, shape, kind, dtype)
              for (ph, pw, s, p, shape), kind, dtype in itertools.product(POOL_GEOMETRIES, INPUTS,
                                                                          ("float64", "float32"))]



def pool_input(kind, shape, dtype, rng):
    """Test inputs for max pooling, many of them full of ties."""
    if kind == "normal":
        x = rng.standard_normal(shape)
    elif kind == "relu":  # about half zeros: windows of tied zeros
        x = np.maximum(rng.standard_normal(shape), 0)
    elif kind == "zeros":
        x = np.zeros(shape)
    elif kind == "repeated":
        x = rng.integers(-1, 2, shape).astype(float)
    elif kind == "nan":
        x = rng.integers(0, 3, shape).astype(float)
        x[rng.random(shape) < 0.2] = np.nan
    elif kind == "minus_inf":
        x = np.full(shape, -np.inf)
    else:  # a mix of everything
        x = rng.integers(-1, 2, shape).astype(float)
        x[rng.random(shape) < 0.3] = -np.inf
        x[rng.random(shape) < 0.1] = np.inf
        x[rng.random(shape) < 0.1] = np.nan
    return x.astype(dtype)


SCRATCH = (S, FAST)  # the readable layers and the fast ones: both must match PyTorch


def readable_leaves_it_to_fast(module, pad, kind):
    """The one case the readable Pooling documents it leaves to the fast one: with padding, a window
    whose real pixels are all -inf (PyTorch: its first real pixel gets the gradient; argmax: the padding)."""
    return module is S and pad > 0 and kind in ("minus_inf", "specials")


def run_both(scratch_layer, reference_layer, x, dout):
    out = scratch_layer.forward(x.copy())
    ref_out = reference_layer.forward(torch.from_numpy(x.copy()))
    dx = scratch_layer.backward(dout.copy())
    ref_dx = reference_layer.backward(torch.from_numpy(dout.copy()))
    return out, ref_out, dx, ref_dx


class TestConvolutionParity(unittest.TestCase):
    @parameterized.expand(CONV_CASES)
    def test_forward_and_gradients(self, _, shape, fn, kh, kw, stride, pad, dtype):
        rng = np.random.default_rng(0)
        x = rng.standard_normal(shape).astype(dtype)
        W = rng.standard_normal((fn, shape[1], kh, kw)).astype(dtype)
        b = rng.standard_normal(fn).astype(dtype)
        out_shape = tuple(F.conv2d(torch.from_numpy(x), torch.from_numpy(W), None, stride, pad).shape)
        dout = rng.standard_normal(out_shape).astype(dtype)
        for module in SCRATCH:
            s, r = module.Convolution(W, b, stride, pad), R.Convolution(W, b, stride, pad)
            out, ref_out, dx, ref_dx = run_both(s, r, x, dout)
            for what, a, e in [("out", out, ref_out), ("dx", dx, ref_dx), ("dW", s.dW, r.dW), ("db", s.db, r.db)]:
                self.assertEqual(a.dtype, np.dtype(dtype), what)
                assert_close(a, e, dtype, what=f"{module.__name__} {what}")
            self.assertEqual(s.dW.shape, W.shape)

    @parameterized.expand([("float64",), ("float32",)])
    def test_need_dx_false_skips_dx(self, dtype):
        rng = np.random.default_rng(1)
        x = rng.standard_normal((3, 2, 8, 7)).astype(dtype)
        W, b = rng.standard_normal((4, 2, 3, 3)).astype(dtype), rng.standard_normal(4).astype(dtype)
        dout = rng.standard_normal((3, 4, 4, 4)).astype(dtype)
        for module in SCRATCH:
            s, r = module.Convolution(W, b, 2, 1), R.Convolution(W, b, 2, 1)
            s.need_dx = r.need_dx = False
            out, ref_out, dx, ref_dx = run_both(s, r, x, dout)
            self.assertIsNone(dx)
            self.assertIsNone(ref_dx)
            assert_close(out, ref_out, dtype, what="out")
            assert_close(s.dW, r.dW, dtype, what="dW")
            assert_close(s.db, r.db, dtype, what="db")

    def test_non_contiguous_input_and_dout(self):
        rng = np.random.default_rng(2)
        x = rng.standard_normal((7, 9, 4, 3)).transpose(2, 3, 0, 1)
        W, b = rng.standard_normal((5, 3, 3, 2)), rng.standard_normal(5)
        dout = rng.standard_normal((5, 5, 4, 8)).transpose(2, 0, 1, 3)
        for module in SCRATCH:
            s, r = module.Convolution(W, b, 1, 0), R.Convolution(W, b, 1, 0)
            out, ref_out, dx, ref_dx = (s.forward(x), r.forward(torch.from_numpy(x.copy())),
                                        s.backward(dout), r.backward(torch.from_numpy(dout.copy())))
            assert_close(out, ref_out, np.float64, what="out")
            assert_close(dx, ref_dx, np.float64, what="dx")
            assert_close(s.dW, r.dW, np.float64, what="dW")

    @parameterized.expand([(f"{name}_{dtype}", shape, fn, k, stride, pad, dtype)
                           for name, shape, fn, k, stride, pad in [
                               ("transposed_conv_dx", (7, 3, 9, 8), 4, 3, 1, 1),
                               ("col2im_dx", (5, 6, 10, 10), 16, 5, 1, 0),
                               ("strided", (6, 2, 9, 9), 3, 3, 2, 1),
                               ("pointwise", (6, 4, 7, 7), 3, 1, 1, 0)]
                           for dtype in ("float64", "float32")])
    def test_chunked_passes_equal_torch_and_reuse_their_buffers(self, _, shape, fn, k, stride, pad, dtype):
        """The fast layer's batch split into parts of col (CHUNK_BYTES made tiny: one or two images
        a part), then the same layer given a smaller batch and the first one again: its reused
        buffers must never leak values from an earlier pass."""
        rng = np.random.default_rng(3)
        W, b = rng.standard_normal((fn, shape[1], k, k)).astype(dtype), rng.standard_normal(fn).astype(dtype)
        s, r = FAST.Convolution(W, b, stride, pad), R.Convolution(W, b, stride, pad)
        original = FAST.CHUNK_BYTES
        FAST.CHUNK_BYTES = 2000
        try:
            for n in (shape[0], 2, shape[0]):
                x = rng.standard_normal((n,) + shape[1:]).astype(dtype)
                out_shape = tuple(F.conv2d(torch.from_numpy(x), torch.from_numpy(W), None, stride, pad).shape)
                dout = rng.standard_normal(out_shape).astype(dtype)
                out, ref_out, dx, ref_dx = run_both(s, r, x, dout)
                for what, a, e in [("out", out, ref_out), ("dx", dx, ref_dx), ("dW", s.dW, r.dW)]:
                    assert_close(a, e, dtype, what=f"{what} (chunked) batch {n}")
            self.assertGreater(len(list(FAST._image_chunks(shape[0], 81, 4 * shape[1] * k * k))), 1)
        finally:
            FAST.CHUNK_BYTES = original

    @parameterized.expand([("pointwise", 1, 0), ("3x3", 3, 1)])
    def test_inputs_are_never_written(self, _, k, pad):
        """col is refilled by the next pass and a 1x1 filter's col is x itself: the next forward
        pass must never write into an earlier input (a network's other paths still read it)."""
        rng = np.random.default_rng(7)
        W, b = rng.standard_normal((5, 4, k, k)), rng.standard_normal(4 + 1)
        layer = FAST.Convolution(W, b, 1, pad)
        channel_major = [np.ascontiguousarray(rng.standard_normal((4, 3, 6, 6))).transpose(1, 0, 2, 3)
                         for _ in range(2)]
        kept = [x.copy() for x in channel_major]
        out_first = layer.forward(channel_major[0]).copy()
        layer.forward(channel_major[1])
        layer.backward(np.ones((3, 5, 6, 6)))
        for x, copy in zip(channel_major, kept):
            np.testing.assert_array_equal(x, copy)
        np.testing.assert_array_equal(layer.forward(channel_major[0]), out_first)

    def test_parameters_are_shared_not_copied(self):
        """An optimizer updating W in place must change what the layer computes (like the book)."""
        for module in SCRATCH:
            W, b = np.ones((1, 1, 2, 2)), np.zeros(1)
            conv = module.Convolution(W, b)
            x = np.ones((1, 1, 2, 2))
            self.assertEqual(conv.forward(x).item(), 4.0)
            W *= 2
            self.assertEqual(conv.forward(x).item(), 8.0)


class TestPoolingParity(unittest.TestCase):
    @parameterized.expand(POOL_CASES)
    def test_forward_and_dx(self, _, ph, pw, stride, pad, shape, kind, dtype):
        rng = np.random.default_rng(3)
        x = pool_input(kind, shape, dtype, rng)
        out_shape = tuple(F.max_pool2d(torch.from_numpy(x), (ph, pw), stride, padding=pad).shape)
        dout = rng.standard_normal(out_shape).astype(dtype)
        for module in SCRATCH:
            s, r = module.Pooling(ph, pw, stride, pad), R.Pooling(ph, pw, stride, pad)
            out, ref_out, dx, ref_dx = run_both(s, r, x, dout)
            self.assertEqual(out.dtype, np.dtype(dtype))
            self.assertEqual(dx.dtype, np.dtype(dtype))
            np.testing.assert_array_equal(out, to_numpy(ref_out))  # a max is exact; NaN where NaN
            if readable_leaves_it_to_fast(module, pad, kind):
                continue
            if stride >= ph and stride >= pw:  # no overlap: each dx entry is one dout value or 0
                np.testing.assert_array_equal(dx, to_numpy(ref_dx), err_msg=module.__name__)
            else:
                assert_close(dx, ref_dx, dtype, what=f"{module.__name__} dx")

    @parameterized.expand([(f"{ph}x{pw}_s{s}_p{p}", ph, pw, s, p, shape)
                           for ph, pw, s, p, shape in POOL_GEOMETRIES[:6]])
    def test_non_finite_dout_reaches_only_the_maximum(self, _, ph, pw, stride, pad, shape):
        """inf * 0 is NaN: a dout of inf must not leak NaN into the other pixels of its window."""
        rng = np.random.default_rng(5)
        x = pool_input("relu", shape, "float32", rng)
        out_shape = tuple(F.max_pool2d(torch.from_numpy(x), (ph, pw), stride, padding=pad).shape)
        dout = rng.standard_normal(out_shape).astype(np.float32)
        dout[rng.random(out_shape) < 0.2] = np.inf
        dout[rng.random(out_shape) < 0.1] = np.nan
        for module in SCRATCH:
            s, r = module.Pooling(ph, pw, stride, pad), R.Pooling(ph, pw, stride, pad)
            _, _, dx, ref_dx = run_both(s, r, x, dout)
            dx, ref_dx = to_numpy(dx), to_numpy(ref_dx)
            finite = np.isfinite(ref_dx)
            self.assertTrue(np.any(~finite))
            np.testing.assert_array_equal(np.where(finite, 0, dx), np.where(finite, 0, ref_dx))  # same NaN, +-inf
            assert_close(dx[finite], ref_dx[finite], np.float32, what=f"{module.__name__} finite dx")

    def test_ties_go_to_the_first_maximum_in_row_major_order(self):
        """All-zero windows (ReLU output): PyTorch sends each gradient to the window's top-left."""
        x = np.zeros((1, 1, 4, 4), dtype=np.float32)
        x[0, 0, 2:, 2:] = [[5, 7], [7, 5]]  # two equal maxima: the first in row-major order wins
        dout = np.array([[[[1, 2], [3, 4]]]], dtype=np.float32)
        expected = np.zeros((1, 1, 4, 4), dtype=np.float32)
        expected[0, 0, 0, 0], expected[0, 0, 0, 2], expected[0, 0, 2, 0], expected[0, 0, 2, 3] = 1, 2, 3, 4
        for module in (S, FAST, R):
            layer = module.Pooling(2, 2, 2)
            layer.forward(x)
            np.testing.assert_array_equal(to_numpy(layer.backward(dout)), expected, err_msg=module.__name__)

    def test_nan_window_sends_gradient_to_its_last_nan(self):
        x = np.array([[[[np.nan, 1, 9, 0], [np.nan, np.nan, 0, 0]]]])
        expected = np.array([[[[0, 0, 2, 0], [0, 1, 0, 0]]]], dtype=float)
        for module in (S, FAST, R):
            layer = module.Pooling(2, 2, 2)
            out = to_numpy(layer.forward(x))
            np.testing.assert_array_equal(out, [[[[np.nan, 9]]]])
            np.testing.assert_array_equal(to_numpy(layer.backward(np.array([[[[1.0, 2.0]]]]))), expected)

    def test_padding_is_minus_infinity_not_zero(self):
        """The book pads with 0, which would beat these negative inputs."""
        x = -np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
        for module in (S, FAST, R):
            out = to_numpy(module.Pooling(2, 2, 2, 1).forward(x))
            np.testing.assert_array_equal(out, [[[[-1, -2], [-4, -5]]]])

    def test_overlapping_windows_add_their_gradients(self):
        x = np.zeros((1, 1, 3, 3))
        x[0, 0, 1, 1] = 1  # the maximum of all four 2x2 windows at stride 1
        for module in (S, FAST, R):
            layer = module.Pooling(2, 2, 1)
            layer.forward(x)
            dx = to_numpy(layer.backward(np.ones((1, 1, 2, 2))))
            self.assertEqual(dx[0, 0, 1, 1], 4.0)
            self.assertEqual(dx.sum(), 4.0)

    def test_input_and_dout_are_not_modified(self):
        rng = np.random.default_rng(4)
        x, dout = rng.standard_normal((2, 2, 6, 6)), rng.standard_normal((2, 2, 3, 3))
        x0, dout0 = x.copy(), dout.copy()
        for module in SCRATCH:
            layer = module.Pooling(3, 3, 2, 1)
            layer.forward(x)
            layer.backward(dout)
            np.testing.assert_array_equal(x, x0)
            np.testing.assert_array_equal(dout, dout0)

    @parameterized.expand([(f"{ph}x{pw}_s{s}_p{p}", ph, pw, s, p) for ph, pw, s, p in
                           [(2, 2, 2, 0), (3, 3, 1, 1), (3, 3, 2, 1), (2, 3, 1, 0)]])
    def test_memory_layout_does_not_change_the_numbers(self, _, ph, pw, stride, pad):
        """A convolution's output is channel-major in memory; dout may be any view: the same dx, bit for bit."""
        rng = np.random.default_rng(6)
        x = np.maximum(rng.standard_normal((3, 4, 9, 8)), 0).astype(np.float32)  # ties, as after ReLU
        channel_major = np.ascontiguousarray(x.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
        for module in SCRATCH:
            plain = module.Pooling(ph, pw, stride, pad)
            out = plain.forward(x)
            dout = rng.standard_normal(out.shape).astype(np.float32)
            dx = plain.backward(dout)
            other = module.Pooling(ph, pw, stride, pad)
            np.testing.assert_array_equal(other.forward(channel_major), out)
            transposed_dout = np.asfortranarray(dout)
            np.testing.assert_array_equal(other.backward(transposed_dout), dx)

    def test_pytorch_still_breaks_ties_this_way(self):
        """Guards the claim the scratch implementation copies: first maximum, last NaN."""
        x = torch.tensor([[[[0.0, 0, 1, 1], [0, 0, np.nan, np.nan]]]])
        _, indices = F.max_pool2d(x, 2, 2, return_indices=True)
        self.assertEqual(indices.flatten().tolist(), [0, 7])


class TestErrors(unittest.TestCase):
    def setUp(self):
        self.W, self.b = np.zeros((4, 3, 3, 3)), np.zeros(4)

    def assert_both_raise(self, error, make, *calls, regex=""):
        """The readable, fast and PyTorch layers raise the same error, with the same message."""
        messages = []
        for module in (S, FAST, R):
            with self.subTest(module.__name__), self.assertRaisesRegex(error, regex) as raised:
                layer = make(module)
                for call in calls:
                    call(layer)
            messages.append(str(raised.exception))
        self.assertEqual(len(set(messages)), 1, messages)

    @parameterized.expand([
        ("dtype_mismatch", np.zeros((2, 3, 5, 5), np.float32), TypeError, "dtype"),
        ("wrong_channel_count", np.zeros((2, 1, 5, 5)), ValueError, "channels"),
        ("not_4d", np.zeros((3, 5, 5)), ValueError, "4-D"),
        ("kernel_does_not_fit", np.zeros((2, 3, 2, 5)), ValueError, "does not fit"),
        ("integer_input", np.zeros((2, 3, 5, 5), np.int64), TypeError, "floating"),
    ])
    def test_convolution_rejects_input(self, _, x, error, regex):
        self.assert_both_raise(error, lambda m: m.Convolution(self.W, self.b),
                               lambda layer: layer.forward(x), regex=regex)

    @parameterized.expand([
        ("W_not_4d", np.zeros((4, 3, 3)), np.zeros(4), {}, ValueError),
        ("b_wrong_shape", np.zeros((4, 3, 3, 3)), np.zeros(3), {}, ValueError),
        ("W_b_dtypes_differ", np.zeros((4, 3, 3, 3)), np.zeros(4, np.float32), {}, TypeError),
        ("stride_zero", np.zeros((4, 3, 3, 3)), np.zeros(4), {"stride": 0}, ValueError),
        ("negative_pad", np.zeros((4, 3, 3, 3)), np.zeros(4), {"pad": -1}, ValueError),
    ])
    def test_convolution_rejects_parameters(self, _, W, b, kwargs, error):
        self.assert_both_raise(error, lambda m: m.Convolution(W, b, **kwargs))

    def test_convolution_rejects_bad_dout(self):
        x = np.zeros((2, 3, 5, 5))
        self.assert_both_raise(ValueError, lambda m: m.Convolution(self.W, self.b),
                               lambda layer: layer.forward(x),
                               lambda layer: layer.backward(np.zeros((2, 4, 3, 4))), regex="dout")
        self.assert_both_raise(TypeError, lambda m: m.Convolution(self.W, self.b),
                               lambda layer: layer.forward(x),
                               lambda layer: layer.backward(np.zeros((2, 4, 3, 3), np.float32)), regex="dout")

    @parameterized.expand([
        ("pad_more_than_half_pool", (2, 2, 2, 2), None, "at most half"),
        ("pad_more_than_half_pool_width", (3, 1, 1, 1), None, "at most half"),
        ("zero_pool", (0, 2, 2, 0), None, ">= 1"),
        ("stride_zero", (2, 2, 0, 0), None, ">= 1"),
        ("not_4d", (2, 2, 2, 0), np.zeros((3, 6, 6)), "4-D"),
        ("window_does_not_fit", (3, 3, 1, 0), np.zeros((1, 1, 2, 6)), "does not fit"),
    ])
    def test_pooling_rejects(self, _, args, x, regex):
        calls = () if x is None else (lambda layer: layer.forward(x),)
        self.assert_both_raise(ValueError, lambda m: m.Pooling(*args), *calls, regex=regex)


if __name__ == "__main__":
    unittest.main()
