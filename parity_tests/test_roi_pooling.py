"""RoIPooling (8.4, Fast R-CNN): the NumPy layer, the torch-operator layer and ``torchvision.ops.roi_pool``.

Three opinions on one convention (torchvision's: corners scaled and rounded
half away from zero, both corners inside the roi, bins floor/ceil, clipped
to the map, empty bins 0, the first maximum in row-major order): the
outputs must be identical (a maximum is exact) and dx must agree (float64
~1e-10, float32 ~1e-5), for rois at and beyond the border, 1-pixel rois,
rois smaller than the output grid, overlapping and repeated rois, several
images, spatial scales 1, 1/2, 1/3, 1/4, and ReLU-like inputs full of ties.
"""
import numpy as np
import pytest
import torch
import torchvision
from parameterized import parameterized

import reference.roi_pooling as R
import scratch.roi_pooling as S
from conftest import DTYPES, assert_close, assert_exact, make_rng, to_numpy

pytestmark = [pytest.mark.filterwarnings("error"), pytest.mark.usefixtures("one_torch_thread")]


def random_rois(rng, n_images, picture_h, picture_w, count):
    """Rois in picture coordinates, some reaching past the border, on random images of the batch."""
    x1 = rng.uniform(-0.2 * picture_w, picture_w, count)
    y1 = rng.uniform(-0.2 * picture_h, picture_h, count)
    x2 = x1 + rng.uniform(0, 0.8 * picture_w, count)
    y2 = y1 + rng.uniform(0, 0.8 * picture_h, count)
    return np.stack([rng.integers(0, n_images, count), x1, y1, x2, y2], axis=1)


def make_rois(kind, rng, n_images, H, W, scale):
    """(R, 5) rois of one kind, in picture coordinates for a map of H x W at ``scale``."""
    ph, pw = H / scale, W / scale  # the picture's size
    if kind == "random":
        return random_rois(rng, n_images, ph, pw, 12)
    if kind == "border":  # the whole picture, its corners, its edges, past every side
        return np.array([[0, 0, 0, pw - 1, ph - 1], [0, 0, 0, 0, 0], [n_images - 1, pw - 1, ph - 1, pw - 1, ph - 1],
                         [0, pw - 1, 0, pw + 5, ph / 2], [n_images - 1, -6, -3, 2, 3], [0, -4, -4, pw + 4, ph + 4],
                         [0, 0, ph - 1, pw - 1, ph - 1], [n_images - 1, pw - 1, 0, pw - 1, ph - 1]])
    if kind == "one_pixel":
        points = rng.integers(0, [pw, ph], (6, 2)).astype(float)
        return np.column_stack([rng.integers(0, n_images, 6), points, points])
    if kind == "overlapping":  # the same roi twice, nested rois, shifted copies
        return np.array([[0, 1, 1, pw / 2, ph / 2], [0, 1, 1, pw / 2, ph / 2], [0, 0, 0, pw - 1, ph - 1],
                         [0, 2, 2, pw / 2 + 1, ph / 2 + 1], [0, 1, 1, pw / 2, ph / 2 + 3]])
    if kind == "outside":  # entirely off the map: every bin empty
        return np.array([[0, pw + 10, ph + 10, pw + 20, ph + 20], [n_images - 1, -30, -30, -20, -10],
                         [0, 1, 1, 3, 3]])
    if kind == "half_coordinates":  # x * scale lands on k + 1/2: rounding half away from zero matters
        k = rng.integers(0, min(H, W) - 2, (8, 4)).astype(float)
        corners = (np.sort(k.reshape(8, 2, 2), axis=1).reshape(8, 4) + 0.5) / scale
        return np.column_stack([rng.integers(0, n_images, 8), corners])
    raise ValueError(kind)


ROI_KINDS = ["random", "border", "one_pixel", "overlapping", "outside", "half_coordinates"]
# name, x shape (N, C, H, W), output size, spatial scale
GEOMETRIES = [
    ("out2_scale1", (2, 3, 9, 8), 2, 1.0),
    ("out3x2_scale_half", (3, 2, 10, 11), (3, 2), 0.5),
    ("out7_scale_quarter", (2, 2, 12, 12), 7, 0.25),  # bins smaller than a pixel: repeated rows
    ("out1_scale_third", (2, 3, 9, 9), 1, 1 / 3),
    ("out4x3_scale1", (4, 2, 7, 13), (4, 3), 1.0),
]
CASES = [(f"{name}_{kind}_{inputs}_{dt_name}", shape, size, scale, kind, inputs, dt)
         for name, shape, size, scale in GEOMETRIES for kind in ROI_KINDS
         for inputs in ("normal", "relu") for dt_name, dt in DTYPES]


