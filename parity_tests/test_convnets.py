"""SimpleConvNet and DeepConvNet: every gradient agrees between the backends, the NumPy
backpropagation agrees with finite differences, a 50-step Adam run agrees step for step,
and the book's published weights score what the book's code scores."""
import tempfile

import numpy as np
import pytest
from parameterized import parameterized

import reference
import scratch
import scratch.book
from conftest import (DTYPES, assert_close, assert_exact, book_weight_file, requires_book_weights,
                      share_dropout_masks, to_numpy)
from mnist_support import requires_mnist, small_mnist

TINY_SIMPLE = dict(input_dim=(2, 10, 9), conv_param={"filter_num": 4, "filter_size": 3, "pad": 1, "stride": 1},
                   hidden_size=6, output_size=5)


def twins(cls_name, dtype, seed=0, **kwargs):
    """The same network in both backends: the reference starts from the NumPy initial weights."""
    numpy_net = getattr(scratch, cls_name)(dtype=dtype, seed=seed, **kwargs)
    torch_net = getattr(reference, cls_name)(dtype=dtype, seed=seed, **kwargs)
    torch_net.load_params(numpy_net.params)
    return numpy_net, torch_net


def images(dtype, n, shape=(1, 28, 28), classes=10, seed=1):
    rng = np.random.default_rng(seed)
    return rng.random((n,) + shape).astype(dtype), rng.integers(0, classes, n)


@parameterized.expand(DTYPES)
def test_simple_convnet_gradients_agree(_, dtype):
    numpy_net, torch_net = twins("SimpleConvNet", dtype, weight_init_std=0.1)
    x, t = images(dtype, 7)
    grads_numpy, grads_torch = numpy_net.gradient(x, t), torch_net.gradient(x, t)
    assert_close(numpy_net.last_loss, torch_net.last_loss, dtype, what="loss")
    assert sorted(grads_numpy) == sorted(numpy_net.params) == ["W1", "W2", "W3", "b1", "b2", "b3"]
    for name in numpy_net.params:
        assert_close(grads_numpy[name], grads_torch[name], dtype, what=name)
    assert_close(numpy_net.predict(x), torch_net.predict(x), dtype, what="scores")


@parameterized.expand(DTYPES)
def test_deep_convnet_gradients_agree(_, dtype):
    numpy_net, torch_net = twins("DeepConvNet", dtype)
    share_dropout_masks(numpy_net, torch_net)
    x, t = images(dtype, 3)
    for step in range(2):
        grads_numpy, grads_torch = numpy_net.gradient(x, t), torch_net.gradient(x, t)
        assert_close(numpy_net.last_loss, torch_net.last_loss, dtype, what=f"loss {step}")
        assert len(grads_numpy) == 16
        for name in numpy_net.params:
            assert_close(grads_numpy[name], grads_torch[name], dtype, what=f"{name} step {step}")
    assert_close(numpy_net.predict(x), torch_net.predict(x), dtype, what="test-mode scores")


def test_simple_convnet_backprop_equals_finite_differences():
    net = scratch.SimpleConvNet(dtype=np.float64, seed=2, weight_init_std=0.3, **TINY_SIMPLE)
    x, t = images(np.float64, 3, shape=(2, 10, 9), classes=5)
    numeric, backprop = net.numerical_gradient(x, t), net.gradient(x, t)
    for name in net.params:
        diff = np.max(np.abs(backprop[name] - numeric[name]))
        assert diff < 1e-8, f"{name}: |backprop - numeric| = {diff:.3g}"


def adam_run(backend, net, x_train, t_train, steps, batch_size, seed):
    rng = np.random.default_rng(seed)
    optimizer = backend.Adam(lr=0.001)
    losses = []
    for _ in range(steps):
        batch = rng.choice(len(x_train), batch_size)
        optimizer.update(net.params, net.gradient(x_train[batch], t_train[batch]))
        losses.append(float(to_numpy(net.last_loss)))
    return np.array(losses)


def assert_runs_agree(x_train, t_train, steps, batch_size):
    numpy_net, torch_net = twins("SimpleConvNet", np.float64)
    losses_numpy = adam_run(scratch, numpy_net, x_train, t_train, steps, batch_size, seed=5)
    losses_torch = adam_run(reference, torch_net, x_train, t_train, steps, batch_size, seed=5)
    np.testing.assert_allclose(losses_numpy, losses_torch, rtol=1e-8, atol=1e-8)
    assert losses_numpy[-1] < losses_numpy[0]  # it learnt
    for name in numpy_net.params:
        np.testing.assert_allclose(numpy_net.params[name], to_numpy(torch_net.params[name]), rtol=1e-7, atol=1e-9)


