"""Deconvolution (8.4, FCN's upsampling): the NumPy layer against ``F.conv_transpose2d`` + autograd.

Identical inputs, weights and dout go to both backends; out, dx, dW, db must
agree (float64 to ~1e-10, float32 to ~1e-5) and keep the input's dtype, over
strides 1 to 3, padding, output padding, 1x1 inputs and non-square filters.
FCN's ``bilinear_kernel`` is checked on hand-written filters, and by what it
is for: a stride-s deconvolution with it is bilinear interpolation away from
the borders (``F.interpolate(..., mode="bilinear", align_corners=False)``).
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from parameterized import parameterized

import reference.deconvolution as R
import scratch.deconvolution as S
from conftest import DTYPES, assert_close, make_rng, to_numpy

pytestmark = [pytest.mark.filterwarnings("error"), pytest.mark.usefixtures("one_torch_thread")]

# name, x shape (N, C_in, H, W), C_out, FH, FW, stride, pad, output_padding
GEOMETRIES = [
    ("k3_s1", (2, 3, 5, 4), 2, 3, 3, 1, 0, 0),
    ("k3_s1_p1", (2, 3, 5, 4), 4, 3, 3, 1, 1, 0),
    ("k4_s2_p1_fcn", (2, 3, 5, 6), 3, 4, 4, 2, 1, 0),
    ("k2_s2_no_overlap", (3, 2, 4, 3), 5, 2, 2, 2, 0, 0),
    ("k3_s2_op1", (2, 3, 4, 5), 2, 3, 3, 2, 1, 1),
    ("k3_s2_p0_op1", (1, 2, 3, 3), 3, 3, 3, 2, 0, 1),
    ("k5_s3_p2_op2", (2, 2, 3, 4), 3, 5, 5, 3, 2, 2),
    ("k3x2_s2_p1", (2, 3, 5, 4), 2, 3, 2, 2, 1, 0),
    ("k1_s1", (2, 4, 3, 3), 3, 1, 1, 1, 0, 0),
    ("k1_s2_gaps", (2, 4, 3, 3), 3, 1, 1, 2, 0, 1),
    ("stride_larger_than_kernel", (2, 2, 3, 4), 2, 2, 3, 4, 0, 3),
    ("input_1x1", (3, 4, 1, 1), 2, 3, 3, 1, 0, 0),
    ("input_1x1_s2_op1", (2, 3, 1, 1), 2, 4, 4, 2, 1, 1),
    ("input_1x1_pad_cuts_to_1x1", (2, 3, 1, 1), 2, 3, 3, 2, 1, 0),
    ("fcn32_like_k64_s32", (1, 2, 2, 2), 2, 64, 64, 32, 16, 0),
    ("batch_one_channel_one", (1, 1, 6, 5), 1, 3, 3, 2, 1, 1),
]
CASES = [(f"{name}_{dt_name}", *geometry, dt) for name, *geometry in GEOMETRIES for dt_name, dt in DTYPES]


def run_both(scratch_layer, reference_layer, x, dout):
    out = scratch_layer.forward(x.copy())
    ref_out = reference_layer.forward(torch.from_numpy(x.copy()))
    dx = scratch_layer.backward(dout.copy())
    ref_dx = reference_layer.backward(torch.from_numpy(dout.copy()))
    return out, ref_out, dx, ref_dx


def assert_same_message(error, *calls_per_backend, regex=""):
    """Each backend's calls raise ``error`` with one and the same message, matching ``regex``."""
    messages = []
    for calls in calls_per_backend:
        with pytest.raises(error, match=regex) as raised:
            for call in calls:
                call()
        messages.append(str(raised.value))
    assert len(set(messages)) == 1, messages
    assert "\n" not in messages[0]


