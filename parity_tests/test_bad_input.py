"""Bad input: one clear error, the same in both backends, and NaN propagated as PyTorch does.

The contract (see ``Network.accuracy`` and the layer and optimizer modules):

* layers and ``predict``/``loss``/``gradient`` propagate NaN and inf as PyTorch
  does: both backends put non-finite values in the same places;
* ``accuracy`` refuses NaN or inf in its input (ValueError naming how many
  samples), an empty batch, and labels outside [0, classes); scores are ranked
  by argmax, NumPy's and PyTorch's alike (a NaN is the highest), so a diverged
  network's accuracy is a number, as in the book;
* an empty batch (N = 0) is a ValueError for every layer that sees a batch and
  for every network; elementwise layers (ReLU, Sigmoid, Dropout, Mul, Add)
  map it to an empty output;
* ``backward`` before ``forward`` is a RuntimeError, a ``dout`` of another
  shape than the forward output a ValueError (never broadcast);
* optimizers refuse lr < 0, eps < 0, momentum, decay_rate and betas outside
  [0, 1) (Nesterov: (0, 1)) with a ValueError, a missing gradient with a
  KeyError, a gradient of the wrong shape with a ValueError and of the wrong
  dtype with a TypeError, and change nothing when they refuse;
* network sizes must be positive integers (pad >= 0): ValueError.

Every case runs in both backends (``assert_same_error``: same class, a message
naming the problem).
"""
import numpy as np
import pytest
import torch
from parameterized import parameterized

import reference
import scratch
from conftest import DTYPES, assert_close, assert_same_error, make_rng, share_dropout_masks, to_numpy

pytestmark = pytest.mark.filterwarnings("error")

BACKENDS = (scratch, reference)
# NumPy warns where it makes NaN from inf ("invalid value encountered"); PyTorch does not. Not part of the contract.
numpy_quiet = np.errstate(invalid="ignore", over="ignore", divide="ignore")


def both(make):
    """``make(backend)`` as the pair of calls ``assert_same_error`` wants."""
    return (lambda: make(scratch)), (lambda: make(reference))


def assert_same_nonfinite(actual, expected, dtype, what=""):
    """NaN, +inf and -inf in the same places; the finite values agree (conftest tolerances)."""
    a, b = to_numpy(actual), to_numpy(expected)
    assert a.shape == b.shape, f"{what}: shape {a.shape} != {b.shape}"
    for name, test in (("NaN", np.isnan), ("+inf", np.isposinf), ("-inf", np.isneginf)):
        np.testing.assert_array_equal(test(a), test(b), err_msg=f"{what}: {name} in other places")
    finite = np.isfinite(b)
    assert_close(a[finite], b[finite], dtype, what=what)


# ---------------------------------------------------------------- layers

def layer_params(dtype=np.float64):
    rng = make_rng()
    return {"W": rng.standard_normal((3, 4)).astype(dtype), "b": rng.standard_normal(3).astype(dtype),
            "F": rng.standard_normal((2, 1, 3, 3)).astype(dtype), "fb": rng.standard_normal(2).astype(dtype),
            "gamma": np.linspace(0.5, 1.5, 4).astype(dtype), "beta": np.linspace(-1, 1, 4).astype(dtype)}


def make_layer(backend, name, dtype=np.float64):
    """A fresh layer of ``backend``; all of them take (N, 4) input except Convolution and Pooling (N, 1, 5, 5)."""
    p = layer_params(dtype)
    if name == "Affine":
        return backend.Affine(p["W"].copy(), p["b"].copy())
    if name == "Convolution":
        return backend.Convolution(p["F"].copy(), p["fb"].copy(), stride=1, pad=1)
    if name == "Pooling":
        return backend.Pooling(2, 2, stride=2)
    if name == "BatchNormalization":
        return backend.BatchNormalization(p["gamma"].copy(), p["beta"].copy())
    if name == "Dropout":
        return backend.Dropout(0.5, seed=0)
    return getattr(backend, name)()


