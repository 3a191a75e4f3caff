"""Numerical differentiation and gradient descent (chapter 4)."""
import numpy as np

from ._checks import as_float_array

__all__ = ["numerical_diff", "numerical_gradient", "gradient_descent"]


def numerical_diff(f, x, h=1e-4):
    """Central difference (4.3.1): df/dx ~ (f(x + h) - f(x - h)) / 2h."""
    return (f(x + h) - f(x - h)) / (2 * h)


def numerical_gradient(f, x, h=1e-4):
    """Gradient of the scalar function ``f`` at ``x`` (4.4), any shape of ``x``.

    Every element is nudged by +h and -h in turn and restored, so ``x`` is left
    exactly as it was even if ``f`` raises. ``f`` is called as ``f(x)``.
    """
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError("numerical_gradient needs a floating NumPy array it can perturb in place, "
                        f"got {type(x).__name__}{'' if not isinstance(x, np.ndarray) else ' of ' + str(x.dtype)}")
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
