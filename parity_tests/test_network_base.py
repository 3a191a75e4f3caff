"""Chapter 8's network base (``layer_network.LayerNetwork``) in both backends: predict, loss,
accuracy and gradient live there once; every layer with a hook is built through it; ``train_flg``
reaches exactly the layers that take it, decided by what a layer is, never by its name; and
``load_params`` says in one line what a file that does not fit holds."""
import ast
import inspect
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch
from parameterized import parameterized

import reference
import scratch
import scratch.book.layers
from conftest import book_code_file
from reference import layer_network as torch_base
from scratch import layer_network as numpy_base

pytestmark = pytest.mark.usefixtures("one_torch_thread")

PACKAGES = {"scratch": (scratch, numpy_base), "reference": (reference, torch_base)}
NETWORKS = ("LeNet", "AlexNet", "VGG", "GoogLeNet", "ResNet")
BASE_METHODS = ("predict", "loss", "accuracy", "gradient")
HOOKS = ("_affine", "_convolution", "_pooling", "_batch_norm", "_dropout", "_softmax_with_loss")

# Small sizes, so that every network builds and runs in a blink.
SMALL = {
    "LeNet": {},
    "AlexNet": dict(channels=(4, 4, 4, 4), hidden_size=8),
    "VGG": dict(input_dim=(1, 12, 12), stages=((4,), (4, 4)), hidden_size=8),
    "GoogLeNet": dict(input_dim=(1, 12, 12), stem_channels=4, inception=((2, 2, 2, 2, 2, 2), (2, 2, 2, 2, 2, 2))),
    "ResNet": dict(input_dim=(1, 12, 12), channels=(4, 6)),
}

CASES = [(f"{package}_{name}", package, name) for package in PACKAGES for name in NETWORKS]


def images(net, n=3, seed=1):
    rng = np.random.default_rng(seed)
    return rng.random((n,) + tuple(net.input_dim)), rng.integers(0, 10, n)


def as_numpy(value):
    return value.detach().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)


def every_layer(net):
    """Every layer object the network holds, blocks and the layers inside them included."""
    found, stack = [], list(net.layers.values()) + [net.last_layer]
    while stack:
        obj = stack.pop()
        if isinstance(obj, (list, tuple)):
            stack.extend(obj)
        elif isinstance(obj, dict):
            stack.extend(obj.values())
        elif type(obj).__module__.split(".")[0] in PACKAGES and hasattr(obj, "forward"):
            found.append(obj)
            stack.extend(vars(obj).values())
    return found


# ---------------------------------------------------------------------------
# One place
# ---------------------------------------------------------------------------

@parameterized.expand(CASES)
def test_predict_loss_accuracy_and_gradient_are_the_base_s(_, package, name):
    module, base = PACKAGES[package]
    cls = getattr(module, name)
    assert issubclass(cls, base.LayerNetwork)
    for method in BASE_METHODS:
        assert getattr(cls, method) is getattr(base.LayerNetwork, method), f"{name} overrides {method}"
        owners = [klass.__name__ for klass in cls.__mro__ if method in vars(klass)]
        assert owners[0] == "LayerNetwork", f"{name}.{method} is defined in {owners[0]}"


def test_both_bases_have_the_same_public_methods_and_signatures():
    def public(cls):
        return {name: inspect.signature(f) for name, f in vars(cls).items()
                if callable(f) and not name.startswith("_")}

    assert public(numpy_base.LayerNetwork) == public(torch_base.LayerNetwork)
    assert set(public(numpy_base.LayerNetwork)) == set(BASE_METHODS)
    for name in ("Network", "LayerNetwork"):
        ours, theirs = getattr(numpy_base, name), getattr(torch_base, name)
        for hook in HOOKS + ("_init_weight",):
            assert inspect.signature(getattr(ours, hook)) == inspect.signature(getattr(theirs, hook)), hook