LAYERS = ["Affine", "Relu", "Sigmoid", "SoftmaxWithLoss", "MulLayer", "AddLayer", "Convolution", "Pooling",
          "BatchNormalization", "Dropout"]
BATCH_LAYERS = ["Affine", "SoftmaxWithLoss", "Convolution", "Pooling", "BatchNormalization"]
ELEMENTWISE_LAYERS = ["Relu", "Sigmoid", "Dropout", "MulLayer", "AddLayer"]


def layer_input(name, n=3, dtype=np.float64):
    shape = (n, 1, 5, 5) if name in ("Convolution", "Pooling") else (n, 4)
    return make_rng(1).standard_normal(shape).astype(dtype)


def run_forward(layer, name, x, mask=None):
    """The layer's forward pass on ``x`` (labels, a second operand or a dropout mask as needed)."""
    if name == "SoftmaxWithLoss":
        return layer.forward(x, np.arange(len(x)) % x.shape[1])
    if name in ("MulLayer", "AddLayer"):
        return layer.forward(x, x[::-1].copy())
    if name == "Dropout":
        return layer.forward(x, True, mask=mask)
    if name == "BatchNormalization":
        return layer.forward(x, True)
    return layer.forward(x)


@parameterized.expand([(name,) for name in LAYERS])
def test_backward_before_forward_is_a_runtime_error(name):
    dout = 1 if name == "SoftmaxWithLoss" else np.ones((3, 4))
    assert_same_error(*both(lambda b: make_layer(b, name).backward(dout)), RuntimeError,
                      match="backward called before")


@parameterized.expand([(name,) for name in LAYERS])
def test_a_dout_of_another_shape_is_never_broadcast(name):
    """A dout that NumPy (or ``expand``) would broadcast against the output is refused."""
    def call(backend):
        layer = make_layer(backend, name)
        out = run_forward(layer, name, layer_input(name))
        wrong = np.ones(1) if name == "SoftmaxWithLoss" else np.ones(tuple(out.shape)[-1:])
        layer.backward(wrong)
    assert_same_error(*both(call), ValueError, match="does not match the forward output shape")


@parameterized.expand([(name, train) for name in BATCH_LAYERS
                       for train in ((True, False) if name == "BatchNormalization" else (True,))])
def test_an_empty_batch_is_refused_by_every_batch_layer(name, train):
    def call(backend):
        layer, x = make_layer(backend, name), layer_input(name, n=0)
        return layer.forward(x, train) if name == "BatchNormalization" else run_forward(layer, name, x)
    assert_same_error(*both(call), ValueError, match="empty batch")


@parameterized.expand([(name,) for name in ELEMENTWISE_LAYERS])
def test_elementwise_layers_map_an_empty_batch_to_an_empty_output(name):
    results = []
    for backend in BACKENDS:
        layer, x = make_layer(backend, name), layer_input(name, n=0)
        out = run_forward(layer, name, x, mask=np.zeros((0, 4), bool))
        dx = layer.backward(np.zeros((0, 4)))
        results.append((to_numpy(out), [to_numpy(d) for d in (dx if isinstance(dx, tuple) else (dx,))]))
    (out_s, dx_s), (out_r, dx_r) = results
    assert out_s.shape == out_r.shape == (0, 4)
    assert [d.shape for d in dx_s] == [d.shape for d in dx_r] and all(d.shape == (0, 4) for d in dx_s)


@parameterized.expand([("scalar", (2, 3), ()), ("row", (2, 3), (3,)), ("column", (2, 3), (2, 1)),
                       ("both_ways", (2, 1), (1, 3))])
