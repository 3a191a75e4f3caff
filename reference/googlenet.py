"""A small GoogLeNet (chapter 8.2.3) in PyTorch, Szegedy et al., "Going deeper with convolutions",
CVPR 2015, sized for 28x28 grayscale images:

    conv 3x3 (32) - relu - max pool 2x2 - inception block - max pool 2x2 - inception block
    - global average pooling - affine -> 10 - softmax

The layers compute with PyTorch's operators (``F.conv2d``, ``F.max_pool2d``,
``torch.cat``, ...); ``gradient`` is one autograd pass over the whole loss.
See ``scratch.googlenet`` for the inception block and the parameter names.
"""
from collections import OrderedDict

from scratch.googlenet import BLOCK_CONVS, DEFAULT_INCEPTION, googlenet_plan
from scratch.lenet import format_summary

from ._tensor import torch_dtype
from .convolution import GlobalAvgPooling
from .join import Concat
from .layer_network import LayerNetwork
from .layers import Relu
from .weight_init import make_rng

__all__ = ["GoogLeNet"]


class InceptionBlock:
    """Four paths (1x1; 1x1 - 3x3; 1x1 - 5x5; max pool 3x3 - 1x1), each conv followed by relu,
    joined along the channels (forward only)."""

    def __init__(self, convs, pool):
        self.convs = convs
        self.relus = {suffix: Relu() for suffix in convs}
        self.pool = pool  # max pool 3x3, stride 1, pad 1
        self.join = Concat(axis=1)

    def _conv_relu(self, suffix, x):
        return self.relus[suffix].forward(self.convs[suffix].forward(x))

    def forward(self, x):
        out1 = self._conv_relu("1", x)
        out2 = self._conv_relu("2", self._conv_relu("2r", x))
        out3 = self._conv_relu("3", self._conv_relu("3r", x))
        out4 = self._conv_relu("4", self.pool.forward(x))
        return self.join.forward(out1, out2, out3, out4)


class GoogLeNet(LayerNetwork):
    """A small GoogLeNet (Szegedy et al. 2015) for 28x28 grayscale images; parameters as ``scratch.GoogLeNet``."""

    def __init__(self, input_dim=(1, 28, 28), stem_channels=32, inception=DEFAULT_INCEPTION, output_size=10,
                 weight_init_std="he", dtype="float32", seed=None, readable=False):
        self.readable = readable
        self.rows, shapes, blocks = googlenet_plan(input_dim, stem_channels, inception, output_size)
        self.input_dim = tuple(input_dim)
        self.dtype = torch_dtype(dtype)
        self.params = self._init_params(shapes, weight_init_std, make_rng(seed))
        p = self.params

        def conv(name, suffix, pad):
            return self._convolution(p[f"{name}_W{suffix}"], p[f"{name}_b{suffix}"], 1, pad)

        self.layers = OrderedDict()
        self.layers["stem"] = conv("stem", "", 1)
        self.layers["stem"].need_dx = False
        self.layers["stem_relu"] = Relu()
        self.layers["stem_pool"] = self._pooling(2, 2, 2, 0)
        for k, name in enumerate(blocks, start=1):
            if k > 1:
                self.layers[f"pool{k - 1}"] = self._pooling(2, 2, 2, 0)
            self.layers[name] = InceptionBlock(
                {suffix: conv(name, suffix, f // 2) for suffix, _, _, f in BLOCK_CONVS}, self._pooling(3, 3, 1, 1))
        self.layers["gap"] = GlobalAvgPooling()
        self.layers["fc"] = self._affine(p["fc_W"], p["fc_b"])
        self.last_layer = self._softmax_with_loss()

    def summary(self):
        """The layers, one a line, with their output shapes and the parameter count."""
        return format_summary(f"GoogLeNet, input {self.input_dim}", self.rows, self.params)
