"""Chapter 8's ``DeepConvNet`` (``ch08/deep_convnet.py``): six 3x3 convolutions, two affine layers, dropout.

``scratch.DeepConvNet`` with the book's weights and layers (``BookNetwork``):
float64, He's initial weights drawn from the global generator (filters
(FN, C, 3, 3), Affine weights (in, out)), and the book's dropout (ratio 0.5,
not inverted: the test pass multiplies by 0.5), whose masks come from
``np.random.rand``. The book's ``deep_convnet_params.pkl`` loads as it is
(no folding of the dropout scale, which ``scratch.DeepConvNet`` needs).
"""
import numpy as np

from .. import deep_convnet
from ..deep_convnet import DEFAULT_CONV_PARAMS
from .network_base import BookNetwork

__all__ = ["DeepConvNet"]


class DeepConvNet(BookNetwork, deep_convnet.DeepConvNet):
    """The book's chapter-8 network."""

    def __init__(self, input_dim=(1, 28, 28),
                 conv_param_1=DEFAULT_CONV_PARAMS[0], conv_param_2=DEFAULT_CONV_PARAMS[1],
                 conv_param_3=DEFAULT_CONV_PARAMS[2], conv_param_4=DEFAULT_CONV_PARAMS[3],
                 conv_param_5=DEFAULT_CONV_PARAMS[4], conv_param_6=DEFAULT_CONV_PARAMS[5],
                 hidden_size=50, output_size=10):
        super().__init__(input_dim, conv_param_1, conv_param_2, conv_param_3, conv_param_4, conv_param_5,
                         conv_param_6, hidden_size, output_size, dropout_ratio=0.5, dtype=np.float64)