def three_opinions(x, rois, output_size, scale, dout):
    """(out, dx) from the NumPy layer, the torch-operator layer and torchvision.ops.roi_pool."""
    s, r = S.RoIPooling(output_size, scale), R.RoIPooling(output_size, scale)
    results = [(s.forward(x.copy(), rois.copy()), None), (r.forward(torch.from_numpy(x.copy()), rois.copy()), None)]
    results = [(results[0][0], s.backward(dout.copy())), (results[1][0], r.backward(torch.from_numpy(dout.copy())))]
    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    out = torchvision.ops.roi_pool(xt, torch.from_numpy(rois.astype(x.dtype)), output_size, scale)
    out.backward(torch.from_numpy(dout.copy()))
    return results + [(out, xt.grad)]


class TestRoIPoolingParity:
    @parameterized.expand(CASES)
    def test_forward_and_dx(self, _, shape, output_size, scale, kind, inputs, dtype):
        rng = make_rng(7)
        x = rng.standard_normal(shape)
        if inputs == "relu":  # about half zeros: bins of tied zeros
            x = np.maximum(x, 0)
        x = x.astype(dtype)
        rois = make_rois(kind, rng, shape[0], shape[2], shape[3], scale)
        oh, ow = (output_size, output_size) if isinstance(output_size, int) else output_size
        dout = rng.standard_normal((len(rois), shape[1], oh, ow)).astype(dtype)
        keep = (x.copy(), rois.copy(), dout.copy())
        (out, dx), (ref_out, ref_dx), (tv_out, tv_dx) = three_opinions(x, rois, output_size, scale, dout)
        assert out.shape == (len(rois), shape[1], oh, ow)
        assert_exact(out, ref_out, what="out")
        assert_exact(out, tv_out, what="out vs torchvision")
        assert dx.dtype == np.dtype(dtype) and dx.shape == x.shape
        assert_close(dx, ref_dx, dtype, what="dx")
        assert_close(dx, tv_dx, dtype, what="dx vs torchvision")
        if kind == "outside":
            assert np.all(out[:2] == 0) and np.any(out[2] != 0)
        for value, kept in zip((x, rois, dout), keep):
            np.testing.assert_array_equal(value, kept)

    @parameterized.expand(DTYPES)
    def test_hand_computed_case(self, _, dtype):
        """x = 0..15 on a 4x4 map; the whole map in 2x2 bins, a 1-pixel roi on a 2x2 grid (every bin
        the same pixel: its gradient 4 times), and a roi reaching past the map (its right bins empty)."""
        x = np.arange(16, dtype=dtype).reshape(1, 1, 4, 4)
        rois = np.array([[0, 0, 0, 3, 3], [0, 1, 2, 1, 2], [0, 2, 0, 5, 1]])
        expected_out = np.array([[[[5, 7], [13, 15]]], [[[9, 9], [9, 9]]], [[[3, 0], [7, 0]]]], dtype=dtype)
        dout = np.arange(1, 13, dtype=dtype).reshape(3, 1, 2, 2)
        expected_dx = np.zeros((1, 1, 4, 4), dtype=dtype)
        expected_dx[0, 0, 1, 1], expected_dx[0, 0, 1, 3], expected_dx[0, 0, 3, 1], expected_dx[0, 0, 3, 3] = 1, 2, 3, 4
        expected_dx[0, 0, 2, 1] = 5 + 6 + 7 + 8
        expected_dx[0, 0, 0, 3], expected_dx[0, 0, 1, 3] = 9, 2 + 11
        for out, dx in three_opinions(x, rois, 2, 1.0, dout):
            np.testing.assert_array_equal(to_numpy(out), expected_out)
            np.testing.assert_array_equal(to_numpy(dx), expected_dx)

    def test_ties_go_to_the_first_maximum_in_row_major_order(self):
        """[[0, 5], [5, 0]] in one bin: the (0, 1) element, not (1, 0) (a column-first search's)."""
        x = np.array([[[[0.0, 5.0], [5.0, 0.0]]]])
        rois = np.array([[0, 0, 0, 1, 1]])
        expected = np.array([[[[0.0, 3.0], [0.0, 0.0]]]])
        for out, dx in three_opinions(x, rois, 1, 1.0, np.array([[[[3.0]]]])):
            np.testing.assert_array_equal(to_numpy(dx), expected)

    @parameterized.expand(DTYPES)
    def test_overlapping_rois_add_their_gradients(self, _, dtype):
        rng = make_rng(8)
        x = rng.standard_normal((2, 3, 6, 6)).astype(dtype)
        roi = np.array([[1, 0, 1, 4, 5]])
        dout = rng.standard_normal((1, 3, 3, 3)).astype(dtype)
        for backend in (S, R):
            once = backend.RoIPooling(3)
            once.forward(x, roi)
            dx_once = to_numpy(once.backward(dout))
            twice = backend.RoIPooling(3)
            twice.forward(x, np.concatenate([roi, roi]))
            assert_close(twice.backward(np.concatenate([dout, dout])), 2 * dx_once, dtype, what="dx")
            assert np.all(dx_once[0] == 0), "image 0 has no roi"

    @parameterized.expand(DTYPES)
    def test_no_rois(self, _, dtype):
        x = make_rng(9).standard_normal((2, 3, 5, 5)).astype(dtype)
        rois = np.zeros((0, 5))
        for out, dx in three_opinions(x, rois, (2, 3), 1.0, np.zeros((0, 3, 2, 3), dtype)):
            assert tuple(out.shape) == (0, 3, 2, 3)
            np.testing.assert_array_equal(to_numpy(dx), np.zeros(x.shape, dtype))

    def test_round_half_away_from_zero(self):
        """C's round, which torchvision's kernel uses (NumPy's and torch's round halves to even)."""
        v = np.array([-2.5, -1.5, -0.5, 0.49999999999999994, 0.5, 1.5, 2.5, 3.49, -3.51])
        expected = np.array([-3, -2, -1, 0, 1, 2, 3, 3, -4])
        np.testing.assert_array_equal(S.round_half_away(v), expected)
        np.testing.assert_array_equal(R._round_half_away(torch.from_numpy(v)).numpy(), expected)
        single = np.arange(len(v)) != 3  # 0.49999999999999994 is 0.5 in float32
        np.testing.assert_array_equal(S.round_half_away(v[single].astype(np.float32)), expected[single])

    def test_half_coordinates_round_like_torchvision(self):
        """x1 = 1 at scale 1/2 is 0.5 on the map: column 1 (half away), not 0 (half to even)."""
        x = np.zeros((1, 1, 4, 4))
        x[0, 0, :, 0] = 9.0  # column 0 wins if the roi starts there
        rois = np.array([[0, 1, 1, 5, 5]])  # (0.5, 0.5)-(2.5, 2.5) on the map: columns 1..3
        for out, _ in three_opinions(x, rois, 1, 0.5, np.ones((1, 1, 1, 1))):
            np.testing.assert_array_equal(to_numpy(out), [[[[0.0]]]])

    def test_accepts_tensors_and_integer_rois(self):
        rng = make_rng(10)
        x = rng.standard_normal((2, 2, 6, 6))
        rois = np.array([[1, 0, 0, 4, 3], [0, 2, 1, 5, 5]])
        expected = S.RoIPooling(2).forward(x, rois)
        for backend in (S, R):
            for given in (rois.astype(np.float32), torch.from_numpy(rois), rois.tolist()):
                np.testing.assert_array_equal(to_numpy(backend.RoIPooling(2).forward(x, given)), expected)
        np.testing.assert_array_equal(to_numpy(R.RoIPooling(2).forward(torch.from_numpy(x), rois)), expected)

    def test_torch_max_still_returns_the_first_maximum(self):
        """Guards the reference's claim: max(dim) picks the first of equal values, and its gradient
        goes there alone."""
        v = torch.tensor([[0.0, 5, 5, 0, 5], [7, 7, 7, 7, 7]], requires_grad=True)
        values, indices = v.max(dim=1)
        assert indices.tolist() == [1, 0]
        values.sum().backward()
        np.testing.assert_array_equal(v.grad.numpy(), [[0, 1, 0, 0, 0], [1, 0, 0, 0, 0]])


