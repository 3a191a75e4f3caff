"""Parity of the activation and loss functions (chapters 3 and 4): scratch.functions vs reference.functions."""
import contextlib
import warnings

import numpy as np
import pytest
import torch
from parameterized import parameterized

import reference.functions as R
import scratch.functions as S
from conftest import DTYPES, assert_close, assert_same_error, make_rng, to_numpy

pytestmark = pytest.mark.filterwarnings("error")

ACTIVATIONS = ["step_function", "sigmoid", "relu", "identity_function"]

# Inputs every elementwise function sees: 0 exactly (step and ReLU switch there), tiny and large values.
SPECIAL = [-1000.0, -40.0, -3.0, -1.0, -1e-3, -0.0, 0.0, 1e-3, 0.5, 1.0, 3.0, 40.0, 1000.0]
SHAPES = [("scalar", ()), ("vector", (5,)), ("batch", (7, 4)), ("nd", (2, 3, 4))]


@contextlib.contextmanager
def raise_on_float_trouble():
    """Overflow, division by zero and invalid operations raise; so does any warning.

    Underflow is allowed: exp(-1000) rounding to 0 is the correctly rounded result.
    """
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
        warnings.simplefilter("error")
        yield


def activation_input(shape, dtype):
    """Random values with the special ones mixed in (shape () gets 0 exactly)."""
    if shape == ():
        return np.array(0.0, dtype=dtype)
    x = make_rng().standard_normal(shape) * 3
    flat = x.reshape(-1)
    n = min(flat.size, len(SPECIAL))
    flat[:n] = SPECIAL[:n]
    return x.astype(dtype)


class TestActivations:
    @parameterized.expand([(f"{fn}_{shape_name}_{dt_name}", fn, shape, dt)
                           for fn in ACTIVATIONS for shape_name, shape in SHAPES for dt_name, dt in DTYPES])
    def test_backends_agree(self, _, fn, shape, dtype):
        x = activation_input(shape, dtype)
        before = x.copy()
        with raise_on_float_trouble():
            ours = getattr(S, fn)(x)
            theirs = getattr(R, fn)(x)
        assert isinstance(theirs, torch.Tensor)
        assert_close(ours, theirs, dtype, what=fn)
        assert np.array_equal(x, before), f"{fn} changed its input"

    @parameterized.expand(DTYPES)
    def test_book_values(self, _, dtype):
        """3.2.3 / 3.2.4 / 3.2.7: x = [-1, 1, 2]."""
        x = np.array([-1.0, 1.0, 2.0], dtype=dtype)
        for backend in (S, R):
            assert_close(backend.step_function(x), np.array([0, 1, 1], dtype=dtype), dtype)
            assert_close(backend.sigmoid(x), np.array([0.2689414213699951, 0.7310585786300049,
                                                       0.8807970779778823], dtype=dtype), dtype)
            assert_close(backend.relu(x), np.array([0, 1, 2], dtype=dtype), dtype)

    @parameterized.expand(DTYPES)
    def test_sigmoid_does_not_overflow(self, _, dtype):
        """The book's 1 / (1 + np.exp(-x)) overflows at x = -1000; both backends give 0 and 1 quietly."""
        x = np.array([-1000.0, 1000.0], dtype=dtype)
        with raise_on_float_trouble():
            ours, theirs = S.sigmoid(x), R.sigmoid(x)
        expected = np.array([0.0, 1.0], dtype=dtype)
        assert_close(ours, expected, dtype)
        assert_close(theirs, expected, dtype)

    def test_step_function_of_integers_stays_integer(self):
        x = np.array([-2, 0, 3])
        ours, theirs = S.step_function(x), R.step_function(x)
        np.testing.assert_array_equal(ours, [0, 0, 1])
        np.testing.assert_array_equal(to_numpy(theirs), [0, 0, 1])
        assert ours.dtype == to_numpy(theirs).dtype == np.int64


