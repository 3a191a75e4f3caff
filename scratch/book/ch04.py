"""Chapter 4's ``TwoLayerNet`` (``ch04/two_layer_net.py``): sigmoid, softmax, gradients by formula.

Import it as ``from scratch.book.ch04 import TwoLayerNet`` (``scratch.book.TwoLayerNet``
is chapter 5's ReLU network). It has no layers: ``predict`` returns the
softmax probabilities and ``gradient`` writes out the chain rule that
chapter 5 turns into layers:

    a1 = x W1 + b1, z1 = sigmoid(a1), a2 = z1 W2 + b2, y = softmax(a2)
    dy = (y - t) / N,  dW2 = z1^T dy,  db2 = sum_n dy
    da1 = sigmoid'(a1) * (dy W2^T),  dW1 = x^T da1,  db1 = sum_n da1

The loss is the book's cross-entropy with 1e-7; weights are drawn from the
global generator as std * randn(in, out), float64.
"""
import numpy as np

from .functions import class_labels, cross_entropy_error, sigmoid, sigmoid_grad, softmax
from .gradient import numerical_gradient as numerical_gradient_of
from ..multi_layer_net_extend import check_layer_sizes
from .network_base import BookNetwork

__all__ = ["TwoLayerNet"]


class TwoLayerNet(BookNetwork):
    """784-hidden-10 with sigmoid; ``t`` is one-hot (``load_mnist(one_hot_label=True)``) or labels."""

    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        check_layer_sizes(input_size, [hidden_size], output_size)
        self.dtype = np.dtype(np.float64)
        self.params = {
            "W1": self._init_weight((hidden_size, input_size), weight_init_std, None),
            "b1": np.zeros(hidden_size),
            "W2": self._init_weight((output_size, hidden_size), weight_init_std, None),
            "b2": np.zeros(output_size),
        }

    def predict(self, x):
        W1, W2 = self.params["W1"], self.params["W2"]
        b1, b2 = self.params["b1"], self.params["b2"]
        z1 = sigmoid(np.dot(self._as_input(x), W1) + b1)
        return softmax(np.dot(z1, W2) + b2)

    def loss(self, x, t):
        return cross_entropy_error(self.predict(x), t)

    def numerical_gradient(self, x, t):
        """Gradients by central differences (4.5.1): slow, for checking only."""
        loss_W = lambda W: self.loss(x, t)  # noqa: E731 - the book's form
        return {name: numerical_gradient_of(loss_W, param) for name, param in self.params.items()}

    def gradient(self, x, t):
        """The chain rule written out (see the module); ``t`` one-hot or labels."""
        W1, W2 = self.params["W1"], self.params["W2"]
        b1, b2 = self.params["b1"], self.params["b2"]
        x = self._as_input(x)
        a1 = np.dot(x, W1) + b1
        z1 = sigmoid(a1)
        y = softmax(np.dot(z1, W2) + b2)
        dy = y.copy()
        dy[np.arange(len(y)), class_labels(t, y)] -= 1
        dy /= x.shape[0]
        grads = {"W2": np.dot(z1.T, dy), "b2": np.sum(dy, axis=0)}
        da1 = sigmoid_grad(a1) * np.dot(dy, W2.T)
        grads["W1"], grads["b1"] = np.dot(x.T, da1), np.sum(da1, axis=0)
        return {name: grads[name] for name in ("W1", "b1", "W2", "b2")}

