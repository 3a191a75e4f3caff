"""Parity of the chapter-5 layers: forward outputs and every gradient, scratch.layers vs reference.layers.

The reference layers get their gradients from autograd, so every comparison
here checks a hand-derived backward pass of the NumPy backend.
"""
import numpy as np
import pytest
from parameterized import parameterized

import reference.layers as R
import scratch.layers as S
from conftest import DTYPES, assert_close, assert_same_error, make_rng, to_numpy

pytestmark = pytest.mark.filterwarnings("error")


def scalar(value, dtype):
    return np.asarray(value, dtype=dtype)


class TestMulAddLayers:
    @parameterized.expand(DTYPES)
    def test_buy_apples(self, _, dtype):
        """5.4.1: 2 apples at 100 with tax 1.1 cost 220; dapple 2.2, dapple_num 110, dtax 200."""
        for backend in (S, R):
            apple, apple_num, tax = scalar(100, dtype), scalar(2, dtype), scalar(1.1, dtype)
            mul_apple_layer, mul_tax_layer = backend.MulLayer(), backend.MulLayer()
            apple_price = mul_apple_layer.forward(apple, apple_num)
            price = mul_tax_layer.forward(apple_price, tax)
            dprice = scalar(1, dtype)
            dapple_price, dtax = mul_tax_layer.backward(dprice)
            dapple, dapple_num = mul_apple_layer.backward(dapple_price)
            for value, book in ((price, 220), (dapple, 2.2), (dapple_num, 110), (dtax, 200)):
                assert_close(value, scalar(book, dtype), dtype, rtol=4 * np.finfo(dtype).eps)
            assert float(dprice) == 1.0

    @parameterized.expand(DTYPES)
    def test_buy_apples_and_oranges(self, _, dtype):
        """5.4.2: 715 in all; dapple 2.2, dapple_num 110, dorange 3.3, dorange_num 165, dtax 650."""
        results = {}
        for backend in (S, R):
            apple, apple_num = scalar(100, dtype), scalar(2, dtype)
            orange, orange_num = scalar(150, dtype), scalar(3, dtype)
            tax = scalar(1.1, dtype)
            mul_apple_layer, mul_orange_layer = backend.MulLayer(), backend.MulLayer()
            add_apple_orange_layer, mul_tax_layer = backend.AddLayer(), backend.MulLayer()

            apple_price = mul_apple_layer.forward(apple, apple_num)
            orange_price = mul_orange_layer.forward(orange, orange_num)
            all_price = add_apple_orange_layer.forward(apple_price, orange_price)
            price = mul_tax_layer.forward(all_price, tax)

            dall_price, dtax = mul_tax_layer.backward(scalar(1, dtype))
            dapple_price, dorange_price = add_apple_orange_layer.backward(dall_price)
            dorange, dorange_num = mul_orange_layer.backward(dorange_price)
            dapple, dapple_num = mul_apple_layer.backward(dapple_price)
            results[backend] = dict(price=price, dapple=dapple, dapple_num=dapple_num, dorange=dorange,
                                    dorange_num=dorange_num, dtax=dtax)
        book = dict(price=715, dapple=2.2, dapple_num=110, dorange=3.3, dorange_num=165, dtax=650)
        for name, value in book.items():
            assert_close(results[S][name], scalar(value, dtype), dtype, rtol=4 * np.finfo(dtype).eps, what=name)
            assert_close(results[S][name], results[R][name], dtype, what=name)

    @parameterized.expand(DTYPES)
    def test_arrays(self, _, dtype):
        rng = make_rng()
        x, y, dout = (rng.standard_normal((7, 3)).astype(dtype) for _ in range(3))
        for layer in ("MulLayer", "AddLayer"):
            ours, theirs = getattr(S, layer)(), getattr(R, layer)()
            assert_close(ours.forward(x, y), theirs.forward(x, y), dtype, what=layer)
            keep = dout.copy()
            for a, b in zip(ours.backward(dout), theirs.backward(dout)):
                assert_close(a, b, dtype, what=layer)
            np.testing.assert_array_equal(dout, keep)


def activation_input(shape, dtype, extreme=False):
    """Random values with exact zeros (where ReLU switches) and, if asked, +-1e4."""
    x = make_rng().standard_normal(shape) * 2
    flat = x.reshape(-1)
    flat[::5] = 0.0
    if extreme:
        flat[1::5] = 1e4
        flat[2::5] = -1e4
    return x.astype(dtype)


