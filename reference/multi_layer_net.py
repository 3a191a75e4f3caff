"""The book's ``MultiLayerNet`` (chapter 6), in PyTorch: fully connected, any depth, weight decay.

It is ``MultiLayerNetExtend`` without batch norm and dropout.
"""

from .multi_layer_net_extend import MultiLayerNetExtend

__all__ = ["MultiLayerNet"]


class MultiLayerNet(MultiLayerNetExtend):
    """Affine -> ReLU/Sigmoid per hidden layer, then Affine -> SoftmaxWithLoss."""

    def __init__(self, input_size, hidden_size_list, output_size, activation="relu",
                 weight_init_std="relu", weight_decay_lambda=0, dtype="float32", seed=None):
        super().__init__(input_size, hidden_size_list, output_size, activation=activation,
                         weight_init_std=weight_init_std, weight_decay_lambda=weight_decay_lambda,
                         dtype=dtype, seed=seed)
