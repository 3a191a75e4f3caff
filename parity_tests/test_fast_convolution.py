"""The fast layers (``scratch.fast.convolution``) compute the readable layers' numbers (``scratch.convolution``).

Same input, weights and dout to both; in float64 out, dx, dW and db agree to
1e-12 (relative to the largest value: only the order of the sums differs), and
where the choice is discrete, exactly: the maximum of a window, which pixel
gets its gradient (ties: zeros after ReLU, repeated values), which pixels get
none. Geometries: strides 1-3, pads 0-2, 1x1 filters (the fast layer's
pointwise path), filters where the fast dx is a transposed convolution and
where it is col2im, overlapping pools, 3x3 pools (two-step maximum), batch
sizes 1 and several, inputs and douts laid out channel-major in memory as a
convolution leaves them. Both are checked against PyTorch in
``test_convolution.py``.
"""
import itertools
import unittest

import numpy as np
from parameterized import parameterized

import scratch.convolution as readable
import scratch.fast.convolution as fast
from scratch.util import im2col

RTOL = 1e-12

# (batch, channels, H, W, filters, FH, FW, stride, pad)
CONV_GEOMETRIES = [
    (1, 1, 7, 9, 1, 3, 3, 1, 0),
    (4, 3, 7, 9, 2, 3, 3, 1, 1),      # dx as a transposed convolution
    (3, 6, 12, 12, 16, 5, 5, 1, 0),   # LeNet's second convolution: dx through col2im
    (4, 3, 9, 8, 4, 3, 3, 2, 1),      # strided: col2im
    (2, 2, 9, 7, 3, 3, 2, 1, 2),      # non-square filter
    (5, 4, 7, 7, 3, 1, 1, 1, 0),      # 1x1: one product over the channels
    (1, 8, 6, 6, 5, 1, 1, 1, 0),
    (3, 4, 8, 8, 2, 1, 1, 2, 0),      # 1x1 at stride 2: the general path
    (2, 3, 5, 5, 4, 5, 5, 1, 2),      # margin 2: the transposed convolution pads dout
    (6, 2, 10, 10, 3, 3, 3, 3, 1),
]
CONV_CASES = [(f"n{n}_c{c}_{h}x{w}_fn{fn}_k{fh}x{fw}_s{s}_p{p}_{layout}", (n, c, h, w), fn, fh, fw, s, p, layout)
              for (n, c, h, w, fn, fh, fw, s, p), layout in itertools.product(CONV_GEOMETRIES,
                                                                              ("plain", "channel_major"))]

# (pool_h, pool_w, stride, pad)
POOL_GEOMETRIES = [(2, 2, 2, 0), (2, 2, 2, 1), (2, 2, 1, 0), (3, 3, 2, 1), (3, 3, 1, 1), (3, 3, 3, 0),
                   (3, 2, 2, 1), (2, 3, 1, 1), (4, 4, 2, 2), (1, 1, 1, 0), (2, 2, 3, 0)]
POOL_CASES = [(f"{ph}x{pw}_s{s}_p{p}_n{n}_{kind}_{layout}", ph, pw, s, p, n, kind, layout)
              for (ph, pw, s, p), n, kind, layout in itertools.product(
                  POOL_GEOMETRIES, (1, 4), ("normal", "relu", "repeated"), ("plain", "channel_major"))]


def laid_out(x, layout):
    """``x`` itself, or the same values stored channel-major (C, N, H, W) in memory, as a convolution leaves them."""
    if layout == "plain":
        return x
    return np.ascontiguousarray(x.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)


def assert_same_numbers(fast_value, readable_value, what):
    """float64 agreement to 1e-12 of the largest magnitude: the same sums in another order."""
    assert fast_value.shape == readable_value.shape, f"{what}: {fast_value.shape} != {readable_value.shape}"
    assert fast_value.dtype == readable_value.dtype, f"{what}: {fast_value.dtype} != {readable_value.dtype}"
    scale = max(1.0, float(np.max(np.abs(readable_value))))
    np.testing.assert_allclose(fast_value, readable_value, rtol=RTOL, atol=RTOL * scale, err_msg=what)