def test_mul_and_add_sum_the_gradient_back_to_each_input_shape(_, x_shape, y_shape):
    """Inputs that broadcast get gradients of their own shape, as from autograd."""
    rng = make_rng(2)
    x, y = rng.standard_normal(x_shape), rng.standard_normal(y_shape)
    dout = rng.standard_normal(np.broadcast_shapes(x_shape, y_shape))
    for name in ("MulLayer", "AddLayer"):
        ours, theirs = getattr(scratch, name)(), getattr(reference, name)()
        assert_close(ours.forward(x, y), theirs.forward(x, y), np.float64, what=name)
        for a, b, shape in zip(ours.backward(dout), theirs.backward(dout), (x_shape, y_shape)):
            assert np.shape(a) == shape, f"{name}: gradient of shape {np.shape(a)} for an input of shape {shape}"
            assert_close(np.asarray(a), b, np.float64, what=name)


@parameterized.expand([(f"{name}_{dname}", name, dtype) for name in LAYERS for dname, dtype in DTYPES])
@numpy_quiet
def test_layers_propagate_nan_and_inf_as_pytorch(_, name, dtype):
    x = layer_input(name, n=4, dtype=dtype)
    flat = x.reshape(len(x), -1)
    flat[0, 1], flat[2, 0], flat[3, 3] = np.nan, np.inf, -np.inf
    mask = make_rng(3).random(x.shape) >= 0.5
    outs, grads = [], []
    for backend in BACKENDS:
        layer = make_layer(backend, name, dtype)
        out = run_forward(layer, name, x, mask=mask)
        dout = 1 if name == "SoftmaxWithLoss" else np.ones(tuple(out.shape), dtype)
        dx = layer.backward(dout)
        outs.append(out)
        grads.append(dx if isinstance(dx, tuple) else (dx,))
    assert_same_nonfinite(outs[0], outs[1], dtype, what=f"{name} forward")
    for a, b in zip(*grads):
        assert_same_nonfinite(a, b, dtype, what=f"{name} backward")


def test_cross_entropy_error_refuses_an_empty_batch():
    assert_same_error(*both(lambda b: b.cross_entropy_error(np.zeros((0, 3)), np.zeros(0, int))), ValueError,
                      match="empty batch")


# ---------------------------------------------------------------- networks

def tiny(name, backend, dtype=np.float64):
    """A small network of each kind; both backends start from the same weights (see ``twins``)."""
    if name == "TwoLayerNet":
        return backend.TwoLayerNet(12, 5, 3, weight_init_std=0.5, dtype=dtype, seed=0)
    if name == "MultiLayerNet":
        return backend.MultiLayerNet(12, [6, 5], 3, weight_decay_lambda=0.1, dtype=dtype, seed=0)
    if name == "MultiLayerNetExtend":
        return backend.MultiLayerNetExtend(12, [6, 5], 3, use_batchnorm=True, use_dropout=True,
                                           dtype=dtype, seed=0)
    if name == "SimpleConvNet":
        return backend.SimpleConvNet((1, 6, 6), {"filter_num": 3, "filter_size": 3, "pad": 1, "stride": 1},
                                     hidden_size=5, output_size=3, weight_init_std=0.3, dtype=dtype, seed=0)
    if name == "DeepConvNet":
        return backend.DeepConvNet((1, 12, 12), hidden_size=6, output_size=3, dtype=dtype, seed=0)
    raise ValueError(name)


NETWORKS = ["TwoLayerNet", "MultiLayerNet", "MultiLayerNetExtend", "SimpleConvNet", "DeepConvNet"]
INPUT_SHAPE = {"SimpleConvNet": (1, 6, 6), "DeepConvNet": (1, 12, 12)}


def twins(name, dtype=np.float64):
    ours, theirs = tiny(name, scratch, dtype), tiny(name, reference, dtype)
    theirs.load_params(ours.params)
    if name in ("MultiLayerNetExtend", "DeepConvNet"):
        share_dropout_masks(ours, theirs)
    return ours, theirs


def net_input(name, n=6, dtype=np.float64):
    x = make_rng(4).standard_normal((n,) + INPUT_SHAPE.get(name, (12,))).astype(dtype)
    return x, np.arange(n) % 3


