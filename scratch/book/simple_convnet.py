"""Chapter 7's ``SimpleConvNet`` (``ch07/simple_convnet.py``): conv - relu - pool - affine - relu - affine - softmax.

``scratch.SimpleConvNet`` with the book's weights and layers (``BookNetwork``):
float64, filters std * randn(FN, C, FH, FW) and Affine weights std * randn(in, out)
from the global generator. ``save_params``/``load_params`` read and write the
book's ``params.pkl`` (safely).
"""
import numpy as np

from .. import simple_convnet
from .network_base import BookNetwork

__all__ = ["SimpleConvNet"]


class SimpleConvNet(BookNetwork, simple_convnet.SimpleConvNet):
    """The book's chapter-7 network."""

    def __init__(self, input_dim=(1, 28, 28),
                 conv_param={"filter_num": 30, "filter_size": 5, "pad": 0, "stride": 1},  # noqa: B006 - the book's
                 hidden_size=100, output_size=10, weight_init_std=0.01):
        super().__init__(input_dim, conv_param, hidden_size, output_size, weight_init_std, dtype=np.float64)