@parameterized.expand(CASES)
def test_the_base_runs_the_layers_in_order(_, package, name):
    """predict is the layers' forward, one after another; loss is the last layer on the scores."""
    module, base = PACKAGES[package]
    net = getattr(module, name)(dtype="float64", seed=2, **SMALL[name])
    x, t = images(net)
    expected = net._as_images(x)
    for layer in net.layers.values():
        expected = layer.forward(expected, False) if base.takes_train_flg(layer) else layer.forward(expected)
    np.testing.assert_array_equal(as_numpy(net.predict(x)), as_numpy(expected))
    loss = net.loss(x, t, train_flg=False)
    assert as_numpy(loss) == as_numpy(net.last_layer.forward(net.predict(x), t))
    grads = net.gradient(x, t)
    assert list(grads) == list(net.params)
    assert all(tuple(grads[n].shape) == tuple(p.shape) for n, p in net.params.items())


# ---------------------------------------------------------------------------
# Every layer with a hook is built through it
# ---------------------------------------------------------------------------

@parameterized.expand(CASES)
def test_every_hooked_layer_is_built_by_its_hook(_, package, name):
    module, _base = PACKAGES[package]
    built = []

    def recording(hook):
        def method(self, *args):
            layer = getattr(super(recorder, self), hook)(*args)
            built.append(layer)
            return layer
        return method

    recorder = type(f"Recording{name}", (getattr(module, name),), {hook: recording(hook) for hook in HOOKS})
    net = recorder(dtype="float64", seed=0, **SMALL[name])
    hooked_classes = tuple(getattr(module, cls) for cls in (
        "Affine", "Convolution", "Pooling", "BatchNormalization", "Dropout", "SoftmaxWithLoss"))
    layers = every_layer(net)
    hooked = [layer for layer in layers if isinstance(layer, hooked_classes)]
    assert hooked, "no layer of a hooked class found"
    ids = {id(layer) for layer in built}
    missed = [type(layer).__name__ for layer in hooked if id(layer) not in ids]
    assert not missed, f"{name} builds {missed} without its hook"
    if name in ("AlexNet", "VGG", "GoogLeNet"):
        assert any(isinstance(layer, module.Pooling) for layer in hooked), "max pooling not found"


@parameterized.expand([(package,) for package in PACKAGES])
def test_the_pooling_hook_builds_max_pooling(package):
    module, _base = PACKAGES[package]
    net = module.LeNet(seed=0)
    pool = net._pooling(3, 2, 1, 1)
    assert isinstance(pool, module.Pooling)
    assert (pool.pool_h, pool.pool_w, pool.stride, pool.pad) == (3, 2, 1, 1)


# ---------------------------------------------------------------------------
# train_flg: by what a layer is, never by its name
# ---------------------------------------------------------------------------

class NumpyMyDropout(scratch.Dropout):
    """A dropout defined outside the project's networks: it must get train_flg too."""


class TorchMyDropout(reference.Dropout):
    pass


class NumpyMyBatchNorm(scratch.BatchNormalization):
    pass


class TorchMyBatchNorm(reference.BatchNormalization):
    pass


def test_takes_train_flg_is_decided_by_the_layer_s_class():
    from reference.googlenet import InceptionBlock as TorchInception
    from reference.resnet import ResidualBlock as TorchResidual
    from scratch.googlenet import InceptionBlock as NumpyInception
    from scratch.resnet import ResidualBlock as NumpyResidual
    W, b, gamma = np.ones((2, 1, 1, 1)), np.zeros(2), np.ones(2)
    takes = [scratch.Dropout(0.5), scratch.book.layers.Dropout(0.5), NumpyMyDropout(0.5),
             scratch.BatchNormalization(gamma, b), scratch.book.layers.BatchNormalization(gamma, b),
             NumpyMyBatchNorm(gamma, b), NumpyResidual((None, None), (None, None))]
    takes_not = [scratch.Relu(), scratch.Affine(np.ones((2, 2)), b), scratch.Convolution(W, b),
                 scratch.Pooling(2, 2), scratch.book.layers.Convolution(W, b), scratch.GlobalAvgPooling(),
                 scratch.LocalResponseNorm(5), scratch.Tanh(), NumpyInception({}, None)]
    for layer in takes:
        assert numpy_base.takes_train_flg(layer), type(layer)
    for layer in takes_not:
        assert not numpy_base.takes_train_flg(layer), type(layer)
    W, b, gamma = (torch.tensor(a, requires_grad=True) for a in (W, b, gamma))
    takes = [reference.Dropout(0.5), TorchMyDropout(0.5), reference.BatchNormalization(gamma, b),
             TorchMyBatchNorm(gamma, b), TorchResidual((None, None), (None, None))]
    takes_not = [reference.Relu(), reference.Convolution(W, b), reference.Pooling(2, 2), reference.GlobalAvgPooling(),
                 TorchInception({}, None)]
    for layer in takes:
        assert torch_base.takes_train_flg(layer), type(layer)
    for layer in takes_not:
        assert not torch_base.takes_train_flg(layer), type(layer)


