"""Training parity (4.5 / 5.7.4): the same TwoLayerNet, minibatches and SGD steps give the same loss curve.

Both backends start from the NumPy backend's initial weights (copied with
``load_params``), see the same sequence of minibatches and update with SGD
(scratch.SGD: W -= lr * grad; reference.SGD: torch.optim.SGD). Any
difference in a forward pass, a gradient or an update shows up in the loss
curve, which must agree at every step, and in the final parameters.
Also here: the SGD optimizers themselves, step by step.
"""
import numpy as np
import pytest
import torch
from parameterized import parameterized

import reference.optimizer
import reference.two_layer_net
import scratch.optimizer
import scratch.two_layer_net
from conftest import DTYPES, assert_close, make_rng, to_numpy
from mnist_support import requires_mnist, small_mnist

pytestmark = [pytest.mark.filterwarnings("error"), pytest.mark.usefixtures("one_torch_thread")]

ITERATIONS = 200
BATCH_SIZE = 100
LEARNING_RATE = 0.1
# Loss curves: float64 to 1e-9 absolute and relative at every step; float32 to 1e-5.
CURVE_TOL = {np.dtype(np.float64): 1e-9, np.dtype(np.float32): 1e-5}


def synthetic_data(n, dtype, seed=0):
    """Images in [0, 1]: a noisy copy of one of ten random 'digit' prototypes; learnable like MNIST, always there."""
    rng = make_rng(seed)
    prototypes = (rng.random((10, 784)) < 0.2).astype(np.float64)
    t = rng.integers(0, 10, n)
    x = 0.6 * prototypes[t] + 0.4 * rng.random((n, 784))
    return x.astype(dtype), t


def train_both(x_train, t_train, dtype, iterations=ITERATIONS, seed=0):
    """Train the twin networks on identical minibatches; return both loss curves and both networks."""
    ours = scratch.two_layer_net.TwoLayerNet(784, 50, 10, dtype=dtype, seed=seed)
    theirs = reference.two_layer_net.TwoLayerNet(784, 50, 10, dtype=dtype, seed=seed)
    theirs.load_params(ours.params)
    batches = make_rng(seed + 1).integers(0, len(x_train), (iterations, BATCH_SIZE))
    curves = []
    for net, optimizer in ((ours, scratch.optimizer.SGD(lr=LEARNING_RATE)),
                           (theirs, reference.optimizer.SGD(lr=LEARNING_RATE))):
        losses = []
        for batch_mask in batches:
            x_batch, t_batch = x_train[batch_mask], t_train[batch_mask]
            grads = net.gradient(x_batch, t_batch)
            losses.append(to_numpy(net.lastLayer.loss))  # the loss of this forward pass, before the update
            optimizer.update(net.params, grads)
        curves.append(np.array(losses))
    return curves[0], curves[1], ours, theirs


def assert_same_training(x_train, t_train, dtype, x_test, t_test):
    dtype = np.dtype(dtype)
    ours_curve, theirs_curve, ours, theirs = train_both(x_train, t_train, dtype)
    assert ours_curve.dtype == theirs_curve.dtype == dtype
    assert ours_curve[-20:].mean() < 0.75 * ours_curve[:20].mean(), "the network did not learn: nothing was tested"
    tol = CURVE_TOL[dtype]
    diff = np.abs(ours_curve.astype(np.float64) - theirs_curve.astype(np.float64))
    step = int(np.argmax(diff))
    assert np.all(diff <= tol), f"loss curves part at step {np.argmax(diff > tol)}; worst {diff[step]:.3g} at {step}"
    assert np.all(diff <= tol * np.abs(theirs_curve)), "loss curves differ relatively"
    assert_close(ours_curve, theirs_curve, dtype, rtol=tol, atol=tol, component="training_parity.loss_curve")
    for name, value in ours.params.items():
        assert_close(value, theirs.params[name], dtype, what=name, component="training_parity.final_params")
    assert ours.accuracy(x_test, t_test) == theirs.accuracy(x_test, t_test)


class TestTrainingParity:
    @parameterized.expand(DTYPES)
    def test_synthetic(self, _, dtype):
        x, t = synthetic_data(2000, dtype)
        assert_same_training(x[:1500], t[:1500], dtype, x[1500:], t[1500:])

    @parameterized.expand(DTYPES)
    @requires_mnist
    def test_mnist(self, _, dtype):
        (x_train, t_train), (x_test, t_test) = small_mnist(n_train=10000, n_test=1000, dtype=dtype)
        assert_same_training(x_train, t_train, dtype, x_test, t_test)


class TestSGD:
    @parameterized.expand(DTYPES)
    def test_steps_and_learning_rate_changes(self, _, dtype):
        """W <- W - lr * grad after every step, equal in both backends; a new lr applies from the next step."""
        rng = make_rng()
        start = {"W": rng.standard_normal((3, 4)).astype(dtype), "b": rng.standard_normal(4).astype(dtype)}
        ours = {k: v.copy() for k, v in start.items()}
        theirs = {k: torch.tensor(v, requires_grad=True) for k, v in start.items()}
        same_tensors = dict(theirs)
        sgd_ours, sgd_theirs = scratch.optimizer.SGD(lr=0.1), reference.optimizer.SGD(lr=0.1)
        for lr in (0.1, 0.1, 0.01, 0.5, 0.0):
            sgd_ours.lr = sgd_theirs.lr = lr
            grads = {k: rng.standard_normal(v.shape).astype(dtype) for k, v in start.items()}
            before = {k: v.copy() for k, v in ours.items()}
            sgd_ours.update(ours, grads)
            sgd_theirs.update(theirs, {k: torch.from_numpy(g) for k, g in grads.items()})
            for k in start:
                expected = before[k] - dtype(lr) * grads[k]
                assert ours[k].dtype == dtype
                assert_close(ours[k], expected, dtype, what=f"scratch {k}, lr {lr}")
                assert_close(ours[k], theirs[k], dtype, what=f"{k}, lr {lr}")
                assert theirs[k] is same_tensors[k], "the update must change the tensors in place"
                assert theirs[k].grad is None
        assert all(t.requires_grad for t in theirs.values())

    def test_numpy_gradients_for_tensors(self):
        """reference.SGD also takes NumPy gradients (what a NumPy-trained loop would hand it)."""
        params = {"W": torch.ones(2, 2, dtype=torch.float64, requires_grad=True)}
        reference.optimizer.SGD(lr=0.5).update(params, {"W": np.full((2, 2), 2.0)})
        np.testing.assert_array_equal(to_numpy(params["W"]), np.zeros((2, 2)))

    def test_updates_in_place_for_shared_layers(self):
        """The layers hold the very arrays in params: an update must move them, not rebind the names."""
        ours = scratch.two_layer_net.TwoLayerNet(4, 3, 2, dtype=np.float64, seed=0)
        W1 = ours.params["W1"]
        scratch.optimizer.SGD(lr=1.0).update(ours.params, {k: np.ones_like(v) for k, v in ours.params.items()})
        assert ours.params["W1"] is W1 and ours.layers["Affine1"].W is W1
