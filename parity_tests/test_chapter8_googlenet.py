"""GoogLeNet (chapter 8.2.3): with the same weights both backends agree on scores, loss and every
parameter gradient, and step by step over a short Adam run; the NumPy backpropagation through
the inception blocks (Concat's split, four paths, their input gradients added) agrees with
finite differences; wrong input shapes and sizes are clear errors."""
import tempfile

import numpy as np
import pytest
from parameterized import parameterized

import reference
import scratch
from conftest import DTYPES, assert_close, assert_same_error, to_numpy
from reference.googlenet import GoogLeNet as TorchGoogLeNet
from scratch.googlenet import GoogLeNet as NumpyGoogLeNet

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# A smaller GoogLeNet for the slow checks: 12x12 -> 6x6 (block 1) -> 3x3 (block 2).
SMALL = dict(input_dim=(1, 12, 12), stem_channels=6, inception=((3, 3, 4, 2, 3, 2), (4, 3, 5, 2, 3, 3)))


def with_biases(net):
    """Biases away from 0 (they start at 0), so that their part of the forward pass is checked too."""
    for name, param in net.params.items():
        if "_b" in name:
            param[...] = np.linspace(-0.05, 0.1, param.size)
    return net


def twins(dtype, seed=0, **kwargs):
    """The same network in both backends: the reference starts from the NumPy weights."""
    numpy_net = with_biases(NumpyGoogLeNet(dtype=dtype, seed=seed, **kwargs))
    torch_net = TorchGoogLeNet(dtype=dtype, seed=seed + 1, **kwargs)
    torch_net.load_params(numpy_net.params)
    return numpy_net, torch_net


def images(dtype, n, shape=(1, 28, 28), classes=10, seed=1):
    rng = np.random.default_rng(seed)
    return rng.random((n,) + shape).astype(dtype), rng.integers(0, classes, n)


@parameterized.expand(DTYPES)
def test_scores_loss_and_gradients_agree(_, dtype):
    numpy_net, torch_net = twins(dtype)
    x, t = images(dtype, 4)
    assert_close(numpy_net.predict(x), torch_net.predict(x), dtype, what="scores")
    grads_numpy, grads_torch = numpy_net.gradient(x, t), torch_net.gradient(x, t)
    assert list(grads_numpy) == list(grads_torch) == list(numpy_net.params) == list(torch_net.params)
    assert len(grads_numpy) == 2 + 2 * 12 + 2
    assert_close(numpy_net.last_loss, torch_net.last_loss, dtype, what="loss")
    assert_close(numpy_net.loss(x, t), torch_net.loss(x, t), dtype, what="loss()")
    for name in numpy_net.params:
        assert grads_numpy[name].shape == numpy_net.params[name].shape
        assert_close(grads_numpy[name], grads_torch[name], dtype, what=f"d{name}")
        assert np.any(grads_numpy[name] != 0), f"d{name} is all zero"


def test_block_input_gradient_is_the_sum_of_the_four_paths():
    """dx of an inception block = the sum of what each path sends back, one path at a time."""
    net = with_biases(NumpyGoogLeNet(dtype=np.float64, seed=2, **SMALL))
    x, t = images(np.float64, 3, shape=(1, 12, 12))
    net.gradient(x, t)
    block = net.layers["i2"]
    dout = np.random.default_rng(4).standard_normal(block.join.out_shape)
    total = block.backward(dout)
    sizes, parts = block.join.sizes, []
    for k in range(4):
        masked = np.zeros_like(dout)
        start = sum(sizes[:k])
        masked[:, start:start + sizes[k]] = dout[:, start:start + sizes[k]]
        parts.append(block.backward(masked))
        assert np.any(parts[-1] != 0), f"path {k + 1} sends nothing back"
    np.testing.assert_allclose(total, sum(parts), rtol=1e-12, atol=1e-14)


def test_backprop_equals_finite_differences():
    """Central differences (h = 1e-6) of 3 entries of every parameter against backpropagation."""
    net = with_biases(NumpyGoogLeNet(dtype=np.float64, seed=3, **SMALL))
    x, t = images(np.float64, 4, shape=(1, 12, 12))
    backprop = {name: g.copy() for name, g in net.gradient(x, t).items()}
    rng, h = np.random.default_rng(7), 1e-6
    for name, param in net.params.items():
        for flat in rng.choice(param.size, min(3, param.size), replace=False):
            i = np.unravel_index(flat, param.shape)
            original = param[i]
            param[i] = original + h
            plus = net.loss(x, t)
            param[i] = original - h
            minus = net.loss(x, t)
            param[i] = original
            numeric = (plus - minus) / (2 * h)
            assert abs(backprop[name][i] - numeric) < 1e-7 * max(1.0, abs(numeric)), \
                f"{name}{i}: backprop {backprop[name][i]!r}, numeric {numeric!r}"


