"""A small GoogLeNet (chapter 8.2.3), Szegedy et al., "Going deeper with convolutions", CVPR 2015,
sized for 28x28 grayscale images:

    conv 3x3 (32), pad 1 - relu - max pool 2x2                stem, 28x28 -> 14x14
    inception block (16, 16, 24, 4, 8, 8) -> 56 channels      14x14
    max pool 2x2                                              7x7
    inception block (24, 24, 32, 8, 16, 16) -> 88 channels    7x7
    global average pooling - affine 88 -> 10 - softmax

An inception block (the paper's figure 2b) runs four paths side by side on
the same input and joins their outputs along the channels (``Concat``):

    1. conv 1x1 - relu
    2. conv 1x1 (the "3x3 reduce") - relu - conv 3x3, pad 1 - relu
    3. conv 1x1 (the "5x5 reduce") - relu - conv 5x5, pad 2 - relu
    4. max pool 3x3, stride 1, pad 1 - conv 1x1 (the "pool proj") - relu

A block's sizes are given in the order of the paper's table 1: (#1x1,
#3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj); its output has
#1x1 + #3x3 + #5x5 + pool proj channels. Backward splits dout back into the
four paths' pieces, sends each through its path, and adds the four
gradients of the block's input (the input feeds all four). Every
convolution has a bias (the paper has no batch norm); weights are drawn
with He's rule, biases start at 0. Between two blocks a 2x2 max pool
halves the map.
"""
from collections import OrderedDict

import numpy as np

from .checks import check_size, dtype_of
from .convolution import GlobalAvgPooling
from .join import Concat
from .layer_network import LayerNetwork
from .layers import Relu
from .lenet import format_summary
from .simple_convnet import check_input_dim
from . import checks
from .weight_init import make_rng

__all__ = ["GoogLeNet"]

DEFAULT_INCEPTION = ((16, 16, 24, 4, 8, 8), (24, 24, 32, 8, 16, 16))

# The parameters of one block, in the order they are drawn: (suffix, index into the block's sizes
# giving the output channels, where the input channels come from, filter size).
BLOCK_CONVS = (("1", 0, "in", 1), ("2r", 1, "in", 1), ("2", 2, "2r", 3),
                ("3r", 3, "in", 1), ("3", 4, "3r", 5), ("4", 5, "in", 1))


def googlenet_plan(input_dim, stem_channels, inception, output_size):
    """What a GoogLeNet of these sizes holds, checked.

    Returns (rows, shapes, blocks): ``rows`` (name, layer, output shape) for
    ``summary``; ``shapes`` parameter name -> shape, in the order the weights
    are drawn; ``blocks`` the block names, in order.
    """
    in_channels, height, width = check_input_dim(input_dim, "GoogLeNet")
    stem_channels = check_size(stem_channels, "stem_channels", "GoogLeNet")
    if isinstance(inception, (str, bytes)) or not hasattr(inception, "__len__") or len(inception) < 1:
        raise ValueError(f"GoogLeNet: inception must be a sequence of blocks' sizes, got {inception!r}")
    sizes = []
    for k, block in enumerate(inception, start=1):
        if isinstance(block, (str, bytes)) or not hasattr(block, "__len__") or len(block) != 6:
            raise ValueError(f"GoogLeNet: inception block {k} must be six channel counts (#1x1, #3x3 reduce, "
                             f"#3x3, #5x5 reduce, #5x5, pool proj), got {block!r}")
        sizes.append([check_size(c, f"inception block {k}'s channels", "GoogLeNet") for c in block])
    output_size = check_size(output_size, "output_size", "GoogLeNet")

    def pooled(h, w):
        try:
            return checks.output_size(h, 2, 2, 0), checks.output_size(w, 2, 2, 0)
        except ValueError:
            raise ValueError(f"GoogLeNet: input_dim {tuple(input_dim)} is too small for {len(sizes)} inception "
                             f"blocks: a {h}x{w} feature map cannot be pooled 2x2") from None

    rows, shapes, blocks = [], {}, []
    c = stem_channels
    shapes["stem_W"], shapes["stem_b"] = (c, in_channels, 3, 3), (c,)
    rows.append(("stem", f"Convolution {c} x {in_channels}x3x3, pad 1 - Relu", (c, height, width)))
    height, width = pooled(height, width)
    rows.append(("stem_pool", "Pooling max 2x2, stride 2", (c, height, width)))
    for k, block in enumerate(sizes, start=1):
        name = f"i{k}"
        if k > 1:
            height, width = pooled(height, width)
            rows.append((f"pool{k - 1}", "Pooling max 2x2, stride 2", (c, height, width)))
        channels = {"in": c}
        for suffix, index, source, f in BLOCK_CONVS:
            channels[suffix] = block[index]
            shapes[f"{name}_W{suffix}"] = (block[index], channels[source], f, f)
            shapes[f"{name}_b{suffix}"] = (block[index],)
        n1, r3, n3, r5, n5, pp = block
        hw = (height, width)
        rows.append((f"{name}.path1", f"Convolution 1x1 {n1} - Relu", (n1,) + hw))
        rows.append((f"{name}.path2", f"Convolution 1x1 {r3} - Relu - Convolution 3x3 {n3}, pad 1 - Relu",
                     (n3,) + hw))
        rows.append((f"{name}.path3", f"Convolution 1x1 {r5} - Relu - Convolution 5x5 {n5}, pad 2 - Relu",
                     (n5,) + hw))
        rows.append((f"{name}.path4", f"Pooling max 3x3, stride 1, pad 1 - Convolution 1x1 {pp} - Relu",
                     (pp,) + hw))
        c = n1 + n3 + n5 + pp
        rows.append((f"{name}.join", "Concat (channels)", (c,) + hw))
        blocks.append(name)
    rows.append(("gap", "GlobalAvgPooling", (c,)))
    shapes["fc_W"], shapes["fc_b"] = (output_size, c), (output_size,)
    rows.append(("fc", f"Affine {c} -> {output_size}", (output_size,)))
    return rows, shapes, blocks