def spy_on_forward(net):
    """Wrap every top-level layer's forward; returns {layer name: [the train_flg it got, or None]}."""
    got = {name: [] for name in net.layers}
    for name, layer in net.layers.items():
        def forward(x, *args, _forward=layer.forward, _got=got[name]):
            _got.append(args[0] if args else None)
            return _forward(x, *args)
        layer.forward = forward
    return got


@parameterized.expand(CASES)
def test_train_flg_reaches_exactly_the_layers_that_take_it(_, package, name):
    module, base = PACKAGES[package]
    net = getattr(module, name)(dtype="float64", seed=0, **SMALL[name])
    takers = {n for n, layer in net.layers.items() if base.takes_train_flg(layer)}
    expected_takers = {"AlexNet": {"Dropout1", "Dropout2"}, "VGG": {"Dropout1"}, "LeNet": set(), "GoogLeNet": set(),
                       "ResNet": {"stem_bn", "s1b1", "s2b1"}}[name]
    assert takers == expected_takers
    got = spy_on_forward(net)
    x, t = images(net)
    for train_flg in (True, False):
        net.predict(x, train_flg=train_flg)
        for layer_name, flags in got.items():
            assert flags == [train_flg if layer_name in takers else None], (layer_name, flags)
            flags.clear()
    net.gradient(x, t)
    assert all(flags == [True if n in takers else None] for n, flags in got.items())


@parameterized.expand([(package,) for package in PACKAGES])
def test_a_dropout_subclass_under_any_name_gets_train_flg(package):
    """An AlexNet whose dropout hook returns a subclass defined here, its layers renamed L0, L1, ...:
    the dropout layers still get train_flg (they drop in training, not at test time), no other layer does."""
    module, _base = PACKAGES[package]
    my_dropout = NumpyMyDropout if package == "scratch" else TorchMyDropout
    received = []

    class Recording(my_dropout):
        def forward(self, x, train_flg=True, **kwargs):
            received.append(train_flg)
            return super().forward(x, train_flg, **kwargs)

    class MyAlexNet(getattr(module, "AlexNet")):
        def _dropout(self, dropout_ratio, rng):
            return Recording(dropout_ratio, seed=7)

    net = MyAlexNet(dtype="float64", seed=0, **SMALL["AlexNet"])
    net.layers = OrderedDict((f"L{i}", layer) for i, layer in enumerate(net.layers.values()))
    assert sum(isinstance(layer, Recording) for layer in net.layers.values()) == 2
    x, _t = images(net, n=4)
    test_scores = as_numpy(net.predict(x, train_flg=False))
    assert received == [False, False]
    train_scores = as_numpy(net.predict(x, train_flg=True))
    assert received == [False, False, True, True]
    assert not np.allclose(test_scores, train_scores), "dropout did nothing in training mode"
    np.testing.assert_array_equal(as_numpy(net.predict(x)), test_scores)


# ---------------------------------------------------------------------------
# load_params: a file that does not fit says what it holds
# ---------------------------------------------------------------------------

def refusal(net, source, error):
    with pytest.raises(error) as info:
        net.load_params(source)
    message = info.value.args[0]
    assert "\n" not in message
    return message