@pytest.fixture(scope="module")
def three_layer_file(tmp_path_factory):
    rng = make_rng(5)
    shapes = {"W1": (5, 12), "b1": (5,), "W2": (4, 5), "b2": (4,), "W3": (3, 4), "b3": (3,)}
    path = tmp_path_factory.mktemp("three_layer") / "weights.npz"
    scratch.serialization.save_params(path, {k: rng.standard_normal(s) for k, s in shapes.items()})
    return path


@parameterized.expand([(f"{name}_{dname}", name, dtype) for name in NETWORKS for dname, dtype in DTYPES])
@numpy_quiet
def test_predict_loss_and_gradient_propagate_nan_and_inf_as_pytorch(_, name, dtype):
    ours, theirs = twins(name, dtype)
    x, t = net_input(name, dtype=dtype)
    flat = x.reshape(len(x), -1)
    flat[1, 3], flat[4, 0] = np.nan, np.inf
    assert_same_nonfinite(ours.predict(x), theirs.predict(x), dtype, what="predict")
    assert_same_nonfinite(ours.loss(x, t), theirs.loss(x, t), dtype, what="loss")
    g_ours, g_theirs = ours.gradient(x, t), theirs.gradient(x, t)
    assert np.isnan(float(ours.last_loss)) and np.isnan(float(theirs.last_loss))
    for key in ours.params:
        assert_same_nonfinite(g_ours[key], g_theirs[key], dtype, what=key)


@numpy_quiet
def test_three_layer_net_propagates_nan_as_pytorch(three_layer_file):
    x = make_rng(6).standard_normal((4, 12))
    x[2, 5] = np.nan
    ours = scratch.ThreeLayerNet(three_layer_file, dtype=np.float64)
    theirs = reference.ThreeLayerNet(three_layer_file, dtype=np.float64)
    assert_same_nonfinite(ours.predict(x), theirs.predict(x), np.float64, what="predict")
    assert np.isnan(to_numpy(ours.predict(x))[2]).all()


@parameterized.expand([(f"{name}_{method}", name, method) for name in NETWORKS
                       for method in ("predict", "loss", "gradient", "accuracy")])
def test_an_empty_batch_is_refused_by_every_network(_, name, method):
    x, t = net_input(name, n=0)
    call = (lambda b: tiny(name, b).predict(x)) if method == "predict" else \
        (lambda b: getattr(tiny(name, b), method)(x, t))
    assert_same_error(*both(call), ValueError, match="empty batch")


def test_three_layer_net_refuses_an_empty_batch(three_layer_file):
    for method in ("predict", "accuracy"):
        assert_same_error(*both(lambda b: getattr(b.ThreeLayerNet(three_layer_file), method)(
            *((np.zeros((0, 12)),) if method == "predict" else (np.zeros((0, 12)), np.zeros(0, int))))),
            ValueError, match="empty batch")


# ---------------------------------------------------------------- accuracy

@parameterized.expand([(name, bad) for name in NETWORKS for bad in ("nan", "inf")])
def test_accuracy_refuses_nan_or_inf_input_naming_how_many_samples(name, bad):
    x, t = net_input(name)
    flat = x.reshape(len(x), -1)
    flat[0, 2] = flat[0, 3] = flat[5, 1] = float(bad)  # two samples, in different batches of 2
    errors = assert_same_error(*both(lambda b: tiny(name, b).accuracy(x, t, batch_size=2)), ValueError,
                               match="nan or inf")
    assert all("2 of 6 samples" in str(e) for e in errors), [str(e) for e in errors]


def test_three_layer_net_accuracy_refuses_nan_input(three_layer_file):
    x = np.ones((3, 12))
    x[1, 0] = np.nan
    errors = assert_same_error(*both(lambda b: b.ThreeLayerNet(three_layer_file).accuracy(x, np.zeros(3, int))),
                               ValueError, match="nan or inf")
    assert all("1 of 3 samples" in str(e) for e in errors)


