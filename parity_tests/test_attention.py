"""Parity of the attention layer (DLFS2 chapter 8): scratch.attention.TimeAttention against
reference.attention.TimeAttention and against PyTorch's ``F.scaled_dot_product_attention`` itself
(queries hs, keys and values ks), forward and both gradients, float64 and float32; T = 1, S = 1,
batch 1, scores large enough to saturate the softmax; plus central differences in float64 and the
one-line errors.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from parameterized import parameterized

import reference.attention as R
import scratch.attention as S
from conftest import DTYPES, RTOL, assert_close, assert_same_error, make_rng, to_numpy

pytestmark = [pytest.mark.filterwarnings("error"), pytest.mark.usefixtures("one_torch_thread")]

CASES = [(f"{name}_{dt_name}", shape, scale, dt) for name, shape, scale in (
    ("steps", (3, 4, 5, 8), 1.0), ("T1", (2, 1, 5, 8), 1.0), ("S1", (2, 4, 1, 8), 1.0),
    ("batch1", (1, 4, 5, 8), 1.0), ("saturated", (3, 4, 5, 8), 30.0),
) for dt_name, dt in DTYPES]


def setup(shape, scale, dtype, seed=0):
    N, T, S_, H = shape
    rng = make_rng(seed)
    hs = (rng.standard_normal((N, T, H)) * scale).astype(dtype)
    ks = rng.standard_normal((N, S_, H)).astype(dtype)
    dc = rng.standard_normal((N, T, H)).astype(dtype)
    return hs, ks, dc


def torch_attention(hs, ks, dc):
    """PyTorch's operator on its own: the output and the gradients with respect to hs and ks."""
    q, k = torch.from_numpy(hs).requires_grad_(True), torch.from_numpy(ks).requires_grad_(True)
    out = F.scaled_dot_product_attention(q, k, k)
    out.backward(torch.from_numpy(dc))
    return out, q.grad, k.grad


class TestTimeAttention:
    @parameterized.expand(CASES)
    def test_forward_backward(self, _, shape, scale, dtype):
        hs, ks, dc = setup(shape, scale, dtype)
        keep = (hs.copy(), ks.copy(), dc.copy())
        ours, theirs = S.TimeAttention(), R.TimeAttention()
        out, dhs, dks = torch_attention(hs, ks, dc)
        for layer, who in ((ours, "scratch"), (theirs, "reference")):
            assert_close(layer.forward(hs, ks), out, dtype, what=f"{who} context")
            got_dhs, got_dks = layer.backward(dc)
            # with S = 1 the weights are all 1 and dhs is 0 exactly, which PyTorch rounds to about 1e-15:
            # judged, as every gradient here, against the size of the terms (dks's, the same products)
            atol = RTOL[np.dtype(dtype)] * float(max(dhs.abs().max(), dks.abs().max()))
            assert_close(got_dhs, dhs, dtype, atol=atol, what=f"{who} dhs")
            assert_close(got_dks, dks, dtype, what=f"{who} dks")
            assert to_numpy(got_dhs).dtype == dtype and to_numpy(got_dks).dtype == dtype
        for before, after in zip(keep, (hs, ks, dc)):
            np.testing.assert_array_equal(before, after)  # the inputs are not changed in place

    def test_weights_sum_to_one_and_pick_the_best_match(self):
        hs, ks, _ = setup((2, 3, 4, 8), 1.0, np.float64)
        layer = S.TimeAttention()
        layer.forward(hs * 1e3, ks)  # scores this wide: the softmax is the argmax
        np.testing.assert_allclose(layer.a.sum(axis=2), 1.0, rtol=1e-12)
        best = np.argmax(hs @ ks.transpose(0, 2, 1), axis=2)
        np.testing.assert_array_equal(np.argmax(layer.a, axis=2), best)

    def test_central_differences(self):
        hs, ks, dc = setup((2, 3, 4, 5), 1.0, np.float64, seed=1)
        layer = S.TimeAttention()
        layer.forward(hs, ks)
        dhs, dks = layer.backward(dc)
        for x, analytic in ((hs, dhs), (ks, dks)):
            numeric = np.zeros_like(x)
            for i in np.ndindex(x.shape):
                old = x[i]
                x[i] = old + 1e-6
                plus = np.sum(S.TimeAttention().forward(hs, ks) * dc)
                x[i] = old - 1e-6
                minus = np.sum(S.TimeAttention().forward(hs, ks) * dc)
                x[i] = old
                numeric[i] = (plus - minus) / 2e-6
            np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


class TestBadInput:
    def same_error(self, make_args, match, expected=(ValueError, TypeError, RuntimeError)):
        assert_same_error(lambda: S.TimeAttention().forward(*make_args()),
                          lambda: R.TimeAttention().forward(*make_args()), expected=expected, match=match)

    def test_shapes_and_dtypes(self):
        hs, ks, _ = setup((2, 3, 4, 8), 1.0, np.float64)
        self.same_error(lambda: (hs, ks[:1]), "the same n and h")
        self.same_error(lambda: (hs, ks[:, :, :5]), "the same n and h")
        self.same_error(lambda: (hs[0], ks), "expects data of shape")
        self.same_error(lambda: (hs, ks.astype(np.float32)), "queries are float64 but keys are float32")
        self.same_error(lambda: (hs[:, :0], ks), "t = 0")
        self.same_error(lambda: (hs.astype(np.int64), ks.astype(np.int64)), "floating-point")

    def test_backward_before_forward_and_wrong_dout(self):
        hs, ks, dc = setup((2, 3, 4, 8), 1.0, np.float64)
        assert_same_error(lambda: S.TimeAttention().backward(dc), lambda: R.TimeAttention().backward(dc),
                          expected=RuntimeError, match="before timeattention.forward")
        a, b = S.TimeAttention(), R.TimeAttention()
        a.forward(hs, ks)
        b.forward(hs, ks)
        assert_same_error(lambda: a.backward(dc[:, :2]), lambda: b.backward(dc[:, :2]), match="dout")
