"""The two-layer network of chapters 4 and 5, built from the chapter-5 layers, with PyTorch's operators.

Affine -> ReLU (or Sigmoid) -> Affine -> SoftmaxWithLoss. ``gradient`` runs
backward through the layers like the book (each layer asks autograd);
``numerical_gradient`` is the mirror of the book's finite differences: one
autograd pass over the whole loss.
"""
from collections import OrderedDict

import torch

from scratch.multi_layer_net_extend import check_layer_sizes

from ._tensor import torch_dtype
from .layers import Affine, Relu, Sigmoid, SoftmaxWithLoss
from .network_base import Network
from .weight_init import init_weight, make_rng

__all__ = ["TwoLayerNet"]

ACTIVATIONS = {"relu": Relu, "sigmoid": Sigmoid}


class TwoLayerNet(Network):
    """``activation='relu'`` is chapter 5's network; 'sigmoid' is chapter 4's.

    Weights start as N(0, weight_init_std^2) draws (``torch.nn.init``) from a
    ``torch.Generator`` seeded with ``seed`` (stored (out, in) like
    ``nn.Linear``), biases at zero.
    """

    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01,
                 activation="relu", dtype="float32", seed=None):
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        check_layer_sizes(input_size, [hidden_size], output_size)
        self.dtype = torch_dtype(dtype)
        rng = make_rng(seed)
        self.params = {
            "W1": init_weight((hidden_size, input_size), weight_init_std, rng, self.dtype),
            "b1": torch.zeros(hidden_size, dtype=self.dtype, requires_grad=True),
            "W2": init_weight((output_size, hidden_size), weight_init_std, rng, self.dtype),
            "b2": torch.zeros(output_size, dtype=self.dtype, requires_grad=True),
        }
        self.layers = OrderedDict()
        self.layers["Affine1"] = Affine(self.params["W1"], self.params["b1"])
        self.layers["Activation1"] = ACTIVATIONS[activation]()
        self.layers["Affine2"] = Affine(self.params["W2"], self.params["b2"])
        self.lastLayer = SoftmaxWithLoss()

    def predict(self, x):
        x = self._as_input(x)
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        """Cross-entropy of softmax(predict(x)) against the labels ``t``."""
        return self.lastLayer.forward(self.predict(x), t)

    def numerical_gradient(self, x, t):
        """The mirror of the book's finite differences: autograd over the whole loss at once."""
        names = list(self.params)
        grads = torch.autograd.grad(self.loss(x, t), [self.params[n] for n in names])
        return dict(zip(names, grads))

    def gradient(self, x, t):
        """Gradients by backpropagation (5.7.2), as PyTorch computes them: one autograd pass.

        ``layerwise_gradient`` is the book's form, backward through the layers
        one at a time (what ``scratch.TwoLayerNet.gradient`` does by hand);
        both give the same numbers. The loss of the forward pass is kept as
        ``last_loss``.
        """
        return self._autograd_gradient(self.loss(x, t))

    def layerwise_gradient(self, x, t):
        """The book's backpropagation: forward, then each layer's ``backward`` in reverse order."""
        return self._layerwise_gradient(self.loss(x, t))