@parameterized.expand(DTYPES)
def test_adam_runs_agree_step_by_step(_, dtype):
    numpy_net, torch_net = twins(dtype, **SMALL)
    x, t = images(dtype, 10, shape=(1, 12, 12))
    x[np.arange(10), 0, t, :] += 1.0  # a learnable pattern: a bright row per class
    optimizers = scratch.Adam(lr=0.01), reference.Adam(lr=0.01)
    losses = []
    for step in range(3):
        for net, optimizer in zip((numpy_net, torch_net), optimizers):
            optimizer.update(net.params, net.gradient(x, t))
        assert_close(numpy_net.last_loss, torch_net.last_loss, dtype, what=f"loss {step}")
        # Adam's early step is about lr * sign(g): for a gradient entry near eps (1e-8) float32
        # rounding moves the step by a fraction of lr. float32: within 1% of one step.
        atol = None if dtype == np.float64 else 0.01 * 0.01
        for name in numpy_net.params:
            assert_close(numpy_net.params[name], torch_net.params[name], dtype, atol=atol,
                         what=f"{name} step {step}")
        losses.append(float(numpy_net.last_loss))
    assert losses[-1] < losses[0]  # it learns


def test_save_load_round_trip_and_summary():
    a = NumpyGoogLeNet(seed=1)
    with tempfile.TemporaryDirectory() as directory:
        path = f"{directory}/w.npz"
        a.save_params(path)
        for cls in (NumpyGoogLeNet, TorchGoogLeNet):
            b = cls(seed=2).load_params(path)
            for name in a.params:
                np.testing.assert_array_equal(a.params[name], to_numpy(b.params[name]))
    x, _ = images(np.float32, 2)
    b = TorchGoogLeNet(seed=2).load_params(a.params)
    assert_close(a.predict(x), b.predict(x), np.float32, what="scores after load")
    assert a.summary() == b.summary()
    assert f"{sum(p.size for p in a.params.values())} parameters" in a.summary()
    assert "(56, 14, 14)" in a.summary() and "(88, 7, 7)" in a.summary()
    for cls in (NumpyGoogLeNet, TorchGoogLeNet):  # a seed gives the same initial weights every time
        first, second = cls(seed=5).params, cls(seed=5).params
        for name in first:
            np.testing.assert_array_equal(to_numpy(first[name]), to_numpy(second[name]))


def test_accuracy_agrees():
    numpy_net, torch_net = twins(np.float64)
    x, t = images(np.float64, 30)
    assert numpy_net.accuracy(x, t, batch_size=7) == torch_net.accuracy(x, t, batch_size=7)


def test_wrong_input_shapes_are_clear_errors():
    numpy_net, torch_net = NumpyGoogLeNet(seed=0), TorchGoogLeNet(seed=0)
    for bad in (np.zeros((2, 784), np.float32), np.zeros((2, 3, 28, 28), np.float32),
                np.zeros((2, 1, 32, 32), np.float32), np.zeros((1, 28, 28), np.float32)):
        assert_same_error(lambda: numpy_net.predict(bad), lambda: torch_net.predict(bad),
                          ValueError, match="googlenet expects images of shape (n, 1, 28, 28)")
    assert_same_error(lambda: numpy_net.predict(np.zeros((0, 1, 28, 28), np.float32)),
                      lambda: torch_net.predict(np.zeros((0, 1, 28, 28), np.float32)), ValueError)


@parameterized.expand([
    ("stem", dict(stem_channels=0), "stem_channels"),
    ("no_blocks", dict(inception=()), "inception"),
    ("five_sizes", dict(inception=((1, 2, 3, 4, 5),)), "six channel counts"),
    ("zero_channels", dict(inception=((1, 2, 3, 4, 5, 0),)), "inception block 1"),
    ("input_dim", dict(input_dim=(1, 28)), "input_dim"),
    ("too_small", dict(input_dim=(1, 3, 3)), "too small"),
    ("output_size", dict(output_size=0), "output_size"),
])
def test_constructor_errors(_, kwargs, match):
    assert_same_error(lambda: NumpyGoogLeNet(**kwargs), lambda: TorchGoogLeNet(**kwargs), ValueError, match=match)
