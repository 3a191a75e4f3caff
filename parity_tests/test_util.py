"""im2col / col2im (7.4.3): the NumPy version against ``F.unfold`` / ``F.fold``.

* the book's layout, checked entry by entry against its definition;
* scratch and reference agree (im2col exactly: it only copies; col2im to
  float64 / float32 rounding) over kernels 1/3/5/3x2, strides 1/2/3, pads
  0/1/2, batches 1 and 4, 1 and 3 channels, a non-square 7x9 input;
* col2im is the adjoint of im2col: <im2col(x), y> = <x, col2im(y)>, and not
  its inverse: col2im(im2col(x)) is x times the number of regions covering
  each pixel;
* the padding value (-inf for max pooling) is ``F.pad`` then ``F.unfold``;
* dtypes are kept; bad shapes and arguments raise clear errors.
"""
import itertools
import unittest

import numpy as np
import torch
import torch.nn.functional as F
from parameterized import parameterized

import reference.util as R
import scratch.util as S
from conftest import assert_close, assert_exact, to_numpy

KERNELS = [(1, 1), (3, 3), (5, 5), (3, 2)]
BATCH_CHANNELS = [(1, 1), (4, 3), (1, 3), (4, 1)]
GEOMETRIES = [(kh, kw, s, p) for (kh, kw), s, p in itertools.product(KERNELS, (1, 2, 3), (0, 1, 2))]
CASES = [(f"k{kh}x{kw}_s{s}_p{p}_n{n}_c{c}_{dtype}", (n, c, 7, 9), kh, kw, s, p, dtype)
         for i, (kh, kw, s, p) in enumerate(GEOMETRIES)
         for n, c in [BATCH_CHANNELS[i % len(BATCH_CHANNELS)]]
         for dtype in ("float64", "float32")]



def book_im2col(x, fh, fw, stride, pad):
    """The definition, one entry at a time (slow, tiny inputs only)."""
    N, C, H, W = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh, ow = (H + 2 * pad - fh) // stride + 1, (W + 2 * pad - fw) // stride + 1
    col = np.empty((N * oh * ow, C * fh * fw), dtype=x.dtype)
    for n, y, x_, c, fy, fx in itertools.product(range(N), range(oh), range(ow), range(C), range(fh), range(fw)):
        col[(n * oh + y) * ow + x_, (c * fh + fy) * fw + fx] = xp[n, c, y * stride + fy, x_ * stride + fx]
    return col


class TestLayout(unittest.TestCase):
    @parameterized.expand([("3x3_s1_p0", 3, 3, 1, 0), ("3x2_s2_p1", 3, 2, 2, 1), ("2x3_s3_p2", 2, 3, 3, 2)])
    def test_rows_are_regions_columns_are_c_fy_fx(self, _, fh, fw, stride, pad):
        x = np.random.default_rng(0).standard_normal((2, 3, 5, 6))
        np.testing.assert_array_equal(S.im2col(x, fh, fw, stride, pad), book_im2col(x, fh, fw, stride, pad))
        np.testing.assert_array_equal(to_numpy(R.im2col(x, fh, fw, stride, pad)), book_im2col(x, fh, fw, stride, pad))

    def test_book_example_shapes(self):
        """7.4.3: a (1, 3, 7, 7) input with a 5x5 filter gives (9, 75); ten images give (90, 75)."""
        rng = np.random.default_rng(0)
        self.assertEqual(S.im2col(rng.random((1, 3, 7, 7)), 5, 5, stride=1, pad=0).shape, (9, 75))
        self.assertEqual(S.im2col(rng.random((10, 3, 7, 7)), 5, 5, stride=1, pad=0).shape, (90, 75))

    @parameterized.expand([("figure_7_6", (1, 1, 4, 4), 3, 1, 1, 4), ("figure_7_7", (1, 1, 7, 7), 3, 2, 0, 3),
                           ("partial_last_window_dropped", (1, 1, 9, 9), 3, 3, 2, 4)])
    def test_output_size(self, _, shape, filter_size, stride, pad, out_size):
        """(H + 2*pad - FH) // stride + 1 regions per axis (7.2.4), like PyTorch."""
        x = np.zeros(shape)
        for module in (S, R):
            col = module.im2col(x, filter_size, filter_size, stride, pad)
            self.assertEqual(tuple(col.shape), (out_size * out_size, filter_size * filter_size))

    def test_non_overlapping_col2im_inverts_im2col(self):
        x = np.random.default_rng(0).standard_normal((2, 3, 6, 8))
        np.testing.assert_array_equal(S.col2im(S.im2col(x, 2, 2, 2), x.shape, 2, 2, 2), x)

    def test_col2im_counts_overlaps(self):
        """col2im(im2col(ones)) counts how many filter regions cover each pixel."""
        counts = S.col2im(S.im2col(np.ones((1, 1, 4, 4)), 3, 3), (1, 1, 4, 4), 3, 3)
        np.testing.assert_array_equal(counts[0, 0], [[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]])

    @parameterized.expand([("3x3_s1_p1", 3, 3, 1, 1), ("3x2_s2_p1", 3, 2, 2, 1), ("4x4_s3_p2", 4, 4, 3, 2)])
    def test_col2im_of_im2col_is_x_times_how_many_regions_saw_each_pixel(self, _, fh, fw, stride, pad):
        x = np.random.default_rng(0).standard_normal((2, 3, 7, 8))
        counts = S.col2im(S.im2col(np.ones_like(x), fh, fw, stride, pad), x.shape, fh, fw, stride, pad)
        self.assertGreater(counts.max(), 1)  # the regions overlap
        np.testing.assert_allclose(S.col2im(S.im2col(x, fh, fw, stride, pad), x.shape, fh, fw, stride, pad),
                                   x * counts, rtol=1e-15, atol=0)

    @parameterized.expand([(f"{name}_{fill}", shape, fh, fw, stride, pad, fill)
                           for name, shape, fh, fw, stride, pad in [("3x3_s2_p1", (2, 3, 7, 9), 3, 3, 2, 1),
                                                                    ("2x3_s1_p1", (1, 2, 5, 4), 2, 3, 1, 1),
                                                                    ("4x4_s2_p2", (3, 1, 6, 6), 4, 4, 2, 2)]
                           for fill in (-np.inf, 7.5)])
    def test_padding_value_is_f_pad_then_unfold(self, _, shape, fh, fw, stride, pad, fill):
        x = np.random.default_rng(0).standard_normal(shape)
        padded = F.pad(torch.from_numpy(x), (pad, pad, pad, pad), value=fill)
        expected = F.unfold(padded, (fh, fw), stride=stride).transpose(1, 2).reshape(-1, shape[1] * fh * fw)
        col = S.im2col(x, fh, fw, stride, pad, fill=fill)
        np.testing.assert_array_equal(col, to_numpy(expected))  # a copy: exact (array_equal: -inf == -inf)
        np.testing.assert_array_equal(col, to_numpy(R.im2col(x, fh, fw, stride, pad, fill=fill)))
        self.assertEqual(np.count_nonzero(col == fill), np.count_nonzero(to_numpy(expected) == fill))

    def test_non_contiguous_input(self):
        x = np.random.default_rng(0).standard_normal((7, 9, 3, 2)).transpose(3, 2, 0, 1)
        np.testing.assert_array_equal(S.im2col(x, 3, 2, 2, 1), book_im2col(x, 3, 2, 2, 1))

    def test_result_is_a_fresh_writable_array(self):
        x = np.random.default_rng(0).standard_normal((1, 1, 3, 3))
        col = S.im2col(x, 1, 1)
        col[...] = 0
        self.assertTrue(np.any(x != 0))


