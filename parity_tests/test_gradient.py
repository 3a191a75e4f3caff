"""Central differences (scratch.gradient) against autograd (reference.gradient), chapter 4.

The NumPy backend estimates derivatives; the PyTorch backend computes them
exactly. The tolerance is therefore the error bound of the central
difference (f(x + h) - f(x - h)) / 2h with h = 1e-4, written out in
``central_difference_bound``, not the parity tolerance of the other tests:

* truncation: f'(x) + h^2/6 f'''(xi), at most h^2/6 * max|f'''|;
* rounding: f(x +- h) each carry about eps * F, F the size of the terms
  summed into f, divided by 2h; and x + h, x - h are themselves rounded, which
  changes the step 2h by up to eps * |x| and the quotient by eps * |x| * |f'| / h.
  This is why the book (4.3.1) picks h = 1e-4 and float64: in float32 the
  rounding term alone is ~1e-3 relative.
"""
import warnings

import numpy as np
import pytest
import torch
from parameterized import parameterized

import reference.gradient as R
import scratch.gradient as S
from conftest import DTYPES, assert_close, make_rng, to_numpy

pytestmark = pytest.mark.filterwarnings("error")

H = 1e-4
SAFETY = 8  # a few roundings per evaluation of f, and the two evaluations


def central_difference_bound(dtype, third_derivative, term_scale, x_scale, grad_scale, h=H):
    """Largest error of a central difference, from the truncation and rounding terms above."""
    eps = np.finfo(dtype).eps
    truncation = h ** 2 / 6 * third_derivative
    rounding = SAFETY * eps * (term_scale + x_scale * grad_scale) / h
    return truncation + rounding


def _lib(x):
    return torch if isinstance(x, torch.Tensor) else np


# name -> (f, bound on |d^3 f / dx_i^3|, size of the terms summed into f); f works on arrays and tensors.
FUNCTIONS = {
    "sum_of_squares": (lambda x: (x ** 2).sum(), 0.0, lambda x: np.sum(x ** 2)),
    "sine": (lambda x: _lib(x).sin(x).sum(), 1.0, lambda x: x.size),
    "cubic": (lambda x: (x ** 3).sum() / 3, 2.0, lambda x: np.sum(np.abs(x) ** 3)),
    # log sum exp couples every element; its third derivative along x_i is p(1-p)(1-2p), below 0.1.
    "log_sum_exp": (lambda x: _lib(x).log(_lib(x).exp(x).sum()), 0.1,
                    lambda x: np.log(np.sum(np.exp(x))) + 1),
}
SHAPES = [("2", (2,)), ("3x4", (3, 4)), ("2x3x4", (2, 3, 4))]


def book_function(x):
    """4.3.2: y = 0.01 x^2 + 0.1 x."""
    return 0.01 * x ** 2 + 0.1 * x


class TestNumericalDiff:
    @parameterized.expand([(f"x{x}_{dt_name}", x, slope, dt)
                           for x, slope in ((5, 0.2), (10, 0.3)) for dt_name, dt in DTYPES])
    def test_book_example(self, _, x, slope, dtype):
        """4.3.2: the slopes at 5 and 10 are 0.2 and 0.3 (the book prints 0.1999999999990898, 0.2999999999986347)."""
        x = dtype(x)
        ours, theirs = S.numerical_diff(book_function, x), R.numerical_diff(book_function, x)
        assert isinstance(theirs, torch.Tensor)
        assert_close(theirs, np.array(slope, dtype=dtype), dtype)  # autograd: exact up to rounding
        bound = central_difference_bound(dtype, 0.0, abs(float(book_function(x))), abs(float(x)), slope)
        assert_close(ours, theirs, dtype, rtol=0.0, atol=bound, component="gradient.central_difference")

    def test_book_digits(self):
        """The NumPy backend reproduces the book's printed float64 values (the central difference's own error)."""
        assert S.numerical_diff(book_function, 5) == pytest.approx(0.1999999999990898, rel=1e-13)
        assert S.numerical_diff(book_function, 10) == pytest.approx(0.2999999999986347, rel=1e-13)


