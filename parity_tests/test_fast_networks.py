"""Every network computes the same numbers on its fast plug-ins (the default) and on the readable layers.

``readable=True`` builds convolution, pooling and batch norm from the readable
layers (``scratch.Convolution``, ``scratch.Pooling``,
``scratch.BatchNormalization``: the book's algorithm); the default builds them
from ``scratch.fast``. The two networks start from the same weights and
dropout seeds; their scores in both modes, their loss, every gradient and the
batch norms' running statistics must agree to 1e-12 in float64, through two
training steps. The layers themselves are compared in test_fast_convolution.py
and test_fast_batch_normalization.py; the PyTorch parity of the default
networks is in the other network tests.
"""
import numpy as np
import pytest
from parameterized import parameterized

import reference
import scratch
import scratch.fast
from conftest import to_numpy

TOLERANCE = 1e-12

# name -> (constructor keywords, input shape); small inputs, the networks' real layer kinds
NETWORKS = {
    "SimpleConvNet": (dict(), (3, 1, 28, 28)),
    "DeepConvNet": (dict(), (2, 1, 28, 28)),
    "MultiLayerNetExtend": (dict(input_size=20, hidden_size_list=[12, 8], output_size=4, use_batchnorm=True,
                                 use_dropout=True), (6, 20)),
    "LeNet": (dict(), (3, 1, 28, 28)),
    "AlexNet": (dict(), (2, 1, 28, 28)),
    "VGG": (dict(stages=((4, 4), (6, 6), (8, 8)), hidden_size=16), (2, 1, 28, 28)),
    "GoogLeNet": (dict(), (2, 1, 28, 28)),
    "ResNet": (dict(channels=(4, 6, 8)), (3, 1, 28, 28)),
}
SPEED_LAYERS = (scratch.Convolution, scratch.Pooling, scratch.BatchNormalization)
FAST_LAYERS = (scratch.fast.Convolution, scratch.fast.Pooling, scratch.fast.BatchNormalization)


def pair(name):
    """The network twice from one seed, in float64: the default (fast) and readable=True."""
    kwargs, shape = NETWORKS[name]
    cls = getattr(scratch, name)
    fast = cls(**kwargs, dtype=np.float64, seed=5)
    readable = cls(**kwargs, dtype=np.float64, seed=5, readable=True)
    rng = np.random.default_rng(1)
    x = rng.random(shape) if len(shape) == 4 else rng.standard_normal(shape)
    t = rng.integers(0, 4 if name == "MultiLayerNetExtend" else 10, shape[0])
    return fast, readable, x, t


def layers_of(network):
    """Every layer object the network holds, blocks opened up."""
    found, todo = [], list(vars(network).values())
    while todo:
        item = todo.pop()
        if isinstance(item, dict):
            todo.extend(item.values())
        elif isinstance(item, (list, tuple)):
            todo.extend(item)
        elif type(item).__module__.startswith("scratch") and hasattr(item, "forward"):
            found.append(item)
            todo.extend(v for k, v in vars(item).items() if k not in ("x", "out", "col"))
    return found


def assert_agree(a, b, what, scale=0.0):
    """Relative error at most TOLERANCE, measured against max(|b|, ``scale``): a gradient that is zero
    but for rounding (a bias right before a batch norm, which removes any shift) is judged against
    the size of the network's other gradients, not against its own rounding noise."""
    a, b = np.asarray(to_numpy(a), np.float64), np.asarray(to_numpy(b), np.float64)
    assert a.shape == b.shape, f"{what}: shapes {a.shape} and {b.shape}"
    error = np.max(np.abs(a - b)) / max(np.max(np.abs(b)), scale)
    assert error <= TOLERANCE, f"{what}: relative error {error:.2e}"


@parameterized.expand(NETWORKS)
def test_readable_builds_the_readable_layers(name):
    fast, readable, _, _ = pair(name)
    fast_kinds = {type(layer) for layer in layers_of(fast)}
    readable_kinds = {type(layer) for layer in layers_of(readable)}
    assert fast_kinds & set(FAST_LAYERS), f"{name} has no fast layer: {fast_kinds}"
    assert not readable_kinds & set(FAST_LAYERS), f"{name}(readable=True) still holds {readable_kinds & set(FAST_LAYERS)}"
    assert readable_kinds & set(SPEED_LAYERS)
    assert fast.readable is False and readable.readable is True


@parameterized.expand(NETWORKS)
def test_fast_equals_readable(name):
    fast, readable, x, t = pair(name)
    for step in range(2):  # the second step starts from weights updated by the first
        assert_agree(fast.predict(x), readable.predict(x), f"{name} step {step} scores (test mode)")
        grads_fast, grads_readable = fast.gradient(x, t), readable.gradient(x, t)
        assert_agree(fast.last_loss, readable.last_loss, f"{name} step {step} loss")
        assert grads_fast.keys() == grads_readable.keys() == fast.params.keys()
        scale = max(np.max(np.abs(to_numpy(g))) for g in grads_readable.values())
        for key in grads_fast:
            assert_agree(grads_fast[key], grads_readable[key], f"{name} step {step} d{key}", scale)
        for network, grads in ((fast, grads_fast), (readable, grads_readable)):
            for key, value in network.params.items():
                value -= 0.1 * grads[key]
    if hasattr(fast, "batch_norms"):
        for (layer_name, a), b in zip(fast.batch_norms().items(), readable.batch_norms().values()):
            assert_agree(a.running_mean, b.running_mean, f"{name} {layer_name} running_mean")
            assert_agree(a.running_var, b.running_var, f"{name} {layer_name} running_var")


@parameterized.expand(["SimpleConvNet", "ResNet"])
def test_reference_takes_the_same_keyword(name):
    """reference's networks take ``readable`` too (the same signature); PyTorch has one implementation."""
    kwargs, shape = NETWORKS[name]
    x = np.random.default_rng(2).random(shape)
    a = getattr(reference, name)(**kwargs, dtype="float64", seed=5)
    b = getattr(reference, name)(**kwargs, dtype="float64", seed=5, readable=True)
    np.testing.assert_array_equal(to_numpy(a.predict(x)), to_numpy(b.predict(x)))


def test_the_book_networks_use_the_readable_layers():
    import scratch.book

    network = scratch.book.SimpleConvNet()
    kinds = {type(layer) for layer in layers_of(network)}
    assert not kinds & set(FAST_LAYERS), kinds
    assert scratch.book.layers.Pooling in kinds and scratch.book.layers.Convolution in kinds
    with pytest.raises(TypeError):
        scratch.book.SimpleConvNet(readable=True)  # the book's signature: always the readable layers
