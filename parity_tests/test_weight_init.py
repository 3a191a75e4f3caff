"""Initial weights: both backends draw from the same distribution (the RNGs differ, so the
statistics are compared), and a seed reproduces its draw."""
import math

import numpy as np
import pytest
import torch
from parameterized import parameterized

import reference
import scratch

RULES = [
    ("std_0.01", 0.01, (400, 784), 0.01),
    ("xavier", "xavier", (400, 784), math.sqrt(1 / 784)),
    ("sigmoid_alias", "sigmoid", (300, 500), math.sqrt(1 / 500)),
    ("he", "he", (400, 784), math.sqrt(2 / 784)),
    ("relu_alias", "relu", (300, 500), math.sqrt(2 / 500)),
    ("he_conv_filter", "he", (64, 16, 3, 3), math.sqrt(2 / (16 * 9))),
]


def draw(backend, shape, rule, seed, dtype="float64"):
    w = backend.init_weight(shape, rule, backend.make_rng(seed), dtype)
    return w.detach().numpy() if isinstance(w, torch.Tensor) else w


@parameterized.expand(RULES)
def test_statistics_match_the_rule(_, rule, shape, expected_std):
    n = int(np.prod(shape))
    for backend in (scratch, reference):
        w = draw(backend, shape, rule, seed=0)
        # mean ~ N(0, std^2/n), sample std within a few standard errors (std * sqrt(1/(2n)))
        assert abs(w.mean()) < 5 * expected_std / math.sqrt(n), backend.BACKEND
        assert abs(w.std() - expected_std) < 5 * expected_std / math.sqrt(2 * n), backend.BACKEND


@parameterized.expand([(b.BACKEND, b) for b in (scratch, reference)])
def test_seed_reproduces_and_dtype_is_a_cast(_, backend):
    a = draw(backend, (50, 30), "he", seed=7)
    b = draw(backend, (50, 30), "he", seed=7)
    c = draw(backend, (50, 30), "he", seed=8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    f32 = draw(backend, (50, 30), "he", seed=7, dtype="float32")
    assert f32.dtype == np.float32
    np.testing.assert_array_equal(f32, a.astype(np.float32))


@parameterized.expand([(b.BACKEND, b) for b in (scratch, reference)])
def test_bad_rule_is_rejected(_, backend):
    with pytest.raises(ValueError, match="weight_init_std"):
        backend.init_weight((3, 3), "glorot", backend.make_rng(0))
    with pytest.raises(ValueError, match=">= 0"):
        backend.init_weight((3, 3), -1.0, backend.make_rng(0))


def test_reference_weights_are_trainable_tensors():
    w = reference.init_weight((4, 3), "he", reference.make_rng(0))
    assert isinstance(w, torch.Tensor) and w.requires_grad and w.dtype == torch.float32
