"""The book's ``common/multi_layer_net.py``: ``MultiLayerNetExtend`` without batch norm and dropout."""
from .multi_layer_net_extend import MultiLayerNetExtend

__all__ = ["MultiLayerNet"]


class MultiLayerNet(MultiLayerNetExtend):
    """Affine -> ReLU/Sigmoid per hidden layer, then Affine -> SoftmaxWithLoss; weight decay optional."""

    def __init__(self, input_size, hidden_size_list, output_size, activation="relu", weight_init_std="relu",
                 weight_decay_lambda=0):
        super().__init__(input_size, hidden_size_list, output_size, activation, weight_init_std,
                         weight_decay_lambda)
