"""The chapter-8 deep network (8.1.1) in PyTorch, about 99.4% on MNIST:

    conv - relu - conv - relu - pool -
    conv - relu - conv - relu - pool -
    conv - relu - conv - relu - pool -
    affine - relu - dropout - affine - dropout - softmax

3x3 filters, 16-16-32-32-64-64 channels (the fourth with pad 2), He's
initial weights.
"""
from collections import OrderedDict

import torch

from scratch.checks import check_size
from scratch.simple_convnet import check_conv_param, check_input_dim, check_pooled

from ._tensor import torch_dtype
from .convolution import Convolution
from .dropout import Dropout
from .layers import Affine, Relu, SoftmaxWithLoss
from .network_base import Network
from .serialization import is_book_file
from .serialization import load_params as read_params_file
from scratch.simple_convnet import conv_output_size
from .weight_init import init_weight, make_rng

__all__ = ["DeepConvNet"]

DEFAULT_CONV_PARAMS = (
    {"filter_num": 16, "filter_size": 3, "pad": 1, "stride": 1},
    {"filter_num": 16, "filter_size": 3, "pad": 1, "stride": 1},
    {"filter_num": 32, "filter_size": 3, "pad": 1, "stride": 1},
    {"filter_num": 32, "filter_size": 3, "pad": 2, "stride": 1},
    {"filter_num": 64, "filter_size": 3, "pad": 1, "stride": 1},
    {"filter_num": 64, "filter_size": 3, "pad": 1, "stride": 1},
)


class DeepConvNet(Network):
    """The book's ``DeepConvNet`` (``ch08/deep_convnet.py``). Parameters W1..W8, b1..b8.

    Dropout is PyTorch's inverted dropout: identity at test time. The book's
    published weights were trained with the book's dropout, which scales by
    (1 - ratio) at test time instead; ``load_params`` of a book file folds
    that scaling into W8 and b8 (see there), so the predictions stay the book's.
    """

    def __init__(self, input_dim=(1, 28, 28),
                 conv_param_1=DEFAULT_CONV_PARAMS[0], conv_param_2=DEFAULT_CONV_PARAMS[1],
                 conv_param_3=DEFAULT_CONV_PARAMS[2], conv_param_4=DEFAULT_CONV_PARAMS[3],
                 conv_param_5=DEFAULT_CONV_PARAMS[4], conv_param_6=DEFAULT_CONV_PARAMS[5],
                 hidden_size=50, output_size=10, dropout_ratio=0.5, dtype="float32", seed=None, readable=False):
        self.readable = readable
        self.input_dim = tuple(input_dim)
        self.dtype = torch_dtype(dtype)
        self.dropout_ratio = dropout_ratio
        rng = make_rng(seed)
        conv_params = [conv_param_1, conv_param_2, conv_param_3, conv_param_4, conv_param_5, conv_param_6]
        for idx, p in enumerate(conv_params, start=1):
            check_conv_param(p, "DeepConvNet", f"conv_param_{idx}")
        channels, height, width = check_input_dim(input_dim, "DeepConvNet")
        hidden_size = check_size(hidden_size, "hidden_size", "DeepConvNet")
        output_size = check_size(output_size, "output_size", "DeepConvNet")
        self.params = {}
        self.layers = OrderedDict()
        for idx, p in enumerate(conv_params, start=1):
            shape = (p["filter_num"], channels, p["filter_size"], p["filter_size"])
            self.params[f"W{idx}"] = init_weight(shape, "he", rng, self.dtype)
            self.params[f"b{idx}"] = torch.zeros(p["filter_num"], dtype=self.dtype, requires_grad=True)
            self.layers[f"Conv{idx}"] = Convolution(self.params[f"W{idx}"], self.params[f"b{idx}"],
                                                    p["stride"], p["pad"])
            self.layers[f"Relu{idx}"] = Relu()
            channels = p["filter_num"]
            height = conv_output_size(height, p["filter_size"], p["stride"], p["pad"])
            width = conv_output_size(width, p["filter_size"], p["stride"], p["pad"])
            if idx % 2 == 0:
                check_pooled(height, width, "DeepConvNet")
                self.layers[f"Pool{idx // 2}"] = self._pooling(2, 2, 2, 0)
                height, width = height // 2, width // 2
        self.layers["Conv1"].need_dx = False
        self.params["W7"] = init_weight((hidden_size, channels * height * width), "he", rng, self.dtype)
        self.params["b7"] = torch.zeros(hidden_size, dtype=self.dtype, requires_grad=True)
        self.params["W8"] = init_weight((output_size, hidden_size), "he", rng, self.dtype)
        self.params["b8"] = torch.zeros(output_size, dtype=self.dtype, requires_grad=True)
        self.layers["Affine1"] = Affine(self.params["W7"], self.params["b7"])
        self.layers["Relu7"] = Relu()
        self.layers["Dropout1"] = Dropout(dropout_ratio, seed=int(torch.randint(2**31, (), generator=rng)))
        self.layers["Affine2"] = Affine(self.params["W8"], self.params["b8"])
        self.layers["Dropout2"] = Dropout(dropout_ratio, seed=int(torch.randint(2**31, (), generator=rng)))
        self.last_layer = SoftmaxWithLoss()

    def predict(self, x, train_flg=False):
        x = self._as_images(x)
        for name, layer in self.layers.items():
            x = layer.forward(x, train_flg) if isinstance(layer, Dropout) else layer.forward(x)
        return x

    def loss(self, x, t):
        """The training loss: dropout active, as in the book."""
        return self.last_layer.forward(self.predict(x, train_flg=True), t)

    def accuracy(self, x, t, batch_size=100):
        return super().accuracy(x, t, batch_size)

    def gradient(self, x, t):
        """Backpropagation (dropout active) as one autograd pass; the loss is kept as ``last_loss``.

        ``layerwise_gradient`` is the book's loop over the layers' ``backward``.
        """
        return self._autograd_gradient(self.loss(x, t))

    def layerwise_gradient(self, x, t):
        """The book's backpropagation: each layer's ``backward`` in reverse order (dropout active)."""
        return self._layerwise_gradient(self.loss(x, t))

    def load_params(self, source):
        """Load parameters; a book file gets the book's test-time dropout scaling folded in.

        The book's network computes, at test time, logits = (1-p) (W8 (1-p) h + b8)
        (each Dropout multiplies by 1 - p). With inverted dropout (identity at test
        time) the same logits come from W8' = (1-p)^2 W8 and b8' = (1-p) b8.
        """
        if isinstance(source, dict) or not is_book_file(source):
            return super().load_params(source)
        params = read_params_file(source)
        if "W8" in params and "b8" in params:  # otherwise the base class names what is missing
            keep = 1 - self.dropout_ratio
            params["W8"] = params["W8"] * keep * keep
            params["b8"] = params["b8"] * keep
        return super().load_params(params)
