"""Parity tests for Batch Normalization (6.3): scratch (NumPy, the book's graph node by node) against
reference (``F.batch_norm`` + autograd), plus a finite-difference check of the scratch backward.
(scratch.fast's BatchNormalization: test_fast_batch_normalization.py.)

Comparisons use conftest's ``assert_close`` (float64 1e-10, float32 1e-5, judged against
the array's largest entry). dx with only two values per channel is the one exception in
its scale: the true dx is then tiny (of order eps / var, the output barely depends on x)
and both backends get it as the difference of terms of size |gamma| |dout| / std, so its
absolute tolerance is rtol times that term size. Neither backend is closer to the float64
truth there (checked: both are off by about 1e-2 relative in float32); the error is
recorded under its own component name, ``batch_normalization.dx_two_values_per_channel``.
"""
import unittest

import numpy as np
import torch
import torch.nn.functional as F
from parameterized import parameterized

from conftest import RTOL, assert_close, max_rel_error, to_numpy
from reference.batch_normalization import BatchNormalization as ReferenceBN
from scratch.batch_normalization import BatchNormalization as ScratchBN
from scratch.book.layers import BatchNormalization as BookBN
from scratch.gradient import numerical_gradient

CHANNELS = 3


def shape_of(ndim, batch_size):
    return (batch_size, CHANNELS) if ndim == 2 else (batch_size, CHANNELS, 4, 5)


def channel_view(ndim):
    return (1, CHANNELS) + (1,) * (ndim - 2)


def make_batch(rng, shape, dtype, spread=1.0):
    """A batch whose channels have different means and scales, so running statistics matter."""
    ndim = len(shape)
    mean = rng.uniform(-2, 2, CHANNELS).reshape(channel_view(ndim))
    scale = rng.uniform(0.5, 3, CHANNELS).reshape(channel_view(ndim))
    return (spread * (mean + scale * rng.standard_normal(shape))).astype(dtype)


def make_pair(rng, dtype, **kwargs):
    gamma = rng.uniform(0.5, 2, CHANNELS).astype(dtype)
    beta = rng.standard_normal(CHANNELS).astype(dtype)
    return ScratchBN(gamma.copy(), beta.copy(), **kwargs), ReferenceBN(gamma.copy(), beta.copy(), **kwargs)


CASES = [(f"{ndim}d_n{n}_{np.dtype(dt).name}", ndim, n, dt)
         for ndim in (2, 4) for n in (2, 5, 32) for dt in (np.float64, np.float32)]


