"""Chapter 5's ``TwoLayerNet`` (``ch05/two_layer_net.py``): Affine - ReLU - Affine - SoftmaxWithLoss.

``scratch.TwoLayerNet`` with the book's weights and layers (``BookNetwork``):
W1 = std * randn(input, hidden), W2 = std * randn(hidden, output) from the
global generator, float64, the book's Affine and SoftmaxWithLoss. Chapter 4's
sigmoid network is ``scratch.book.ch04.TwoLayerNet``.
"""
import numpy as np

from .. import two_layer_net
from .network_base import BookNetwork

__all__ = ["TwoLayerNet"]


class TwoLayerNet(BookNetwork, two_layer_net.TwoLayerNet):
    """The book's chapter-5 network; ``gradient`` is backpropagation, ``numerical_gradient`` the check."""

    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        super().__init__(input_size, hidden_size, output_size, weight_init_std,
                         activation="relu", dtype=np.float64)
