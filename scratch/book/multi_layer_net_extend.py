"""The book's ``common/multi_layer_net_extend.py``: any depth, weight decay, batch norm, dropout.

``scratch.MultiLayerNetExtend`` with the book's weights and layers
(``BookNetwork``): float64, W = std * randn(in, out) per layer from the global
generator, the book's per-element batch norm (eps 1e-6) and non-inverted
dropout (masks from ``np.random.rand``).
"""
import numpy as np

from .. import multi_layer_net_extend
from .network_base import BookNetwork

__all__ = ["MultiLayerNetExtend"]


class MultiLayerNetExtend(BookNetwork, multi_layer_net_extend.MultiLayerNetExtend):
    """Affine -> [BatchNorm] -> ReLU/Sigmoid -> [Dropout] per hidden layer, then Affine -> SoftmaxWithLoss."""

    def __init__(self, input_size, hidden_size_list, output_size, activation="relu", weight_init_std="relu",
                 weight_decay_lambda=0, use_dropout=False, dropout_ration=0.5, use_batchnorm=False):
        super().__init__(input_size, hidden_size_list, output_size, activation, weight_init_std,
                         weight_decay_lambda, use_dropout, dropout_ration, use_batchnorm, dtype=np.float64)
