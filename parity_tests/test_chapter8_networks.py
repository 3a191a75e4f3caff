"""LeNet and ResNet (chapter 8.2): with the same weights both backends agree on scores, loss
and every parameter gradient (train and eval mode), on the batch norms' running statistics,
and step by step over a short Adam run; the NumPy backpropagation agrees with finite
differences; wrong input shapes are clear errors."""

import numpy as np
import pytest
from parameterized import parameterized

import reference
import scratch
from conftest import DTYPES, assert_close, assert_same_error
from network_support import check_save_load_summary_and_seed
from reference.lenet import LeNet as TorchLeNet
from reference.resnet import ResNet as TorchResNet
from scratch.lenet import LeNet as NumpyLeNet
from scratch.resnet import ResNet as NumpyResNet

pytestmark = pytest.mark.usefixtures("one_torch_thread")

NETWORKS = {"LeNet": (NumpyLeNet, TorchLeNet), "ResNet": (NumpyResNet, TorchResNet)}

# A smaller ResNet for the slow checks: two blocks per stage (identity blocks after a projection).
SMALL_RESNET = dict(input_dim=(1, 12, 12), channels=(4, 6, 8), blocks_per_stage=2)


def twins(cls_name, dtype, seed=0, **kwargs):
    """The same network in both backends: the reference starts from the NumPy initial weights."""
    numpy_cls, torch_cls = NETWORKS[cls_name]
    numpy_net = numpy_cls(dtype=dtype, seed=seed, **kwargs)
    torch_net = torch_cls(dtype=dtype, seed=seed, **kwargs)
    torch_net.load_params(numpy_net.params)
    return numpy_net, torch_net


def images(dtype, n, shape=(1, 28, 28), classes=10, seed=1):
    rng = np.random.default_rng(seed)
    return rng.random((n,) + shape).astype(dtype), rng.integers(0, classes, n)


def assert_same_pass(numpy_net, torch_net, x, t, dtype, what, **mode):
    """Scores, loss and every gradient of one forward/backward pass agree."""
    train_flg = mode.get("train_flg", True)
    assert_close(numpy_net.predict(x, train_flg), torch_net.predict(x, train_flg), dtype, what=f"{what} scores")
    grads_numpy, grads_torch = numpy_net.gradient(x, t, **mode), torch_net.gradient(x, t, **mode)
    assert list(grads_numpy) == list(grads_torch) == list(numpy_net.params) == list(torch_net.params)
    assert_close(numpy_net.last_loss, torch_net.last_loss, dtype, what=f"{what} loss")
    for name in numpy_net.params:
        assert_close(grads_numpy[name], grads_torch[name], dtype, what=f"{what} d{name}")


@parameterized.expand([(f"{a}_{d}", a, dt) for a in ("tanh", "sigmoid") for d, dt in DTYPES])
def test_lenet_scores_loss_and_gradients_agree(_, activation, dtype):
    numpy_net, torch_net = twins("LeNet", dtype, activation=activation)
    numpy_net.params["W2"][...] = np.linspace(0.5, 1.5, 6)  # the subsampling coefficients away from 1
    torch_net.load_params(numpy_net.params)
    x, t = images(dtype, 4)
    assert_same_pass(numpy_net, torch_net, x, t, dtype, "LeNet")
    assert_close(numpy_net.loss(x, t), torch_net.loss(x, t), dtype, what="loss")


@parameterized.expand(DTYPES)
def test_resnet_train_and_eval_mode_agree(_, dtype):
    numpy_net, torch_net = twins("ResNet", dtype)
    x, t = images(dtype, 4)
    assert_same_pass(numpy_net, torch_net, x, t, dtype, "train mode", train_flg=True)
    # The running statistics have moved (twice: predict and gradient); eval mode uses them.
    assert_same_pass(numpy_net, torch_net, x, t, dtype, "eval mode", train_flg=False)
    assert not np.allclose(numpy_net.predict(x, train_flg=True), numpy_net.predict(x, train_flg=False))


@parameterized.expand(DTYPES)
def test_resnet_running_statistics_agree(_, dtype):
    numpy_net, torch_net = twins("ResNet", dtype, **SMALL_RESNET)
    optimizers = scratch.Adam(lr=0.01), reference.Adam(lr=0.01)
    for step in range(3):
        x, t = images(dtype, 6, shape=(1, 12, 12), seed=step)
        for net, optimizer in zip((numpy_net, torch_net), optimizers):
            optimizer.update(net.params, net.gradient(x, t))
    norms_numpy, norms_torch = numpy_net.batch_norms(), torch_net.batch_norms()
    assert list(norms_numpy) == list(norms_torch) and len(norms_numpy) == 1 + 2 * 6 + 2
    for name, layer in norms_numpy.items():
        assert_close(layer.running_mean, norms_torch[name].running_mean, dtype, what=f"{name} running_mean")
        assert_close(layer.running_var, norms_torch[name].running_var, dtype, what=f"{name} running_var")
        assert not np.allclose(layer.running_var, 1.0)


