"""LeNet-5 (chapter 8.2.1) in PyTorch, LeCun, Bottou, Bengio and Haffner, "Gradient-based
learning applied to document recognition", Proc. IEEE 86(11), 1998:

    C1 conv 5x5, 6 maps - act - S2 subsampling - act -
    C3 conv 5x5, 16 maps - act - S4 subsampling - act -
    F5 affine 120 - act - F6 affine 84 - act - affine (output) - softmax

The layers compute with PyTorch's operators; ``gradient`` is one autograd
pass over the whole loss. See ``scratch.lenet`` for where this differs from
the paper.
"""
from collections import OrderedDict

import torch

from scratch.lenet import check_activation, format_summary, lenet_shapes

from ._tensor import torch_dtype
from .convolution import Convolution, Subsampling
from .layers import Affine, Sigmoid, SoftmaxWithLoss, Tanh
from .network_base import Network
from .weight_init import init_weight, make_rng

__all__ = ["LeNet"]


class LeNet(Network):
    """LeNet-5 (LeCun et al. 1998) for 28x28 grayscale images; parameters as ``scratch.LeNet``."""

    def __init__(self, input_dim=(1, 28, 28), activation="tanh", pad=2, output_size=10,
                 weight_init_std="xavier", dtype="float32", seed=None):
        self.activation = check_activation(activation)
        self.rows, shapes = lenet_shapes(input_dim, pad, output_size)
        self.input_dim = tuple(input_dim)
        self.dtype = torch_dtype(dtype)
        rng = make_rng(seed)
        act = {"tanh": Tanh, "sigmoid": Sigmoid}[activation]
        self.params = {}
        self.layers = OrderedDict()
        for idx in (1, 3, 5, 6, 7):
            self.params[f"W{idx}"] = init_weight(shapes[f"W{idx}"], weight_init_std, rng, self.dtype)
            self.params[f"b{idx}"] = torch.zeros(shapes[f"b{idx}"], dtype=self.dtype, requires_grad=True)
        self.layers["C1"] = Convolution(self.params["W1"], self.params["b1"], 1, pad)
        self.layers["C1"].need_dx = False
        self.layers["Act1"] = act()
        self.layers["S2"] = Subsampling(6, 2, dtype=self.dtype)
        self.layers["Act2"] = act()
        self.layers["C3"] = Convolution(self.params["W3"], self.params["b3"], 1, 0)
        self.layers["Act3"] = act()
        self.layers["S4"] = Subsampling(16, 2, dtype=self.dtype)
        self.layers["Act4"] = act()
        self.layers["F5"] = Affine(self.params["W5"], self.params["b5"])
        self.layers["Act5"] = act()
        self.layers["F6"] = Affine(self.params["W6"], self.params["b6"])
        self.layers["Act6"] = act()
        self.layers["Output"] = Affine(self.params["W7"], self.params["b7"])
        self.last_layer = SoftmaxWithLoss()
        for idx, name in ((2, "S2"), (4, "S4")):  # the subsampling layers' own tensors, shared
            self.params[f"W{idx}"], self.params[f"b{idx}"] = self.layers[name].W, self.layers[name].b
        self.params = {name: self.params[name] for name in sorted(self.params, key=lambda n: (int(n[1:]), n[0]))}

    def summary(self):
        """The layers, one a line, with their output shapes and the parameter count."""
        return format_summary(f"LeNet ({self.activation}), input {self.input_dim}", self.rows, self.params,
                              f"{self.activation} after C1, S2, C3, S4, F5 and F6; softmax cross-entropy loss")

    def predict(self, x, train_flg=False):
        """Class scores (N, output_size); ``train_flg`` changes nothing (no dropout, no batch norm)."""
        x = self._as_images(x)
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t, train_flg=True):
        return self.last_layer.forward(self.predict(x, train_flg), t)

    def accuracy(self, x, t, batch_size=100):
        return super().accuracy(x, t, batch_size)

    def gradient(self, x, t):
        """One autograd pass over the loss; the loss is kept as ``last_loss``."""
        loss = self.loss(x, t)
        names = list(self.params)
        grads = torch.autograd.grad(loss, [self.params[n] for n in names])
        self.last_loss = loss.detach()
        return dict(zip(names, grads))