@parameterized.expand([(package,) for package in PACKAGES])
def test_a_file_of_another_network_is_named(package):
    module, _base = PACKAGES[package]
    simple = scratch.SimpleConvNet(seed=0).params
    message = refusal(module.LeNet(seed=0), simple, KeyError)
    assert message.startswith("parameters do not fit this network: missing ['W4', 'W5', 'W6', 'W7', 'b4', "
                              "'b5', 'b6', 'b7'], unexpected []; ")
    assert message.endswith("this is a LeNet (W1..W7, b1..b7), the file holds the parameters of a default "
                            "SimpleConvNet (W1..W3, b1..b3)")
    message = refusal(module.AlexNet(seed=0), scratch.DeepConvNet(seed=0).params, KeyError)
    assert "unexpected ['W7', 'W8', 'b7', 'b8']; this is an AlexNet (W1..W6, b1..b6), " \
           "the file holds the parameters of a default DeepConvNet (W1..W8, b1..b8)" in message


@parameterized.expand([(package,) for package in PACKAGES])
def test_a_file_of_other_sizes_is_named(package):
    """The names fit, a shape does not: a VGG of other widths (or a DeepConvNet, which has the same layout)."""
    module, _base = PACKAGES[package]
    wide = scratch.VGG(stages=((32, 32), (64, 64), (128, 128)), seed=0).params
    message = refusal(module.VGG(seed=0), wide, ValueError)
    assert message == ("W1: expected shape (16, 1, 3, 3), file has (32, 1, 3, 3); this is a VGG (W1..W8, b1..b8), "
                       "the file holds the parameters of a DeepConvNet or a VGG of other sizes (W1..W8, b1..b8)")
    message = refusal(module.VGG(seed=0), scratch.DeepConvNet(seed=0).params, ValueError)
    assert message.startswith("W7: expected shape (256, 576), file has (50, 1024); this is a VGG")
    assert message.endswith("the file holds the parameters of a default DeepConvNet (W1..W8, b1..b8)")


@parameterized.expand([(package,) for package in PACKAGES])
def test_a_file_of_no_known_network_lists_what_it_holds(package):
    module, _base = PACKAGES[package]
    two_layer = scratch.TwoLayerNet(4, 3, 2, seed=0).params
    message = refusal(module.SimpleConvNet(seed=0), two_layer, KeyError)
    assert message == ("parameters do not fit this network: missing ['W3', 'b3'], unexpected []; this is a "
                       "SimpleConvNet (W1..W3, b1..b3), the file holds W1, W2, b1, b2")
    googlenet = scratch.GoogLeNet(seed=0).params
    message = refusal(module.ResNet(seed=0), googlenet, KeyError)
    assert ", +18 more], unexpected ['i1_W1', " in message and ", +17 more]; " in message and len(message) < 600
    assert message.endswith("this is a ResNet (stem_W, stem_gamma, stem_beta, s1b1_W1, ... (29 arrays)), the file "
                            "holds the parameters of a default GoogLeNet (stem_W, stem_b, i1_W1, i1_b1, ... "
                            "(28 arrays))")


@parameterized.expand([(package,) for package in ("scratch", "reference", "book")])
def test_the_book_s_deep_convnet_pickle_is_named(package):
    """The book's deep_convnet_params.pkl ((in, out) Affine weights) given to a SimpleConvNet."""
    path = book_code_file("ch08/deep_convnet_params.pkl")
    module = {"scratch": scratch, "reference": reference, "book": scratch.book}[package]
    message = refusal(module.SimpleConvNet(), path, KeyError)
    assert message.endswith("this is a SimpleConvNet (W1..W3, b1..b3), the file holds the parameters of a default "
                            "DeepConvNet (W1..W8, b1..b8)")


# ---------------------------------------------------------------------------
# reference imports no private name from scratch
# ---------------------------------------------------------------------------

@parameterized.expand([(name,) for name in ("layer_network", "lenet", "alexnet", "vgg", "googlenet", "resnet")])
def test_the_reference_network_imports_no_private_name_from_scratch(module_name):
    path = Path(reference.__file__).parent / f"{module_name}.py"
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("scratch"):
            private = [alias.name for alias in node.names if alias.name.startswith("_")]
            assert not private, f"reference/{module_name}.py imports {private} from {node.module}"
