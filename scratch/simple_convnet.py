"""The chapter-7 convolutional network (7.5): conv - relu - pool - affine - relu - affine - softmax."""
from collections import OrderedDict

import numpy as np

from .checks import check_size, dtype_of
from .gradient import numerical_gradient as numerical_gradient_of
from .layers import Relu
from .network_base import Network
from .weight_init import make_rng

__all__ = ["SimpleConvNet", "conv_output_size"]


def check_input_dim(input_dim, who):
    """(C, H, W) as positive integers, else a ValueError."""
    if len(input_dim) != 3 or not all(isinstance(n, (int, np.integer)) and n >= 1 for n in input_dim):
        raise ValueError(f"{who}: input_dim must be (C, H, W), three integers >= 1, got {input_dim!r}")
    return tuple(int(n) for n in input_dim)


def check_conv_param(conv_param, who, name="conv_param"):
    """(filter_num, filter_size, pad, stride) of ``conv_param``: integers >= 1 (pad >= 0)."""
    return (check_size(conv_param["filter_num"], f"{name}['filter_num']", who),
            check_size(conv_param["filter_size"], f"{name}['filter_size']", who),
            check_size(conv_param["pad"], f"{name}['pad']", who, minimum=0),
            check_size(conv_param["stride"], f"{name}['stride']", who))


def check_pooled(height, width, who):
    """A 2x2 pooling needs a feature map of at least 2x2."""
    if height < 2 or width < 2:
        raise ValueError(f"{who}: input_dim is too small: a {height}x{width} feature map cannot be pooled 2x2")


def conv_output_size(input_size, filter_size, stride=1, pad=0):
    """(input + 2 pad - filter) / stride + 1 (equation 7.1), checked to be a whole positive number."""
    size = (input_size + 2 * pad - filter_size) / stride + 1
    if size < 1 or size != int(size):
        raise ValueError(f"a {filter_size}-wide filter with stride {stride} and pad {pad} "
                         f"does not tile an input of {input_size}")
    return int(size)


class SimpleConvNet(Network):
    """The book's ``SimpleConvNet`` (``ch07/simple_convnet.py``).

    Parameters: W1 (filter_num, C, FH, FW), b1; W2 (hidden, pooled features), b2;
    W3 (output, hidden), b3. Affine weights are (out, in) like ``nn.Linear``.
    """

    def __init__(self, input_dim=(1, 28, 28),
                 conv_param={"filter_num": 30, "filter_size": 5, "pad": 0, "stride": 1},  # noqa: B006 - the book's
                 hidden_size=100, output_size=10, weight_init_std=0.01, dtype=np.float32, seed=None, readable=False):
        self.readable = readable
        filter_num, filter_size, pad, stride = check_conv_param(conv_param, "SimpleConvNet")
        channels, height, width = check_input_dim(input_dim, "SimpleConvNet")
        hidden_size = check_size(hidden_size, "hidden_size", "SimpleConvNet")
        output_size = check_size(output_size, "output_size", "SimpleConvNet")
        conv_h = conv_output_size(height, filter_size, stride, pad)
        conv_w = conv_output_size(width, filter_size, stride, pad)
        check_pooled(conv_h, conv_w, "SimpleConvNet")
        pool_output_size = filter_num * (conv_h // 2) * (conv_w // 2)
        self.input_dim = tuple(input_dim)
        self.dtype = dtype_of(dtype)
        rng = make_rng(seed)
        self.params = {
            "W1": self._init_weight((filter_num, channels, filter_size, filter_size), weight_init_std, rng),
            "b1": np.zeros(filter_num, dtype=self.dtype),
            "W2": self._init_weight((hidden_size, pool_output_size), weight_init_std, rng),
            "b2": np.zeros(hidden_size, dtype=self.dtype),
            "W3": self._init_weight((output_size, hidden_size), weight_init_std, rng),
            "b3": np.zeros(output_size, dtype=self.dtype),
        }
        self.layers = OrderedDict()
        self.layers["Conv1"] = self._convolution(self.params["W1"], self.params["b1"], stride, pad)
        self.layers["Conv1"].need_dx = False  # nothing upstream needs dL/dx of the images
        self.layers["Relu1"] = Relu()
        self.layers["Pool1"] = self._pooling(2, 2, 2, 0)
        self.layers["Affine1"] = self._affine(self.params["W2"], self.params["b2"])
        self.layers["Relu2"] = Relu()
        self.layers["Affine2"] = self._affine(self.params["W3"], self.params["b3"])
        self.last_layer = self._softmax_with_loss()

    def predict(self, x):
        x = self._as_images(x)
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        return self.last_layer.forward(self.predict(x), t)

    def accuracy(self, x, t, batch_size=100):
        return super().accuracy(x, t, batch_size)

    def numerical_gradient(self, x, t):
        """Gradients by central differences (4.5.1): very slow, for checking only."""
        loss_W = lambda W: self.loss(x, t)  # noqa: E731 - the book's form
        return {name: numerical_gradient_of(loss_W, param) for name, param in self.params.items()}

    def gradient(self, x, t):
        """Backpropagation; the loss of the forward pass is kept as ``last_loss``."""
        self.last_loss = self.loss(x, t)
        dout = self.last_layer.backward(1)
        for layer in reversed(self.layers.values()):
            dout = layer.backward(dout)
        return {"W1": self.layers["Conv1"].dW, "b1": self.layers["Conv1"].db,
                "W2": self.layers["Affine1"].dW, "b2": self.layers["Affine1"].db,
                "W3": self.layers["Affine2"].dW, "b3": self.layers["Affine2"].db}
