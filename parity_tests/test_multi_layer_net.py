"""MultiLayerNet and MultiLayerNetExtend: loss (weight decay included) and every gradient agree
between the backends, and the NumPy backpropagation agrees with its own finite differences."""
import numpy as np
import pytest
import torch
from parameterized import parameterized

import reference
import scratch
from conftest import DTYPES, assert_close, share_dropout_masks, to_numpy

CONFIGS = [
    # name, kwargs of MultiLayerNetExtend
    ("relu", dict(activation="relu")),
    ("sigmoid_xavier", dict(activation="sigmoid", weight_init_std="xavier")),
    ("weight_decay", dict(weight_decay_lambda=0.1)),
    ("batchnorm", dict(use_batchnorm=True)),
    ("dropout", dict(use_dropout=True, dropout_ration=0.3)),
    ("everything", dict(use_batchnorm=True, use_dropout=True, weight_decay_lambda=0.05)),
]


def pair(kwargs, dtype, sizes=(12, [9, 7], 4), seed=0):
    """The same network in both backends: the reference gets the NumPy one's initial weights."""
    numpy_net = scratch.MultiLayerNetExtend(*sizes, dtype=dtype, seed=seed, **kwargs)
    torch_net = reference.MultiLayerNetExtend(*sizes, dtype=dtype, seed=seed, **kwargs)
    torch_net.load_params(numpy_net.params)
    return numpy_net, torch_net


def assert_bias_before_batchnorm_vanishes(grads_numpy, grads_torch, name, dtype):
    """A bias followed by batch norm has gradient exactly 0 in exact arithmetic (the mean is
    subtracted right away); both backends get rounding noise from a cancelling sum over
    the batch, so both must be tiny next to the weight gradient of the same layer, not equal."""
    scale = max(np.max(np.abs(to_numpy(grads_torch["W" + name[1:]]))), 1e-300)
    tolerance = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-5}[np.dtype(dtype)]
    for side in (grads_numpy, grads_torch):
        assert np.max(np.abs(to_numpy(side[name]))) <= tolerance * scale, name


def data(dtype, n=10, features=12, classes=4, seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, features)).astype(dtype), rng.integers(0, classes, n)


def randomize_non_weights(net, seed=5):
    """Biases (and batch norm's gamma, beta) drawn at random, in place: they start at 0 and 1, where
    a penalty or a gradient term that wrongly includes them vanishes (0^2 = 0, lambda * 0 = 0)."""
    rng = np.random.default_rng(seed)
    for name, param in net.params.items():
        if not name.startswith("W"):
            value = rng.standard_normal(tuple(param.shape)) + (1.0 if name.startswith("gamma") else 0.0)
            if isinstance(param, torch.Tensor):
                with torch.no_grad():
                    param.copy_(torch.from_numpy(value))
            else:
                param[...] = value
            assert np.all(to_numpy(param) != 0), name


@parameterized.expand([(f"{c}_{d}", kw, dt) for c, kw in CONFIGS for d, dt in DTYPES])
def test_loss_and_gradients_agree(_, kwargs, dtype):
    numpy_net, torch_net = pair(kwargs, dtype)
    share_dropout_masks(numpy_net, torch_net)
    x, t = data(dtype)
    for step in range(3):  # batch norm's running statistics move on; all must stay equal
        grads_numpy = numpy_net.gradient(x, t)  # numpy first: it draws the shared dropout mask
        grads_torch = torch_net.gradient(x, t)
        assert sorted(grads_numpy) == sorted(numpy_net.params)
        assert_close(numpy_net.last_loss, torch_net.last_loss, dtype, what=f"loss, step {step}")
        for name in numpy_net.params:
            if name.startswith("b") and f"BatchNorm{name[1:]}" in numpy_net.layers:
                assert_bias_before_batchnorm_vanishes(grads_numpy, grads_torch, name, dtype)
                continue
            assert_close(grads_numpy[name], grads_torch[name], dtype, what=f"d{name}, step {step}")
    assert_close(numpy_net.predict(x), torch_net.predict(x), dtype, what="test-mode scores")
    assert numpy_net.accuracy(x, t) == torch_net.accuracy(x, t)


@parameterized.expand([(f"{c}_{d}", kw, dt) for c, kw in CONFIGS if kw.get("weight_decay_lambda")
                       for d, dt in DTYPES])
