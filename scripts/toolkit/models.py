"""The model registry: one entry per network, built from a typed ``ModelConfig``.

    config = ModelConfig.from_options(args)      # what the command line chose
    network = config.build(backend)              # MODELS[config.model].build(backend, config)

Standard library only at module level: ``benchmark.py`` reads the registry
before NumPy may load.
"""
import dataclasses
from dataclasses import dataclass
from typing import Callable

from .cli import positive_int

__all__ = ["ModelConfig", "ModelSpec", "MODELS", "OPTIMIZERS", "MODEL_DEFAULTS", "DEFAULT_CHANNELS", "WIDTH_MODELS",
           "add_model_arguments", "check_model_options", "trainable_models"]

DEFAULT_CHANNELS = (16, 32, 64)  # VGG's and ResNet's three stages
# --optimizer -> the class of every backend (scratch, reference; torch.optim has SGD and Adam by these names)
OPTIMIZERS = {"sgd": "SGD", "momentum": "Momentum", "nesterov": "Nesterov", "adagrad": "AdaGrad",
              "rmsprop": "RMSprop", "adam": "Adam"}


@dataclass(frozen=True)
class ModelConfig:
    """Which network, of which shape, in which dtype, from which initial draw.

    model: a name of ``MODELS``. hidden_size, activation: two_layer's. channels: the three stages
    of VGG and ResNet (None: ``DEFAULT_CHANNELS``). weight_init_std: two_layer's initial scale.
    weights: the file a network that reads its own weights (three_layer) is built from.
    readable: the convnets are built from the readable layers (``readable=True``: the book's algorithm)
    instead of the fast plug-ins of scratch.fast; the same numbers, slower.
    """

    model: str = "two_layer"
    hidden_size: int = 50
    activation: str = "relu"
    channels: tuple | None = None
    dtype: str = "float32"
    seed: int = 0
    weight_init_std: float = 0.01
    weights: str | None = None
    readable: bool = False

    @classmethod
    def from_options(cls, options, **overrides):
        """The configuration named by parsed options (an argparse Namespace): each field the options
        hold and do not leave None, the defaults for the others, then ``overrides``."""
        given = {f.name: getattr(options, f.name, None) for f in dataclasses.fields(cls)}
        given = {key: value for key, value in given.items() if value is not None}
        if "channels" in given:
            given["channels"] = tuple(given["channels"])
        return cls(**{**given, **overrides})

    @property
    def spec(self):
        return MODELS[self.model]

    @property
    def stage_channels(self):
        """--channels, or the networks' default three stages when it is not given (or not recorded)."""
        return list(DEFAULT_CHANNELS if self.channels is None else self.channels)

    def build(self, backend):
        """The network, built by ``backend`` (a package, or ``backends.BookSemantics``)."""
        return self.spec.build(backend, self)


@dataclass(frozen=True)
class ModelSpec:
    """How the scripts build one network.

    build: (backend package, ModelConfig) -> network.
    flatten: the network takes MNIST as (N, 784) rather than (N, 1, 28, 28).
    trainable: train.py may train it (three_layer is inference only).
    takes_weight_file: the constructor reads ``config.weights`` itself (no ``load_params``).
    optimizer, lr: train.py's defaults (the book's choice for this network).
    eval_samples: train.py measures per-epoch accuracy on this many images (None: all),
        as the book's Trainer(evaluate_sample_num_per_epoch=...); the final test is always full.
    shape_options: the options (argument names) that shape the network beside ``--model``;
        train.py saves them with the weights (``weights.model_config``).
    slow: benchmark.py times it half as many steps.
    """

    build: Callable
    flatten: bool
    summary: str
    trainable: bool = True
    takes_weight_file: bool = False
    optimizer: str = "sgd"
    lr: float = 0.1
    eval_samples: int | None = None
    shape_options: tuple = ()
    slow: bool = False


def _convnet(class_name, summary, build=None, **options):
    """The entry of a network taking (N, 1, 28, 28) images, trained as the book trains its convnets (Adam,
    lr 0.001, per-epoch accuracy on 1000 images); built as ``backend.<class_name>(dtype=, seed=)``
    unless ``build`` says otherwise."""
    if build is None:
        def build(backend, c):
            return getattr(backend, class_name)(dtype=c.dtype, seed=c.seed, readable=c.readable)
    return ModelSpec(build=build, flatten=False, optimizer="adam", lr=0.001, eval_samples=1000, summary=summary,
                     **options)


