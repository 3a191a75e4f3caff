"""LeNet-5 (chapter 8.2.1), LeCun, Bottou, Bengio and Haffner, "Gradient-based learning
applied to document recognition", Proc. IEEE 86(11), 1998:

    C1 conv 5x5, 6 maps - act - S2 subsampling - act -
    C3 conv 5x5, 16 maps - act - S4 subsampling - act -
    F5 affine 120 - act - F6 affine 84 - act - affine (output) - softmax

act is tanh (the paper's squashing function, without its 1.7159 scale) or
sigmoid. Subsampling is the paper's trained one: the 2x2 average times a
coefficient per map plus a bias per map. Where this differs from the paper:
C3 connects every S2 map (the paper's table I connects each C3 map to a
subset), C5 is an affine layer on the 16x5x5 maps (the same map, as the
paper notes for 32x32 input), and the output is an affine layer with
softmax cross-entropy instead of the paper's Euclidean RBF units. A 28x28
MNIST image is padded by 2 in C1, so the maps have the paper's sizes.
"""
from collections import OrderedDict

import numpy as np

from .checks import check_size, dtype_of
from .convolution import Subsampling
from .layer_network import LayerNetwork
from .layers import Sigmoid, Tanh
from .simple_convnet import check_input_dim, check_pooled, conv_output_size
from .weight_init import make_rng

__all__ = ["LeNet"]

LENET_ACTIVATIONS = ("tanh", "sigmoid")


def check_activation(activation, who="LeNet"):
    if activation not in LENET_ACTIVATIONS:
        raise ValueError(f"{who}: activation must be one of {LENET_ACTIVATIONS}, got {activation!r}")
    return activation


def lenet_shapes(input_dim, pad, output_size):
    """The rows (name, layer, output shape) and the parameter shapes of a LeNet, checked.

    Returns (rows, shapes): ``shapes`` maps W1..W7 / b1..b7 to shapes, in the
    order weights are drawn.
    """
    channels, height, width = check_input_dim(input_dim, "LeNet")
    pad = check_size(pad, "pad", "LeNet", minimum=0)
    output_size = check_size(output_size, "output_size", "LeNet")
    rows, shapes = [], {}

    def conv5(h, w, pad):
        try:
            return conv_output_size(h, 5, 1, pad), conv_output_size(w, 5, 1, pad)
        except ValueError as err:
            raise ValueError(f"LeNet: input_dim {tuple(input_dim)} is too small (with pad {pad} in C1): "
                             f"{err}") from None

    h, w = conv5(height, width, pad)
    shapes["W1"], shapes["b1"] = (6, channels, 5, 5), (6,)
    rows.append(("C1", f"Convolution 6 x {channels}x5x5, pad {pad}", (6, h, w)))
    check_pooled(h, w, "LeNet")
    h, w = h // 2, w // 2
    shapes["W2"], shapes["b2"] = (6,), (6,)
    rows.append(("S2", "Subsampling 2x2 (coefficient + bias per map)", (6, h, w)))
    h, w = conv5(h, w, 0)
    shapes["W3"], shapes["b3"] = (16, 6, 5, 5), (16,)
    rows.append(("C3", "Convolution 16 x 6x5x5", (16, h, w)))
    check_pooled(h, w, "LeNet")
    h, w = h // 2, w // 2
    shapes["W4"], shapes["b4"] = (16,), (16,)
    rows.append(("S4", "Subsampling 2x2 (coefficient + bias per map)", (16, h, w)))
    shapes["W5"], shapes["b5"] = (120, 16 * h * w), (120,)
    rows.append(("F5", f"Affine {16 * h * w} -> 120", (120,)))
    shapes["W6"], shapes["b6"] = (84, 120), (84,)
    rows.append(("F6", "Affine 120 -> 84", (84,)))
    shapes["W7"], shapes["b7"] = (output_size, 84), (output_size,)
    rows.append(("Output", f"Affine 84 -> {output_size}", (output_size,)))
    return rows, shapes


def format_summary(title, rows, params, activation_note=""):
    """The layer list as text: one line per row, then the parameter count."""
    lines = [title]
    for name, layer, shape in rows:
        lines.append(f"  {name:<14s} {layer:<62s} -> {tuple(shape)}")
    total = sum(int(np.prod(tuple(p.shape))) for p in params.values())
    if activation_note:
        lines.append(f"  {activation_note}")
    lines.append(f"  {total} parameters in {len(params)} arrays")
    return "\n".join(lines)


class LeNet(LayerNetwork):
    """LeNet-5 (LeCun et al. 1998) for 28x28 grayscale images; see the module docstring.

    Parameters: W1 (6, C, 5, 5), b1 (C1); W2, b2 (6,) (S2's coefficient and
    bias, starting at 1 and 0); W3 (16, 6, 5, 5), b3 (C3); W4, b4 (16,) (S4);
    W5 (120, 400), b5; W6 (84, 120), b6; W7 (output, 84), b7. Weights drawn
    with ``weight_init_std`` (default 'xavier', std sqrt(1/fan-in), in the
    spirit of the paper's uniform +-2.4/fan-in), biases 0. ``train_flg``
    changes nothing (no dropout, no batch norm).
    """

    def __init__(self, input_dim=(1, 28, 28), activation="tanh", pad=2, output_size=10,
                 weight_init_std="xavier", dtype=np.float32, seed=None, readable=False):
        self.readable = readable
        self.activation = check_activation(activation)
        self.rows, shapes = lenet_shapes(input_dim, pad, output_size)
        self.input_dim = tuple(input_dim)
        self.dtype = dtype_of(dtype)
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
        for idx, name in ((2, "S2"), (4, "S4")):  # the subsampling layers own their arrays (1 and 0); params share them
            p[f"W{idx}"], p[f"b{idx}"] = self.layers[name].W, self.layers[name].b

    def summary(self):
        """The layers, one a line, with their output shapes and the parameter count."""
        return format_summary(f"LeNet ({self.activation}), input {self.input_dim}", self.rows, self.params,
                              f"{self.activation} after C1, S2, C3, S4, F5 and F6; softmax cross-entropy loss")

    def _param_gradients(self):
        owners = {1: "C1", 2: "S2", 3: "C3", 4: "S4", 5: "F5", 6: "F6", 7: "Output"}
        grads = {}
        for idx, owner in owners.items():
            grads[f"W{idx}"], grads[f"b{idx}"] = self.layers[owner].dW, self.layers[owner].db
        return grads
