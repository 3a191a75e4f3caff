"""A small residual network (chapter 8.2.5), He, Zhang, Ren and Sun, "Deep residual learning
for image recognition", CVPR 2016, sized for 28x28 grayscale images:

    conv 3x3 (16) - batch norm - relu -                       stem, 28x28
    residual block 16 -> 16, stride 1 (identity shortcut)     28x28
    residual block 16 -> 32, stride 2 (projection shortcut)   14x14
    residual block 32 -> 64, stride 2 (projection shortcut)   7x7
    global average pooling - affine 64 -> 10 - softmax

A residual block (the paper's "basic block", figure 2 and section 4.2):
conv 3x3 (stride s) - batch norm - relu - conv 3x3 - batch norm, added to the
shortcut, then relu. The shortcut is the block's input when the shape is
kept, else a 1x1 convolution with stride s followed by batch norm (the
paper's option B). Convolutions followed by batch norm carry no bias (batch
norm's beta is the bias), as in the paper and ``torchvision``; their zero
biases are not parameters. Batch norm is per channel (``BatchNorm2d``), with
batch statistics when ``train_flg`` is true and running statistics otherwise.
Convolution weights and the affine weight are drawn with He's rule.
"""
from collections import OrderedDict

import numpy as np

from .batch_normalization import BatchNormalization
from .checks import check_size, dtype_of
from .convolution import GlobalAvgPooling
from .join import Residual
from .layer_network import LayerNetwork
from .layers import Relu
from .lenet import format_summary
from .simple_convnet import check_input_dim
from . import checks
from .weight_init import make_rng

__all__ = ["ResNet"]


def resnet_plan(input_dim, channels, blocks_per_stage, output_size):
    """What a ResNet of these sizes holds, checked.

    Returns (rows, shapes, blocks): ``rows`` (name, layer, output shape) for
    ``summary``; ``shapes`` parameter name -> shape, in the order the weights
    are drawn; ``blocks`` (name, in channels, out channels, stride, projected).
    """
    in_channels, height, width = check_input_dim(input_dim, "ResNet")
    if isinstance(channels, (str, bytes)) or not hasattr(channels, "__len__") or len(channels) < 1:
        raise ValueError(f"ResNet: channels must be a sequence of channel counts, one per stage, got {channels!r}")
    channels = [check_size(c, "channels", "ResNet") for c in channels]
    blocks_per_stage = check_size(blocks_per_stage, "blocks_per_stage", "ResNet")
    output_size = check_size(output_size, "output_size", "ResNet")

    def size(h, w, k, stride, pad):
        try:
            return checks.output_size(h, k, stride, pad), checks.output_size(w, k, stride, pad)
        except ValueError as err:
            raise ValueError(f"ResNet: input_dim {tuple(input_dim)} is too small for {len(channels)} stages: "
                             f"{err}") from None

    rows, shapes, blocks = [], {}, []
    c = channels[0]
    shapes["stem_W"], shapes["stem_gamma"], shapes["stem_beta"] = (c, in_channels, 3, 3), (c,), (c,)
    rows.append(("stem", f"Convolution {c} x {in_channels}x3x3, pad 1, no bias", (c, height, width)))
    rows.append(("stem_bn", "BatchNormalization (per channel)", (c, height, width)))
    rows.append(("stem_relu", "Relu", (c, height, width)))
    for stage, out_c in enumerate(channels, start=1):
        for block in range(1, blocks_per_stage + 1):
            stride = 2 if stage > 1 and block == 1 else 1
            project = stride != 1 or out_c != c
            name = f"s{stage}b{block}"
            h, w = size(height, width, 3, stride, 1)
            shapes[f"{name}_W1"], shapes[f"{name}_gamma1"], shapes[f"{name}_beta1"] = \
                (out_c, c, 3, 3), (out_c,), (out_c,)
            shapes[f"{name}_W2"], shapes[f"{name}_gamma2"], shapes[f"{name}_beta2"] = \
                (out_c, out_c, 3, 3), (out_c,), (out_c,)
            rows.append((f"{name}.conv1", f"Convolution {out_c} x {c}x3x3, stride {stride}, pad 1, no bias",
                         (out_c, h, w)))
            rows.append((f"{name}.bn1", "BatchNormalization - Relu", (out_c, h, w)))
            rows.append((f"{name}.conv2", f"Convolution {out_c} x {out_c}x3x3, pad 1, no bias", (out_c, h, w)))
            rows.append((f"{name}.bn2", "BatchNormalization", (out_c, h, w)))
            if project:
                ph, pw = size(height, width, 1, stride, 0)
                assert (ph, pw) == (h, w)
                shapes[f"{name}_Wp"], shapes[f"{name}_gammap"], shapes[f"{name}_betap"] = \
                    (out_c, c, 1, 1), (out_c,), (out_c,)
                rows.append((f"{name}.shortcut", f"Convolution {out_c} x {c}x1x1, stride {stride}, no bias "
                                                 f"- BatchNormalization", (out_c, h, w)))
            else:
                rows.append((f"{name}.shortcut", "identity", (out_c, h, w)))
            rows.append((f"{name}.join", "Residual (x + shortcut) - Relu", (out_c, h, w)))
            blocks.append((name, c, out_c, stride, project))
            c, height, width = out_c, h, w
    rows.append(("pool", "GlobalAvgPooling", (c,)))
    shapes["fc_W"], shapes["fc_b"] = (output_size, c), (output_size,)
    rows.append(("fc", f"Affine {c} -> {output_size}", (output_size,)))
    return rows, shapes, blocks