@requires_mnist
def test_simple_convnet_whole_run_parity_on_mnist():
    """50 Adam steps, float64, the same minibatches: the loss curves agree to 1e-8."""
    (x_train, t_train), _ = small_mnist(n_train=2000, n_test=1, dtype=np.float64, flatten=False)
    assert_runs_agree(x_train, t_train, steps=50, batch_size=100)


def test_simple_convnet_whole_run_parity_on_synthetic_digits():
    x, t = images(np.float64, 400)
    x[np.arange(400), 0, 2 * t, :] += 1.0  # a learnable pattern: a bright row per class
    assert_runs_agree(x, t, steps=30, batch_size=50)


@parameterized.expand([("SimpleConvNet",), ("DeepConvNet",)])
def test_save_and_load_round_trip(cls_name):
    with tempfile.TemporaryDirectory() as directory:
        path = f"{directory}/w.npz"
        a = getattr(scratch, cls_name)(seed=1)
        a.save_params(path)
        for backend in (scratch, reference):
            b = getattr(backend, cls_name)(seed=2).load_params(path)
            for name in a.params:
                np.testing.assert_array_equal(a.params[name], to_numpy(b.params[name]))


def test_input_shape_errors():
    for backend in (scratch, reference):
        with pytest.raises(ValueError, match="flatten=False"):
            backend.SimpleConvNet().predict(np.zeros((2, 784), np.float32))
        with pytest.raises(ValueError, match="does not tile"):
            backend.SimpleConvNet(input_dim=(1, 28, 28), conv_param={"filter_num": 3, "filter_size": 5,
                                                                      "pad": 0, "stride": 2})


def test_book_dropout_scaling_is_folded_into_the_last_affine():
    """Loading a book file keeps the book's test-time outputs: scores equal those of the book's
    network (non-inverted dropout, x * (1 - p) at test time) with the file's raw weights."""
    rng = np.random.default_rng(3)
    book_net = scratch.DeepConvNet(dtype=np.float64, seed=4)
    for name in ("Dropout1", "Dropout2"):
        book_net.layers[name] = scratch.book.Dropout(0.5)  # the book's: x * (1 - p) at test time
    book_file = {k: (v.T if v.ndim == 2 else v) for k, v in book_net.params.items()}  # (in, out) like the book
    book_net.params["b8"][...] = rng.standard_normal(10)
    book_file["b8"] = book_net.params["b8"].copy()
    x, _ = images(np.float64, 4)
    with tempfile.TemporaryDirectory() as directory:
        np.savez(f"{directory}/book.npz", **book_file)  # no __layout__ entry: a book file
        for backend in (scratch, reference):
            ours = backend.DeepConvNet(dtype=np.float64).load_params(f"{directory}/book.npz")
            assert_close(to_numpy(ours.predict(x)), book_net.predict(x), np.float64, check_dtype=False,
                         what=backend.BACKEND)


BOOK_SCORES = [("SimpleConvNet", "ch07_simple_convnet_params.npz", 0.9600),
               ("DeepConvNet", "ch08_deep_convnet_params.npz", 0.9797)]


@parameterized.expand(BOOK_SCORES)
@requires_mnist
@requires_book_weights
def test_book_weights_score_what_the_book_scores(cls_name, file_name, expected):
    _, (x_test, t_test) = small_mnist(n_train=1, n_test=10000, dtype=np.float32, flatten=False)
    for backend in (scratch, reference):
        net = getattr(backend, cls_name)(dtype="float32").load_params(book_weight_file(file_name))
        assert net.accuracy(x_test, t_test) == pytest.approx(expected, abs=1e-12), backend.BACKEND


@pytest.mark.parametrize("size, filter_size, stride, pad", [
    (28, 5, 1, 0), (28, 5, 1, 2), (28, 4, 2, 1), (14, 2, 2, 0), (7, 7, 1, 0), (31, 11, 4, 2), (1, 1, 1, 0),
])
def test_conv_output_size_is_the_same_in_both_backends(size, filter_size, stride, pad):
    """Equation 7.1, OH = (H + 2P - FH) / S + 1, in both backends (pure integer arithmetic: identical)."""
    ours = scratch.conv_output_size(size, filter_size, stride, pad)
    theirs = reference.conv_output_size(size, filter_size, stride, pad)
    assert ours == (size + 2 * pad - filter_size) // stride + 1
    assert_exact(np.array(ours), np.array(theirs), what="output size", component="convnets.conv_output_size")
