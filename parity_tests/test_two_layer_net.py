"""Parity of TwoLayerNet (chapters 4 and 5): backprop, numerical gradients, loss and accuracy in both backends.

The two backends draw their initial weights from different generators
(NumPy's and torch's), so each test builds the NumPy network and copies its
parameters into the PyTorch one with ``load_params``.
"""
import numpy as np
import pytest
import torch
from parameterized import parameterized

import reference.two_layer_net as R
import scratch.two_layer_net as S
from conftest import DTYPES, assert_close, make_rng, to_numpy

pytestmark = pytest.mark.filterwarnings("error")

ACTIVATIONS = ["relu", "sigmoid"]
SIZES = dict(input_size=12, hidden_size=6, output_size=4)
# A larger weight_init_std than the book's 0.01, so that every layer's gradients are far from 0.
INIT_STD = 0.5


def twin_networks(activation, dtype, seed=0, sizes=SIZES, weight_init_std=INIT_STD):
    ours = S.TwoLayerNet(**sizes, weight_init_std=weight_init_std, activation=activation, dtype=dtype, seed=seed)
    theirs = R.TwoLayerNet(**sizes, weight_init_std=weight_init_std, activation=activation, dtype=dtype, seed=seed)
    theirs.load_params(ours.params)
    return ours, theirs


def batch(n, dtype, sizes=SIZES, seed=1, one_hot=False):
    rng = make_rng(seed)
    x = rng.random((n, sizes["input_size"])).astype(dtype)
    t = rng.integers(0, sizes["output_size"], n)
    if one_hot:
        t = np.eye(sizes["output_size"], dtype=dtype)[t]
    return x, t


CASES = [(f"{activation}_n{n}_{dt_name}", activation, n, dt)
         for activation in ACTIVATIONS for n in (1, 7) for dt_name, dt in DTYPES]


class TestTwoLayerNet:
    @parameterized.expand(CASES)
    def test_backprop_matches_autograd(self, _, activation, n, dtype):
        """scratch gradient (hand-derived backward) == reference gradient == reference numerical_gradient (autograd)."""
        ours, theirs = twin_networks(activation, dtype)
        for one_hot in (False, True):
            x, t = batch(n, dtype, one_hot=one_hot)
            grads = ours.gradient(x, t)
            by_layers = theirs.gradient(x, t)
            by_autograd = theirs.numerical_gradient(x, t)
            assert set(grads) == set(by_layers) == set(by_autograd) == {"W1", "b1", "W2", "b2"}
            for name in grads:
                assert grads[name].shape == ours.params[name].shape
                assert_close(grads[name], by_layers[name], dtype, what=name)
                assert_close(grads[name], by_autograd[name], dtype, what=name)

    @parameterized.expand(CASES)
    def test_predict_loss_accuracy(self, _, activation, n, dtype):
        ours, theirs = twin_networks(activation, dtype)
        x, t = batch(n, dtype)
        assert_close(ours.predict(x), theirs.predict(x), dtype, what="predict")
        assert_close(ours.loss(x, t), theirs.loss(x, t), dtype, what="loss")
        assert ours.accuracy(x, t) == theirs.accuracy(x, t)
        one_hot = np.eye(SIZES["output_size"])[t]
        assert ours.accuracy(x, one_hot) == theirs.accuracy(x, one_hot) == ours.accuracy(x, t)

    def test_accuracy_in_batches(self):
        ours, theirs = twin_networks("relu", np.float64)
        x, t = batch(250, np.float64)
        accuracy = ours.accuracy(x, t)
        assert accuracy == theirs.accuracy(x, t) == ours.accuracy(x, t, batch_size=7) == theirs.accuracy(x, t, 7)
        assert accuracy == np.mean(np.argmax(ours.predict(x), axis=1) == t)

    @parameterized.expand([(a, a) for a in ACTIVATIONS])
    def test_gradient_check(self, _, activation):
        """5.7.3 gradient check in float64: backprop vs central differences (the book: mean |diff| ~1e-10).

        What remains is the central difference's own error, h^2/6 f''' with
        h = 1e-4 plus rounding eps |L| / h: below 1e-9 here.
        """
        ours = S.TwoLayerNet(**SIZES, weight_init_std=INIT_STD, activation=activation, dtype=np.float64, seed=2)
        x, t = batch(3, np.float64)
        backprop = ours.gradient(x, t)
        numerical = ours.numerical_gradient(x, t)
        for name in backprop:
            diff = np.abs(backprop[name] - numerical[name])
            assert diff.max() < 1e-9, f"{name}: max |backprop - numerical| = {diff.max():.2e}"
        theirs = R.TwoLayerNet(**SIZES, activation=activation, dtype="float64").load_params(ours.params)
        for name, value in theirs.numerical_gradient(x, t).items():
            assert_close(numerical[name], value, np.float64, rtol=1e-7, component="two_layer_net.central_difference")

    @parameterized.expand(DTYPES)
    def test_gradient_check_book_sizes(self, _, dtype):
        """The book's own check (5.7.3): 784-50-10, weight_init_std 0.01, three samples, backprop vs autograd."""
        sizes = dict(input_size=784, hidden_size=50, output_size=10)
        ours, theirs = twin_networks("relu", dtype, seed=3, sizes=sizes, weight_init_std=0.01)
        x, t = batch(3, dtype, sizes=sizes)
        grads, reference = ours.gradient(x, t), theirs.numerical_gradient(x, t)
        for name in grads:
            assert_close(grads[name], reference[name], dtype, what=name)

    @parameterized.expand(DTYPES)
    def test_seeds(self, _, dtype):
        """The same seed gives the same weights; another seed, other weights; biases start at 0."""
        for module in (S, R):
            a, b, c = (module.TwoLayerNet(**SIZES, dtype=dtype, seed=seed) for seed in (7, 7, 8))
            for name in a.params:
                pa, pb, pc = (to_numpy(net.params[name]) for net in (a, b, c))
                assert pa.dtype == dtype
                np.testing.assert_array_equal(pa, pb)
                if name.startswith("W"):
                    assert not np.array_equal(pa, pc), f"{module.__name__}: seeds 7 and 8 gave the same {name}"
                    assert 0.005 < pa.std() < 0.02  # weight_init_std 0.01
                else:
                    np.testing.assert_array_equal(pa, 0)
            assert a.params["W1"].shape == (SIZES["hidden_size"], SIZES["input_size"])  # (out, in), like nn.Linear

    def test_params_are_shared_with_layers(self):
        """Changing params changes the network (the optimizers rely on it), in both backends."""
        ours, theirs = twin_networks("relu", np.float64)
        x, _ = batch(3, np.float64)
        before = ours.predict(x).copy()
        ours.params["b2"] += 1.0
        with torch.no_grad():
            theirs.params["b2"] += 1.0
        assert_close(ours.predict(x), before + 1.0, np.float64)
        assert_close(ours.predict(x), theirs.predict(x), np.float64)
        assert theirs.params["W1"].requires_grad

    def test_input_is_cast_to_network_dtype(self):
        """float64 data into a float32 network: float32 results (no silent upcast) in both backends."""
        ours, theirs = twin_networks("sigmoid", np.float32)
        x, t = batch(5, np.float64)
        assert ours.predict(x).dtype == np.float32 and theirs.predict(x).dtype == torch.float32
        assert_close(ours.loss(x, t), theirs.loss(x, t), np.float32)

    def test_unknown_activation(self):
        for module in (S, R):
            with pytest.raises(ValueError, match="activation"):
                module.TwoLayerNet(**SIZES, activation="tanh")