ACTIVATION_CASES = [(f"{layer}_{name}_{dt_name}", layer, shape, extreme, dt)
                    for layer in ("Relu", "Sigmoid")
                    for name, shape, extreme in [("batch1", (1, 5), False), ("batch7", (7, 5), False),
                                                 ("nd", (3, 2, 4), False), ("extreme", (7, 5), True)]
                    for dt_name, dt in DTYPES]


class TestActivationLayers:
    @parameterized.expand(ACTIVATION_CASES)
    def test_forward_backward(self, _, layer, shape, extreme, dtype):
        x = activation_input(shape, dtype, extreme)
        dout = make_rng(1).standard_normal(shape).astype(dtype)
        x_keep, dout_keep = x.copy(), dout.copy()
        ours, theirs = getattr(S, layer)(), getattr(R, layer)()
        assert_close(ours.forward(x), theirs.forward(x), dtype, what=f"{layer} forward")
        assert_close(ours.backward(dout), theirs.backward(dout), dtype, what=f"{layer} dx")
        # twice: backward must not accumulate or consume anything
        assert_close(ours.backward(dout), theirs.backward(dout), dtype, what=f"{layer} dx again")
        np.testing.assert_array_equal(x, x_keep)
        np.testing.assert_array_equal(dout, dout_keep)

    @parameterized.expand(DTYPES)
    def test_relu_non_finite_dout_matches_pytorch(self, _, dtype):
        """A diverging run sends inf and NaN back: where x <= 0 PyTorch's gradient is still 0
        (not inf * 0 = NaN), where x > 0 the inf or NaN passes through unchanged."""
        shape = (6, 7)
        x = activation_input(shape, dtype)
        rng = make_rng(2)
        dout = rng.standard_normal(shape).astype(dtype)
        dout.reshape(-1)[::3] = np.inf
        dout.reshape(-1)[1::3] = np.nan
        dout.reshape(-1)[2::7] = -np.inf
        blocked = x <= 0
        for where in (blocked, ~blocked):  # non-finite values reach both branches of the mask
            for value in (np.inf, -np.inf):
                assert np.any(where & (dout == value))
            assert np.any(where & np.isnan(dout))
        keep = dout.copy()
        ours, theirs = S.Relu(), R.Relu()
        ours.forward(x), theirs.forward(x)
        dx, ref_dx = ours.backward(dout), to_numpy(theirs.backward(dout))
        assert dx.dtype == ref_dx.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(dx, ref_dx)  # the same inf, -inf and NaN at the same places
        np.testing.assert_array_equal(dx[blocked], 0)
        np.testing.assert_array_equal(dx[~blocked], dout[~blocked])
        np.testing.assert_array_equal(dout, keep)
        # the same layer then takes a finite dout again: the fast branch, same answer as PyTorch
        finite = np.nan_to_num(dout, nan=0.5, posinf=2.0, neginf=-2.0)
        np.testing.assert_array_equal(ours.backward(finite), to_numpy(theirs.backward(finite)))

    @parameterized.expand(DTYPES)
    def test_relu_gradient_at_zero_is_zero(self, _, dtype):
        """Like F.relu: the gradient at exactly 0 is 0 (the book's mask is x <= 0)."""
        x = np.array([[-1.0, 0.0, 2.0]], dtype=dtype)
        dout = np.ones_like(x)
        for backend in (S, R):
            layer = backend.Relu()
            layer.forward(x)
            assert_close(layer.backward(dout), np.array([[0.0, 0.0, 1.0]], dtype=dtype), dtype)


AFFINE_CASES = [(f"{name}_{dt_name}", x_shape, out_features, dt)
                for name, x_shape, out_features in [("batch1", (1, 6), 3), ("batch7", (7, 6), 4),
                                                    ("one_output", (7, 6), 1), ("nd", (5, 2, 3, 4), 3),
                                                    ("images", (2, 1, 4, 4), 10)]
                for dt_name, dt in DTYPES]


def affine_setup(x_shape, out_features, dtype):
    rng = make_rng()
    in_features = int(np.prod(x_shape[1:]))
    W = rng.standard_normal((out_features, in_features)).astype(dtype)
    b = rng.standard_normal(out_features).astype(dtype)
    x = rng.standard_normal(x_shape).astype(dtype)
    dout = rng.standard_normal((x_shape[0], out_features)).astype(dtype)
    return W, b, x, dout


