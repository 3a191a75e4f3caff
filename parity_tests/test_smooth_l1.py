"""Parity of the smooth L1 loss (8.4, Fast R-CNN's box regression): scratch.smooth_l1 against F.smooth_l1_loss.

* ``SmoothL1Loss``: the loss and dx, float64 and float32, beta 1 (Fast R-CNN's), 0.5 and 0 (plain L1),
  both reductions, with differences on both sides of beta, exactly at +-beta and exactly 0;
  a hand-computed example; the mean of nothing is NaN and the sum of nothing 0 in both;
* ``BadInput``: one-line errors, the same in both backends.
"""
import math
import unittest

import numpy as np
import pytest
from parameterized import parameterized

import reference.smooth_l1 as R
import scratch.smooth_l1 as S
from conftest import DTYPES, assert_close, assert_same_error, to_numpy

pytestmark = [pytest.mark.filterwarnings("error"), pytest.mark.usefixtures("one_torch_thread")]

CASES = [(f"{name}_beta{beta}_{reduction}", dtype, beta, reduction) for name, dtype in DTYPES
         for beta in (1.0, 0.5, 0.0) for reduction in ("mean", "sum")]


def pairs(dtype, beta, seed=0):
    """Predictions and targets (6, 4) whose differences cover |d| < beta, |d| > beta, d = +-beta, d = 0."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1.5, (6, 4))
    t = rng.normal(0, 1.5, (6, 4))
    t[0] = x[0] - np.array([beta, -beta, 0.0, 3 * beta + 0.1])
    return x.astype(dtype), t.astype(dtype)


class TestSmoothL1Loss(unittest.TestCase):

    @parameterized.expand(CASES)
    def test_loss_and_dx(self, _, dtype, beta, reduction):
        x, t = pairs(dtype, beta)
        a, b = S.SmoothL1Loss(beta, reduction), R.SmoothL1Loss(beta, reduction)
        la, lb = a.forward(x, t), b.forward(x, t)
        assert_close(np.asarray(la), lb, dtype, what="loss")
        assert_close(a.backward(1.7), b.backward(1.7), dtype, what="dx")
        self.assertEqual(np.asarray(la).dtype, dtype)

    def test_hand_computed(self):
        """d = (0.5, -2, 1, 0) with beta 1: 0.125 + 1.5 + 0.5 + 0; dx = (0.5, -1, 1, 0)."""
        x, t = np.array([[0.5, -2.0, 1.0, 3.0]]), np.array([[0.0, 0.0, 0.0, 3.0]])
        for layer in (S.SmoothL1Loss(1.0, "sum"), R.SmoothL1Loss(1.0, "sum")):
            self.assertAlmostEqual(float(to_numpy(layer.forward(x, t))), 2.125, places=15)
            np.testing.assert_array_equal(to_numpy(layer.backward()), [[0.5, -1.0, 1.0, 0.0]])
        mean = S.SmoothL1Loss()
        self.assertAlmostEqual(float(mean.forward(x, t)), 2.125 / 4, places=15)
        np.testing.assert_array_equal(mean.backward(2.0), [[0.25, -0.5, 0.5, 0.0]])

    def test_empty_input(self):
        e = np.zeros((0, 4))
        for module in (S, R):
            total = module.SmoothL1Loss(reduction="sum")
            self.assertEqual(float(to_numpy(total.forward(e, e))), 0.0)
            self.assertEqual(to_numpy(total.backward()).shape, (0, 4))
        self.assertTrue(math.isnan(S.SmoothL1Loss().forward(e, e)))
        self.assertTrue(math.isnan(float(to_numpy(R.SmoothL1Loss().forward(e, e)))))


class TestBadInput(unittest.TestCase):

    def same_error(self, make, *args, match):
        errors = assert_same_error(lambda: make(S)(*args), lambda: make(R)(*args), match=match)
        self.assertEqual(str(errors[0]), str(errors[1]))
        self.assertNotIn("\n", str(errors[0]))

    def test_bad_arguments_and_input(self):
        x = np.zeros((3, 4))
        self.same_error(lambda m: m.SmoothL1Loss, -1.0, match="beta must be a finite number >= 0, got -1.0")
        self.same_error(lambda m: m.SmoothL1Loss, 1.0, "none", match="reduction must be 'mean' or 'sum'")
        self.same_error(lambda m: m.SmoothL1Loss().forward, x, x[:2],
                        match="predictions of shape (3, 4) and targets of shape (2, 4) differ")
        self.same_error(lambda m: m.SmoothL1Loss().forward, x, x.astype(np.float32),
                        match="predictions are float64 but targets are float32")
        self.same_error(lambda m: m.SmoothL1Loss().forward, x.astype(np.int64), x.astype(np.int64),
                        match="floating-point input")
        for module in (S, R):
            with self.assertRaisesRegex(RuntimeError, "before SmoothL1Loss.forward"):
                module.SmoothL1Loss().backward()
