"""Activation functions (chapter 3) and loss functions (chapter 4), with PyTorch's operators.

Every function takes a scalar, a vector or a batch (rows are samples) as a
tensor or NumPy array and returns a tensor of the input's floating dtype.
"""
import torch
import torch.nn.functional as F

from scratch.checks import check_probabilities, check_same_shape

from ._tensor import as_float_tensor, as_tensor, to_numpy

__all__ = ["step_function", "sigmoid", "relu", "identity_function", "softmax",
           "sum_squared_error", "cross_entropy_error"]


def step_function(x):
    """Step function (3.2.2): h(x) = 1 if x > 0 else 0, as ``torch.heaviside(x, 0)``."""
    x = as_tensor(x)
    return torch.heaviside(x, torch.zeros((), dtype=x.dtype))


def sigmoid(x):
    """Sigmoid (3.2.4): h(x) = 1 / (1 + exp(-x)), as ``torch.sigmoid``."""
    return torch.sigmoid(as_float_tensor(x))


def relu(x):
    """ReLU (3.2.7): h(x) = max(0, x), as ``F.relu``."""
    return F.relu(as_tensor(x))


def identity_function(x):
    """Identity (3.4.3): the output layer of a regression network."""
    return as_tensor(x)


def softmax(x):
    """Softmax (3.5.2) over the last axis, as ``F.softmax(x, dim=-1)``."""
    return F.softmax(as_float_tensor(x), dim=-1)


def sum_squared_error(y, t):
    """Sum of squared errors (4.2.1): E = 1/2 * sum_k (y_k - t_k)^2, as ``F.mse_loss(reduction='sum') / 2``."""
    y, t = as_float_tensor(y, "y"), as_float_tensor(t, "t")
    check_same_shape(y, t, "y", "t")
    return 0.5 * F.mse_loss(y, t, reduction="sum")


def cross_entropy_error(y, t):
    """Cross-entropy error (4.2.2 and 4.2.4) of probabilities ``y``, as ``F.nll_loss(log y, t)``.

    The book writes log(y + 1e-7); PyTorch adds nothing. A probability is only
    clamped up to the smallest positive normal number of its dtype, so that
    log(0) cannot occur.
    """
    y = as_float_tensor(y, "y")
    t = to_numpy(t)
    if y.ndim == 1:
        y = y.reshape(1, -1)
        t = t.reshape(1, -1) if t.ndim == 1 else t.reshape(1)
    labels = torch.from_numpy(check_probabilities(y, t))
    tiny = torch.finfo(y.dtype).tiny
    return F.nll_loss(torch.log(y.clamp_min(tiny)), labels)