class InceptionBlock:
    """Four paths on one input, joined along the channels; see the module docstring.

    ``convs`` maps the parameter suffixes '1', '2r', '2', '3r', '3', '4' to
    the block's convolution layers, ``pool`` is path 4's max pooling. ``backward`` splits dout with the join,
    sends each piece back through its path and returns the sum of the four
    gradients of the block's input.
    """

    def __init__(self, convs, pool):
        self.convs = convs
        self.relus = {suffix: Relu() for suffix in convs}
        self.pool = pool  # max pool 3x3, stride 1, pad 1
        self.join = Concat(axis=1)

    def _conv_relu(self, suffix, x):
        return self.relus[suffix].forward(self.convs[suffix].forward(x))

    def _conv_relu_back(self, suffix, dout):
        return self.convs[suffix].backward(self.relus[suffix].backward(dout))

    def forward(self, x):
        out1 = self._conv_relu("1", x)
        out2 = self._conv_relu("2", self._conv_relu("2r", x))
        out3 = self._conv_relu("3", self._conv_relu("3r", x))
        out4 = self._conv_relu("4", self.pool.forward(x))
        return self.join.forward(out1, out2, out3, out4)

    def backward(self, dout):
        d1, d2, d3, d4 = self.join.backward(dout)
        dx = self._conv_relu_back("1", d1)
        dx += self._conv_relu_back("2r", self._conv_relu_back("2", d2))
        dx += self._conv_relu_back("3r", self._conv_relu_back("3", d3))
        dx += self.pool.backward(self._conv_relu_back("4", d4))
        return dx


class GoogLeNet(LayerNetwork):
    """A small GoogLeNet (Szegedy et al. 2015) for 28x28 grayscale images; see the module docstring.

    ``stem_channels`` is the stem convolution's width, ``inception`` one
    tuple of six channel counts per block (the paper's table 1 order).
    Parameters: stem_W, stem_b; for each block ``iK``: _W1, _b1 (1x1 path),
    _W2r, _b2r, _W2, _b2 (3x3 path), _W3r, _b3r, _W3, _b3 (5x5 path), _W4,
    _b4 (pool path); fc_W (output, channels), fc_b. ``train_flg`` changes
    nothing (no dropout, no batch norm).
    """

    def __init__(self, input_dim=(1, 28, 28), stem_channels=32, inception=DEFAULT_INCEPTION, output_size=10,
                 weight_init_std="he", dtype=np.float32, seed=None, readable=False):
        self.readable = readable
        self.rows, shapes, blocks = googlenet_plan(input_dim, stem_channels, inception, output_size)
        self.input_dim = tuple(input_dim)
        self.dtype = dtype_of(dtype)
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

    def _param_gradients(self):
        grads = {"stem_W": self.layers["stem"].dW, "stem_b": self.layers["stem"].db,
                 "fc_W": self.layers["fc"].dW, "fc_b": self.layers["fc"].db}
        for name, layer in self.layers.items():
            if isinstance(layer, InceptionBlock):
                for suffix, conv in layer.convs.items():
                    grads[f"{name}_W{suffix}"], grads[f"{name}_b{suffix}"] = conv.dW, conv.db
        return grads