class TestParity(unittest.TestCase):
    @parameterized.expand(CASES)
    def test_im2col_and_col2im_match_unfold_and_fold(self, _, shape, kh, kw, stride, pad, dtype):
        rng = np.random.default_rng(1)
        x = rng.standard_normal(shape).astype(dtype)
        col = S.im2col(x, kh, kw, stride, pad)
        ref_col = R.im2col(torch.from_numpy(x), kh, kw, stride, pad)
        self.assertEqual(col.dtype, np.dtype(dtype))
        assert_exact(col, ref_col, what="im2col")  # pure copying: exact

        y = rng.standard_normal(col.shape).astype(dtype)
        img = S.col2im(y, shape, kh, kw, stride, pad)
        self.assertEqual(img.dtype, np.dtype(dtype))
        assert_close(img, R.col2im(torch.from_numpy(y), shape, kh, kw, stride, pad), dtype, what="col2im")

    @parameterized.expand([c for c in CASES if c[-1] == "float64"])
    def test_col2im_is_the_adjoint_of_im2col(self, _, shape, kh, kw, stride, pad, dtype):
        """<im2col(x), y> = <x, col2im(y)> up to float64 rounding of the sums."""
        rng = np.random.default_rng(2)
        x = rng.standard_normal(shape)
        col = S.im2col(x, kh, kw, stride, pad)
        y = rng.standard_normal(col.shape)
        img = S.col2im(y, shape, kh, kw, stride, pad)
        lhs, rhs = np.sum(col * y), np.sum(x * img)
        bound = 1e-13 * np.sum(np.abs(col * y))
        self.assertLessEqual(abs(lhs - rhs), bound)


class TestErrors(unittest.TestCase):
    @parameterized.expand([
        ("kernel_taller_than_input", (1, 1, 4, 9), 5, 3, 1, 0, ValueError),
        ("kernel_wider_than_padded_input", (1, 1, 7, 3), 3, 6, 1, 1, ValueError),
        ("not_4d", (3, 7, 9), 3, 3, 1, 0, ValueError),
        ("stride_zero", (1, 1, 7, 9), 3, 3, 0, 0, ValueError),
        ("negative_pad", (1, 1, 7, 9), 3, 3, 1, -1, ValueError),
        ("zero_filter", (1, 1, 7, 9), 0, 3, 1, 0, ValueError),
        ("float_stride", (1, 1, 7, 9), 3, 3, 1.5, 0, TypeError),
    ])
    def test_im2col_rejects(self, _, shape, fh, fw, stride, pad, error):
        x = np.zeros(shape)
        for module in (S, R):
            with self.subTest(module.__name__), self.assertRaises(error):
                module.im2col(x, fh, fw, stride, pad)

    def test_col2im_rejects_inconsistent_col(self):
        col = np.zeros((2 * 5 * 7, 3 * 9))  # fits (2, 3, 7, 9) with a 3x3 filter
        for module in (S, R):
            with self.subTest(module.__name__):
                self.assertEqual(tuple(module.col2im(col, (2, 3, 7, 9), 3, 3).shape), (2, 3, 7, 9))
                for bad in [((2, 3, 7, 9), 3, 2), ((2, 1, 7, 9), 3, 3), ((1, 3, 7, 9), 3, 3)]:
                    with self.assertRaisesRegex(ValueError, "does not match"):
                        module.col2im(col, *bad)
                with self.assertRaisesRegex(ValueError, "4-D"):
                    module.col2im(col, (3, 7, 9), 3, 3)
                with self.assertRaisesRegex(ValueError, "does not fit"):
                    module.col2im(col, (2, 3, 2, 9), 3, 3)


if __name__ == "__main__":
    unittest.main()