def pool_input(kind, shape, rng):
    if kind == "normal":
        return rng.standard_normal(shape)
    if kind == "relu":  # about half zeros: windows of tied zeros
        return np.maximum(rng.standard_normal(shape), 0)
    return rng.integers(-1, 2, shape).astype(float)  # few values: ties everywhere


class TestConvolution(unittest.TestCase):
    @parameterized.expand(CONV_CASES)
    def test_fast_equals_readable(self, _, shape, fn, fh, fw, stride, pad, layout):
        rng = np.random.default_rng(0)
        x = laid_out(rng.standard_normal(shape), layout)
        W, b = rng.standard_normal((fn, shape[1], fh, fw)), rng.standard_normal(fn)
        slow, quick = readable.Convolution(W, b, stride, pad), fast.Convolution(W, b, stride, pad)
        out = slow.forward(x)
        assert_same_numbers(quick.forward(x), out, "out")
        dout = laid_out(rng.standard_normal(out.shape), layout)
        assert_same_numbers(quick.backward(dout), slow.backward(dout), "dx")
        assert_same_numbers(quick.dW, slow.dW, "dW")
        assert_same_numbers(quick.db, slow.db, "db")

    def test_fast_equals_readable_over_successive_batches(self):
        """The fast layer refills its buffers: a second, smaller batch and the first again give the readable numbers."""
        rng = np.random.default_rng(1)
        W, b = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
        slow, quick = readable.Convolution(W, b, 1, 1), fast.Convolution(W, b, 1, 1)
        for n in (5, 2, 5, 1):
            x = rng.standard_normal((n, 3, 8, 8))
            dout = rng.standard_normal((n, 4, 8, 8))
            assert_same_numbers(quick.forward(x), slow.forward(x), f"out, batch {n}")
            assert_same_numbers(quick.backward(dout), slow.backward(dout), f"dx, batch {n}")
            assert_same_numbers(quick.dW, slow.dW, f"dW, batch {n}")

    def test_need_dx_false_in_both(self):
        rng = np.random.default_rng(2)
        W, b = rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
        x, dout = rng.standard_normal((2, 2, 6, 6)), rng.standard_normal((2, 3, 4, 4))
        layers = readable.Convolution(W, b), fast.Convolution(W, b)
        for layer in layers:
            layer.need_dx = False
            layer.forward(x)
            self.assertIsNone(layer.backward(dout))
        assert_same_numbers(layers[1].dW, layers[0].dW, "dW")

    def test_same_attributes(self):
        """A fast layer is a readable one (same constructor and attributes), with its col transposed."""
        rng = np.random.default_rng(3)
        W, b = rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
        slow, quick = readable.Convolution(W, b, 2, 1), fast.Convolution(W, b, 2, 1)
        self.assertIsInstance(quick, readable.Convolution)
        self.assertLessEqual(set(vars(slow)), set(vars(quick)))
        x = rng.standard_normal((2, 2, 7, 7))
        slow.forward(x)
        quick.forward(x)
        np.testing.assert_array_equal(quick.col, slow.col.T)
        np.testing.assert_array_equal(quick.col_W, slow.col_W)
        np.testing.assert_array_equal(slow.col, im2col(x, 3, 3, 2, 1))

    def test_fast_unfold_is_im2col_transposed(self):
        rng = np.random.default_rng(4)
        for (fh, fw, stride, pad), layout in itertools.product([(3, 3, 1, 1), (3, 2, 2, 2), (1, 1, 3, 0)],
                                                              ("plain", "channel_major")):
            x = laid_out(rng.standard_normal((3, 2, 7, 8)), layout)
            unfolded = fast._unfold(x, fh, fw, stride, pad)
            np.testing.assert_array_equal(unfolded.reshape(2 * fh * fw, -1), im2col(x, fh, fw, stride, pad).T)


