"""A fully connected network of any depth (chapter 6), with optional batch norm and dropout.

Affine -> [BatchNorm] -> ReLU/Sigmoid -> [Dropout], once per hidden layer,
then Affine -> SoftmaxWithLoss. Weight decay (6.4.2) adds
0.5 * lambda * sum ||W||^2 over the weights (not the biases, as in the book)
to the loss, and lambda * W to each weight's gradient.
"""
from collections import OrderedDict

import numpy as np

from .checks import check_non_negative, dtype_of
from .gradient import numerical_gradient as numerical_gradient_of
from .layers import Relu, Sigmoid
from .network_base import Network
from .weight_init import make_rng

__all__ = ["MultiLayerNetExtend"]

ACTIVATIONS = {"relu": Relu, "sigmoid": Sigmoid}


def check_layer_sizes(input_size, hidden_size_list, output_size):
    sizes = [input_size, *hidden_size_list, output_size]
    if not all(isinstance(s, (int, np.integer)) and s > 0 for s in sizes):
        raise ValueError(f"layer sizes must be positive integers, got {sizes}")
    return sizes


class MultiLayerNetExtend(Network):
    """The book's ``MultiLayerNetExtend`` (``common/multi_layer_net_extend.py``).

    ``weight_init_std``: a number, 'relu'/'he' (sqrt(2/n)) or 'sigmoid'/'xavier'
    (sqrt(1/n)). ``dropout_ration`` keeps the book's spelling. Dropout is
    PyTorch's inverted dropout (see ``Dropout``). Parameters: W1, b1, ...,
    and gamma1, beta1, ... for the batch-norm layers.
    """

    def __init__(self, input_size, hidden_size_list, output_size, activation="relu",
                 weight_init_std="relu", weight_decay_lambda=0, use_dropout=False,
                 dropout_ration=0.5, use_batchnorm=False, dtype=np.float32, seed=None, readable=False):
        self.readable = readable
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        sizes = check_layer_sizes(input_size, hidden_size_list, output_size)
        self.dtype = dtype_of(dtype)
        self.hidden_layer_num = len(hidden_size_list)
        check_non_negative(weight_decay_lambda, "weight_decay_lambda")
        self.weight_decay_lambda = float(weight_decay_lambda)  # a Python float: float32 stays float32
        rng = make_rng(seed)
        self.params = {}
        self.layers = OrderedDict()
        for idx in range(1, len(sizes)):
            self.params[f"W{idx}"] = self._init_weight((sizes[idx], sizes[idx - 1]), weight_init_std, rng)
            self.params[f"b{idx}"] = np.zeros(sizes[idx], dtype=self.dtype)
            self.layers[f"Affine{idx}"] = self._affine(self.params[f"W{idx}"], self.params[f"b{idx}"])
            if idx == len(sizes) - 1:
                break
            if use_batchnorm:
                self.params[f"gamma{idx}"] = np.ones(sizes[idx], dtype=self.dtype)
                self.params[f"beta{idx}"] = np.zeros(sizes[idx], dtype=self.dtype)
                self.layers[f"BatchNorm{idx}"] = self._batch_norm(self.params[f"gamma{idx}"], self.params[f"beta{idx}"])
            self.layers[f"Activation_function{idx}"] = ACTIVATIONS[activation]()
            if use_dropout:
                self.layers[f"Dropout{idx}"] = self._dropout(dropout_ration, rng)
        self.last_layer = self._softmax_with_loss()

    def predict(self, x, train_flg=False):
        x = self._as_input(x)
        for key, layer in self.layers.items():
            if "Dropout" in key or "BatchNorm" in key:
                x = layer.forward(x, train_flg)
            else:
                x = layer.forward(x)
        return x

    def weight_decay(self):
        """0.5 * lambda * sum of ||W||^2 over the weights (6.4.2)."""
        if self.weight_decay_lambda == 0:
            return 0
        return sum(0.5 * self.weight_decay_lambda * np.sum(self.params[f"W{idx}"] ** 2)
                   for idx in range(1, self.hidden_layer_num + 2))

    def loss(self, x, t, train_flg=False):
        """Cross-entropy plus the weight-decay penalty."""
        y = self.predict(x, train_flg)
        return self.last_layer.forward(y, t) + self.weight_decay()

    def numerical_gradient(self, x, t):
        """Gradients by central differences (training mode, as in the book): for checking only."""
        loss_W = lambda W: self.loss(x, t, train_flg=True)  # noqa: E731 - the book's form
        return {name: numerical_gradient_of(loss_W, param) for name, param in self.params.items()}

    def gradient(self, x, t):
        """Backpropagation (training mode); each weight's gradient gets + lambda * W.

        The loss of that forward pass is kept as ``last_loss``.
        """
        self.last_loss = self.loss(x, t, train_flg=True)
        dout = self.last_layer.backward(1)
        for layer in reversed(self.layers.values()):
            dout = layer.backward(dout)
        grads = {}
        for idx in range(1, self.hidden_layer_num + 2):
            affine = self.layers[f"Affine{idx}"]
            grads[f"W{idx}"] = affine.dW + self.weight_decay_lambda * self.params[f"W{idx}"]
            grads[f"b{idx}"] = affine.db
            if f"BatchNorm{idx}" in self.layers:
                grads[f"gamma{idx}"] = self.layers[f"BatchNorm{idx}"].dgamma
                grads[f"beta{idx}"] = self.layers[f"BatchNorm{idx}"].dbeta
        return grads
