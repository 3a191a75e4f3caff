"""Deep Learning from Scratch mirrored in PyTorch, with the same public names as ``scratch``.

Every public name of every module is re-exported here, e.g.
``from reference import Affine, Adam, TwoLayerNet``.
"""
from . import functions
from . import gates
from . import gradient
from . import layers
from . import mnist
from . import network_base
from . import optimizer
from . import serialization
from . import weight_init
from . import three_layer_net
from . import two_layer_net
from .functions import *  # noqa: F401,F403
from .gates import *  # noqa: F401,F403
from .gradient import *  # noqa: F401,F403
from .layers import *  # noqa: F401,F403
from .mnist import *  # noqa: F401,F403
from .network_base import *  # noqa: F401,F403
from .optimizer import *  # noqa: F401,F403
from .serialization import *  # noqa: F401,F403
from .weight_init import *  # noqa: F401,F403
from .three_layer_net import *  # noqa: F401,F403
from .two_layer_net import *  # noqa: F401,F403

BACKEND = "torch"

__all__ = sorted({name for module in (functions, gates, gradient, layers, mnist, network_base, optimizer, serialization, weight_init, three_layer_net, two_layer_net)
                  for name in module.__all__} | {"BACKEND"})
