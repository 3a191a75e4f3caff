"""Initial weights (6.2) with ``torch.nn.init``: a fixed standard deviation, Xavier's or He's.

The book draws W ~ N(0, std^2) with std either a number, 'xavier' /
'sigmoid': sqrt(1/n), or 'he' / 'relu': sqrt(2/n), n = fan-in.
``torch.nn.init.kaiming_normal_(mode='fan_in')`` draws std = gain/sqrt(n):
gain sqrt(2) ('relu') is He's rule, gain 1 ('linear') is the book's Xavier
rule. (``torch.nn.init.xavier_normal_`` is a different rule,
sqrt(2 / (fan_in + fan_out)), so it is not used.) Weights are drawn in
float64 and then cast, so a seed gives the same weights in both dtypes.
"""
import torch

from scratch.weight_init import weight_init_scale

from ._tensor import torch_dtype

__all__ = ["weight_init_scale", "init_weight", "make_rng"]

_NONLINEARITY = {"xavier": "linear", "sigmoid": "linear", "he": "relu", "relu": "relu"}


def make_rng(seed=None):
    """A ``torch.Generator``; the same seed gives the same draws."""
    generator = torch.Generator()
    if seed is None:
        generator.seed()
    else:
        generator.manual_seed(seed)
    return generator


def init_weight(shape, weight_init_std, rng, dtype="float32"):
    """W ~ N(0, std^2) of ``shape`` (out first) with ``torch.nn.init``, as a tensor with requires_grad."""
    w = torch.empty(shape, dtype=torch.float64)
    if isinstance(weight_init_std, str):
        weight_init_scale(weight_init_std, 1)  # validates the name
        torch.nn.init.kaiming_normal_(w, mode="fan_in", nonlinearity=_NONLINEARITY[weight_init_std.lower()],
                                      generator=rng)
    else:
        torch.nn.init.normal_(w, mean=0.0, std=weight_init_scale(weight_init_std, 1), generator=rng)
    return w.to(torch_dtype(dtype)).requires_grad_(True)
