"""Property-based parity: NumPy layers against PyTorch's own operators over random geometries.

The other parity tests run configurations someone thought of; here
``hypothesis`` draws the shapes, kernel sizes, strides, paddings and dtypes
(within each layer's documented contract) and the values, and every draw must
agree with PyTorch: ``F.conv2d``, ``F.max_pool2d``, ``F.unfold`` / ``F.fold``,
``F.softmax`` and ``F.cross_entropy``, gradients by autograd. The PyTorch side
is called directly (not through ``reference``), so it is a third opinion.

Average pooling is not covered: neither backend has an ``AvgPooling`` layer.

Every test has a fixed example budget and ``derandomize=True``: CI runs the
same examples every time, and no example database is written.

Tolerances are conftest's (rtol 1e-10 float64, 1e-5 float32). For results
that are sums of signed terms, which a random draw can make cancel, rtol is
applied to the size of the terms rather than of the result (``assert_sum_close``).
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import scratch.convolution as SC
import scratch.functions as SF
import scratch.layers as SL
import scratch.util as SU
from conftest import RTOL, assert_close, to_numpy

pytestmark = [pytest.mark.filterwarnings("error"), pytest.mark.usefixtures("one_torch_thread")]

# reproducible (derandomize), no example database, no timing flakiness (deadline)
FIXED = dict(deadline=None, derandomize=True, database=None)

dtypes = st.sampled_from([np.float64, np.float32])
seeds = st.integers(0, 2**32 - 1)
logit_scales = st.sampled_from([0.1, 1.0, 5.0, 30.0])


def assert_sum_close(ours, theirs, magnitude, dtype, what, component):
    """``assert_close`` for sums of signed terms: atol = rtol * max ``magnitude``, where
    ``magnitude`` is the same sum taken over the terms' absolute values, instead of
    rtol * max|result|.

    This is conftest's own reasoning (rounding error scales with the size of
    the terms, not with the cancelled result) carried to arrays so small that
    all their elements may cancel: a float32 bias gradient of 0.014 summed from
    30 values near 1 differs in its 7th digit between two summation orders.
    Where nothing cancels the two atols are of the same size.
    """
    dtype = np.dtype(dtype)
    atol = RTOL[dtype] * float(np.max(to_numpy(magnitude).astype(np.float64), initial=0.0))
    assert_close(ours, theirs, dtype, atol=atol, what=what, component=component)


def autograd(fn, *inputs):
    """fn(*tensors) and a function giving the gradients of sum(out * dout) w.r.t. the inputs."""
    tensors = [torch.from_numpy(np.array(a)).requires_grad_(True) for a in inputs]
    out = fn(*tensors)

    def grads(dout):
        return torch.autograd.grad(out, tensors, grad_outputs=torch.from_numpy(np.array(dout)),
                                   retain_graph=True)

    return out.detach(), grads


@st.composite
def window_geometries(draw, max_kernel=5):
    """(N, C, H, W), filter_h, filter_w, stride, pad with the filter fitting the padded input."""
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride, pad = draw(st.integers(1, 3)), draw(st.integers(0, 2))
    h, w = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    fh = draw(st.integers(1, min(max_kernel, h + 2 * pad)))
    fw = draw(st.integers(1, min(max_kernel, w + 2 * pad)))
    return (n, c, h, w), fh, fw, stride, pad


@settings(max_examples=250, **FIXED)
@given(window_geometries(), st.integers(1, 3), dtypes, seeds)
def test_convolution_matches_conv2d(geometry, fn, dtype, seed):
    shape, fh, fw, stride, pad = geometry
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    W = rng.standard_normal((fn, shape[1], fh, fw)).astype(dtype)
    b = rng.standard_normal(fn).astype(dtype)

    def conv(x_, W_, b_):
        return F.conv2d(x_, W_, b_, stride, pad)

    expected, grads = autograd(conv, x, W, b)
    dout = rng.standard_normal(tuple(expected.shape)).astype(dtype)
    dx_t, dW_t, db_t = grads(dout)
    out_size, size_grads = autograd(conv, np.abs(x), np.abs(W), np.abs(b))  # the same sums of |terms|
    dx_size, dW_size, db_size = size_grads(np.abs(dout))

    layer = SC.Convolution(W, b, stride, pad)
    out = layer.forward(x)
    dx = layer.backward(dout)
    for what, ours, theirs, size in (("out", out, expected, out_size), ("dx", dx, dx_t, dx_size),
                                     ("dW", layer.dW, dW_t, dW_size), ("db", layer.db, db_t, db_size)):
        assert ours.shape == tuple(theirs.shape), what
        assert_sum_close(ours, theirs, size, dtype, what, "properties.Convolution")


@st.composite
def pool_geometries(draw):
    """(N, C, H, W), pool_h, pool_w, stride, pad with PyTorch's pad <= pool // 2 and the window fitting."""
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    pad = draw(st.integers(0, min(ph, pw) // 2))
    stride = draw(st.integers(1, 4))
    h = draw(st.integers(max(1, ph - 2 * pad), 9))
    w = draw(st.integers(max(1, pw - 2 * pad), 9))
    return (n, c, h, w), ph, pw, stride, pad


@settings(max_examples=300, **FIXED)
@given(pool_geometries(), dtypes, seeds)
def test_max_pooling_matches_max_pool2d(geometry, dtype, seed):
    """Continuous random values: no ties, so the maximum of each window is unique."""
    shape, ph, pw, stride, pad = geometry
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    expected, grads = autograd(lambda x_: F.max_pool2d(x_, (ph, pw), stride, padding=pad), x)
    dout = rng.standard_normal(tuple(expected.shape)).astype(dtype)
    (dx_t,) = grads(dout)
    (dx_size,) = grads(np.abs(dout))  # overlapping windows add their douts at a shared maximum

    layer = SC.Pooling(ph, pw, stride, pad)
    out = layer.forward(x)
    dx = layer.backward(dout)
    assert out.dtype == dx.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(out, to_numpy(expected))  # a maximum is exact
    assert_sum_close(dx, dx_t, dx_size, dtype, "dx", "properties.Pooling")


@settings(max_examples=250, **FIXED)
@given(window_geometries(), dtypes, seeds)
def test_im2col_col2im_match_unfold_fold(geometry, dtype, seed):
    """im2col is F.unfold with one row per region (rows n, y, x; columns c, fy, fx); col2im is
    F.fold of the same layout, summing where regions overlap; col2im is im2col's adjoint."""
    shape, fh, fw, stride, pad = geometry
    n, c = shape[:2]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    unfolded = F.unfold(torch.from_numpy(x), (fh, fw), stride=stride, padding=pad)  # (N, C*fh*fw, L)
    positions = unfolded.shape[2]
    col = SU.im2col(x, fh, fw, stride, pad)
    assert col.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(col, to_numpy(unfolded.transpose(1, 2).reshape(n * positions, -1)))  # exact

    y = rng.standard_normal(col.shape).astype(dtype)

    def fold(cols):
        return F.fold(torch.from_numpy(cols).reshape(n, positions, -1).transpose(1, 2),
                      shape[2:], (fh, fw), stride=stride, padding=pad)

    img = SU.col2im(y, shape, fh, fw, stride, pad)
    assert_sum_close(img, fold(y), fold(np.abs(y)), dtype, "col2im", "properties.col2im")
    # <im2col(x), y> = <x, col2im(y)>, in float64 over the float arrays
    terms = np.abs(col.astype(np.float64) * y)
    lhs, rhs = np.sum(col.astype(np.float64) * y), np.sum(x.astype(np.float64) * img)
    assert abs(lhs - rhs) <= RTOL[np.dtype(dtype)] * terms.sum()


@settings(max_examples=300, **FIXED)
@given(st.integers(1, 9), st.integers(2, 12), logit_scales, st.booleans(), st.sampled_from([1.0, 0.5, 3.0]),
       dtypes, seeds)
def test_softmax_with_loss_matches_cross_entropy(n, classes, scale, one_hot, dout, dtype, seed):
    """Loss, softmax and dx of SoftmaxWithLoss against F.cross_entropy and autograd, for integer
    labels and one-hot rows."""
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((n, classes)) * scale).astype(dtype)
    t = rng.integers(0, classes, n)
    dout = np.asarray(dout, dtype=dtype)
    expected, grads = autograd(lambda x_: F.cross_entropy(x_, torch.from_numpy(t)), x)
    (dx_t,) = grads(dout)
    y_t = F.softmax(torch.from_numpy(x), dim=1)
    dx_size = (to_numpy(y_t) + np.eye(classes)[t]) * abs(float(dout)) / n  # dx = (y - one_hot) dout / N

    layer = SL.SoftmaxWithLoss()
    loss = layer.forward(x, np.eye(classes, dtype=dtype)[t] if one_hot else t)
    dx = layer.backward(dout)
    assert_close(loss, expected, dtype, what="loss", component="properties.SoftmaxWithLoss")  # sum of terms >= 0
    assert_close(layer.y, y_t, dtype, what="y", component="properties.SoftmaxWithLoss")
    assert_sum_close(dx, dx_t, dx_size, dtype, "dx", "properties.SoftmaxWithLoss")


@settings(max_examples=200, **FIXED)
@given(st.lists(st.integers(1, 6), min_size=1, max_size=4), logit_scales, dtypes, seeds)
def test_softmax_and_cross_entropy_error_match_pytorch(shape, scale, dtype, seed):
    """functions.softmax over the last axis of any shape; cross_entropy_error of its rows
    against F.nll_loss of their logarithm, a probability clamped up to the dtype's smallest
    normal number as documented (below it float32 softmax outputs are subnormal or 0)."""
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * scale).astype(dtype)
    y = SF.softmax(x)
    assert_close(y, F.softmax(torch.from_numpy(x), dim=-1), dtype, what="softmax", component="properties.softmax")

    rows = y.reshape(-1, shape[-1])
    t = rng.integers(0, shape[-1], len(rows))
    tiny = float(np.finfo(dtype).tiny)
    expected = F.nll_loss(torch.log(torch.from_numpy(rows).clamp_min(tiny)), torch.from_numpy(t))
    assert_close(SF.cross_entropy_error(rows, t), expected, dtype, what="cross entropy",
                 component="properties.cross_entropy_error")