@parameterized.expand([
    ("above", np.array([0, 1, 2, 3, 0, 1]), ValueError, "labels must lie in [0, 3)"),
    ("negative", np.array([0, 1, -1, 2, 0, 1]), ValueError, "labels must lie in [0, 3)"),
    ("fractional", np.array([0, 1, 2, 0.5, 0, 1]), TypeError, "integer labels"),
    ("too_few", np.array([0, 1, 2]), ValueError, "6 samples but labels of shape (3,)"),
    ("column", np.zeros((6, 1), int), ValueError, "fit neither"),
    ("not_one_hot", np.full((6, 3), 1 / 3), ValueError, "one-hot"),
])
def test_accuracy_refuses_labels_it_cannot_score(_, t, error, match):
    for name in NETWORKS:
        x, _ = net_input(name)
        assert_same_error(*both(lambda b: tiny(name, b).accuracy(x, t)), error, match=match)


def test_accuracy_names_how_many_labels_lie_outside_the_class_range():
    x, _ = net_input("TwoLayerNet")
    errors = assert_same_error(*both(lambda b: tiny("TwoLayerNet", b).accuracy(x, np.array([0, 9, 2, 3, 0, 1]))),
                               ValueError, match="2 of 6 outside")
    assert all("range [0, 9]" in str(e) for e in errors)


def test_accuracy_refuses_a_batch_size_below_one():
    x, t = net_input("TwoLayerNet")
    assert_same_error(*both(lambda b: tiny("TwoLayerNet", b).accuracy(x, t, batch_size=0)), ValueError,
                      match="batch_size")


def log_scores_net(backend):
    """A network whose scores are log(x): finite input, -inf (x = 0) or NaN (x < 0) scores."""
    class LogScores(backend.Network):
        params = {}
        dtype = np.dtype(np.float64) if backend is scratch else torch.float64

        def predict(self, x):
            if backend is scratch:
                with np.errstate(divide="ignore", invalid="ignore"):
                    return np.log(x)
            return torch.log(torch.as_tensor(x))
    return LogScores()


@parameterized.expand([(1,), (2,), (1000,)])
def test_non_finite_scores_are_ranked_as_argmax_ranks_them(batch_size):
    """-inf is the lowest score, a NaN the highest (the first NaN of a row), in both backends.

    Ignoring NaN (nanargmax) would give 2/5, counting non-finite rows as wrong 1/5.
    """
    x = np.array([[1, 2, 3], [3, 2, 1], [0, 5, 1], [2, -1, 20], [5, 0, -1]], dtype=np.float64)
    t = np.array([2, 1, 1, 1, 2])  # argmax of the scores: 2, 0, 1, 1 (NaN), 2 (NaN)
    for backend in BACKENDS:
        assert log_scores_net(backend).accuracy(x, t, batch_size=batch_size) == 4 / 5, backend.BACKEND


@parameterized.expand([(name,) for name in NETWORKS])
def test_a_diverged_network_scores_as_in_the_book(name):
    """NaN weights (a diverged training) are no error: every row's argmax is 0, so the share of label 0."""
    x, _ = net_input(name)
    t = np.array([0, 2, 0, 1, 0, 2])
    accuracies = []
    for backend in BACKENDS:
        net = tiny(name, backend)
        last_bias = max((k for k in net.params if k[0] == "b" and k[1:].isdigit()), key=lambda k: int(k[1:]))
        with torch.no_grad():
            net.params[last_bias][...] = np.nan if backend is scratch else float("nan")
        with np.errstate(invalid="ignore"):
            accuracies.append(net.accuracy(x, t, batch_size=4))
    assert accuracies == [0.5, 0.5]


# ---------------------------------------------------------------- network sizes

