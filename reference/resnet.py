"""A small residual network (chapter 8.2.5) in PyTorch, He, Zhang, Ren and Sun, "Deep residual
learning for image recognition", CVPR 2016, sized for 28x28 grayscale images:

    conv 3x3 (16) - batch norm - relu - residual blocks 16, 32 (stride 2), 64 (stride 2)
    - global average pooling - affine 64 -> 10 - softmax

The layers compute with PyTorch's operators (``F.conv2d``, ``F.batch_norm``,
...); ``gradient`` is one autograd pass over the whole loss. See
``scratch.resnet`` for the block and the parameter names.
"""
from collections import OrderedDict

import torch

from scratch.lenet import format_summary
from scratch.resnet import resnet_plan

from ._tensor import torch_dtype
from .batch_normalization import BatchNormalization
from .convolution import GlobalAvgPooling
from .join import Residual
from .layer_network import LayerNetwork
from .layers import Relu
from .weight_init import make_rng

__all__ = ["ResNet"]


class ResidualBlock:
    """conv 3x3 - bn - relu - conv 3x3 - bn, + shortcut (identity or 1x1 conv - bn), relu (forward only).

    Its batch norms need ``train_flg``, so its ``forward`` takes it.
    """

    takes_train_flg = True

    def __init__(self, convs, bns, projection=None):
        self.conv1, self.conv2 = convs
        self.bn1, self.bn2 = bns
        self.relu1, self.relu_out = Relu(), Relu()
        self.join = Residual()
        self.projection = projection

    def forward(self, x, train_flg=False):
        out = self.relu1.forward(self.bn1.forward(self.conv1.forward(x), train_flg))
        out = self.bn2.forward(self.conv2.forward(out), train_flg)
        shortcut = x
        if self.projection is not None:
            conv, bn = self.projection
            shortcut = bn.forward(conv.forward(x), train_flg)
        return self.relu_out.forward(self.join.forward(out, shortcut))


class ResNet(LayerNetwork):
    """A small ResNet (He et al. 2016) for 28x28 grayscale images; parameters as ``scratch.ResNet``."""

    def __init__(self, input_dim=(1, 28, 28), channels=(16, 32, 64), blocks_per_stage=1, output_size=10,
                 weight_init_std="he", dtype="float32", seed=None, readable=False):
        self.readable = readable
        self.rows, shapes, blocks = resnet_plan(input_dim, channels, blocks_per_stage, output_size)
        self.input_dim = tuple(input_dim)
        self.dtype = torch_dtype(dtype)
        gammas = [name for name in shapes if "_gamma" in name]
        self.params = self._init_params(shapes, weight_init_std, make_rng(seed), ones=gammas)
        p = self.params

        def conv(name, stride, pad):
            return self._convolution(p[name], torch.zeros(p[name].shape[0], dtype=self.dtype), stride, pad)

        def bn(name, suffix):
            return self._batch_norm(p[f"{name}_gamma{suffix}"], p[f"{name}_beta{suffix}"])

        self.layers = OrderedDict()
        self.layers["stem"] = conv("stem_W", 1, 1)
        self.layers["stem"].need_dx = False
        self.layers["stem_bn"] = bn("stem", "")
        self.layers["stem_relu"] = Relu()
        for name, _, _, stride, project in blocks:
            projection = (conv(f"{name}_Wp", stride, 0), bn(name, "p")) if project else None
            self.layers[name] = ResidualBlock((conv(f"{name}_W1", stride, 1), conv(f"{name}_W2", 1, 1)),
                                              (bn(name, "1"), bn(name, "2")), projection)
        self.layers["pool"] = GlobalAvgPooling()
        self.layers["fc"] = self._affine(p["fc_W"], p["fc_b"])
        self.last_layer = self._softmax_with_loss()

    def batch_norms(self):
        """name -> BatchNormalization layer, in the order of the network (they hold the running statistics)."""
        found = OrderedDict()
        for name, layer in self.layers.items():
            if isinstance(layer, ResidualBlock):
                found[f"{name}.bn1"], found[f"{name}.bn2"] = layer.bn1, layer.bn2
                if layer.projection is not None:
                    found[f"{name}.bnp"] = layer.projection[1]
            elif isinstance(layer, BatchNormalization):
                found[name] = layer
        return found

    def summary(self):
        """The layers, one a line, with their output shapes and the parameter count."""
        return format_summary(f"ResNet, input {self.input_dim}", self.rows, self.params)
