"""The book as written: *Deep Learning from Scratch*'s own semantics, in NumPy, under the book's names.

``scratch`` is the book's code with PyTorch's semantics; ``scratch.book`` is
the book exactly, so that the book's chapter scripts run on it with only
their import lines changed and print the book's numbers under the same
``np.random.seed``::

    from common.layers import *                  ->  from scratch.book import *
    from common.optimizer import SGD, Adam       ->  from scratch.book import SGD, Adam
    from dataset.mnist import load_mnist         ->  from scratch.book import load_mnist
    from two_layer_net import TwoLayerNet        ->  from scratch.book import TwoLayerNet   (chapter 5)
                                                     from scratch.book.ch04 import TwoLayerNet   (chapter 4)
    from simple_convnet import SimpleConvNet     ->  from scratch.book import SimpleConvNet
    from layer_naive import *                    ->  from scratch.book import MulLayer, AddLayer
    import pickle                                ->  from scratch.book import safe_pickle as pickle

It reuses ``scratch``'s code wherever the math is the same and differs only
where the book does: Affine weights stored (in, out), float64 (NumPy's
default), weights, minibatches and dropout masks from the global
``np.random``, cross-entropy with +1e-7, the book's optimizers (eps 1e-7,
Adam's eps before the bias correction), per-element batch norm with eps 1e-6
and a biased running variance starting at 0, non-inverted dropout, a
``Trainer`` that prints the book's lines, ``load_mnist`` with the book's
dtypes, and the book's pickled weight files (read by a restricted
unpickler). Each module's docstring says what it changes.

Like the book's ``from common.optimizer import *``, ``from scratch.book import *`` brings ``np``.
"""
import numpy as np

from .. import safe_pickle
from ..gates import AND, NAND, OR, XOR
from . import (deep_convnet, functions, gradient, layers, mnist, multi_layer_net, multi_layer_net_extend,
               optimizer, simple_convnet, trainer, two_layer_net, util)
from .deep_convnet import *  # noqa: F401,F403
from .functions import *  # noqa: F401,F403
from .gradient import *  # noqa: F401,F403
from .layers import *  # noqa: F401,F403
from .mnist import *  # noqa: F401,F403
from .multi_layer_net import *  # noqa: F401,F403
from .multi_layer_net_extend import *  # noqa: F401,F403
from .optimizer import *  # noqa: F401,F403
from .simple_convnet import *  # noqa: F401,F403
from .trainer import *  # noqa: F401,F403
from .two_layer_net import *  # noqa: F401,F403
from .util import *  # noqa: F401,F403

_MODULES = (functions, gradient, layers, optimizer, util, mnist, multi_layer_net, multi_layer_net_extend,
            trainer, two_layer_net, simple_convnet, deep_convnet)

__all__ = sorted({name for module in _MODULES for name in module.__all__}
                 | {"AND", "NAND", "OR", "XOR", "np", "safe_pickle"})