def assert_same_message(error, calls_scratch, calls_reference, regex):
    messages = []
    for calls in (calls_scratch, calls_reference):
        with pytest.raises(error, match=regex) as raised:
            for call in calls:
                call()
        messages.append(str(raised.value))
    assert messages[0] == messages[1], messages
    assert "\n" not in messages[0]


class TestErrors:
    X = np.zeros((2, 3, 6, 6))

    @parameterized.expand([
        ("rois_4_columns", X, np.zeros((2, 4)), ValueError, r"rois of shape \(R, 5\)"),
        ("rois_1d", X, np.zeros(5), ValueError, r"rois of shape \(R, 5\)"),
        ("x2_below_x1", X, np.array([[0, 1, 1, 3, 3], [1, 4, 0, 2, 5]]), ValueError, r"roi 1 has x2 < x1 \(2 < 4\)"),
        ("y2_below_y1", X, np.array([[0, 1, 3, 3, 2.5]]), ValueError, r"roi 0 has y2 < y1 \(2.5 < 3\)"),
        ("batch_index_out_of_range", X, np.array([[0, 1, 1, 3, 3], [2, 1, 1, 3, 3]]), ValueError,
         r"roi 1 has batch index 2, not an image index in \[0, 2\)"),
        ("negative_batch_index", X, np.array([[-1, 1, 1, 3, 3]]), ValueError, "batch index -1"),
        ("fractional_batch_index", X, np.array([[0.5, 1, 1, 3, 3]]), ValueError, "batch index 0.5"),
        ("nan_roi", X, np.array([[0, 1, 1, 3, 3], [0, np.nan, 1, 3, 3]]), ValueError, "roi 1 .* is not finite"),
        ("infinite_roi", X, np.array([[0, 1, 1, np.inf, 3]]), ValueError, "not finite"),
        ("string_rois", X, np.array([["0", "1", "1", "3", "3"]]), TypeError, "rois must be numbers"),
        ("x_3d", np.zeros((3, 6, 6)), np.zeros((1, 5)), ValueError, r"\(N, C, H, W\)"),
        ("integer_x", np.zeros((2, 3, 6, 6), np.int64), np.zeros((1, 5)), TypeError, "floating"),
        ("empty_batch", np.zeros((0, 3, 6, 6)), np.zeros((1, 5)), ValueError, "empty batch"),
        ("no_pixels", np.zeros((2, 3, 0, 6)), np.zeros((1, 5)), ValueError, "no channels or no pixels"),
    ])
    def test_rejects_input(self, _, x, rois, error, regex):
        assert_same_message(error, [lambda: S.RoIPooling(2).forward(x, rois)],
                            [lambda: R.RoIPooling(2).forward(x, rois)], regex)

    @parameterized.expand([
        ("output_size_zero", 0, 1.0, ValueError, "output_size must be >= 1"),
        ("output_size_triple", (2, 2, 2), 1.0, TypeError, "output_size must be an integer or a pair"),
        ("output_size_float", 2.5, 1.0, TypeError, "output_size"),
        ("scale_zero", 2, 0.0, ValueError, "spatial_scale must be finite and > 0"),
        ("scale_negative", 2, -0.5, ValueError, "spatial_scale"),
        ("scale_nan", 2, float("nan"), ValueError, "spatial_scale"),
        ("scale_bool", 2, True, TypeError, "spatial_scale must be a real number"),
    ])
    def test_rejects_arguments(self, _, output_size, scale, error, regex):
        assert_same_message(error, [lambda: S.RoIPooling(output_size, scale)],
                            [lambda: R.RoIPooling(output_size, scale)], regex)

    def test_rejects_bad_dout_and_early_backward(self):
        rois = np.array([[0, 1, 1, 3, 3]])
        layers = {}

        def calls(backend, dout):
            return [lambda: layers.__setitem__(backend, backend.RoIPooling(2)),
                    lambda: layers[backend].forward(self.X, rois), lambda: layers[backend].backward(dout)]

        assert_same_message(RuntimeError, [lambda: S.RoIPooling(2).backward(np.zeros((1, 3, 2, 2)))],
                            [lambda: R.RoIPooling(2).backward(np.zeros((1, 3, 2, 2)))], "before")
        bad_shape = np.zeros((1, 3, 2, 3))
        assert_same_message(ValueError, calls(S, bad_shape), calls(R, bad_shape), "dout of shape")
        bad_dtype = np.zeros((1, 3, 2, 2), np.float32)
        assert_same_message(TypeError, calls(S, bad_dtype), calls(R, bad_dtype), "dout dtype float32")
