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

from scratch.lenet import check_activation, format_summary, lenet_shapes

from ._tensor import torch_dtype
from .convolution import Subsampling
from .layer_network import LayerNetwork
from .layers import Sigmoid, Tanh
from .weight_init import make_rng

__all__ = ["LeNet"]


class LeNet(LayerNetwork):
    """LeNet-5 (LeCun et al. 1998) for 28x28 grayscale images; parameters as ``scratch.LeNet``."""

    def __init__(self, input_dim=(1, 28, 28), activation="tanh", pad=2, output_size=10,
                 weight_init_std="xavier", dtype="float32", seed=None, readable=False):
        self.readable = readable
        self.activation = check_activation(activation)
        self.rows, shapes = lenet_shapes(input_dim, pad, output_size)
        self.input_dim = tuple(input_dim)
        self.dtype = torch_dtype(dtype)
        self.params = self._init_params(shapes, weight_init_std, make_rng(seed))
        p = self.params
        act = {"tanh": Tanh, "sigmoid": Sigmoid}[activation]
        self.layers = OrderedDict()
        self.layers["C1"] = self._convolution(p["W1"], p["b1"], 1, pad)
        self.layers["C1"].need_dx = False
        self.layers["Act1"] = act()
        self.layers["S2"] = Subsampling(6, 2, dtype=self.dtype)
        self.layers["Act2"] = act()
        self.layers["C3"] = self._convolution(p["W3"], p["b3"], 1, 0)
        self.layers["Act3"] = act()
        self.layers["S4"] = Subsampling(16, 2, dtype=self.dtype)
        self.layers["Act4"] = act()
        self.layers["F5"] = self._affine(p["W5"], p["b5"])
        self.layers["Act5"] = act()
        self.layers["F6"] = self._affine(p["W6"], p["b6"])
        self.layers["Act6"] = act()
        self.layers["Output"] = self._affine(p["W7"], p["b7"])
        self.last_layer = self._softmax_with_loss()
        for idx, name in ((2, "S2"), (4, "S4")):  # the subsampling layers own their tensors; params share them
            p[f"W{idx}"], p[f"b{idx}"] = self.layers[name].W, self.layers[name].b

    def summary(self):
        """The layers, one a line, with their output shapes and the parameter count."""
        return format_summary(f"LeNet ({self.activation}), input {self.input_dim}", self.rows, self.params,
                              f"{self.activation} after C1, S2, C3, S4, F5 and F6; softmax cross-entropy loss")
