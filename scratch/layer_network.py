"""What chapter 8's networks share: a network is its list of layers, run in order.

LeNet, AlexNet, VGG, GoogLeNet and ResNet each build ``self.layers`` (an
ordered dict; a layer may be a block of layers, such as an inception block
or a residual block) and ``self.last_layer``, and say how the layers'
gradients become the gradients of ``params`` (``_param_gradients``).
Everything else is here, once:

    predict:  x -> layer_1 -> layer_2 -> ... -> scores
    loss:     SoftmaxWithLoss(predict(x), t)
    gradient: backward through the layers in reverse order (5.7.2), then
              each parameter's gradient from the layer that holds it

Dropout and batch norm behave differently when training, so their
``forward`` takes ``train_flg``; ``takes_train_flg`` decides which layers
get it from what a layer is, never from its name.
"""
import numpy as np

from .batch_normalization import BatchNormalization
from .dropout import Dropout
from .network_base import Network

__all__ = ["LayerNetwork", "TRAIN_FLG_LAYERS", "takes_train_flg"]

# The layers whose forward is forward(x, train_flg); scratch.book's and scratch.fast's are subclasses.
TRAIN_FLG_LAYERS = (Dropout, BatchNormalization)


def takes_train_flg(layer):
    """Whether ``layer.forward`` takes ``train_flg``: dropout and batch norm (and their subclasses), and a
    block of layers whose class says so (``takes_train_flg = True``, e.g. a residual block)."""
    return isinstance(layer, TRAIN_FLG_LAYERS) or bool(getattr(type(layer), "takes_train_flg", False))


class LayerNetwork(Network):
    """A network that is its ``layers`` run in order: predict, loss, accuracy and gradient for chapter 8.

    A subclass sets ``params``, ``dtype``, ``input_dim`` (C, H, W), ``layers``
    and ``last_layer`` in its constructor, building every layer that has a
    hook through it (``_convolution``, ``_pooling``, ``_batch_norm``, ...),
    and implements ``_param_gradients``.
    """

    def _init_params(self, shapes, weight_init_std, rng, ones=()):
        """``params`` from the plan's shapes, in their order: weights (2-D or 4-D) drawn, vectors 0 (1 for
        the names in ``ones``, e.g. batch norm's gamma)."""
        params = {}
        for name, shape in shapes.items():
            if len(shape) >= 2:
                params[name] = self._init_weight(shape, weight_init_std, rng)
            else:
                params[name] = (np.ones if name in ones else np.zeros)(shape, dtype=self.dtype)
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
        """Backpropagation through the layers (and blocks); the loss is kept as ``last_loss``."""
        self.last_loss = self.loss(x, t, train_flg)
        dout = self.last_layer.backward(1)
        for layer in reversed(self.layers.values()):
            dout = layer.backward(dout)
        grads = self._param_gradients()
        return {name: grads[name] for name in self.params}

    def _param_gradients(self):
        """{parameter name: its gradient}, read from the layers after ``backward``; each network says how."""
        raise NotImplementedError(f"{type(self).__name__} must say how its layers' gradients map to its params")
