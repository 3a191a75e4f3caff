"""Weights files: the configuration saved beside the weights, its checks, and loading into a network.

train.py saves, beside a network's parameters, its configuration (``model_config``:
--model and the options that shape it, --dataset, --augment) and the running statistics
of its batch norms (``network_state``). evaluate.py and the chapter 7-8 scripts read the
configuration back (``model_from_weights``), refuse a file saved for another network
(``check_weights_config``) and load parameters and statistics (``load_weights``).
"""
import warnings

from scratch import serialization

from .backends import to_numpy
from .cli import one_line
from .data import DEFAULT_DATASET
from .models import MODEL_DEFAULTS, MODELS, ModelConfig

__all__ = ["CONFIG_DEFAULTS", "TRAINING_ONLY", "model_config", "check_weights_config", "model_from_weights",
           "dataset_from_weights", "network_state", "load_weights", "networks_fitting"]

# Entries a configuration may lack, and what that means: MNIST is not recorded (nor was it before
# --dataset existed), so a file saved for MNIST, old or new, has no "dataset"; a run without
# --augment records no "augment".
CONFIG_DEFAULTS = {"dataset": DEFAULT_DATASET, "augment": None}
# Entries that record how the weights were trained, not which network or data they fit: never
# compared with the options of a later run, nor shown in its errors.
TRAINING_ONLY = ("augment",)


def model_config(args):
    """What train.py stores with the weights: ``--model``, the options that shape that model,
    ``--dataset`` unless it is mnist (``CONFIG_DEFAULTS``), and with --augment the augmentation
    settings as "augment": {"angle": degrees, "shift": pixels, "scale": [low, high]} (and
    "flip": true with --augment-flip)."""
    model = ModelConfig.from_options(args)
    config = {"model": model.model, **{key: getattr(model, key) for key in model.spec.shape_options}}
    if "channels" in config:
        config["channels"] = model.stage_channels
    if args.dataset != DEFAULT_DATASET:
        config["dataset"] = args.dataset
    if getattr(args, "augment", False):
        config["augment"] = {"angle": args.augment_angle, "shift": args.augment_shift,
                             "scale": list(args.augment_scale)}
        if getattr(args, "augment_flip", False):
            config["augment"]["flip"] = True
    return config


def _options(config):
    """A configuration as command-line options: '--model two_layer --hidden-size 50 ...'."""
    keys = sorted(config, key=lambda key: (key != "model", key))  # --model first, then alphabetical
    def value(v):
        return " ".join(map(str, v)) if isinstance(v, (list, tuple)) else v

    return " ".join(f"--{key.replace('_', '-')} {value(config[key])}" for key in keys)


def check_weights_config(path, expected):
    """Raise a one-line ValueError if the weights file ``path`` was saved for another network than ``expected``.

    ``expected``: {option name: value}, e.g. {"model": "deep_convnet"}. Files without a
    configuration (the book's, or saved by ``save_params`` without one) pass.
    """
    saved = serialization.load_config(path)
    if saved is None:
        return
    recorded = {key: value for key, value in {**CONFIG_DEFAULTS, **saved}.items() if key not in TRAINING_ONLY}
    clashes = {key: value for key, value in expected.items()
               if value is not None and key in recorded and recorded[key] != value}
    if clashes:
        shown = {key: value for key, value in recorded.items() if key in saved or key in clashes}
        raise ValueError(f"{path} holds the weights of {_options(shown)}, not of {_options(clashes)}")


def model_from_weights(args):
    """Fill ``args``' model options left None from the configuration in ``args.weights``, else the defaults.

    An option given on the command line that contradicts the file is an error (``check_weights_config``).
    """
    defaults = {key: value for key, value in {**MODEL_DEFAULTS, **CONFIG_DEFAULTS}.items()
                if key not in TRAINING_ONLY}  # --dataset too
    given = {key: getattr(args, key) for key in defaults}
    check_weights_config(args.weights, given)
    saved = serialization.load_config(args.weights) or {}
    for key, default in defaults.items():
        if given[key] is None:
            setattr(args, key, saved.get(key, default))
    return args