class TestAffine:
    @parameterized.expand(AFFINE_CASES)
    def test_forward_backward(self, _, x_shape, out_features, dtype):
        W, b, x, dout = affine_setup(x_shape, out_features, dtype)
        keep = {name: a.copy() for name, a in dict(W=W, b=b, x=x, dout=dout).items()}
        ours, theirs = S.Affine(W, b), R.Affine(W, b)
        assert_close(ours.forward(x), theirs.forward(x), dtype, what="out")
        for _ in range(2):  # a second backward gives the same, nothing accumulates
            dx_ours, dx_theirs = ours.backward(dout), theirs.backward(dout)
            assert dx_ours.shape == x.shape, "dx comes back in the input's shape"
            assert_close(dx_ours, dx_theirs, dtype, what="dx")
            assert_close(ours.dW, theirs.dW, dtype, what="dW")
            assert_close(ours.db, theirs.db, dtype, what="db")
        assert ours.dW.shape == W.shape and ours.db.shape == b.shape
        for name, value in dict(W=W, b=b, x=x, dout=dout).items():
            np.testing.assert_array_equal(value, keep[name], err_msg=f"{name} was modified")

    @parameterized.expand(DTYPES)
    def test_book_shapes(self, _, dtype):
        """5.6.2: x (2,) features to 3 outputs, in the book's batch form; out = x W^T + b exactly as F.linear."""
        W = np.array([[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]], dtype=dtype)  # the book's (2, 3) W, transposed
        b = np.array([1.0, 2.0, 3.0], dtype=dtype)
        x = np.array([[1.0, 2.0]], dtype=dtype)
        for backend in (S, R):
            assert_close(backend.Affine(W, b).forward(x), np.array([[10.0, 14.0, 18.0]], dtype=dtype), dtype)

    @parameterized.expand(DTYPES)
    def test_wrong_feature_count(self, _, dtype):
        W, b, x, _ = affine_setup((7, 6), 4, dtype)
        assert_same_error(lambda: S.Affine(W, b).forward(x[:, :5]), lambda: R.Affine(W, b).forward(x[:, :5]),
                          ValueError, match="features")

    @parameterized.expand(DTYPES)
    def test_mismatched_input_dtype(self, _, dtype):
        W, b, x, _ = affine_setup((7, 6), 4, dtype)
        other = x.astype(np.float32 if dtype == np.float64 else np.float64)
        assert_same_error(lambda: S.Affine(W, b).forward(other), lambda: R.Affine(W, b).forward(other),
                          TypeError, match="dtype")

    def test_bad_parameters(self):
        W, b, _, _ = affine_setup((7, 6), 4, np.float64)
        assert_same_error(lambda: S.Affine(W, b[:3]), lambda: R.Affine(W, b[:3]), ValueError, match="shape")
        assert_same_error(lambda: S.Affine(W[0], b), lambda: R.Affine(W[0], b), ValueError, match="shape")
        b32 = b.astype(np.float32)
        assert_same_error(lambda: S.Affine(W, b32), lambda: R.Affine(W, b32), TypeError)


def logits(name, n, classes, dtype):
    x = make_rng().standard_normal((n, classes)) * 3
    if name == "extreme":  # overflow exp() without the max trick; true class can sit at -1e4
        x[:, 0], x[:, 1] = 1e4, -1e4
        x[1::2, 2] = 1e4
    elif name == "equal":
        x[:] = 7.0
    return x.astype(dtype)


SOFTMAX_CASES = [(f"{kind}_n{n}_{labels}_dout{str(dout).replace('.', 'p')}_{dt_name}", kind, n, labels, dout, dt)
                 for kind, n in [("random", 1), ("random", 7), ("random", 100), ("extreme", 7), ("equal", 7)]
                 for labels in ("integer", "one_hot")
                 for dout in (1, 2.5)
                 for dt_name, dt in DTYPES]