# A network taking (N, 1, 28, 28) images needs only a ``_convnet`` entry: built from (backend, config) with
# dtype and seed (the torch backend then starts from the NumPy backend's draw); flatten=False also allows
# --augment. Batch norms listed by a ``batch_norms()`` method have their running statistics saved with the
# weights (``weights.network_state``).
MODELS = {
    "two_layer": ModelSpec(
        build=lambda backend, c: backend.TwoLayerNet(784, c.hidden_size, 10, weight_init_std=c.weight_init_std,
                                                     activation=c.activation, dtype=c.dtype, seed=c.seed),
        flatten=True, shape_options=("hidden_size", "activation"),
        summary="784-hidden-10, Affine-ReLU/Sigmoid-Affine-SoftmaxWithLoss (chapters 4-5)"),
    "three_layer": ModelSpec(
        build=lambda backend, c: backend.ThreeLayerNet(c.weights, dtype=c.dtype),
        flatten=True, trainable=False, takes_weight_file=True,
        summary="784-50-100-10 sigmoid network of chapter 3, inference only "
                "(e.g. ch03_sample_weight.npz or the book's ch03/sample_weight.pkl)"),
    "simple_convnet": _convnet(
        "SimpleConvNet", "conv(30 5x5)-relu-pool-affine(100)-relu-affine of chapter 7 (Adam, lr 0.001)"),
    "deep_convnet": _convnet(
        "DeepConvNet", "6 conv layers, 3 poolings, 2 affine layers with dropout, of chapter 8 (Adam, lr 0.001)",
        slow=True),
    # Chapter 8's architectures (8.2)
    "lenet": _convnet(
        "LeNet", "LeNet-5 (LeCun et al. 1998), conv 6 5x5 pad 2 - tanh - subsampling - conv 16 5x5 - tanh - "
                 "subsampling - affine 120-84-10 with tanh, of chapter 8 (Adam, lr 0.001)"),
    "resnet": _convnet(
        "ResNet", "a small ResNet (He et al. 2016) of chapter 8: conv 16 - 3 residual blocks (16, 32, 64 "
                  "channels) with batch norm - global average pooling - affine (Adam, lr 0.001)",
        build=lambda backend, c: backend.ResNet(channels=c.stage_channels, dtype=c.dtype, seed=c.seed,
                                                  readable=c.readable),
        shape_options=("channels",), slow=True),
    "alexnet": _convnet(
        "AlexNet", "a small AlexNet (Krizhevsky et al. 2012) of chapter 8: conv - relu - LRN - overlapping max "
                   "pool (twice), 3 convs, dropout - affine 256 - dropout - affine (Adam, lr 0.001)", slow=True),
    "vgg": _convnet(
        "VGG", "a small VGG (Simonyan and Zisserman 2015) of chapter 8: 3 stages of two 3x3 convs and a max "
               "pool (16, 32, 64 channels), affine 256 - dropout - affine (Adam, lr 0.001)",
        build=lambda backend, c: backend.VGG(stages=tuple((n, n) for n in c.stage_channels), dtype=c.dtype,
                                             seed=c.seed, readable=c.readable),
        shape_options=("channels",), slow=True),
    "googlenet": _convnet(
        "GoogLeNet", "a small GoogLeNet (Szegedy et al. 2015) of chapter 8: conv stem - 2 inception blocks "
                     "(1x1, 3x3, 5x5 and pool paths concatenated) - global average pooling - affine (Adam, lr 0.001)",
        slow=True),
}

MODEL_DEFAULTS = {"model": "two_layer", "hidden_size": 50, "activation": "relu", "channels": None}
WIDTH_MODELS = tuple(name for name, spec in MODELS.items() if "channels" in spec.shape_options)


def trainable_models():
    """The names of the networks train.py (and benchmark.py) can train."""
    return tuple(name for name, spec in MODELS.items() if spec.trainable)


def check_model_options(parser, args):
    """Architecture options only for the networks they shape: --channels for VGG and ResNet."""
    if getattr(args, "channels", None) is not None and args.model not in WIDTH_MODELS:
        parser.error(f"--channels sets the stages of {' and '.join(WIDTH_MODELS)}, not of --model {args.model}")


def model_help(trainable_only):
    return "; ".join(f"{name}: {spec.summary}" for name, spec in MODELS.items()
                     if spec.trainable or not trainable_only)


def add_model_arguments(parser, trainable_only, from_weights=False):
    """--model and the architecture options.

    ``from_weights``: their defaults are None, to be taken from the weights
    file's configuration (``weights.model_from_weights``), else ``MODEL_DEFAULTS``.
    """
    names = [name for name, spec in MODELS.items() if spec.trainable or not trainable_only]
    default = (lambda key: None) if from_weights else MODEL_DEFAULTS.get
    origin = "the weights file's configuration, else " if from_weights else ""
    parser.add_argument("--model", choices=names, default=default("model"),
                        help=f"{model_help(trainable_only)}. Default: {origin}two_layer")
    parser.add_argument("--hidden-size", type=positive_int, default=default("hidden_size"),
                        help=f"two_layer: hidden units (default: {origin}50)")
    parser.add_argument("--activation", choices=["relu", "sigmoid"], default=default("activation"),
                        help="two_layer: hidden activation; relu is chapter 5's net, sigmoid "
                             f"chapter 4's (default: {origin}relu)")
    parser.add_argument("--channels", type=positive_int, nargs=3, default=None, metavar=("C1", "C2", "C3"),
                        help=f"{', '.join(WIDTH_MODELS)}: the channels of the three stages (default: {origin}"
                             f"{' '.join(map(str, DEFAULT_CHANNELS))}); a convolution's cost grows with the "
                             "product of its input and output channels, so doubling them costs about 4x")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32",
                        help="parameter and image dtype (default float32)")
