"""Numerical differentiation and gradient descent (chapter 4)."""
import warnings

import numpy as np

from .checks import as_float_array

__all__ = ["numerical_diff", "numerical_gradient", "gradient_descent"]


class LowPrecisionGradientWarning(UserWarning):
    """Central differences in float32 (or float16) are too coarse for a gradient check."""


_warned_low_precision = False


def warn_low_precision(dtype):
    """Warn once per process: f(x + h) - f(x - h) in float32 loses about 4 of its 7 digits."""
    global _warned_low_precision
    if _warned_low_precision or np.finfo(dtype).eps <= np.finfo(np.float64).eps:
        return
    _warned_low_precision = True
    warnings.warn(
        f"numerical_gradient in {np.dtype(dtype).name}: with h = 1e-4 the difference f(x+h) - f(x-h) keeps only "
        f"about {max(int(-np.log10(np.finfo(dtype).eps)) - 4, 0)} significant digits, so a gradient check can "
        f"agree only to about 1e-3; build the network with dtype=np.float64 for the book's 1e-10",
        LowPrecisionGradientWarning, stacklevel=3)


def numerical_diff(f, x, h=1e-4):
    """Central difference (4.3.1): df/dx ~ (f(x + h) - f(x - h)) / 2h."""
    return (f(x + h) - f(x - h)) / (2 * h)


def numerical_gradient(f, x, h=1e-4):
    """Gradient of the scalar function ``f`` at ``x`` (4.4), any shape of ``x``.

    Every element is nudged by +h and -h in turn and restored, so ``x`` is left
    exactly as it was even if ``f`` raises. ``f`` is called as ``f(x)``.
    In float32 the differences are too coarse for a gradient check; that
    warns once (``LowPrecisionGradientWarning``).
    """
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError("numerical_gradient needs a floating NumPy array it can perturb in place, "
                        f"got {type(x).__name__}{'' if not isinstance(x, np.ndarray) else ' of ' + str(x.dtype)}")
    warn_low_precision(x.dtype)
    grad = np.zeros_like(x)
    flat_x, flat_grad = x.reshape(-1), grad.reshape(-1)
    if not np.shares_memory(flat_x, x):
        raise ValueError("numerical_gradient needs a contiguous array (np.ascontiguousarray)")
    for i in range(flat_x.size):
        original = flat_x[i]
        try:
            flat_x[i] = original + h
            f_plus = f(x)
            flat_x[i] = original - h
            f_minus = f(x)
        finally:
            flat_x[i] = original
        flat_grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def gradient_descent(f, init_x, lr=0.01, step_num=100):
    """Gradient descent (4.4.1): x <- x - lr * grad f(x), ``step_num`` times.

    Works on a copy: ``init_x`` is not modified. Returns the final x.
    """
    x = as_float_array(init_x, "init_x").copy()
    for _ in range(step_num):
        x -= lr * numerical_gradient(f, x)
    return x