class TestDeconvolutionParity:
    @parameterized.expand(CASES)
    def test_forward_and_gradients(self, _, shape, c_out, fh, fw, stride, pad, output_padding, dtype):
        rng = make_rng(1)
        x = rng.standard_normal(shape).astype(dtype)
        W = rng.standard_normal((shape[1], c_out, fh, fw)).astype(dtype)
        b = rng.standard_normal(c_out).astype(dtype)
        expected_shape = (shape[0], c_out, (shape[2] - 1) * stride - 2 * pad + fh + output_padding,
                          (shape[3] - 1) * stride - 2 * pad + fw + output_padding)
        dout = rng.standard_normal(expected_shape).astype(dtype)
        keep = (x.copy(), W.copy(), b.copy(), dout.copy())
        s = S.Deconvolution(W, b, stride, pad, output_padding)
        r = R.Deconvolution(W, b, stride, pad, output_padding)
        out, ref_out, dx, ref_dx = run_both(s, r, x, dout)
        assert out.shape == expected_shape
        for what, a, e in [("out", out, ref_out), ("dx", dx, ref_dx), ("dW", s.dW, r.dW), ("db", s.db, r.db)]:
            assert a.dtype == np.dtype(dtype), what
            assert_close(a, e, dtype, what=what)
        assert s.dW.shape == W.shape and dx.shape == x.shape
        for value, kept in zip((x, W, b, dout), keep):
            np.testing.assert_array_equal(value, kept)

    @parameterized.expand(DTYPES)
    def test_reference_is_conv_transpose2d(self, _, dtype):
        """The torch side is F.conv_transpose2d itself (guards the reference against drifting)."""
        rng = make_rng(2)
        x, W, b = (rng.standard_normal(s).astype(dtype) for s in ((2, 3, 4, 4), (3, 2, 3, 3), (2,)))
        expected = F.conv_transpose2d(torch.from_numpy(x), torch.from_numpy(W), torch.from_numpy(b), 2, 1, 1)
        torch.testing.assert_close(R.Deconvolution(W, b, 2, 1, 1).forward(x), expected, rtol=0, atol=0)
        assert_close(S.Deconvolution(W, b, 2, 1, 1).forward(x), expected, dtype, what="out")

    @parameterized.expand(DTYPES)
    def test_is_the_transpose_of_convolution(self, _, dtype):
        """<conv(y), x> = <y, deconv(x)> for the same W read as a convolution's (FN, C, FH, FW) filters:
        the defining property, checked on the NumPy layer against F.conv2d."""
        rng = make_rng(3)
        W = rng.standard_normal((3, 2, 3, 3)).astype(dtype)  # deconvolution 3 -> 2 channels = conv 2 -> 3
        x = rng.standard_normal((2, 3, 4, 5)).astype(dtype)
        up = S.Deconvolution(W, np.zeros(2, dtype), 2, 1, 1).forward(x)  # (2, 2, 8, 10)
        y = rng.standard_normal(up.shape).astype(dtype)
        conv_y = to_numpy(F.conv2d(torch.from_numpy(y), torch.from_numpy(W), None, 2, 1))  # (2, 3, 4, 5)
        assert conv_y.shape == x.shape
        products = np.sum(up * y, dtype=np.float64), np.sum(conv_y * x, dtype=np.float64)
        scale = np.sum(np.abs(up * y), dtype=np.float64)  # the sums cancel: judge them against their terms
        np.testing.assert_allclose(*products, rtol=0, atol=scale * (1e-12 if dtype == np.float64 else 1e-6))

    def test_non_contiguous_input_and_dout(self):
        rng = make_rng(4)
        x = rng.standard_normal((5, 4, 2, 3)).transpose(2, 3, 0, 1)  # (2, 3, 5, 4), not contiguous
        W, b = rng.standard_normal((3, 2, 4, 4)), rng.standard_normal(2)
        dout = rng.standard_normal((10, 2, 8, 2)).transpose(3, 1, 0, 2)  # (2, 2, 10, 8)
        s, r = S.Deconvolution(W, b, 2, 1), R.Deconvolution(W, b, 2, 1)
        out, ref_out = s.forward(x), r.forward(torch.from_numpy(x.copy()))
        dx, ref_dx = s.backward(dout), r.backward(torch.from_numpy(dout.copy()))
        for what, a, e in [("out", out, ref_out), ("dx", dx, ref_dx), ("dW", s.dW, r.dW), ("db", s.db, r.db)]:
            assert_close(a, e, np.float64, what=what)

    def test_backward_twice_gives_the_same_gradients(self):
        rng = make_rng(5)
        x, W, b = rng.standard_normal((2, 2, 3, 3)), rng.standard_normal((2, 3, 3, 3)), rng.standard_normal(3)
        for backend in (S, R):
            layer = backend.Deconvolution(W, b, 2)
            out = layer.forward(x)
            dout = np.ones(tuple(out.shape))
            first = [to_numpy(g).copy() for g in (layer.backward(dout), layer.dW, layer.db)]
            second = [to_numpy(g) for g in (layer.backward(dout), layer.dW, layer.db)]
            for a, e in zip(first, second):
                np.testing.assert_array_equal(a, e)

    def test_parameters_are_shared_not_copied(self):
        """An optimizer updating W in place must change what the NumPy layer computes (like the book)."""
        W, b = np.ones((1, 1, 2, 2)), np.zeros(1)
        layer = S.Deconvolution(W, b, 2)
        x = np.ones((1, 1, 1, 1))
        np.testing.assert_array_equal(layer.forward(x), np.ones((1, 1, 2, 2)))
        W *= 3
        np.testing.assert_array_equal(layer.forward(x), np.full((1, 1, 2, 2), 3.0))

    def test_output_padding_rows_hold_the_bias_only(self):
        """A hand case: a 1x1 input, a 2x2 filter, stride 2, output_padding 1: a 3x3 output whose last
        row and column no input pixel reaches (bias only, and no gradient from there)."""
        W = np.arange(1.0, 5.0).reshape(1, 1, 2, 2)
        b = np.array([0.5])
        for backend in (S, R):
            layer = backend.Deconvolution(W, b, 2, 0, 1)
            out = to_numpy(layer.forward(np.array([[[[2.0]]]])))
            np.testing.assert_array_equal(out, [[[[2.5, 4.5, 0.5], [6.5, 8.5, 0.5], [0.5, 0.5, 0.5]]]])
            dout = np.zeros((1, 1, 3, 3))
            dout[0, 0, 2, :] = dout[0, 0, :, 2] = 7.0  # only where no input pixel reaches
            np.testing.assert_array_equal(to_numpy(layer.backward(dout)), [[[[0.0]]]])
            np.testing.assert_array_equal(to_numpy(layer.dW), np.zeros((1, 1, 2, 2)))
            np.testing.assert_array_equal(to_numpy(layer.db), [35.0])