SIMPLE_CONV = {"filter_num": 3, "filter_size": 3, "pad": 1, "stride": 1}
BAD_SIZES = [
    ("two_negative_hidden", lambda b: b.TwoLayerNet(4, -5, 3), "positive integers"),
    ("two_zero_hidden", lambda b: b.TwoLayerNet(4, 0, 3), "positive integers"),
    ("two_float_output", lambda b: b.TwoLayerNet(4, 5, 2.5), "positive integers"),
    ("multi_negative_hidden", lambda b: b.MultiLayerNet(4, [5, -1], 3), "positive integers"),
    ("extend_zero_input", lambda b: b.MultiLayerNetExtend(0, [5], 3), "positive integers"),
    ("multi_negative_weight_decay", lambda b: b.MultiLayerNet(4, [5], 3, weight_decay_lambda=-0.1),
     "weight_decay_lambda must be >= 0"),
    ("simple_negative_hidden", lambda b: b.SimpleConvNet((1, 6, 6), SIMPLE_CONV, hidden_size=-1),
     "hidden_size must be an integer >= 1"),
    ("simple_zero_output", lambda b: b.SimpleConvNet((1, 6, 6), SIMPLE_CONV, output_size=0),
     "output_size must be an integer >= 1"),
    ("simple_zero_filters", lambda b: b.SimpleConvNet((1, 6, 6), dict(SIMPLE_CONV, filter_num=0)),
     "conv_param['filter_num'] must be an integer >= 1"),
    ("simple_negative_pad", lambda b: b.SimpleConvNet((1, 6, 6), dict(SIMPLE_CONV, pad=-1)),
     "conv_param['pad'] must be an integer >= 0"),
    ("simple_negative_stride", lambda b: b.SimpleConvNet((1, 6, 6), dict(SIMPLE_CONV, stride=-1)),
     "conv_param['stride'] must be an integer >= 1"),
    ("simple_negative_height", lambda b: b.SimpleConvNet((1, -6, 6), SIMPLE_CONV), "input_dim"),
    ("simple_too_small_to_pool", lambda b: b.SimpleConvNet((1, 1, 6), SIMPLE_CONV), "too small"),
    ("deep_zero_hidden", lambda b: b.DeepConvNet((1, 12, 12), hidden_size=0), "hidden_size"),
    ("deep_negative_filters", lambda b: b.DeepConvNet((1, 12, 12), conv_param_3=dict(SIMPLE_CONV, filter_num=-16)),
     "conv_param_3['filter_num']"),
    ("deep_too_small_to_pool", lambda b: b.DeepConvNet((1, 2, 2)), "too small"),
]


@parameterized.expand(BAD_SIZES)
def test_network_sizes_must_be_positive_integers(_, make, match):
    assert_same_error(*both(make), ValueError, match=match.lower())


# ---------------------------------------------------------------- optimizers

OPTIMIZERS = ["SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam"]
SHAPES = {"W": (2, 3), "b": (3,)}


def params_of(backend, dtype=np.float64):
    values = {k: np.arange(np.prod(s), dtype=dtype).reshape(s) / 7 for k, s in SHAPES.items()}
    if backend is scratch:
        return values
    return {k: torch.tensor(v, requires_grad=True) for k, v in values.items()}


def grads_of(dtype=np.float64):
    return {k: np.full(s, 0.5, dtype=dtype) for k, s in SHAPES.items()}


