"""The two-layer network of chapters 4 and 5, built from the chapter-5 layers.

Affine -> ReLU (or Sigmoid) -> Affine -> SoftmaxWithLoss. ``gradient`` is
backpropagation (5.7.2); ``numerical_gradient`` is the slow check of 4.5.
"""
from collections import OrderedDict

import numpy as np

from .checks import dtype_of
from .gradient import numerical_gradient as numerical_gradient_of
from .layers import Relu, Sigmoid
from .multi_layer_net_extend import check_layer_sizes
from .network_base import Network
from .weight_init import make_rng

__all__ = ["TwoLayerNet"]

ACTIVATIONS = {"relu": Relu, "sigmoid": Sigmoid}


class TwoLayerNet(Network):
    """``activation='relu'`` is chapter 5's network; 'sigmoid' is chapter 4's.

    Weights start as N(0, weight_init_std^2) draws from a generator seeded
    with ``seed`` (stored (out, in) like ``nn.Linear``), biases at zero.
    """

    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01,
                 activation="relu", dtype=np.float32, seed=None):
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        check_layer_sizes(input_size, [hidden_size], output_size)
        self.dtype = dtype_of(dtype)
        rng = make_rng(seed)
        self.params = {
            "W1": self._init_weight((hidden_size, input_size), weight_init_std, rng),
            "b1": np.zeros(hidden_size, dtype=self.dtype),
            "W2": self._init_weight((output_size, hidden_size), weight_init_std, rng),
            "b2": np.zeros(output_size, dtype=self.dtype),
        }
        self.layers = OrderedDict()
        self.layers["Affine1"] = self._affine(self.params["W1"], self.params["b1"])
        self.layers["Activation1"] = ACTIVATIONS[activation]()
        self.layers["Affine2"] = self._affine(self.params["W2"], self.params["b2"])
        self.lastLayer = self._softmax_with_loss()

    def predict(self, x):
        x = self._as_input(x)
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        """Cross-entropy of softmax(predict(x)) against the labels ``t``."""
        return self.lastLayer.forward(self.predict(x), t)

    def numerical_gradient(self, x, t):
        """Gradients by central differences (4.5.1): slow, for checking only."""
        loss_W = lambda W: self.loss(x, t)  # noqa: E731 - the book's form
        return {name: numerical_gradient_of(loss_W, param) for name, param in self.params.items()}

    def gradient(self, x, t):
        """Gradients by backpropagation (5.7.2): forward, then backward through the layers.

        The loss of that forward pass is kept as ``last_loss``.
        """
        self.last_loss = self.loss(x, t)
        dout = self.lastLayer.backward(1)
        for layer in reversed(self.layers.values()):
            dout = layer.backward(dout)
        return {"W1": self.layers["Affine1"].dW, "b1": self.layers["Affine1"].db,
                "W2": self.layers["Affine2"].dW, "b2": self.layers["Affine2"].db}