class TestSoftmax:
    @parameterized.expand([(f"{name}_{dt_name}", shape, dt)
                           for name, shape in [("vector", (10,)), ("one_row", (1, 10)), ("batch", (7, 10)),
                                               ("nd", (2, 3, 5))]
                           for dt_name, dt in DTYPES])
    def test_backends_agree(self, _, shape, dtype):
        x = (make_rng().standard_normal(shape) * 5).astype(dtype)
        with raise_on_float_trouble():
            ours, theirs = S.softmax(x), R.softmax(x)
        assert_close(ours, theirs, dtype)
        assert_close(ours.sum(axis=-1), np.ones(shape[:-1], dtype=dtype), dtype, rtol=10 * np.finfo(dtype).eps)

    @parameterized.expand(DTYPES)
    def test_book_example(self, _, dtype):
        """3.5.1: softmax([0.3, 2.9, 4.0]) = [0.01821127, 0.24519181, 0.73659691]."""
        a = np.array([0.3, 2.9, 4.0], dtype=dtype)
        for backend in (S, R):
            assert_close(backend.softmax(a), np.array([0.018211273295547534, 0.24519181293507392,
                                                       0.7365969137693786], dtype=dtype), dtype)

    @parameterized.expand([(f"{name}_{dt_name}", logits, dt)
                           for name, logits in [
                               ("huge", [[1e4, 1e4 - 1, 1e4 - 2], [-1e4, -1e4, -1e4 + 3]]),
                               ("spread", [[1e4, 0.0, -1e4], [0.0, 1e4, 1e4]]),
                               ("equal", [[7.0, 7.0, 7.0], [-1e4, -1e4, -1e4]])]
                           for dt_name, dt in DTYPES])
    def test_extreme_logits(self, _, logits, dtype):
        """3.5.2: logits of 1e4 overflow exp(); subtracting the maximum keeps every row finite and summing to 1."""
        x = np.array(logits, dtype=dtype)
        with raise_on_float_trouble():
            ours, theirs = S.softmax(x), R.softmax(x)
            single = S.softmax(x[0])
        assert np.all(np.isfinite(ours))
        assert_close(ours, theirs, dtype)
        assert_close(single, theirs[0], dtype)
        assert_close(ours.sum(axis=1), np.ones(2, dtype=dtype), dtype, rtol=10 * np.finfo(dtype).eps)


# 3.2.1: the book's y for t = 2 (one-hot) and the second, wrong guess.
BOOK_T = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0])
BOOK_Y_GOOD = [0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0]
BOOK_Y_BAD = [0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0]


def probabilities(n, classes, dtype, zero_at=None):
    """Rows of a softmax (random), optionally with an exact 0 at (row, column) pairs."""
    y = S.softmax(make_rng().standard_normal((n, classes)) * 2)
    for row, col in zero_at or ():
        y[row, col] = 0.0
    return y.astype(dtype)


class TestSumSquaredError:
    @parameterized.expand(DTYPES)
    def test_book_values(self, _, dtype):
        """4.2.1: 0.0975 for the good guess, 0.5975 for the bad one."""
        t = BOOK_T.astype(dtype)
        for y, value in ((BOOK_Y_GOOD, 0.0975), (BOOK_Y_BAD, 0.5975)):
            y = np.array(y, dtype=dtype)
            ours, theirs = S.sum_squared_error(y, t), R.sum_squared_error(y, t)
            assert_close(ours, theirs, dtype)
            assert_close(ours, np.array(value, dtype=dtype), dtype, rtol=4 * np.finfo(dtype).eps)

    @parameterized.expand(DTYPES)
    def test_batch(self, _, dtype):
        y = probabilities(7, 10, dtype)
        t = np.eye(10, dtype=dtype)[make_rng(1).integers(0, 10, 7)]
        assert_close(S.sum_squared_error(y, t), R.sum_squared_error(y, t), dtype)

    def test_shape_mismatch(self):
        y, t = np.zeros((2, 10)), np.zeros((10,))
        assert_same_error(lambda: S.sum_squared_error(y, t), lambda: R.sum_squared_error(y, t),
                          ValueError, match="shape")