class TestPooling(unittest.TestCase):
    @parameterized.expand(POOL_CASES)
    def test_fast_equals_readable(self, _, ph, pw, stride, pad, n, kind, layout):
        rng = np.random.default_rng(5)
        x = laid_out(pool_input(kind, (n, 3, 9, 8), rng), layout)
        slow, quick = readable.Pooling(ph, pw, stride, pad), fast.Pooling(ph, pw, stride, pad)
        out = slow.forward(x)
        np.testing.assert_array_equal(quick.forward(x), out)  # a maximum is exact
        dout = laid_out(rng.uniform(1, 2, out.shape), layout)  # positive: a pixel gets a gradient iff it is chosen
        dx_slow, dx_quick = slow.backward(dout), quick.backward(dout)
        np.testing.assert_array_equal(dx_quick != 0, dx_slow != 0, err_msg="the pixels chosen in each window")
        if stride >= ph and stride >= pw:  # no overlap: each entry is one dout value or 0
            np.testing.assert_array_equal(dx_quick, dx_slow)
        else:  # overlapping windows add their douts, perhaps in another order
            assert_same_numbers(dx_quick, dx_slow, "dx")

    def test_ties_go_to_the_same_pixel_one_window_at_a_time(self):
        """Each window alone (dout one-hot): the pixel that gets its gradient is the same, exactly."""
        rng = np.random.default_rng(6)
        x = rng.integers(0, 2, (2, 2, 6, 6)).astype(float)  # many windows with tied maxima
        for ph, pw, stride, pad in [(3, 3, 1, 1), (2, 2, 2, 0), (3, 3, 2, 1)]:
            slow, quick = readable.Pooling(ph, pw, stride, pad), fast.Pooling(ph, pw, stride, pad)
            out = slow.forward(x)
            quick.forward(x)
            for index in np.ndindex(out.shape):
                dout = np.zeros(out.shape)
                dout[index] = 1
                np.testing.assert_array_equal(quick.backward(dout), slow.backward(dout),
                                              err_msg=f"{ph}x{pw} s{stride} p{pad}, window {index}")

    def test_nan_windows(self):
        """A window holding NaN: both send its gradient to the last NaN (PyTorch's choice)."""
        x = np.array([[[[np.nan, 1, 9, np.nan], [np.nan, np.nan, 0, 0], [3, np.nan, 2, 2]]]])
        for ph, pw, stride, pad in [(2, 2, 2, 0), (2, 2, 1, 0), (3, 3, 1, 1)]:
            slow, quick = readable.Pooling(ph, pw, stride, pad), fast.Pooling(ph, pw, stride, pad)
            out = slow.forward(x)
            np.testing.assert_array_equal(quick.forward(x), out)
            dout = np.arange(1.0, out.size + 1).reshape(out.shape)
            np.testing.assert_array_equal(quick.backward(dout), slow.backward(dout))

    def test_the_case_the_readable_layer_leaves_to_the_fast_one(self):
        """With padding, a window whose real pixels are all -inf: the fast layer gives its gradient to
        its first real pixel (as PyTorch, see test_convolution.py); the readable argmax picks the
        padding (its top-left position), and the gradient is lost there. Documented in ``scratch.Pooling``."""
        x = np.full((1, 1, 3, 3), -np.inf)
        slow, quick = readable.Pooling(2, 2, 2, 1), fast.Pooling(2, 2, 2, 1)
        np.testing.assert_array_equal(quick.forward(x), slow.forward(x))
        dout = np.ones((1, 1, 2, 2))
        self.assertEqual(quick.backward(dout).sum(), 4.0)
        self.assertEqual(slow.backward(dout).sum(), 1.0)  # only the window whose top-left pixel is real

    def test_same_attributes(self):
        slow, quick = readable.Pooling(3, 3, 2, 1), fast.Pooling(3, 3, 2, 1)
        self.assertIsInstance(quick, readable.Pooling)
        self.assertLessEqual(set(vars(slow)), set(vars(quick)))
        for name in ("pool_h", "pool_w", "stride", "pad"):
            self.assertEqual(getattr(quick, name), getattr(slow, name))


if __name__ == "__main__":
    unittest.main()
