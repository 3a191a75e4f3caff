"""A small AlexNet (chapter 8.2.2), Krizhevsky, Sutskever and Hinton, "ImageNet classification
with deep convolutional neural networks", NIPS 2012, sized for 28x28 grayscale images:

    conv 5x5 (32), pad 2 - relu - LRN - max pool 3x3, stride 2      28x28 -> 13x13
    conv 3x3 (64), pad 1 - relu - LRN - max pool 3x3, stride 2      13x13 -> 6x6
    conv 3x3 (96), pad 1 - relu -
    conv 3x3 (64), pad 1 - relu - max pool 3x3, stride 2            6x6 -> 2x2
    dropout - affine 256 - relu - dropout - affine 10 - softmax

What is kept from the paper: ReLU after every convolution and hidden affine
layer (section 3.1), local response normalization after the first two
convolutions' ReLU (section 3.3) with the paper's constants size n = 5,
k = 2, alpha = 1e-4, beta = 0.75, overlapping max pooling 3x3 with stride 2
after LRN and after the last convolution (section 3.4), and dropout 0.5
before both fully connected layers (section 4.2).

The LRN constants are the paper's:
b[c] = a[c] / (k + alpha * sum of a[j]^2 over n neighbouring channels)^beta.
``LocalResponseNorm`` (like PyTorch's ``F.local_response_norm``) divides
its ``alpha`` by ``size`` (it averages the squares), so the layer is built
with alpha = n * 1e-4 = 5e-4: the sum of squares is multiplied by 1e-4,
exactly as in the paper. (Caffe's and PyTorch's "alpha = 1e-4" would be
the paper's alpha = 2e-5.)

Where this differs from the paper: five convolutions become four of a few
dozen maps (11x11 stride 4 is pointless on 28x28), one GPU instead of two
(no split of the maps into two groups), two fully connected layers instead
of three, weights drawn with He's rule and all biases 0 (the paper: N(0,
0.01^2), some biases 1), and dropout is inverted (scaled at training time).
"""
from collections import OrderedDict

import numpy as np

from .checks import check_size, dtype_of
from .dropout import check_ratio
from .layer_network import LayerNetwork
from .layers import Relu
from .lenet import format_summary
from .local_response_norm import LocalResponseNorm
from .simple_convnet import check_input_dim
from . import checks
from .weight_init import make_rng

__all__ = ["AlexNet"]

# The paper's LRN constants (section 3.3); alpha multiplies the plain sum of squares.
LRN_SIZE, LRN_ALPHA, LRN_BETA, LRN_K = 5, 1e-4, 0.75, 2.0


class LayerPlan:
    """The layers of a plain feed-forward network, checked as they are added.

    Tracks the feature shape; collects ``rows`` (name, layer, output shape)
    for ``summary``, ``shapes`` (parameter name -> shape, in the order the
    weights are drawn) and ``specs`` (name, kind, args), from which both
    backends build the same layers. Parameters are W1, b1, W2, b2, ... in
    the order of the convolutions and affine layers.
    """

    def __init__(self, who, input_dim):
        self.who = who
        self.input_dim = tuple(input_dim)
        self.shape = check_input_dim(input_dim, who)
        self.rows, self.shapes, self.specs = [], {}, []
        self.counts = {}

    def _name(self, prefix):
        self.counts[prefix] = self.counts.get(prefix, 0) + 1
        return f"{prefix}{self.counts[prefix]}"

    def _size(self, n, k, stride, pad, what):
        try:
            return checks.output_size(n, k, stride, pad)
        except ValueError as err:
            raise ValueError(f"{self.who}: input_dim {self.input_dim} is too small ({what}): {err}") from None

    def _param(self, w_shape):
        idx = len(self.shapes) // 2 + 1
        self.shapes[f"W{idx}"], self.shapes[f"b{idx}"] = tuple(w_shape), (w_shape[0],)
        return f"W{idx}", f"b{idx}"

    def conv(self, filters, size, pad):
        c, h, w = self.shape
        name = self._name("Conv")
        h, w = self._size(h, size, 1, pad, name), self._size(w, size, 1, pad, name)
        W, b = self._param((filters, c, size, size))
        self.specs.append((name, "conv", (W, b, 1, pad)))
        self.shape = (filters, h, w)
        self.rows.append((name, f"Convolution {filters} x {c}x{size}x{size}, pad {pad} ({W}, {b})", self.shape))

    def relu(self):
        self.specs.append((self._name("Relu"), "relu", ()))

    def lrn(self):
        name = self._name("LRN")
        self.specs.append((name, "lrn", (LRN_SIZE, LRN_SIZE * LRN_ALPHA, LRN_BETA, LRN_K)))
        self.rows.append((name, f"LocalResponseNorm n={LRN_SIZE}, k={LRN_K:g}, alpha={LRN_ALPHA:g} on the sum, "
                                f"beta={LRN_BETA:g}", self.shape))

    def pool(self, size, stride):
        c, h, w = self.shape
        name = self._name("Pool")
        h, w = self._size(h, size, stride, 0, name), self._size(w, size, stride, 0, name)
        self.specs.append((name, "pool", (size, stride)))
        self.shape = (c, h, w)
        self.rows.append((name, f"Pooling (max) {size}x{size}, stride {stride}", self.shape))

    def dropout(self, ratio):
        name = self._name("Dropout")
        self.specs.append((name, "dropout", (ratio,)))
        self.rows.append((name, f"Dropout {ratio:g} (inverted)", self.shape))

    def affine(self, units):
        n_in = int(np.prod(self.shape))
        name = self._name("Affine")
        W, b = self._param((units, n_in))
        self.specs.append((name, "affine", (W, b)))
        self.shape = (units,)
        self.rows.append((name, f"Affine {n_in} -> {units} ({W}, {b})", self.shape))