class TestNumericalGradient:
    @parameterized.expand([(f"{name}_{shape_name}_{dt_name}", name, shape, dt)
                           for name in FUNCTIONS for shape_name, shape in SHAPES for dt_name, dt in DTYPES])
    def test_matches_autograd(self, _, name, shape, dtype):
        f, third, terms = FUNCTIONS[name]
        x = make_rng().uniform(-2, 2, shape).astype(dtype)
        before = x.copy()
        with warnings.catch_warnings():  # float32 on purpose: the bound below is float32's
            warnings.simplefilter("ignore", S.LowPrecisionGradientWarning)
            ours = S.numerical_gradient(f, x)
        assert x.tobytes() == before.tobytes(), "numerical_gradient must leave x bit-for-bit unchanged"
        theirs = R.numerical_gradient(f, x)
        assert x.tobytes() == before.tobytes(), "reference.numerical_gradient changed x"
        assert isinstance(theirs, torch.Tensor) and theirs.shape == x.shape
        theirs = to_numpy(theirs)
        bound = central_difference_bound(dtype, third, float(terms(x.astype(np.float64))),
                                         float(np.max(np.abs(x))), float(np.max(np.abs(theirs))))
        assert_close(ours, theirs, dtype, rtol=0.0, atol=bound, component="gradient.central_difference")
        if dtype == np.float64:  # the brief's yardstick: central differences in float64 are good to ~1e-7 relative
            assert_close(ours, theirs, dtype, rtol=1e-7, component="gradient.central_difference")

    def test_restores_x_when_f_raises(self):
        x = make_rng().uniform(-2, 2, (3, 4))
        before = x.copy()
        calls = []

        def fails_on_fifth_call(z):
            calls.append(1)
            if len(calls) == 5:
                raise RuntimeError("boom")
            return np.sum(z ** 2)

        with pytest.raises(RuntimeError, match="boom"):
            S.numerical_gradient(fails_on_fifth_call, x)
        assert x.tobytes() == before.tobytes()

    def test_restores_exact_values(self):
        """x + h - h is not always x in floating point: the original value must be put back, not recomputed."""
        x = np.array([0.1, 1 / 3, 2 / 3, 1e-17, 12345.6789])
        assert any((v + H) - H != v for v in x)  # otherwise this test would prove nothing
        before = x.copy()
        S.numerical_gradient(lambda z: np.sum(z ** 2), x)
        assert x.tobytes() == before.tobytes()

    def test_refuses_what_it_cannot_perturb(self):
        """The NumPy backend perturbs x in place, so it needs a contiguous float array (autograd does not)."""
        with pytest.raises(TypeError, match="floating"):
            S.numerical_gradient(lambda z: np.sum(z ** 2), np.arange(4))
        with pytest.raises(ValueError, match="contiguous"):
            S.numerical_gradient(lambda z: np.sum(z ** 2), np.ones((3, 4)).T)
        assert_close(R.numerical_gradient(lambda z: (z ** 2).sum(), np.arange(4)), 2.0 * np.arange(4), np.float64)


def sum_of_squares_2d(x):
    """4.4.1: f(x0, x1) = x0^2 + x1^2."""
    return x[0] ** 2 + x[1] ** 2


class TestGradientDescent:
    @parameterized.expand([(f"lr{lr}_{steps}steps_{dt_name}", lr, steps, dt)
                           for lr, steps in ((0.1, 100), (0.01, 100), (1e-10, 100), (0.1, 1))
                           for dt_name, dt in DTYPES])
    def test_backends_agree(self, _, lr, steps, dtype):
        """Each step multiplies x by (1 - 2 lr), so x_100 = (1 - 2 lr)^100 x_0; the book gets [-6.1e-10, 8.1e-10].

        f is quadratic, so the central difference has no truncation error: only
        rounding, about eps/h relative per step, separates the two backends.
        """
        init_x = np.array([-3.0, 4.0], dtype=dtype)
        with warnings.catch_warnings():  # float32's warning is TestLowPrecisionWarning's; this test may run first
            warnings.simplefilter("ignore", S.LowPrecisionGradientWarning)
            ours = S.gradient_descent(sum_of_squares_2d, init_x, lr=lr, step_num=steps)
        theirs = R.gradient_descent(sum_of_squares_2d, init_x, lr=lr, step_num=steps)
        np.testing.assert_array_equal(init_x, [-3.0, 4.0])  # neither backend moves the caller's array
        assert isinstance(theirs, torch.Tensor) and not theirs.requires_grad
        exact = (1 - 2 * lr) ** steps * np.array([-3.0, 4.0])
        eps = np.finfo(dtype).eps
        # torch.optim.SGD: a few roundings per step, accumulating over the steps.
        assert_close(theirs, exact.astype(dtype), dtype, rtol=4 * steps * eps, component="gradient.autograd")
        # Central differences: about eps/h relative per step, shrinking with x.
        assert_close(ours, theirs, dtype, rtol=10 * eps / H, component="gradient.central_difference")


class TestLowPrecisionWarning:
    """A gradient check in float32 agrees only to about 1e-3: numerical_gradient says so, once."""

    def test_float32_warns_once_and_float64_never(self, monkeypatch):
        import scratch.gradient as gradient

        monkeypatch.setattr(gradient, "_warned_low_precision", False)
        f = lambda x: float(np.sum(x ** 2))  # noqa: E731
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            gradient.numerical_gradient(f, np.ones(3))
            assert not caught
            gradient.numerical_gradient(f, np.ones(3, dtype=np.float32))
            gradient.numerical_gradient(f, np.ones(3, dtype=np.float32))
        assert [w.category for w in caught] == [gradient.LowPrecisionGradientWarning]
        assert "dtype=np.float64" in str(caught[0].message)
