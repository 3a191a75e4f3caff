"""The chapter-7 convolutional network (7.5), in PyTorch: conv - relu - pool - affine - relu - affine - softmax."""
from collections import OrderedDict

import torch

from scratch.checks import check_size
from scratch.simple_convnet import check_conv_param, check_input_dim, check_pooled

from ._tensor import torch_dtype
from .convolution import Convolution
from .layers import Affine, Relu, SoftmaxWithLoss
from .network_base import Network
from .weight_init import init_weight, make_rng

__all__ = ["SimpleConvNet", "conv_output_size"]


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
                 hidden_size=100, output_size=10, weight_init_std=0.01, dtype="float32", seed=None, readable=False):
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
        self.dtype = torch_dtype(dtype)
        rng = make_rng(seed)
        self.params = {
            "W1": init_weight((filter_num, channels, filter_size, filter_size), weight_init_std, rng, self.dtype),
            "b1": torch.zeros(filter_num, dtype=self.dtype, requires_grad=True),
            "W2": init_weight((hidden_size, pool_output_size), weight_init_std, rng, self.dtype),
            "b2": torch.zeros(hidden_size, dtype=self.dtype, requires_grad=True),
            "W3": init_weight((output_size, hidden_size), weight_init_std, rng, self.dtype),
            "b3": torch.zeros(output_size, dtype=self.dtype, requires_grad=True),
        }
        self.layers = OrderedDict()
        self.layers["Conv1"] = Convolution(self.params["W1"], self.params["b1"], stride, pad)
        self.layers["Conv1"].need_dx = False  # nothing upstream needs dL/dx of the images
        self.layers["Relu1"] = Relu()
        self.layers["Pool1"] = self._pooling(2, 2, 2, 0)
        self.layers["Affine1"] = Affine(self.params["W2"], self.params["b2"])
        self.layers["Relu2"] = Relu()
        self.layers["Affine2"] = Affine(self.params["W3"], self.params["b3"])
        self.last_layer = SoftmaxWithLoss()

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
        """The mirror of the book's finite differences: autograd over the whole loss at once."""
        names = list(self.params)
        grads = torch.autograd.grad(self.loss(x, t), [self.params[n] for n in names])
        return dict(zip(names, grads))

    def gradient(self, x, t):
        """Backpropagation as one autograd pass; the loss of the forward pass is kept as ``last_loss``.

        ``layerwise_gradient`` is the book's loop over the layers' ``backward``.
        """
        return self._autograd_gradient(self.loss(x, t))

    def layerwise_gradient(self, x, t):
        """The book's backpropagation: each layer's ``backward`` in reverse order."""
        return self._layerwise_gradient(self.loss(x, t))
