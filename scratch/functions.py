"""Activation functions (chapter 3) and loss functions (chapter 4).

Every function takes a scalar, a vector or a batch (rows are samples) and keeps
the input's floating dtype: float32 in, float32 out.
"""
import numpy as np

from .checks import as_float_array, check_probabilities, check_same_shape

__all__ = ["step_function", "sigmoid", "relu", "identity_function", "softmax",
           "sum_squared_error", "cross_entropy_error"]


def step_function(x):
    """Step function (3.2.2): h(x) = 1 if x > 0 else 0, in the dtype of ``x``."""
    x = np.asarray(x)
    return (x > 0).astype(x.dtype)


def sigmoid(x):
    """Sigmoid (3.2.4): h(x) = 1 / (1 + exp(-x)).

    Written with exp(-|x|) so that it never overflows: for x < 0 it uses the
    equal form exp(x) / (1 + exp(x)). The book's one-liner warns at x = -1000.
    """
    x = as_float_array(x)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def relu(x):
    """ReLU (3.2.7): h(x) = x if x > 0 else 0."""
    x = np.asarray(x)
    return np.maximum(x, 0)


def identity_function(x):
    """Identity (3.4.3): the output layer of a regression network."""
    return np.asarray(x)


def softmax(x):
    """Softmax (3.5.2) over the last axis: y_k = exp(a_k - max a) / sum_i exp(a_i - max a).

    Subtracting the maximum (3.5.2, "overflow countermeasure") keeps logits of
    1e4 finite.
    """
    x = as_float_array(x)
    shifted = x - x.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def sum_squared_error(y, t):
    """Sum of squared errors (4.2.1): E = 1/2 * sum_k (y_k - t_k)^2.

    Summed over every element, batch included, as in the book.
    """
    y, t = as_float_array(y, "y"), as_float_array(t, "t")
    check_same_shape(y, t, "y", "t")
    return 0.5 * np.sum((y - t) ** 2)


def cross_entropy_error(y, t):
    """Cross-entropy error (4.2.2 and 4.2.4): E = -1/N * sum_n log y[n, t_n].

    ``y`` holds probabilities, one row per sample (a single vector is a batch
    of one); ``t`` holds integer labels or one-hot rows.

    The book writes log(y + 1e-7) to avoid log(0). PyTorch's negative
    log-likelihood adds nothing, so neither do we: a probability is only
    clamped up to the smallest positive normal number of its dtype, which
    changes no probability above ~1e-38 (float32) or ~1e-308 (float64).
    """
    y = as_float_array(y, "y")
    if y.ndim == 1:
        y = y.reshape(1, -1)
        t = np.asarray(t).reshape(1, -1) if np.ndim(t) == 1 else np.asarray(t).reshape(1)
    labels = check_probabilities(y, t)
    picked = y[np.arange(y.shape[0]), labels]
    tiny = np.finfo(y.dtype).tiny
    return -np.mean(np.log(np.maximum(picked, tiny)))
