"""A small AlexNet (chapter 8.2.2) in PyTorch, Krizhevsky, Sutskever and Hinton, "ImageNet
classification with deep convolutional neural networks", NIPS 2012, sized for 28x28 grayscale:

    conv 5x5 (32), pad 2 - relu - LRN - max pool 3x3, stride 2
    conv 3x3 (64), pad 1 - relu - LRN - max pool 3x3, stride 2
    conv 3x3 (96), pad 1 - relu - conv 3x3 (64), pad 1 - relu - max pool 3x3, stride 2
    dropout - affine 256 - relu - dropout - affine 10 - softmax

LRN uses the paper's constants n = 5, k = 2, alpha = 1e-4, beta = 0.75 with
alpha on the plain sum of squares; ``F.local_response_norm`` divides its
alpha by size, so it is called with alpha = 5e-4. The layers compute with
PyTorch's operators; ``gradient`` is one autograd pass over the whole loss.
See ``scratch.alexnet`` for where this differs from the paper.
"""
from collections import OrderedDict

from scratch.alexnet import alexnet_plan
from scratch.lenet import format_summary

from ._tensor import torch_dtype
from .layer_network import LayerNetwork
from .layers import Relu
from .local_response_norm import LocalResponseNorm
from .weight_init import make_rng

__all__ = ["AlexNet"]


class PlannedNetwork(LayerNetwork):
    """A network built from a ``scratch.alexnet.LayerPlan``: the PyTorch side of AlexNet and VGG."""

    def _build(self, plan, weight_init_std, dtype, seed):
        self.plan = plan
        self.input_dim = plan.input_dim
        self.dtype = torch_dtype(dtype)
        rng = make_rng(seed)
        self.params = self._init_params(plan.shapes, weight_init_std, rng)
        self.layers = OrderedDict()
        for name, kind, args in plan.specs:
            if kind == "conv":
                self.layers[name] = self._convolution(self.params[args[0]], self.params[args[1]], *args[2:])
            elif kind == "affine":
                self.layers[name] = self._affine(self.params[args[0]], self.params[args[1]])
            elif kind == "relu":
                self.layers[name] = Relu()
            elif kind == "lrn":
                self.layers[name] = LocalResponseNorm(*args)
            elif kind == "pool":
                self.layers[name] = self._pooling(args[0], args[0], args[1], 0)
            else:
                self.layers[name] = self._dropout(args[0], rng)
        self.layers[plan.specs[0][0]].need_dx = False
        self.last_layer = self._softmax_with_loss()

    def summary(self):
        """The layers, one a line, with their output shapes and the parameter count."""
        return format_summary(f"{type(self).__name__}, input {self.input_dim}", self.plan.rows, self.params,
                              "relu after every convolution and the hidden affine layer; softmax cross-entropy loss")


class AlexNet(PlannedNetwork):
    """A small AlexNet (Krizhevsky et al. 2012) for 28x28 grayscale images; parameters as ``scratch.AlexNet``."""

    def __init__(self, input_dim=(1, 28, 28), channels=(32, 64, 96, 64), hidden_size=256, output_size=10,
                 dropout_ratio=0.5, weight_init_std="he", dtype="float32", seed=None, readable=False):
        self.readable = readable
        self._build(alexnet_plan(input_dim, channels, hidden_size, output_size, dropout_ratio),
                    weight_init_std, dtype, seed)