def dataset_from_weights(args, path):
    """Set ``args.dataset``, if None, from the configuration in the weights file ``path`` (else mnist);
    a --dataset that contradicts the file is an error (``check_weights_config``)."""
    check_weights_config(path, {"dataset": args.dataset})
    if args.dataset is None:
        args.dataset = {**CONFIG_DEFAULTS, **(serialization.load_config(path) or {})}["dataset"]
    return args


STATISTICS = ("running_mean", "running_var")


def network_state(network):
    """What the network computes with beside its parameters: the running statistics of its batch
    norms (those its ``batch_norms()`` lists, as ResNet's), as NumPy arrays named
    '<layer>.running_mean' and '<layer>.running_var'. train.py saves them beside the weights
    (parameter names hold no '.'); {} for a network without batch norms."""
    norms = network.batch_norms() if hasattr(network, "batch_norms") else {}
    return {f"{name}.{stat}": to_numpy(getattr(layer, stat)) for name, layer in norms.items() for stat in STATISTICS}


def _set_state(network, state, path):
    """Copy the running statistics ``state`` (all of ``network_state``'s names, or none) into ``network``."""
    expected = network_state(network)
    if not state:
        warnings.warn(f"{path} holds no batch-norm running statistics (not saved by train.py?); the network "
                      "predicts with the initial ones (mean 0, variance 1)")
        return
    missing = sorted(set(expected) - set(state))
    if missing:
        raise KeyError(f"running statistics do not fit this network: missing {missing}")
    for name, value in state.items():
        if value.shape != expected[name].shape:
            raise ValueError(f"{name}: expected shape {expected[name].shape}, file has {value.shape}")
    norms = network.batch_norms()
    for name, value in state.items():
        layer_name, stat = name.rsplit(".", 1)
        target = getattr(norms[layer_name], stat)
        if hasattr(target, "copy_"):  # a torch tensor
            import torch
            with torch.no_grad():
                target.copy_(torch.as_tensor(value, dtype=target.dtype))
        else:
            target[...] = value


def load_weights(network, path):
    """``network.load_params(path)``, and the running statistics of its batch norms (``network_state``)
    if it has any; an error that does not say which file gets its name in front."""
    try:
        state_names = set(network_state(network))
        if not state_names:
            return network.load_params(path)
        arrays = serialization.load_params(path)
        state = {name: arrays.pop(name) for name in list(arrays) if name in state_names}
        network.load_params(arrays)
        _set_state(network, state, path)
        return network
    except (KeyError, ValueError) as err:
        message = one_line(err)
        if isinstance(err, KeyError):  # other parameter names: say which network the file is for
            message += fitting_hint(path)
        if str(path) in message:
            raise type(err)(message) from err
        raise type(err)(f"{path}: {message}") from err


def networks_fitting(path):
    """The --model names whose network, of its default shape, takes exactly the parameters in ``path``."""
    import numpy as np

    import scratch

    shapes = {name: value.shape for name, value in serialization.load_params(path).items() if "." not in name}
    fitting = []
    for name in MODELS:
        config = ModelConfig(name, weights=str(path))
        try:
            network = config.build(scratch)
            if config.spec.takes_weight_file:  # built from the file itself: fits if it computes
                flat = np.zeros((1, 784), np.float32)
                fits = network.predict(flat).shape == (1, 10)
            else:
                fits = {key: value.shape for key, value in network.params.items()} == shapes
        except (KeyError, ValueError):
            fits = False
        if fits:
            fitting.append(name)
    return fitting


def fitting_hint(path):
    """' (the file fits --model X)' for an error about the parameters in ``path``, or what else to try."""
    try:
        fitting = networks_fitting(path)
    except (KeyError, ValueError, OSError):
        return ""
    if fitting:
        return f" (the file fits --model {' or --model '.join(fitting)})"
    return " (it fits no --model of the default shape: another --hidden-size or --channels?)"