class ResidualBlock:
    """conv 3x3 - bn - relu - conv 3x3 - bn, + shortcut (identity or 1x1 conv - bn), relu.

    ``layers`` holds the layers by role; ``backward`` sends dout through the
    join to both branches and adds the two gradients of the block's input.
    Its batch norms need ``train_flg``, so its ``forward`` takes it.
    """

    takes_train_flg = True

    def __init__(self, convs, bns, projection=None):
        self.conv1, self.conv2 = convs
        self.bn1, self.bn2 = bns
        self.relu1, self.relu_out = Relu(), Relu()
        self.join = Residual()
        self.projection = projection  # (conv, bn) or None

    def forward(self, x, train_flg=False):
        out = self.relu1.forward(self.bn1.forward(self.conv1.forward(x), train_flg))
        out = self.bn2.forward(self.conv2.forward(out), train_flg)
        shortcut = x
        if self.projection is not None:
            conv, bn = self.projection
            shortcut = bn.forward(conv.forward(x), train_flg)
        return self.relu_out.forward(self.join.forward(out, shortcut))

    def backward(self, dout):
        dmain, dshortcut = self.join.backward(self.relu_out.backward(dout))
        dmain = self.conv2.backward(self.bn2.backward(dmain))
        dx = self.conv1.backward(self.bn1.backward(self.relu1.backward(dmain)))
        if self.projection is not None:
            conv, bn = self.projection
            dshortcut = conv.backward(bn.backward(dshortcut))
        return dx + dshortcut


class ResNet(LayerNetwork):
    """A small ResNet (He et al. 2016) for 28x28 grayscale images; see the module docstring.

    ``channels`` gives the width of each stage (the first stage keeps the
    stem's width and stride 1, each later one halves the map with stride 2),
    ``blocks_per_stage`` the residual blocks per stage. Parameters:
    stem_W, stem_gamma, stem_beta; for each block ``sSbB``: _W1, _gamma1,
    _beta1, _W2, _gamma2, _beta2 and, with a projection shortcut, _Wp,
    _gammap, _betap; fc_W (output, channels[-1]), fc_b. The running
    statistics of the batch norms are not parameters (not saved);
    ``batch_norms()`` gives the layers that hold them. Batch norm uses batch
    statistics when ``train_flg`` (and updates the running ones), else the
    running statistics.
    """

    def __init__(self, input_dim=(1, 28, 28), channels=(16, 32, 64), blocks_per_stage=1, output_size=10,
                 weight_init_std="he", dtype=np.float32, seed=None, readable=False):
        self.readable = readable
        self.rows, shapes, blocks = resnet_plan(input_dim, channels, blocks_per_stage, output_size)
        self.input_dim = tuple(input_dim)
        self.dtype = dtype_of(dtype)
        gammas = [name for name in shapes if "_gamma" in name]
        self.params = self._init_params(shapes, weight_init_std, make_rng(seed), ones=gammas)
        p = self.params

        def conv(name, stride, pad):
            return self._convolution(p[name], np.zeros(p[name].shape[0], dtype=self.dtype), stride, pad)

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

    def _param_gradients(self):
        grads = {"stem_W": self.layers["stem"].dW,
                 "stem_gamma": self.layers["stem_bn"].dgamma, "stem_beta": self.layers["stem_bn"].dbeta}
        for name, layer in self.layers.items():
            if isinstance(layer, ResidualBlock):
                for i, (conv, bn) in enumerate(((layer.conv1, layer.bn1), (layer.conv2, layer.bn2)), start=1):
                    grads[f"{name}_W{i}"], grads[f"{name}_gamma{i}"], grads[f"{name}_beta{i}"] = \
                        conv.dW, bn.dgamma, bn.dbeta
                if layer.projection is not None:
                    conv, bn = layer.projection
                    grads[f"{name}_Wp"], grads[f"{name}_gammap"], grads[f"{name}_betap"] = \
                        conv.dW, bn.dgamma, bn.dbeta
        grads["fc_W"], grads["fc_b"] = self.layers["fc"].dW, self.layers["fc"].db
        return grads