class TestBilinearKernel:
    def test_hand_written_filters(self):
        tent4 = np.array([0.25, 0.75, 0.75, 0.25])  # size 4: factor 2, center 1.5
        tent3 = np.array([0.5, 1.0, 0.5])  # size 3: factor 2, center 1
        tent5 = np.array([1, 2, 3, 2, 1]) / 3  # size 5: factor 3, center 2
        for backend in (S, R):
            for size, tent in ((4, tent4), (3, tent3), (5, tent5)):
                W = to_numpy(backend.bilinear_kernel(2, size))
                assert W.shape == (2, 2, size, size) and W.dtype == np.float64
                np.testing.assert_allclose(W[0, 0], np.outer(tent, tent), rtol=1e-15, atol=0)
                np.testing.assert_array_equal(W[1, 1], W[0, 0])
                np.testing.assert_array_equal(W[0, 1], 0)  # each channel on its own
                np.testing.assert_array_equal(W[1, 0], 0)
            np.testing.assert_array_equal(to_numpy(backend.bilinear_kernel(1, 1)), [[[[1.0]]]])
            np.testing.assert_array_equal(to_numpy(backend.bilinear_kernel(1, 2)), np.full((1, 1, 2, 2), 0.25))

    @parameterized.expand([(f"c{c}_k{k}_{dt_name}", c, k, dt) for c, k in ((1, 1), (3, 4), (2, 5), (4, 16), (1, 7))
                           for dt_name, dt in DTYPES])
    def test_both_backends_agree(self, _, channels, size, dtype):
        W, ref_W = S.bilinear_kernel(channels, size, dtype), R.bilinear_kernel(channels, size, dtype)
        assert_close(W, ref_W, dtype, what="bilinear W")

    @parameterized.expand([(f"factor{f}_{dt_name}", f, dt) for f in (2, 3, 4) for dt_name, dt in DTYPES])
    def test_upsampling_is_bilinear_interpolation_inside(self, _, factor, dtype):
        """FCN's layer: size 2f - f % 2, stride f, pad ceil((f - 1) / 2) maps H to f*H; away from
        the borders it is F.interpolate's bilinear upsampling, so a constant stays that constant and
        a ramp stays a ramp, of slope 1/f per output pixel."""
        size, pad = 2 * factor - factor % 2, -(-(factor - 1) // 2)
        rng = make_rng(6)
        ramp = np.arange(6, dtype=dtype)[None, :] * np.ones((5, 1), dtype=dtype)  # x[i, j] = j
        x = np.stack([np.full((5, 6), 2.5, dtype=dtype), ramp, rng.standard_normal((5, 6)).astype(dtype)])[None]
        inner = slice(factor, -factor)  # the borders see the zeros outside the picture
        for backend in (S, R):
            W = backend.bilinear_kernel(3, size, dtype)
            out = to_numpy(backend.Deconvolution(W, np.zeros(3, dtype), factor, pad).forward(x))
            assert out.shape == (1, 3, 5 * factor, 6 * factor)
            expected = to_numpy(F.interpolate(torch.from_numpy(x), scale_factor=factor, mode="bilinear",
                                              align_corners=False))
            assert_close(out[..., inner, inner], expected[..., inner, inner], dtype, what="vs F.interpolate")
            assert_close(out[0, 0, inner, inner], np.full_like(out[0, 0, inner, inner], 2.5), dtype,
                         what="constant")
            slope = np.diff(out[0, 1, inner, inner], axis=1)
            assert_close(slope, np.full_like(slope, 1 / factor), dtype, what="ramp slope")
            along_rows = np.diff(out[0, 1, inner, inner], axis=0)
            assert_close(along_rows, np.zeros_like(along_rows), dtype, rtol=0,
                         atol=1e-12 if dtype == np.float64 else 1e-5, what="ramp along the rows")

    @parameterized.expand(DTYPES)
    def test_dtype(self, _, dtype):
        assert S.bilinear_kernel(2, 4, dtype).dtype == np.dtype(dtype)
        assert to_numpy(R.bilinear_kernel(2, 4, dtype)).dtype == np.dtype(dtype)


class TestErrors:
    def both(self, make, *calls):
        """(scratch calls, reference calls): ``make(backend)`` then each ``call(layer)``."""
        def per_backend(backend):
            box = {}
            steps = [lambda: box.setdefault("layer", make(backend))]
            steps += [lambda call=call: call(box["layer"]) for call in calls]
            return steps
        return per_backend(S), per_backend(R)

    @parameterized.expand([
        ("W_not_4d", np.zeros((3, 2, 3)), np.zeros(2), {}, ValueError, "C_in, C_out"),
        ("b_is_C_in_not_C_out", np.zeros((3, 2, 3, 3)), np.zeros(3), {}, ValueError, "C_in, C_out"),
        ("W_b_dtypes_differ", np.zeros((3, 2, 3, 3)), np.zeros(2, np.float32), {}, TypeError, "float32"),
        ("stride_zero", np.zeros((3, 2, 3, 3)), np.zeros(2), {"stride": 0}, ValueError, "stride"),
        ("negative_pad", np.zeros((3, 2, 3, 3)), np.zeros(2), {"pad": -1}, ValueError, "pad"),
        ("output_padding_not_below_stride", np.zeros((3, 2, 3, 3)), np.zeros(2), {"stride": 2, "output_padding": 2},
         ValueError, "output_padding must be smaller than stride"),
        ("output_padding_with_stride_1", np.zeros((3, 2, 3, 3)), np.zeros(2), {"output_padding": 1},
         ValueError, "output_padding"),
        ("fractional_stride", np.zeros((3, 2, 3, 3)), np.zeros(2), {"stride": 1.5}, TypeError, "stride"),
    ])
    def test_rejects_parameters(self, _, W, b, kwargs, error, regex):
        assert_same_message(error, *self.both(lambda m: m.Deconvolution(W, b, **kwargs)), regex=regex)

    @parameterized.expand([
        ("not_4d", np.zeros((3, 4, 4)), ValueError, "4-D"),
        ("wrong_channel_count", np.zeros((2, 2, 4, 4)), ValueError, "input channels"),
        ("dtype_mismatch", np.zeros((2, 3, 4, 4), np.float32), TypeError, "dtype"),
        ("integer_input", np.zeros((2, 3, 4, 4), np.int64), TypeError, "floating"),
        ("empty_batch", np.zeros((0, 3, 4, 4)), ValueError, "empty batch"),
        ("no_pixels", np.zeros((2, 3, 0, 4)), ValueError, "no pixels"),
        ("padding_eats_the_output", np.zeros((2, 3, 1, 1)), ValueError, "empty output"),
    ])
    def test_rejects_input(self, _, x, error, regex):
        W, b = np.zeros((3, 2, 3, 3)), np.zeros(2)
        assert_same_message(error, *self.both(lambda m: m.Deconvolution(W, b, 1, 2), lambda l: l.forward(x)),
                            regex=regex)

    def test_rejects_bad_dout_and_early_backward(self):
        W, b, x = np.zeros((3, 2, 3, 3)), np.zeros(2), np.zeros((2, 3, 4, 4))
        make = lambda m: m.Deconvolution(W, b)  # noqa: E731
        assert_same_message(RuntimeError, *self.both(make, lambda l: l.backward(np.zeros((2, 2, 6, 6)))),
                            regex="before")
        assert_same_message(ValueError, *self.both(make, lambda l: l.forward(x),
                                                   lambda l: l.backward(np.zeros((2, 2, 6, 5)))), regex="dout")
        assert_same_message(TypeError, *self.both(make, lambda l: l.forward(x),
                                                  lambda l: l.backward(np.zeros((2, 2, 6, 6), np.float32))),
                            regex="dout")

    @parameterized.expand([("zero_channels", 0, 4, ValueError), ("zero_size", 2, 0, ValueError),
                           ("float_size", 2, 4.0, TypeError)])
    def test_bilinear_kernel_rejects(self, _, channels, size, error):
        assert_same_message(error, [lambda: S.bilinear_kernel(channels, size)],
                            [lambda: R.bilinear_kernel(channels, size)], regex="bilinear_kernel")