def check_channels(channels, count, who, name="channels"):
    """``count`` channel counts (integers >= 1), else a ValueError."""
    if isinstance(channels, (str, bytes)) or not hasattr(channels, "__len__") or len(channels) != count:
        raise ValueError(f"{who}: {name} must be a sequence of {count} channel counts, got {channels!r}")
    return tuple(check_size(c, name, who) for c in channels)


def alexnet_plan(input_dim, channels, hidden_size, output_size, dropout_ratio):
    """The checked ``LayerPlan`` of an AlexNet of these sizes."""
    c1, c2, c3, c4 = check_channels(channels, 4, "AlexNet")
    hidden_size = check_size(hidden_size, "hidden_size", "AlexNet")
    output_size = check_size(output_size, "output_size", "AlexNet")
    dropout_ratio = check_ratio(dropout_ratio)
    plan = LayerPlan("AlexNet", input_dim)
    plan.conv(c1, 5, 2), plan.relu(), plan.lrn(), plan.pool(3, 2)
    plan.conv(c2, 3, 1), plan.relu(), plan.lrn(), plan.pool(3, 2)
    plan.conv(c3, 3, 1), plan.relu()
    plan.conv(c4, 3, 1), plan.relu(), plan.pool(3, 2)
    plan.dropout(dropout_ratio), plan.affine(hidden_size), plan.relu()
    plan.dropout(dropout_ratio), plan.affine(output_size)
    return plan


class PlannedNetwork(LayerNetwork):
    """A network built from a ``LayerPlan``: the layers and the gradient mapping of AlexNet and VGG."""

    def _build(self, plan, weight_init_std, dtype, seed):
        self.plan = plan
        self.input_dim = plan.input_dim
        self.dtype = dtype_of(dtype)
        rng = make_rng(seed)
        self.params = self._init_params(plan.shapes, weight_init_std, rng)
        self.layers = OrderedDict()
        self._owners = {}  # parameter name -> (layer name, gradient attribute)
        for name, kind, args in plan.specs:
            if kind in ("conv", "affine"):
                W, b = args[:2]
                self._owners[W], self._owners[b] = (name, "dW"), (name, "db")
                self.layers[name] = (self._convolution(self.params[W], self.params[b], *args[2:]) if kind == "conv"
                                     else self._affine(self.params[W], self.params[b]))
            elif kind == "relu":
                self.layers[name] = Relu()
            elif kind == "lrn":
                self.layers[name] = LocalResponseNorm(*args)
            elif kind == "pool":
                self.layers[name] = self._pooling(args[0], args[0], args[1], 0)
            else:
                self.layers[name] = self._dropout(args[0], rng)
        self.layers[plan.specs[0][0]].need_dx = False  # nothing upstream needs dL/dx of the images
        self.last_layer = self._softmax_with_loss()

    def summary(self):
        """The layers, one a line, with their output shapes and the parameter count."""
        return format_summary(f"{type(self).__name__}, input {self.input_dim}", self.plan.rows, self.params,
                              "relu after every convolution and the hidden affine layer; softmax cross-entropy loss")

    def _param_gradients(self):
        return {name: getattr(self.layers[owner], attr) for name, (owner, attr) in self._owners.items()}


class AlexNet(PlannedNetwork):
    """A small AlexNet (Krizhevsky et al. 2012) for 28x28 grayscale images; see the module docstring.

    ``channels`` gives the maps of the four convolutions, ``hidden_size``
    the units of the hidden affine layer. Parameters: W1 (c1, C, 5, 5), b1;
    W2 (c2, c1, 3, 3), b2; W3 (c3, c2, 3, 3), b3; W4 (c4, c3, 3, 3), b4;
    W5 (hidden, c4 * 2 * 2), b5; W6 (output, hidden), b6. The dropout layers
    draw their masks from their own generators, seeded from ``seed``.
    """

    def __init__(self, input_dim=(1, 28, 28), channels=(32, 64, 96, 64), hidden_size=256, output_size=10,
                 dropout_ratio=0.5, weight_init_std="he", dtype=np.float32, seed=None, readable=False):
        self.readable = readable
        self._build(alexnet_plan(input_dim, channels, hidden_size, output_size, dropout_ratio),
                    weight_init_std, dtype, seed)
