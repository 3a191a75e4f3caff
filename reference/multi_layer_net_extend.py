"""A fully connected network of any depth (chapter 6), with optional batch norm and dropout, in PyTorch.

Affine -> [BatchNorm] -> ReLU/Sigmoid -> [Dropout], once per hidden layer,
then Affine -> SoftmaxWithLoss. Weight decay (6.4.2) adds the explicit
penalty 0.5 * lambda * sum ||W||^2 over the weights (not the biases) to the
loss; its gradient comes from autograd like every other.
"""
from collections import OrderedDict

import torch

from scratch.checks import check_non_negative
from scratch.multi_layer_net_extend import check_layer_sizes

from ._tensor import backprop, torch_dtype
from .batch_normalization import BatchNormalization
from .dropout import Dropout
from .layers import Affine, Relu, Sigmoid, SoftmaxWithLoss
from .network_base import Network
from .weight_init import init_weight, make_rng

__all__ = ["MultiLayerNetExtend"]

ACTIVATIONS = {"relu": Relu, "sigmoid": Sigmoid}


class MultiLayerNetExtend(Network):
    """The book's ``MultiLayerNetExtend`` (``common/multi_layer_net_extend.py``).

    ``weight_init_std``: a number, 'relu'/'he' (sqrt(2/n)) or 'sigmoid'/'xavier'
    (sqrt(1/n)). ``dropout_ration`` keeps the book's spelling. Parameters:
    W1, b1, ..., and gamma1, beta1, ... for the batch-norm layers.
    """

    def __init__(self, input_size, hidden_size_list, output_size, activation="relu",
                 weight_init_std="relu", weight_decay_lambda=0, use_dropout=False,
                 dropout_ration=0.5, use_batchnorm=False, dtype="float32", seed=None, readable=False):
        self.readable = readable
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        sizes = check_layer_sizes(input_size, hidden_size_list, output_size)
        self.dtype = torch_dtype(dtype)
        self.hidden_layer_num = len(hidden_size_list)
        check_non_negative(weight_decay_lambda, "weight_decay_lambda")
        self.weight_decay_lambda = float(weight_decay_lambda)  # a Python float: float32 stays float32
        rng = make_rng(seed)
        self.params = {}
        self.layers = OrderedDict()
        for idx in range(1, len(sizes)):
            self.params[f"W{idx}"] = init_weight((sizes[idx], sizes[idx - 1]), weight_init_std, rng, self.dtype)
            self.params[f"b{idx}"] = torch.zeros(sizes[idx], dtype=self.dtype, requires_grad=True)
            self.layers[f"Affine{idx}"] = Affine(self.params[f"W{idx}"], self.params[f"b{idx}"])
            if idx == len(sizes) - 1:
                break
            if use_batchnorm:
                self.params[f"gamma{idx}"] = torch.ones(sizes[idx], dtype=self.dtype, requires_grad=True)
                self.params[f"beta{idx}"] = torch.zeros(sizes[idx], dtype=self.dtype, requires_grad=True)
                self.layers[f"BatchNorm{idx}"] = BatchNormalization(self.params[f"gamma{idx}"],
                                                                     self.params[f"beta{idx}"])
            self.layers[f"Activation_function{idx}"] = ACTIVATIONS[activation]()
            if use_dropout:
                seed_of_layer = int(torch.randint(2**31, (), generator=rng))
                self.layers[f"Dropout{idx}"] = Dropout(dropout_ration, seed=seed_of_layer)
        self.last_layer = SoftmaxWithLoss()

    def predict(self, x, train_flg=False):
        x = self._as_input(x)
        for key, layer in self.layers.items():
            if "Dropout" in key or "BatchNorm" in key:
                x = layer.forward(x, train_flg)
            else:
                x = layer.forward(x)
        return x

    def _weights(self):
        return [self.params[f"W{idx}"] for idx in range(1, self.hidden_layer_num + 2)]

    def weight_decay(self):
        """0.5 * lambda * sum of ||W||^2 over the weights (6.4.2), as a tensor autograd can follow."""
        if self.weight_decay_lambda == 0:
            return 0
        return sum(0.5 * self.weight_decay_lambda * torch.sum(W ** 2) for W in self._weights())

    def loss(self, x, t, train_flg=False):
        """Cross-entropy plus the weight-decay penalty."""
        y = self.predict(x, train_flg)
        self._penalty = self.weight_decay()
        return self.last_layer.forward(y, t) + self._penalty

    def numerical_gradient(self, x, t):
        """The mirror of the book's finite differences: autograd over the whole loss (training mode)."""
        names = list(self.params)
        grads = torch.autograd.grad(self.loss(x, t, train_flg=True), [self.params[n] for n in names])
        return dict(zip(names, grads))

    def gradient(self, x, t):
        """Backpropagation (training mode) as one autograd pass over the loss and the penalty.

        The loss of that forward pass is kept as ``last_loss``;
        ``layerwise_gradient`` is the book's loop over the layers' ``backward``.
        """
        return self._autograd_gradient(self.loss(x, t, train_flg=True))

    def layerwise_gradient(self, x, t):
        """The book's backpropagation through the layers (training mode); the penalty's gradient by autograd.

        The loss of that forward pass is kept as ``last_loss``.
        """
        self.last_loss = self.loss(x, t, train_flg=True).detach()
        dout = self.last_layer.backward(1)
        for layer in reversed(self.layers.values()):
            dout = layer.backward(dout)
        decay_grads = (backprop(self._penalty, self._weights(), 1) if self.weight_decay_lambda != 0
                       else [0] * (self.hidden_layer_num + 1))
        grads = {}
        for idx in range(1, self.hidden_layer_num + 2):
            affine = self.layers[f"Affine{idx}"]
            grads[f"W{idx}"] = affine.dW + decay_grads[idx - 1]
            grads[f"b{idx}"] = affine.db
            if f"BatchNorm{idx}" in self.layers:
                grads[f"gamma{idx}"] = self.layers[f"BatchNorm{idx}"].dgamma
                grads[f"beta{idx}"] = self.layers[f"BatchNorm{idx}"].dbeta
        return grads
