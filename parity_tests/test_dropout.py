"""Parity tests for Dropout (6.4.3): scratch (NumPy) against reference (PyTorch).

Dropout is a product with a 0/1 mask and one scale factor, so with the same mask
both backends must agree bit for bit (no tolerance), and the reference must agree
bit for bit with ``F.dropout`` when its generator is in the same state as the
global one ``F.dropout`` draws from.
"""
import unittest

import numpy as np
import torch
import torch.nn.functional as F
from parameterized import parameterized

from conftest import assert_exact, to_numpy
from reference.dropout import Dropout as ReferenceDropout
from scratch.dropout import Dropout as ScratchDropout

BACKENDS = [("scratch", ScratchDropout), ("reference", ReferenceDropout)]
DTYPES = (np.float64, np.float32)


def assert_identical(actual, expected, what=""):
    assert_exact(actual, expected, what)


class TestDropoutParity(unittest.TestCase):

    @parameterized.expand([(f"{'train' if train else 'eval'}_p{p}_{np.dtype(dt).name}", train, p, dt)
                           for train in (True, False) for p in (0.15, 0.5, 0.8) for dt in DTYPES])
    def test_same_mask_same_output_and_gradient(self, _, train_flg, p, dtype):
        rng = np.random.default_rng(0)
        x = rng.standard_normal((8, 3, 5, 5)).astype(dtype)
        dout = rng.standard_normal(x.shape).astype(dtype)
        mask = rng.random(x.shape) >= p
        scratch, reference = ScratchDropout(p), ReferenceDropout(p)
        out_s = scratch.forward(x, train_flg, mask=mask)
        out_r = reference.forward(x, train_flg, mask=mask)
        assert_identical(out_s, out_r)
        assert_identical(scratch.backward(dout), reference.backward(dout))
        expected = x * (mask.astype(dtype) / dtype(1 - p)) if train_flg else x
        assert_identical(out_s, expected)

    @parameterized.expand([(f"p{p}_{np.dtype(dt).name}", p, dt) for p in (0.15, 0.3, 0.5, 0.9) for dt in DTYPES])
    def test_reference_is_F_dropout_bit_for_bit(self, _, p, dtype):
        x = torch.from_numpy(np.random.default_rng(1).standard_normal((64, 100)).astype(dtype)).requires_grad_(True)
        dout = torch.ones_like(x) * 3.7
        torch.manual_seed(42)
        expected = F.dropout(x, p, training=True)
        (expected_dx,) = torch.autograd.grad(expected, x, dout)
        reference = ReferenceDropout(p, seed=42)
        assert_identical(reference.forward(x), expected)
        assert_identical(reference.backward(dout), expected_dx)
        scratch = ScratchDropout(p)
        assert_identical(scratch.forward(x.detach().numpy(), mask=reference.mask.numpy()), expected)
        assert_identical(scratch.backward(dout.numpy()), expected_dx)

    def test_order_of_scaling_is_visible(self):
        """The bit-for-bit test can fail: at p = 0.15 in float32, (x * mask) / (1 - p) != x * (mask / (1 - p))."""
        x = np.random.default_rng(2).standard_normal(10_000).astype(np.float32)
        mask = np.ones_like(x, dtype=bool)
        out = ScratchDropout(0.15).forward(x, mask=mask)
        self.assertTrue(np.any(out != (x * mask) / np.float32(0.85)))

    @parameterized.expand(BACKENDS)
    def test_ratio_zero_keeps_everything(self, _, cls):
        x = np.random.default_rng(3).standard_normal((50, 40)).astype(np.float32)
        layer = cls(0.0, seed=0)
        assert_identical(layer.forward(x), x)
        assert_identical(layer.backward(np.ones_like(x)), np.ones_like(x))
        assert_identical(layer.forward(x, train_flg=False), x)

    @parameterized.expand(BACKENDS)
    def test_ratio_one_gives_zeros_like_F_dropout(self, _, cls):
        x = torch.tensor([1.5, -2.0, 0.0, float("inf")], dtype=torch.float32)
        expected = F.dropout(x, 1.0, training=True)  # x * 0: -0.0 for negatives, nan for inf
        layer = cls(1.0, seed=0)
        with np.errstate(invalid="ignore"):  # inf * 0
            assert_identical(layer.forward(x.numpy()), expected)
            assert_identical(layer.forward(x.numpy(), mask=np.ones(4, bool)), expected)
        assert_identical(layer.backward(np.ones(4, np.float32)), np.zeros(4, np.float32))

    @parameterized.expand(BACKENDS)
    def test_seed_reproducibility(self, _, cls):
        x = np.ones((30, 30), np.float32)
        first, again, other = cls(0.5, seed=11), cls(0.5, seed=11), cls(0.5, seed=12)
        first.forward(x)
        mask_a = to_numpy(first.mask).copy()
        again.forward(x)
        other.forward(x)
        np.testing.assert_array_equal(mask_a, to_numpy(again.mask))
        self.assertFalse(np.array_equal(mask_a, to_numpy(other.mask)))
        first.forward(x)  # the generator moves on: the next batch gets a new mask
        self.assertFalse(np.array_equal(mask_a, to_numpy(first.mask)))
        self.assertEqual(to_numpy(first.mask).dtype, bool)

    @parameterized.expand([(f"{name}_p{p}", cls, p) for name, cls in BACKENDS for p in (0.2, 0.5, 0.8)])
    def test_keep_rate(self, _, cls, p):
        x = np.ones((1000, 1000), np.float32)
        layer = cls(p, seed=5)
        out = to_numpy(layer.forward(x))
        keep_rate = to_numpy(layer.mask).mean()
        sigma = np.sqrt(p * (1 - p) / x.size)
        self.assertLess(abs(keep_rate - (1 - p)), 5 * sigma)
        self.assertAlmostEqual(float(out.mean(dtype=np.float64)), 1.0, delta=5 * sigma / (1 - p))

    @parameterized.expand(BACKENDS)
    def test_float32_stays_float32(self, _, cls):
        x = np.ones((4, 5), np.float32)
        for train_flg in (True, False):
            layer = cls(0.3, seed=0)
            self.assertEqual(to_numpy(layer.forward(x, train_flg)).dtype, np.float32)
            self.assertEqual(to_numpy(layer.backward(np.ones_like(x))).dtype, np.float32)

    @parameterized.expand(BACKENDS)
    def test_backward_leaves_dout_alone(self, _, cls):
        layer = cls(0.5, seed=0)
        x = np.random.default_rng(4).standard_normal((6, 7))
        dout = np.random.default_rng(5).standard_normal((6, 7))
        saved = dout.copy()
        for train_flg in (True, False):
            layer.forward(x, train_flg)
            layer.backward(dout)
            np.testing.assert_array_equal(dout, saved)

    @parameterized.expand(BACKENDS)
    def test_masks_as_numbers(self, _, cls):
        x = np.arange(1.0, 5.0)
        layer = cls(0.5)
        assert_identical(layer.forward(x, mask=np.array([1, 0, 1, 0])), np.array([2.0, 0.0, 6.0, 0.0]))
        assert_identical(layer.forward(x, mask=torch.tensor([False, True, True, False])),
                         np.array([0.0, 4.0, 6.0, 0.0]))

    @parameterized.expand(BACKENDS)
    def test_errors(self, _, cls):
        for ratio in (-0.1, 1.5, float("nan")):
            with self.assertRaisesRegex(ValueError, "dropout_ratio"):
                cls(ratio)
        layer = cls(0.5)
        x = np.ones((3, 4))
        with self.assertRaisesRegex(ValueError, "shape"):
            layer.forward(x, mask=np.ones((4, 3), bool))
        with self.assertRaisesRegex(ValueError, "shape"):
            layer.forward(x, mask=np.ones(4, bool))  # no broadcasting
        with self.assertRaisesRegex(ValueError, "booleans"):
            layer.forward(x, mask=np.full((3, 4), 2))
