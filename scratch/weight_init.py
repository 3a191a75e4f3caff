"""Initial weights (6.2): a fixed standard deviation, Xavier's or He's.

The book draws W ~ N(0, std^2) with std either a number (0.01 in chapters 4
and 5), 'xavier' / 'sigmoid': sqrt(1/n), or 'he' / 'relu': sqrt(2/n), where
n is the number of inputs to each neuron (fan-in: in_features of an Affine
weight (out, in), C*FH*FW of a convolution filter (FN, C, FH, FW)).
Weights are drawn in float64 and then cast, so a seed gives the same
weights in float32 and float64.
"""
import math

import numpy as np

__all__ = ["weight_init_scale", "init_weight", "make_rng"]

_SCALES = {"xavier": 1.0, "sigmoid": 1.0, "he": 2.0, "relu": 2.0}


def weight_init_scale(weight_init_std, fan_in):
    """The standard deviation for ``weight_init_std`` (a number, 'xavier'/'sigmoid' or 'he'/'relu')."""
    if isinstance(weight_init_std, str):
        key = weight_init_std.lower()
        if key not in _SCALES:
            raise ValueError(f"weight_init_std must be a number or one of {sorted(_SCALES)}, "
                             f"got {weight_init_std!r}")
        return math.sqrt(_SCALES[key] / fan_in)
    std = float(weight_init_std)
    if not std >= 0:
        raise ValueError(f"weight_init_std must be >= 0, got {weight_init_std}")
    return std


def make_rng(seed=None):
    """A NumPy random generator; the same seed gives the same draws."""
    return np.random.default_rng(seed)


def init_weight(shape, weight_init_std, rng, dtype=np.float32):
    """W ~ N(0, std^2) of ``shape`` (out first), std from ``weight_init_std`` and the fan-in."""
    fan_in = int(np.prod(shape[1:]))
    std = weight_init_scale(weight_init_std, fan_in)
    return (std * rng.standard_normal(shape)).astype(dtype)