class TestBatchNormalizationParity(unittest.TestCase):

    def assert_parity(self, actual, expected, dtype, what, atol=None):
        assert_close(actual, expected, dtype, atol=atol, what=what, component=f"batch_normalization.{what}")

    def assert_step(self, scratch, reference, x, dout, dtype, train_flg):
        out_s = scratch.forward(x, train_flg)
        out_r = reference.forward(x, train_flg)
        self.assert_parity(out_s, out_r, dtype, "out")
        dx_s, dx_r = scratch.backward(dout), reference.backward(dout)
        if train_flg and x.size == 2 * CHANNELS:  # two values per channel: see the module docstring
            term_size = np.abs(scratch.gamma / scratch.std.ravel()).max() * np.abs(dout).max()
            atol = RTOL[np.dtype(dtype)] * max(term_size, np.abs(to_numpy(dx_r)).max())
            self.assert_parity(dx_s, dx_r, dtype, "dx_two_values_per_channel", atol=atol)
        else:
            self.assert_parity(dx_s, dx_r, dtype, "dx")
        self.assert_parity(scratch.dgamma, reference.dgamma, dtype, "dgamma")
        self.assert_parity(scratch.dbeta, reference.dbeta, dtype, "dbeta")

    @parameterized.expand(CASES)
    def test_training_forward_backward(self, _, ndim, batch_size, dtype):
        rng = np.random.default_rng(ndim * 100 + batch_size)
        scratch, reference = make_pair(rng, dtype)
        shape = shape_of(ndim, batch_size)
        x, dout = make_batch(rng, shape, dtype), rng.standard_normal(shape).astype(dtype)
        self.assert_step(scratch, reference, x, dout, dtype, train_flg=True)

    @parameterized.expand(CASES)
    def test_running_statistics_then_eval(self, _, ndim, batch_size, dtype):
        rng = np.random.default_rng(ndim * 1000 + batch_size)
        scratch, reference = make_pair(rng, dtype)
        shape = shape_of(ndim, batch_size)
        for _step in range(5):
            x, dout = make_batch(rng, shape, dtype), rng.standard_normal(shape).astype(dtype)
            self.assert_step(scratch, reference, x, dout, dtype, train_flg=True)
            self.assert_parity(scratch.running_mean, reference.running_mean, dtype, "running_mean")
            self.assert_parity(scratch.running_var, reference.running_var, dtype, "running_var")
        mean, var = scratch.running_mean.copy(), scratch.running_var.copy()
        x, dout = make_batch(rng, shape, dtype), rng.standard_normal(shape).astype(dtype)
        self.assert_step(scratch, reference, x, dout, dtype, train_flg=False)
        np.testing.assert_array_equal(scratch.running_mean, mean)  # eval leaves the statistics alone
        np.testing.assert_array_equal(scratch.running_var, var)
        self.assert_parity(scratch.running_var, reference.running_var, dtype, "running_var")

    @parameterized.expand([(f"{ndim}d_m{m}_eps{eps:g}_{np.dtype(dt).name}", ndim, m, eps, dt)
                           for ndim in (2, 4) for m in (0.9, 0.5) for eps in (1e-5, 1e-6, 1e-3)
                           for dt in (np.float64, np.float32)])
    def test_momentum_and_eps(self, _, ndim, momentum, eps, dtype):
        # spread 1e-3: variances of order 1e-6, so eps changes the output visibly
        rng = np.random.default_rng(7)
        scratch, reference = make_pair(rng, dtype, momentum=momentum, eps=eps)
        shape = shape_of(ndim, 5)
        for _step in range(3):
            x, dout = make_batch(rng, shape, dtype, spread=1e-3), rng.standard_normal(shape).astype(dtype)
            self.assert_step(scratch, reference, x, dout, dtype, train_flg=True)
        self.assert_parity(scratch.running_mean, reference.running_mean, dtype, "running_mean")
        self.assert_parity(scratch.running_var, reference.running_var, dtype, "running_var")
        self.assert_step(scratch, reference, x, dout, dtype, train_flg=False)

    def test_eps_matters_in_the_eps_test(self):
        rng = np.random.default_rng(7)
        x = make_batch(rng, (5, CHANNELS), np.float64, spread=1e-3)
        gamma, beta = np.ones(CHANNELS), np.zeros(CHANNELS)
        out = [ScratchBN(gamma, beta, eps=eps).forward(x) for eps in (1e-5, 1e-6)]
        self.assertGreater(max_rel_error(out[0], out[1]), 1e-3)

    @parameterized.expand([("2d", 2), ("4d", 4)])
    def test_running_var_is_unbiased_like_pytorch(self, _, ndim):
        rng = np.random.default_rng(3)
        x = make_batch(rng, shape_of(ndim, 4), np.float64)
        scratch, reference = make_pair(rng, np.float64, momentum=0.9)
        scratch.forward(x)
        reference.forward(x)
        axes = (0,) + tuple(range(2, ndim))
        n = x.size // CHANNELS
        unbiased = 0.9 * 1 + 0.1 * x.var(axis=axes) * n / (n - 1)
        self.assertLessEqual(max_rel_error(reference.running_var, unbiased), 1e-14)
        self.assertLessEqual(max_rel_error(scratch.running_var, unbiased), 1e-14)
        self.assertLessEqual(max_rel_error(reference.running_mean, 0.1 * x.mean(axis=axes)), 1e-14)

    @parameterized.expand([(f"{ndim}d_{np.dtype(dt).name}", ndim, dt)
                           for ndim in (2, 4) for dt in (np.float64, np.float32)])
    def test_book_running_var(self, _, ndim, dtype):
        """scratch.book's layer (the book's; PyTorch has no mirror of it) moves running_var towards the
        biased variance, per element position, starting at 0: the book's formula."""
        rng = np.random.default_rng(4)
        shape = shape_of(ndim, 5)
        flat_shape = (5, int(np.prod(shape[1:])))
        layer = BookBN(rng.uniform(0.5, 2, flat_shape[1]).astype(dtype),
                       rng.standard_normal(flat_shape[1]).astype(dtype), momentum=0.5)
        expected_mean, expected_var, unbiased_var = np.zeros(flat_shape[1]), np.zeros(flat_shape[1]), 0
        for _step in range(3):
            x = make_batch(rng, shape, dtype)
            layer.forward(x)
            x64 = x.reshape(flat_shape).astype(np.float64)
            expected_mean = 0.5 * expected_mean + 0.5 * x64.mean(axis=0)
            expected_var = 0.5 * expected_var + 0.5 * x64.var(axis=0)  # biased, as in the book
            unbiased_var = 0.5 * unbiased_var + 0.5 * x64.var(axis=0, ddof=1)  # PyTorch's
        self.assertLessEqual(max_rel_error(layer.running_mean.astype(np.float64), expected_mean),
                             RTOL[np.dtype(dtype)])
        self.assertLessEqual(max_rel_error(layer.running_var.astype(np.float64), expected_var),
                             RTOL[np.dtype(dtype)])
        # n / (n - 1) is 5 / 4 here: PyTorch's unbiased running variance is far from the book's
        self.assertGreater(max_rel_error(layer.running_var.astype(np.float64), unbiased_var), 1e-2)

    def test_momentum_is_mapped_to_pytorch(self):
        rng = np.random.default_rng(5)
        x = make_batch(rng, (8, CHANNELS), np.float64)
        layer = ReferenceBN(np.ones(CHANNELS), np.zeros(CHANNELS), momentum=0.9)
        layer.forward(x)
        mean, var = torch.zeros(CHANNELS, dtype=torch.float64), torch.ones(CHANNELS, dtype=torch.float64)
        F.batch_norm(torch.from_numpy(x), mean, var, training=True, momentum=0.1)
        self.assertLessEqual(max_rel_error(layer.running_mean, mean), 1e-15)
        self.assertLessEqual(max_rel_error(layer.running_var, var), 1e-15)

    def test_initial_statistics(self):
        for cls in (ScratchBN, ReferenceBN):
            layer = cls(np.ones(CHANNELS, np.float32), np.zeros(CHANNELS, np.float32))
            np.testing.assert_array_equal(to_numpy(layer.running_mean), np.zeros(CHANNELS, np.float32))
            np.testing.assert_array_equal(to_numpy(layer.running_var), np.ones(CHANNELS, np.float32))
            self.assertEqual(to_numpy(layer.running_var).dtype, np.float32)
            given_mean, given_var = np.full(CHANNELS, 0.5), np.full(CHANNELS, 2.0)
            layer = cls(np.ones(CHANNELS), np.zeros(CHANNELS), running_mean=given_mean, running_var=given_var)
            layer.forward(np.arange(12.0).reshape(4, CHANNELS))
            np.testing.assert_array_equal(given_mean, np.full(CHANNELS, 0.5))  # copied, not updated in place
            np.testing.assert_array_equal(given_var, np.full(CHANNELS, 2.0))
            eval_out = to_numpy(cls(np.ones(CHANNELS), np.zeros(CHANNELS), running_mean=given_mean,
                                    running_var=given_var, eps=0.0).forward(np.ones((2, CHANNELS)), False))
            np.testing.assert_allclose(eval_out, np.full((2, CHANNELS), 0.5 / np.sqrt(2.0)), rtol=1e-15)

    def test_parameters_are_shared(self):
        gamma, beta = np.ones(CHANNELS), np.zeros(CHANNELS)
        layer = ScratchBN(gamma, beta)
        self.assertIs(layer.gamma, gamma)
        self.assertIs(layer.beta, beta)
        gamma_t = torch.ones(CHANNELS, dtype=torch.float64, requires_grad=True)
        beta_t = torch.zeros(CHANNELS, dtype=torch.float64, requires_grad=True)
        layer = ReferenceBN(gamma_t, beta_t)
        self.assertIs(layer.gamma, gamma_t)
        self.assertIs(layer.beta, beta_t)

    def test_float32_stays_float32(self):
        rng = np.random.default_rng(6)
        layer = ScratchBN(np.ones(CHANNELS, np.float32), np.zeros(CHANNELS, np.float32), eps=np.float64(1e-5))
        x = make_batch(rng, shape_of(4, 3), np.float32)
        for train_flg in (True, False):
            out = layer.forward(x, train_flg)
            dx = layer.backward(np.ones_like(x))
            for value in (out, dx, layer.dgamma, layer.dbeta, layer.running_mean, layer.running_var):
                self.assertEqual(value.dtype, np.float32)

    def test_backward_leaves_dout_alone(self):
        rng = np.random.default_rng(8)
        layer = ScratchBN(np.ones(CHANNELS), np.zeros(CHANNELS))
        x = make_batch(rng, shape_of(2, 4), np.float64)
        dout = rng.standard_normal(x.shape)
        saved = dout.copy()
        layer.forward(x)
        layer.backward(dout)
        np.testing.assert_array_equal(dout, saved)

    @parameterized.expand([("scratch", ScratchBN), ("reference", ReferenceBN)])
    def test_errors(self, _, cls):
        ones, zeros = np.ones(CHANNELS), np.zeros(CHANNELS)
        with self.assertRaisesRegex(ValueError, "shape"):
            cls(ones, np.zeros(CHANNELS + 1))
        with self.assertRaisesRegex(ValueError, "shape"):
            cls(np.ones((CHANNELS, 1)), np.zeros((CHANNELS, 1)))
        with self.assertRaisesRegex(TypeError, "dtype"):
            cls(ones, zeros.astype(np.float32))
        with self.assertRaisesRegex(ValueError, "running_mean"):
            cls(ones, zeros, running_mean=np.zeros(CHANNELS + 1))
        with self.assertRaisesRegex(TypeError, "running_var"):
            cls(ones, zeros, running_var=np.ones(CHANNELS, np.float32))
        with self.assertRaisesRegex(ValueError, "momentum"):
            cls(ones, zeros, momentum=1.5)
        layer = cls(ones, zeros)
        with self.assertRaisesRegex(ValueError, "shape"):
            layer.forward(np.ones((4, CHANNELS + 1)))
        with self.assertRaisesRegex(ValueError, "shape"):
            layer.forward(np.ones(CHANNELS))
        with self.assertRaisesRegex(TypeError, "dtype"):
            layer.forward(np.ones((4, CHANNELS), np.float32))
        with self.assertRaisesRegex(ValueError, "more than 1 value per channel"):
            layer.forward(np.ones((1, CHANNELS)))
        with self.assertRaisesRegex(ValueError, "more than 1 value per channel"):
            layer.forward(np.ones((1, CHANNELS, 1, 1)))
        layer.forward(np.ones((1, CHANNELS)), train_flg=False)  # eval needs no batch statistics

    def test_errors_have_the_same_words_in_both_backends(self):
        """One check in scratch.checks serves both: same exception class, same message."""
        ones, zeros = np.ones(CHANNELS), np.zeros(CHANNELS)
        calls = [lambda cls: cls(ones, np.zeros(CHANNELS + 1)),
                 lambda cls: cls(ones, zeros.astype(np.float32)),
                 lambda cls: cls(ones, zeros, running_mean=np.zeros(CHANNELS + 1)),
                 lambda cls: cls(ones, zeros, running_var=np.ones(CHANNELS, np.float32)),
                 lambda cls: cls(ones, zeros, momentum=1.5),
                 lambda cls: cls(ones, zeros, eps=-1.0),
                 lambda cls: cls(ones, zeros).forward(np.ones((0, CHANNELS))),
                 lambda cls: cls(ones, zeros).forward(np.ones((4, CHANNELS + 1, 2, 2))),
                 lambda cls: cls(ones, zeros).forward(np.ones((4, CHANNELS), np.float32)),
                 lambda cls: cls(ones, zeros).forward(np.ones((1, CHANNELS, 1, 1)))]
        for call in calls:
            errors = []
            for cls in (ScratchBN, ReferenceBN):
                with self.assertRaises((ValueError, TypeError)) as info:
                    call(cls)
                errors.append((type(info.exception), str(info.exception)))
            self.assertEqual(errors[0], errors[1])