class TestCrossEntropyError:
    @parameterized.expand(DTYPES)
    def test_book_values(self, _, dtype):
        """4.2.2: -log 0.6 = 0.5108 and -log 0.1 = 2.3026 (the book adds 1e-7 inside the log; PyTorch does not)."""
        for y, value in ((BOOK_Y_GOOD, 0.5108256237659907), (BOOK_Y_BAD, 2.3025850929940455)):
            y = np.array(y, dtype=dtype)
            for t in (BOOK_T, 2, BOOK_T.astype(dtype)):
                ours, theirs = S.cross_entropy_error(y, t), R.cross_entropy_error(y, t)
                assert_close(ours, theirs, dtype)
                assert_close(ours, np.array(value, dtype=dtype), dtype, rtol=4 * np.finfo(dtype).eps)

    @parameterized.expand([(f"{n}_{dt_name}", n, dt) for n in (1, 7, 100) for dt_name, dt in DTYPES])
    def test_batch_integer_and_one_hot(self, _, n, dtype):
        y = probabilities(n, 10, dtype)
        labels = make_rng(2).integers(0, 10, n)
        one_hot = np.eye(10, dtype=dtype)[labels]
        ours, theirs = S.cross_entropy_error(y, labels), R.cross_entropy_error(y, labels)
        assert_close(ours, theirs, dtype)
        assert_close(S.cross_entropy_error(y, one_hot), theirs, dtype)
        assert_close(R.cross_entropy_error(y, one_hot), theirs, dtype)
        assert_close(R.cross_entropy_error(torch.from_numpy(y), torch.from_numpy(labels)), theirs, dtype)

    @parameterized.expand(DTYPES)
    def test_zero_probability_on_true_class(self, _, dtype):
        """log(0) would be -inf: both clamp to the smallest normal number, -log(tiny), large and finite."""
        y = probabilities(3, 10, dtype, zero_at=[(0, 4), (2, 1)])
        labels = np.array([4, 0, 1])
        with raise_on_float_trouble():
            ours = S.cross_entropy_error(y, labels)
            theirs = R.cross_entropy_error(y, labels)
            single = S.cross_entropy_error(y[0], 4)
            single_reference = R.cross_entropy_error(y[0], 4)
        assert np.isfinite(ours)
        assert_close(ours, theirs, dtype)
        worst = -np.log(np.finfo(dtype).tiny)  # 708.4 (float64), 87.3 (float32)
        assert_close(single, single_reference, dtype)
        assert_close(single, np.array(worst, dtype=dtype), dtype)

    @parameterized.expand([
        ("label_too_large", lambda: (np.full((3, 10), 0.1), np.array([0, 10, 2])), ValueError),
        ("negative_label", lambda: (np.full((3, 10), 0.1), np.array([0, -1, 2])), ValueError),
        ("too_few_labels", lambda: (np.full((3, 10), 0.1), np.array([0, 1])), ValueError),
        ("labels_as_column", lambda: (np.full((3, 10), 0.1), np.array([[0], [1], [2]])), ValueError),
        ("one_hot_wrong_width", lambda: (np.full((3, 10), 0.1), np.eye(9)[[0, 1, 2]]), ValueError),
        ("one_hot_two_ones", lambda: (np.full((2, 3), 0.3), np.array([[1, 1, 0], [0, 0, 1]])), ValueError),
        ("one_hot_all_zero", lambda: (np.full((2, 3), 0.3), np.array([[0, 0, 0], [0, 0, 1]])), ValueError),
        ("one_hot_fraction", lambda: (np.full((2, 3), 0.3), np.array([[0.5, 0.5, 0], [0, 0, 1]])), ValueError),
        ("fractional_label", lambda: (np.full((2, 3), 0.3), np.array([0.5, 1.0])), TypeError),
        ("string_label", lambda: (np.full((2, 3), 0.3), np.array(["a", "b"])), TypeError),
        ("single_sample_bad_label", lambda: (np.full(3, 0.3), 3), ValueError),
        ("three_dimensional_y", lambda: (np.full((2, 2, 3), 0.3), np.array([0, 1])), ValueError),
    ])
    def test_bad_labels(self, _, make, error):
        for dtype in (np.float64, np.float32):
            y, t = make()
            y = y.astype(dtype)
            assert_same_error(lambda: S.cross_entropy_error(y, t), lambda: R.cross_entropy_error(y, t), error)
