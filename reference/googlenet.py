"""A small GoogLeNet (chapter 8.2.3) in PyTorch, Szegedy et al., "Going deeper with convolutions",
CVPR 2015, sized for 28x28 grayscale images:

    conv 3x3 (32) - relu - max pool 2x2 - inception block - max pool 2x2 - inception block
    - global average pooling - affine -> 10 - softmax

The layers compute with PyTorch's operators (``F.conv2d``, ``F.max_pool2d``,
``torch.cat``, ...); ``gradient`` is one autograd pass over the whole loss.
See ``scratch.googlenet`` for the inception block and the parameter names.
"""
from collections import OrderedDict

import torch

from scratch.googlenet import _BLOCK_CONVS, DEFAULT_INCEPTION, googlenet_plan
from scratch.lenet import format_summary

from ._tensor import torch_dtype
from .convolution import Convolution, GlobalAvgPooling, Pooling
from .join import Concat
from .layers import Affine, Relu, SoftmaxWithLoss
from .network_base import Network
from .weight_init import init_weight, make_rng

__all__ = ["GoogLeNet"]


class InceptionBlock:
    """Four paths (1x1; 1x1 - 3x3; 1x1 - 5x5; max pool 3x3 - 1x1), each conv followed by relu,
    joined along the channels (forward only)."""

    def __init__(self, convs):
        self.convs = convs
        self.relus = {suffix: Relu() for suffix in convs}
        self.pool = Pooling(3, 3, stride=1, pad=1)
        self.join = Concat(axis=1)

    def _conv_relu(self, suffix, x):
        return self.relus[suffix].forward(self.convs[suffix].forward(x))

    def forward(self, x):
        out1 = self._conv_relu("1", x)
        out2 = self._conv_relu("2", self._conv_relu("2r", x))
        out3 = self._conv_relu("3", self._conv_relu("3r", x))
        out4 = self._conv_relu("4", self.pool.forward(x))
        return self.join.forward(out1, out2, out3, out4)


class GoogLeNet(Network):
    """A small GoogLeNet (Szegedy et al. 2015) for 28x28 grayscale images; parameters as ``scratch.GoogLeNet``."""

    def __init__(self, input_dim=(1, 28, 28), stem_channels=32, inception=DEFAULT_INCEPTION, output_size=10,
                 weight_init_std="he", dtype="float32", seed=None):
        self.rows, shapes, blocks = googlenet_plan(input_dim, stem_channels, inception, output_size)
        self.input_dim = tuple(input_dim)
        self.dtype = torch_dtype(dtype)
        rng = make_rng(seed)
        self.params = {}
        for name, shape in shapes.items():
            if "_W" in name:
                self.params[name] = init_weight(shape, weight_init_std, rng, self.dtype)
            else:
                self.params[name] = torch.zeros(shape, dtype=self.dtype, requires_grad=True)
        p = self.params

        def conv(name, suffix, pad):
            return Convolution(p[f"{name}_W{suffix}"], p[f"{name}_b{suffix}"], 1, pad)

        self.layers = OrderedDict()
        self.layers["stem"] = conv("stem", "", 1)
        self.layers["stem"].need_dx = False
        self.layers["stem_relu"] = Relu()
        self.layers["stem_pool"] = Pooling(2, 2, stride=2)
        for k, name in enumerate(blocks, start=1):
            if k > 1:
                self.layers[f"pool{k - 1}"] = Pooling(2, 2, stride=2)
            self.layers[name] = InceptionBlock(
                {suffix: conv(name, suffix, f // 2) for suffix, _, _, f in _BLOCK_CONVS})
        self.layers["gap"] = GlobalAvgPooling()
        self.layers["fc"] = Affine(p["fc_W"], p["fc_b"])
        self.last_layer = SoftmaxWithLoss()

    def summary(self):
        """The layers, one a line, with their output shapes and the parameter count."""
        return format_summary(f"GoogLeNet, input {self.input_dim}", self.rows, self.params)

    def predict(self, x, train_flg=False):
        """Class scores (N, output_size); ``train_flg`` is accepted for the common API (no layer uses it)."""
        x = self._as_images(x)
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t, train_flg=True):
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