class TestScratchBackwardNumerically(unittest.TestCase):
    """The book's hand-derived backward against central differences (4.4) of sum(out * dout)."""

    @parameterized.expand([(f"{ndim}d_{'train' if train_flg else 'eval'}", ndim, train_flg)
                           for ndim in (2, 4) for train_flg in (True, False)])
    def test_gradients_match_central_differences(self, _, ndim, train_flg):
        rng = np.random.default_rng(9)
        shape = (4, 2) if ndim == 2 else (2, 2, 2, 3)
        channels = shape[1]
        gamma, beta = rng.uniform(0.5, 2, channels), rng.standard_normal(channels)
        layer = ScratchBN(gamma, beta, running_mean=rng.standard_normal(channels),
                          running_var=rng.uniform(0.5, 2, channels))
        x, dout = rng.standard_normal(shape), rng.standard_normal(shape)

        def loss(_):
            return np.sum(layer.forward(x, train_flg) * dout)

        loss(None)
        dx = layer.backward(dout)
        dgamma, dbeta = layer.dgamma.copy(), layer.dbeta.copy()
        for name, analytic, numeric in (("dx", dx, numerical_gradient(loss, x)),
                                        ("dgamma", dgamma, numerical_gradient(loss, gamma)),
                                        ("dbeta", dbeta, numerical_gradient(loss, beta))):
            error = max_rel_error(analytic, numeric)
            self.assertLessEqual(error, 1e-7, f"{name}: relative error {error:.3e}")
