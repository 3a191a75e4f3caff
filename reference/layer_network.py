"""What chapter 8's networks share, in PyTorch: a network is its list of layers, run in order.

As ``scratch.layer_network``: LeNet, AlexNet, VGG, GoogLeNet and ResNet
build ``self.layers`` and ``self.last_layer``; predict, loss and accuracy
are here, once. ``gradient`` is one autograd pass over the loss (what
``loss.backward()`` does), so no network needs a gradient mapping.
``takes_train_flg`` decides which layers get ``train_flg`` from what a
layer is, never from its name.
"""
import torch

from .batch_normalization import BatchNormalization
from .dropout import Dropout
from .network_base import Network

__all__ = ["LayerNetwork", "TRAIN_FLG_LAYERS", "takes_train_flg"]

# The layers whose forward is forward(x, train_flg), and their subclasses.
TRAIN_FLG_LAYERS = (Dropout, BatchNormalization)


def takes_train_flg(layer):
    """Whether ``layer.forward`` takes ``train_flg``: dropout and batch norm (and their subclasses), and a
    block of layers whose class says so (``takes_train_flg = True``, e.g. a residual block)."""
    return isinstance(layer, TRAIN_FLG_LAYERS) or bool(getattr(type(layer), "takes_train_flg", False))


class LayerNetwork(Network):
    """A network that is its ``layers`` run in order: predict, loss, accuracy and gradient for chapter 8.

    A subclass sets ``params``, ``dtype``, ``input_dim`` (C, H, W), ``layers``
    and ``last_layer`` in its constructor, building every layer that has a
    hook through it (``_convolution``, ``_pooling``, ``_batch_norm``, ...).
    """

    def _init_params(self, shapes, weight_init_std, rng, ones=()):
        """``params`` from the plan's shapes, in their order: weights (2-D or 4-D) drawn, vectors 0 (1 for
        the names in ``ones``, e.g. batch norm's gamma), every tensor with requires_grad."""
        params = {}
        for name, shape in shapes.items():
            if len(shape) >= 2:
                params[name] = self._init_weight(shape, weight_init_std, rng)
            else:
                params[name] = (torch.ones if name in ones else torch.zeros)(shape, dtype=self.dtype,
                                                                             requires_grad=True)
        return params

    def predict(self, x, train_flg=False):
        """Class scores (N, output_size); dropout and batch norm run in training mode when ``train_flg``."""
        x = self._as_images(x)
        for layer in self.layers.values():
            x = layer.forward(x, train_flg) if takes_train_flg(layer) else layer.forward(x)
        return x

    def loss(self, x, t, train_flg=True):
        """The training loss (dropout active, batch statistics) unless ``train_flg=False``."""
        return self.last_layer.forward(self.predict(x, train_flg), t)

    def accuracy(self, x, t, batch_size=100):
        return super().accuracy(x, t, batch_size)

    def gradient(self, x, t, train_flg=True):
        """One autograd pass over the loss; the loss is kept as ``last_loss``."""
        return self._autograd_gradient(self.loss(x, t, train_flg))
