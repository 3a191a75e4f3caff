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
from .convolution import Convolution, GlobalAvgPooling
from .join import Residual
from .layers import Affine, Relu, SoftmaxWithLoss
from .network_base import Network
from .weight_init import init_weight, make_rng

__all__ = ["ResNet"]


class ResidualBlock:
    """conv 3x3 - bn - relu - conv 3x3 - bn, + shortcut (identity or 1x1 conv - bn), relu (forward only)."""

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


class ResNet(Network):
    """A small ResNet (He et al. 2016) for 28x28 grayscale images; parameters as ``scratch.ResNet``."""

    def __init__(self, input_dim=(1, 28, 28), channels=(16, 32, 64), blocks_per_stage=1, output_size=10,
                 weight_init_std="he", dtype="float32", seed=None):
        self.rows, shapes, blocks = resnet_plan(input_dim, channels, blocks_per_stage, output_size)
        self.input_dim = tuple(input_dim)
        self.dtype = torch_dtype(dtype)
        rng = make_rng(seed)
        self.params = {}
        for name, shape in shapes.items():
            if "_W" in name:
                self.params[name] = init_weight(shape, weight_init_std, rng, self.dtype)
            elif "gamma" in name:
                self.params[name] = torch.ones(shape, dtype=self.dtype, requires_grad=True)
            else:
                self.params[name] = torch.zeros(shape, dtype=self.dtype, requires_grad=True)
        p = self.params

        def conv(name, stride, pad):
            return Convolution(p[name], torch.zeros(p[name].shape[0], dtype=self.dtype), stride, pad)

        self.layers = OrderedDict()
        self.layers["stem"] = conv("stem_W", 1, 1)
        self.layers["stem"].need_dx = False
        self.layers["stem_bn"] = BatchNormalization(p["stem_gamma"], p["stem_beta"])
        self.layers["stem_relu"] = Relu()
        for name, _, _, stride, project in blocks:
            projection = None
            if project:
                projection = (conv(f"{name}_Wp", stride, 0),
                              BatchNormalization(p[f"{name}_gammap"], p[f"{name}_betap"]))
            self.layers[name] = ResidualBlock(
                (conv(f"{name}_W1", stride, 1), conv(f"{name}_W2", 1, 1)),
                (BatchNormalization(p[f"{name}_gamma1"], p[f"{name}_beta1"]),
                 BatchNormalization(p[f"{name}_gamma2"], p[f"{name}_beta2"])),
                projection)
        self.layers["pool"] = GlobalAvgPooling()
        self.layers["fc"] = Affine(p["fc_W"], p["fc_b"])
        self.last_layer = SoftmaxWithLoss()

    def batch_norms(self):
        """name -> BatchNormalization layer, in the order of the network (they hold the running statistics)."""
        found = OrderedDict()
        for name, layer in self.layers.items():
            if isinstance(layer, ResidualBlock):
                found[f"{name}.bn1"], found[f"{name}.bn2"] = layer.bn1, layer.bn2
                if layer.projection is not None:
                    found[f"{name}.bnp"] = layer.projection[1]
            elif name.endswith("_bn"):
                found[name] = layer
        return found

    def summary(self):
        """The layers, one a line, with their output shapes and the parameter count."""
        return format_summary(f"ResNet, input {self.input_dim}", self.rows, self.params)

    def predict(self, x, train_flg=False):
        """Class scores (N, output_size); batch norm uses batch statistics when ``train_flg``."""
        x = self._as_images(x)
        for name, layer in self.layers.items():
            x = layer.forward(x, train_flg) if name.endswith("_bn") or isinstance(layer, ResidualBlock) \
                else layer.forward(x)
        return x

    def loss(self, x, t, train_flg=True):
        """The training loss (batch statistics, running statistics updated) unless ``train_flg=False``."""
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
