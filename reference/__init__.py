"""Deep Learning from Scratch mirrored in PyTorch, with the same public names as ``scratch``.

Every public name of every module is re-exported here, e.g.
``from reference import Affine, Adam, SimpleConvNet``.
"""
from . import functions
from . import gates
from . import gradient
from . import layers
from . import batch_normalization
from . import dropout
from . import util
from . import convolution
from . import local_response_norm
from . import join
from . import mnist
from . import network_base
from . import layer_network
from . import optimizer
from . import serialization
from . import weight_init
from . import three_layer_net
from . import two_layer_net
from . import multi_layer_net_extend
from . import multi_layer_net
from . import trainer
from . import simple_convnet
from . import deep_convnet
from . import lenet
from . import resnet
from . import alexnet
from . import vgg
from . import googlenet
from . import augment
from . import recurrent
from . import lstm
from . import time_layers
from . import attention
from . import multi_digit
from . import captioner
from . import deconvolution
from . import pixel_loss
from . import roi_pooling
from . import boxes
from . import detection_metrics
from . import scenes
from . import fcn
from . import segmentation_metrics
from . import proposals
from . import smooth_l1
from . import rcnn
from . import fast_rcnn
from . import dqn

_MODULES = (functions, gates, gradient, layers, batch_normalization, dropout, util, convolution, local_response_norm, join, mnist, network_base, layer_network, optimizer, serialization, weight_init, three_layer_net, two_layer_net, multi_layer_net_extend, multi_layer_net, trainer, simple_convnet, deep_convnet, lenet, resnet, alexnet, vgg, googlenet, augment, recurrent, lstm, time_layers, attention, multi_digit, captioner, deconvolution, pixel_loss, roi_pooling, boxes, detection_metrics, scenes, fcn, segmentation_metrics, proposals, smooth_l1, rcnn, fast_rcnn, dqn)

from .functions import *  # noqa: E402,F401,F403
from .gates import *  # noqa: E402,F401,F403
from .gradient import *  # noqa: E402,F401,F403
from .layers import *  # noqa: E402,F401,F403
from .batch_normalization import *  # noqa: E402,F401,F403
from .dropout import *  # noqa: E402,F401,F403
from .util import *  # noqa: E402,F401,F403
from .convolution import *  # noqa: E402,F401,F403
from .local_response_norm import *  # noqa: E402,F401,F403
from .join import *  # noqa: E402,F401,F403
from .mnist import *  # noqa: E402,F401,F403
from .network_base import *  # noqa: E402,F401,F403
from .layer_network import *  # noqa: E402,F401,F403
from .optimizer import *  # noqa: E402,F401,F403
from .serialization import *  # noqa: E402,F401,F403
from .weight_init import *  # noqa: E402,F401,F403
from .three_layer_net import *  # noqa: E402,F401,F403
from .two_layer_net import *  # noqa: E402,F401,F403
from .multi_layer_net_extend import *  # noqa: E402,F401,F403
from .multi_layer_net import *  # noqa: E402,F401,F403
from .trainer import *  # noqa: E402,F401,F403
from .simple_convnet import *  # noqa: E402,F401,F403
from .deep_convnet import *  # noqa: E402,F401,F403
from .lenet import *  # noqa: E402,F401,F403
from .resnet import *  # noqa: E402,F401,F403
from .alexnet import *  # noqa: E402,F401,F403
from .vgg import *  # noqa: E402,F401,F403
from .googlenet import *  # noqa: E402,F401,F403
from .augment import *  # noqa: E402,F401,F403
from .recurrent import *  # noqa: E402,F401,F403
from .lstm import *  # noqa: E402,F401,F403
from .time_layers import *  # noqa: E402,F401,F403
from .attention import *  # noqa: E402,F401,F403
from .multi_digit import *  # noqa: E402,F401,F403
from .captioner import *  # noqa: E402,F401,F403
from .deconvolution import *  # noqa: E402,F401,F403
from .pixel_loss import *  # noqa: E402,F401,F403
from .roi_pooling import *  # noqa: E402,F401,F403
from .boxes import *  # noqa: E402,F401,F403
from .detection_metrics import *  # noqa: E402,F401,F403
from .scenes import *  # noqa: E402,F401,F403
from .fcn import *  # noqa: E402,F401,F403
from .segmentation_metrics import *  # noqa: E402,F401,F403
from .proposals import *  # noqa: E402,F401,F403
from .smooth_l1 import *  # noqa: E402,F401,F403
from .rcnn import *  # noqa: E402,F401,F403
from .fast_rcnn import *  # noqa: E402,F401,F403
from .dqn import *  # noqa: E402,F401,F403

BACKEND = "torch"

__all__ = sorted({name for module in _MODULES for name in module.__all__} | {"BACKEND"})