class TestSoftmaxWithLoss:
    @parameterized.expand(SOFTMAX_CASES)
    def test_forward_backward(self, _, kind, n, labels, dout, dtype):
        classes = 10
        x = logits(kind, n, classes, dtype)
        t = make_rng(3).integers(0, classes, n)
        if kind == "extreme":
            t[::2] = 1  # true class at -1e4: loss about 2e4, finite
        if labels == "one_hot":
            t = np.eye(classes, dtype=dtype)[t]
        dout = np.asarray(dout, dtype=dtype)
        keep = (x.copy(), t.copy(), dout.copy())
        ours, theirs = S.SoftmaxWithLoss(), R.SoftmaxWithLoss()
        loss_ours, loss_theirs = ours.forward(x, t), theirs.forward(x, t)
        assert np.isfinite(loss_ours)
        assert_close(loss_ours, loss_theirs, dtype, what="loss")
        assert_close(ours.y, theirs.y, dtype, what="softmax y")
        for _ in range(2):
            assert_close(ours.backward(dout), theirs.backward(dout), dtype, what="dx")
        if kind == "equal":
            assert_close(loss_ours, np.asarray(np.log(classes), dtype=dtype), dtype)
        for value, kept in zip((x, t, dout), keep):
            np.testing.assert_array_equal(value, kept)

    @parameterized.expand(DTYPES)
    def test_default_dout(self, _, dtype):
        x, t = logits("random", 7, 10, dtype), make_rng(3).integers(0, 10, 7)
        ours, theirs = S.SoftmaxWithLoss(), R.SoftmaxWithLoss()
        ours.forward(x, t), theirs.forward(x, t)
        assert_close(ours.backward(), theirs.backward(), dtype)

    @parameterized.expand([
        ("label_out_of_range", lambda x: (x, np.array([0, 1, 10])), ValueError),
        ("too_few_labels", lambda x: (x, np.array([0, 1])), ValueError),
        ("one_hot_two_ones", lambda x: (x, np.ones((3, 10))), ValueError),
        ("fractional_label", lambda x: (x, np.array([0.5, 1.0, 2.0])), TypeError),
        ("scores_not_2d", lambda x: (x.reshape(3, 2, 5), np.array([0, 1, 2])), ValueError),
    ])
    def test_bad_input(self, _, make, error):
        x, t = make(logits("random", 3, 10, np.float64))
        assert_same_error(lambda: S.SoftmaxWithLoss().forward(x, t), lambda: R.SoftmaxWithLoss().forward(x, t), error)


class TestFloat32StaysFloat32:
    def test_every_output_and_gradient(self):
        """float32 in, float32 out, through a whole Affine -> Relu -> Affine -> Sigmoid -> Affine -> SoftmaxWithLoss."""
        rng = make_rng()
        x = rng.standard_normal((7, 2, 3)).astype(np.float32)
        t = rng.integers(0, 4, 7)
        shapes = [(5, 6), (5, 5), (4, 5)]
        params = [(rng.standard_normal(s).astype(np.float32), rng.standard_normal(s[0]).astype(np.float32))
                  for s in shapes]
        for backend in (S, R):
            layers = [backend.Affine(*params[0]), backend.Relu(), backend.Affine(*params[1]), backend.Sigmoid(),
                      backend.Affine(*params[2])]
            last = backend.SoftmaxWithLoss()
            out = x
            for layer in layers:
                out = layer.forward(out)
                assert to_numpy(out).dtype == np.float32, f"{type(layer).__name__} forward"
            assert to_numpy(last.forward(out, t)).dtype == np.float32
            dout = last.backward(1)
            assert to_numpy(dout).dtype == np.float32
            for layer in reversed(layers):
                dout = layer.backward(dout)
                assert to_numpy(dout).dtype == np.float32, f"{type(layer).__name__} dx"
                if isinstance(layer, backend.Affine):
                    assert to_numpy(layer.dW).dtype == to_numpy(layer.db).dtype == np.float32
            assert dout.shape == x.shape

    def test_layers_chain_identically(self):
        """The same float32 network in both backends gives the same loss and input gradient."""
        rng = make_rng(5)
        x = rng.standard_normal((7, 6)).astype(np.float32)
        t = rng.integers(0, 4, 7)
        W1, b1 = rng.standard_normal((5, 6)).astype(np.float32), rng.standard_normal(5).astype(np.float32)
        W2, b2 = rng.standard_normal((4, 5)).astype(np.float32), rng.standard_normal(4).astype(np.float32)
        results = []
        for backend in (S, R):
            layers = [backend.Affine(W1, b1), backend.Sigmoid(), backend.Affine(W2, b2)]
            last = backend.SoftmaxWithLoss()
            out = x
            for layer in layers:
                out = layer.forward(out)
            loss = last.forward(out, t)
            dout = last.backward(1)
            for layer in reversed(layers):
                dout = layer.backward(dout)
            results.append((loss, dout, layers[0].dW, layers[2].db))
        for ours, theirs in zip(*results):
            assert_close(ours, theirs, np.float32)
