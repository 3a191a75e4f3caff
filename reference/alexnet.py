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

import torch

from scratch.alexnet import alexnet_plan
from scratch.lenet import format_summary

from ._tensor import torch_dtype
from .convolution import Convolution, Pooling
from .dropout import Dropout
from .layers import Affine, Relu, SoftmaxWithLoss
from .local_response_norm import LocalResponseNorm
from .network_base import Network
from .weight_init import init_weight, make_rng

__all__ = ["AlexNet"]


class PlannedNetwork(Network):
    """A network built from a ``scratch.alexnet.LayerPlan``: the PyTorch side of AlexNet and VGG."""

    def _build(self, plan, weight_init_std, dtype, seed):
        self.plan = plan
        self.input_dim = plan.input_dim
        self.dtype = torch_dtype(dtype)
        rng = make_rng(seed)
        self.params = {}
        for name, shape in plan.shapes.items():
            if name.startswith("W"):
                self.params[name] = init_weight(shape, weight_init_std, rng, self.dtype)
            else:
                self.params[name] = torch.zeros(shape, dtype=self.dtype, requires_grad=True)
        self.layers = OrderedDict()
        for name, kind, args in plan.specs:
            if kind == "conv":
                self.layers[name] = Convolution(self.params[args[0]], self.params[args[1]], *args[2:])
            elif kind == "affine":
                self.layers[name] = Affine(self.params[args[0]], self.params[args[1]])
            elif kind == "relu":
                self.layers[name] = Relu()
            elif kind == "lrn":
                self.layers[name] = LocalResponseNorm(*args)
            elif kind == "pool":
                self.layers[name] = Pooling(args[0], args[0], stride=args[1])
            else:
                self.layers[name] = Dropout(args[0], seed=int(torch.randint(2**31, (), generator=rng)))
        self.layers[plan.specs[0][0]].need_dx = False
        self.last_layer = SoftmaxWithLoss()

    def summary(self):
        """The layers, one a line, with their output shapes and the parameter count."""
        return format_summary(f"{type(self).__name__}, input {self.input_dim}", self.plan.rows, self.params,
                              "relu after every convolution and the hidden affine layer; softmax cross-entropy loss")

    def predict(self, x, train_flg=False):
        """Class scores (N, output_size); dropout is active when ``train_flg``."""
        x = self._as_images(x)
        for name, layer in self.layers.items():
            x = layer.forward(x, train_flg) if name.startswith("Dropout") else layer.forward(x)
        return x

    def loss(self, x, t, train_flg=True):
        """The training loss (dropout active) unless ``train_flg=False``."""
        return self.last_layer.forward(self.predict(x, train_flg), t)

    def accuracy(self, x, t, batch_size=100):
        return super().accuracy(x, t, batch_size)

    def gradient(self, x, t, train_flg=True):
        """One autograd pass over the loss; the loss is kept as ``last_loss``."""
        loss = self.loss(x, t, train_flg)
        names = list(self.params)
        grads = torch.autograd.grad(loss, [self.params[n] for n in names])
        self.last_loss = loss.detach()
        return dict(zip(names, grads))


class AlexNet(PlannedNetwork):
    """A small AlexNet (Krizhevsky et al. 2012) for 28x28 grayscale images; parameters as ``scratch.AlexNet``."""

    def __init__(self, input_dim=(1, 28, 28), channels=(32, 64, 96, 64), hidden_size=256, output_size=10,
                 dropout_ratio=0.5, weight_init_std="he", dtype="float32", seed=None):
        self._build(alexnet_plan(input_dim, channels, hidden_size, output_size, dropout_ratio),
                    weight_init_std, dtype, seed)
