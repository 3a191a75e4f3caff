"""The book's ``common/gradient.py``: numerical gradients by central differences (4.4).

``numerical_gradient`` is ``scratch``'s (the same algorithm: each element
nudged by +-1e-4 in turn, (f(x+h) - f(x-h)) / 2h, then restored).
``numerical_gradient_2d`` is the book's row-by-row variant: for a 2-D ``X``
it calls ``f`` with each row, not with ``X``.
"""
import numpy as np

from ..gradient import numerical_diff, numerical_gradient

__all__ = ["numerical_diff", "numerical_gradient", "numerical_gradient_2d"]


def numerical_gradient_2d(f, X):
    """The gradient of ``f`` at each row of ``X`` (``f`` takes one row); a 1-D ``X`` is one row."""
    if X.ndim == 1:
        return numerical_gradient(f, X)
    grad = np.zeros_like(X)
    for idx, x in enumerate(X):
        grad[idx] = numerical_gradient(f, x)
    return grad