def test_weight_decay_agrees_with_nonzero_biases(_, kwargs, dtype):
    """Weight decay away from initialisation: with biases (and beta) non-zero a penalty or a
    gradient term on them no longer vanishes, so the backends must agree on that too."""
    numpy_net, torch_net = pair(kwargs, dtype)
    randomize_non_weights(numpy_net)
    torch_net.load_params(numpy_net.params)
    share_dropout_masks(numpy_net, torch_net)
    x, t = data(dtype)
    assert_close(numpy_net.loss(x, t), torch_net.loss(x, t), dtype, what="test-mode loss")
    grads_numpy, grads_torch = numpy_net.gradient(x, t), torch_net.gradient(x, t)
    assert_close(numpy_net.last_loss, torch_net.last_loss, dtype, what="loss")
    for name in numpy_net.params:
        if name.startswith("b") and f"BatchNorm{name[1:]}" in numpy_net.layers:
            assert_bias_before_batchnorm_vanishes(grads_numpy, grads_torch, name, dtype)
            continue
        assert_close(grads_numpy[name], grads_torch[name], dtype, what=f"d{name}")


@parameterized.expand([(c, kw) for c, kw in CONFIGS if "use_dropout" not in kw])
def test_backprop_equals_finite_differences(_, kwargs):
    """NumPy: backpropagation against central differences (4.5 / 5.7.3), float64."""
    numpy_net = scratch.MultiLayerNetExtend(6, [5, 4], 3, dtype=np.float64, seed=2, **kwargs)
    x, t = data(np.float64, n=4, features=6, classes=3)
    numeric = numpy_net.numerical_gradient(x, t)
    backprop = numpy_net.gradient(x, t)
    for name in numpy_net.params:
        diff = np.max(np.abs(backprop[name] - numeric[name]))
        if "use_batchnorm" in kwargs:
            # batch norm over 4 samples is strongly curved: the O(h^2) error of central
            # differences (h = 1e-4) reaches ~1e-7 relative, so judge relative to the gradient
            scale = max(np.max(np.abs(numeric[name])), 1.0)
            assert diff < 1e-6 * scale, f"{name}: |backprop - numeric| = {diff:.3g}"
        else:
            assert diff < 1e-8, f"{name}: |backprop - numeric| = {diff:.3g}"


@parameterized.expand([(b.BACKEND, b) for b in (scratch, reference)])
def test_weight_decay_is_in_the_loss_and_not_on_biases(_, backend):
    kwargs = dict(dtype="float64", seed=3)
    plain = backend.MultiLayerNet(12, [9], 4, **kwargs)
    decayed = backend.MultiLayerNet(12, [9], 4, weight_decay_lambda=0.5, **kwargs)
    for net in (plain, decayed):  # non-zero biases: at initialisation b = 0 would hide a penalty on them
        randomize_non_weights(net)
    x, t = data(np.float64)
    penalty = sum(0.5 * 0.5 * float((to_numpy(plain.params[w]) ** 2).sum()) for w in ("W1", "W2"))
    loss_decayed, loss_plain = float(to_numpy(decayed.loss(x, t))), float(to_numpy(plain.loss(x, t)))
    assert loss_decayed == pytest.approx(loss_plain + penalty, rel=1e-12)
    g_plain, g_decayed = plain.gradient(x, t), decayed.gradient(x, t)
    for name in ("W1", "W2"):
        np.testing.assert_allclose(to_numpy(g_decayed[name]),
                                   to_numpy(g_plain[name]) + 0.5 * to_numpy(plain.params[name]), rtol=1e-12)
    for name in ("b1", "b2"):
        np.testing.assert_array_equal(to_numpy(g_decayed[name]), to_numpy(g_plain[name]))


@parameterized.expand([(b.BACKEND, b) for b in (scratch, reference)])
def test_constructor_errors(_, backend):
    with pytest.raises(ValueError, match="activation"):
        backend.MultiLayerNet(4, [3], 2, activation="tanh")
    with pytest.raises(ValueError, match="positive integers"):
        backend.MultiLayerNet(4, [0], 2)
    with pytest.raises(ValueError, match="weight_init_std"):
        backend.MultiLayerNet(4, [3], 2, weight_init_std="glorot")


def test_multi_layer_net_params_and_seed():
    a = scratch.MultiLayerNet(784, [100, 100, 100], 10, seed=4)
    b = scratch.MultiLayerNet(784, [100, 100, 100], 10, seed=4)
    assert sorted(a.params) == ["W1", "W2", "W3", "W4", "b1", "b2", "b3", "b4"]
    assert a.params["W1"].shape == (100, 784) and a.params["W1"].dtype == np.float32
    for name in a.params:
        np.testing.assert_array_equal(a.params[name], b.params[name])
    r = reference.MultiLayerNet(784, [100, 100, 100], 10, seed=4)
    assert r.params["W1"].dtype == torch.float32 and tuple(r.params["W1"].shape) == (100, 784)