BAD_HYPERPARAMETERS = [(name, kw, match) for name, kw, match in [
    *[(name, {"lr": -1}, "lr must be >= 0") for name in OPTIMIZERS],
    *[(name, {"lr": float("nan")}, "lr must be >= 0") for name in OPTIMIZERS],
    ("Momentum", {"momentum": -0.1}, "momentum must be >= 0"),
    ("Momentum", {"momentum": 1.0}, "momentum must lie in [0, 1)"),
    ("Nesterov", {"momentum": 1.5}, "momentum must lie in (0, 1)"),
    ("Nesterov", {"momentum": 0}, "momentum must lie in (0, 1)"),
    ("RMSprop", {"decay_rate": 1.0}, "decay_rate must lie in [0, 1)"),
    ("RMSprop", {"decay_rate": -0.5}, "decay_rate must be >= 0"),
    ("Adam", {"beta1": 1.0}, "beta1 must lie in [0, 1)"),
    ("Adam", {"beta1": -0.1}, "beta1 must be >= 0"),
    ("Adam", {"beta2": 1.2}, "beta2 must lie in [0, 1)"),
    ("AdaGrad", {"eps": -1e-8}, "eps must be >= 0"),
    ("RMSprop", {"eps": -1e-8}, "eps must be >= 0"),
    ("Adam", {"eps": -1e-8}, "eps must be >= 0"),
]]


@parameterized.expand([(f"{name}_{'_'.join(kw)}_{i}", name, kw, match)
                       for i, (name, kw, match) in enumerate(BAD_HYPERPARAMETERS)])
def test_optimizers_refuse_bad_hyperparameters(_, name, kwargs, match):
    """At construction, and at the next step when set afterwards (they are plain attributes)."""
    assert_same_error(*both(lambda b: getattr(b, name)(**kwargs)), ValueError, match=match)

    def set_later(backend):
        optimizer = getattr(backend, name)()
        for key, value in kwargs.items():
            setattr(optimizer, key, value)
        optimizer.update(params_of(backend), grads_of())
    assert_same_error(*both(set_later), ValueError, match=match)


@parameterized.expand([(name,) for name in OPTIMIZERS])
def test_optimizers_refuse_a_learning_rate_that_is_no_number(name):
    assert_same_error(*both(lambda b: getattr(b, name)(lr="0.1")), TypeError, match="lr must be a real number")


def bad_grads(case):
    grads = grads_of()
    if case == "missing":
        del grads["b"]
    elif case == "broadcastable_shape":
        grads["W"] = np.full(3, 0.5)  # (3,) broadcasts against (2, 3)
    elif case == "row_shape":
        grads["W"] = np.full((1, 3), 0.5)
    elif case == "transposed":
        grads["W"] = np.full((3, 2), 0.5)
    elif case == "dtype":
        grads["b"] = grads["b"].astype(np.float32)
    return grads


GRADIENT_CASES = [("missing", KeyError, "grads lack ['b']"),
                  ("broadcastable_shape", ValueError,
                   "gradient 'w' has shape (3,), but the parameter has shape (2, 3)"),
                  ("row_shape", ValueError, "gradient 'w' has shape (1, 3)"),
                  ("transposed", ValueError, "gradient 'w' has shape (3, 2)"),
                  ("dtype", TypeError, "gradient 'b' is float32, but the parameter is float64")]


@parameterized.expand([(f"{name}_{case}", name, case, error, match)
                       for name in OPTIMIZERS for case, error, match in GRADIENT_CASES])
def test_optimizers_refuse_bad_gradients_and_change_nothing(_, name, case, error, match):
    """Checked before the first change, at the first step and at a later one."""
    for steps_before in (0, 2):
        kept = {}

        def call(backend):
            optimizer, params = getattr(backend, name)(lr=0.1), params_of(backend)
            for _ in range(steps_before):
                optimizer.update(params, grads_of())
            kept[backend.BACKEND] = {k: to_numpy(v).copy() for k, v in params.items()}
            try:
                optimizer.update(params, bad_grads(case))
            finally:
                for k, v in params.items():
                    np.testing.assert_array_equal(to_numpy(v), kept[backend.BACKEND][k])
                optimizer.update(params, grads_of())  # still usable, and in step with the other backend
                kept[backend.BACKEND] = {k: to_numpy(v).copy() for k, v in params.items()}
        assert_same_error(*both(call), error, match=match.lower())
        for k in SHAPES:
            assert_close(kept["numpy"][k], kept["torch"][k], np.float64, what=f"{name} {k}")
