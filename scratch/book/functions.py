"""The book's ``common/functions.py``: activations (chapter 3) and losses (chapter 4).

Where the math is the same the functions are ``scratch``'s own (``sigmoid``,
``relu``, ``softmax``, ``sum_squared_error``). The book's differ in:

* ``step_function`` returns integers (``np.array(x > 0, dtype=int)``);
* ``cross_entropy_error`` adds 1e-7 inside the log: E = -1/N sum_n log(y[n, t_n] + 1e-7);
* labels of shape (N, 1) are taken as (N,) (the book indexes with them, which is
  right for N = 1 and silently broadcasts to an N x N sum for N > 1).
"""
import numpy as np

from ..checks import as_float_array, class_indices
from ..functions import identity_function, relu, sigmoid, softmax, sum_squared_error

__all__ = ["identity_function", "step_function", "sigmoid", "sigmoid_grad", "relu", "relu_grad",
           "softmax", "sum_squared_error", "cross_entropy_error", "softmax_loss", "CROSS_ENTROPY_DELTA"]

CROSS_ENTROPY_DELTA = 1e-7  # the book's guard against log(0)


def step_function(x):
    """Step function (3.2.2): 1 where x > 0, else 0, as integers (the book's dtype)."""
    return np.array(np.asarray(x) > 0, dtype=int)


def sigmoid_grad(x):
    """dh/dx of the sigmoid (5.5.2): (1 - h(x)) h(x)."""
    return (1.0 - sigmoid(x)) * sigmoid(x)


def relu_grad(x):
    """dh/dx of ReLU as the book writes it: 1 where x >= 0 (so 1 at x = 0), else 0."""
    x = np.asarray(x)
    grad = np.zeros_like(x)
    grad[x >= 0] = 1
    return grad


def class_labels(t, y):
    """Integer labels for scores or probabilities ``y`` (N, classes) from labels (N,), (N, 1) or one-hot rows."""
    t = np.asarray(t)
    n, classes = y.shape
    if t.shape == (n, 1) and classes != 1:
        t = t.reshape(n)
    return class_indices(t, classes, (n,))


def cross_entropy_error(y, t):
    """Cross-entropy error (4.2.4), the book's: E = -1/N sum_n log(y[n, t_n] + 1e-7).

    ``y`` holds probabilities (a single vector is a batch of one); ``t``
    integer labels or one-hot rows. ``scratch.cross_entropy_error`` (PyTorch)
    adds nothing: it differs from this by about 1e-7 / y[n, t_n].
    """
    y = as_float_array(y, "y")
    t = np.asarray(t)
    if y.ndim == 1:
        y = y.reshape(1, y.size)
        t = t.reshape(1, t.size) if t.size == y.size else t.reshape(1)
    if y.ndim != 2:
        raise ValueError(f"y must be a vector or a batch of rows, got shape {y.shape}")
    labels = class_labels(t, y)
    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), labels] + CROSS_ENTROPY_DELTA)) / batch_size


def softmax_loss(X, t):
    """cross_entropy_error(softmax(X), t)."""
    return cross_entropy_error(softmax(X), t)