def finite_difference_check(net, x, t, entries=3, h=1e-6, **mode):
    """Central differences of ``entries`` entries of every parameter against backpropagation.

    h = 1e-6: small enough that no ReLU kink lies within +-h of the chosen entries (1e-5 met one).
    """
    backprop = {name: g.copy() for name, g in net.gradient(x, t, **mode).items()}
    rng = np.random.default_rng(7)
    worst = 0.0
    for name, param in net.params.items():
        for flat in rng.choice(param.size, min(entries, param.size), replace=False):
            i = np.unravel_index(flat, param.shape)
            original = param[i]
            param[i] = original + h
            plus = net.loss(x, t, **mode)
            param[i] = original - h
            minus = net.loss(x, t, **mode)
            param[i] = original
            numeric = (plus - minus) / (2 * h)
            diff = abs(backprop[name][i] - numeric)
            assert diff < 1e-7 * max(1.0, abs(numeric)), f"{name}{i}: backprop {backprop[name][i]!r}, numeric {numeric!r}"
            worst = max(worst, diff)
    return worst


@parameterized.expand([("tanh",), ("sigmoid",)])
def test_lenet_backprop_equals_finite_differences(activation):
    net = NumpyLeNet(activation=activation, dtype=np.float64, seed=3)
    net.params["W4"][...] = np.linspace(0.5, 2.0, 16)
    x, t = images(np.float64, 3)
    finite_difference_check(net, x, t)


@parameterized.expand([("train", True), ("eval", False)])
def test_resnet_backprop_equals_finite_differences(_, train_flg):
    net = NumpyResNet(dtype=np.float64, seed=3, **SMALL_RESNET)
    x, t = images(np.float64, 4, shape=(1, 12, 12))
    net.predict(x, train_flg=True)  # running statistics away from (0, 1) for the eval-mode check
    for layer in net.batch_norms().values():  # gamma and beta away from 1 and 0
        layer.gamma[...] = np.linspace(0.5, 1.5, layer.gamma.size)
        layer.beta[...] = np.linspace(-0.2, 0.2, layer.beta.size)
    finite_difference_check(net, x, t, train_flg=train_flg)


@parameterized.expand([(f"{n}_{d}", n, dt) for n in NETWORKS for d, dt in DTYPES])
def test_adam_runs_agree_step_by_step(_, cls_name, dtype):
    kwargs = SMALL_RESNET if cls_name == "ResNet" else {}
    shape = kwargs.get("input_dim", (1, 28, 28))
    numpy_net, torch_net = twins(cls_name, dtype, **kwargs)
    x_train, t_train = images(dtype, 40, shape=shape)
    x_train[np.arange(40), 0, t_train % shape[1], :] += 1.0  # a learnable pattern: a bright row per class
    optimizers = scratch.Adam(lr=0.01), reference.Adam(lr=0.01)
    rng = np.random.default_rng(5)
    losses = []
    for step in range(5):
        batch = rng.choice(len(x_train), 10)
        for net, optimizer in zip((numpy_net, torch_net), optimizers):
            optimizer.update(net.params, net.gradient(x_train[batch], t_train[batch]))
        assert_close(numpy_net.last_loss, torch_net.last_loss, dtype, what=f"loss {step}")
        # Adam's step is lr * m / (sqrt(v) + eps), about lr * sign(g) early on: for a gradient entry near
        # eps (1e-8) float32 rounding moves the step by a fraction of lr. float32: within 1% of one step.
        atol = None if dtype == np.float64 else 0.01 * 0.01
        for name in numpy_net.params:
            assert_close(numpy_net.params[name], torch_net.params[name], dtype, atol=atol, what=f"{name} step {step}")
        losses.append(float(numpy_net.last_loss))
    assert losses[-1] < losses[0]  # it learnt


@parameterized.expand([(n,) for n in NETWORKS])
def test_save_load_round_trip_and_summary(cls_name):
    check_save_load_summary_and_seed(*NETWORKS[cls_name], images(np.float32, 2)[0])


@parameterized.expand([(n,) for n in NETWORKS])
def test_accuracy_agrees(cls_name):
    numpy_net, torch_net = twins(cls_name, np.float64)
    x, t = images(np.float64, 30)
    assert numpy_net.accuracy(x, t, batch_size=7) == torch_net.accuracy(x, t, batch_size=7)


@parameterized.expand([(n,) for n in NETWORKS])
def test_wrong_input_shapes_are_clear_errors(cls_name):
    numpy_cls, torch_cls = NETWORKS[cls_name]
    numpy_net, torch_net = numpy_cls(seed=0), torch_cls(seed=0)
    for bad in (np.zeros((2, 784), np.float32), np.zeros((2, 3, 28, 28), np.float32),
                np.zeros((2, 1, 32, 32), np.float32), np.zeros((1, 28, 28), np.float32)):
        assert_same_error(lambda: numpy_net.predict(bad), lambda: torch_net.predict(bad),
                          ValueError, match="expects images of shape (n, 1, 28, 28)")
    assert_same_error(lambda: numpy_net.predict(np.zeros((0, 1, 28, 28), np.float32)),
                      lambda: torch_net.predict(np.zeros((0, 1, 28, 28), np.float32)), ValueError)


def test_constructor_errors():
    for numpy_cls, torch_cls, kwargs, match in [
            (NumpyLeNet, TorchLeNet, dict(activation="relu"), "activation"),
            (NumpyLeNet, TorchLeNet, dict(input_dim=(1, 8, 8)), "input_dim"),
            (NumpyLeNet, TorchLeNet, dict(input_dim=(28, 28)), "input_dim"),
            (NumpyResNet, TorchResNet, dict(channels=()), "channels"),
            (NumpyResNet, TorchResNet, dict(input_dim=(1, 28)), "input_dim"),
            (NumpyResNet, TorchResNet, dict(blocks_per_stage=0), "blocks_per_stage")]:
        assert_same_error(lambda: numpy_cls(**kwargs), lambda: torch_cls(**kwargs), ValueError, match=match)
