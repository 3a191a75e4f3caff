"""AlexNet and VGG (chapter 8.2): with the same weights and the same dropout masks both backends
agree on scores, loss and every parameter gradient, in train and eval mode; the NumPy
backpropagation agrees with finite differences; wrong input shapes and sizes are clear errors,
the same class in both backends."""

import numpy as np
import pytest
from parameterized import parameterized

from conftest import DTYPES, assert_close, assert_same_error, share_dropout_masks
from network_support import check_save_load_summary_and_seed
from reference.alexnet import AlexNet as TorchAlexNet
from reference.vgg import VGG as TorchVGG
from scratch.alexnet import AlexNet as NumpyAlexNet
from scratch.vgg import VGG as NumpyVGG

pytestmark = pytest.mark.usefixtures("one_torch_thread")

NETWORKS = {"AlexNet": (NumpyAlexNet, TorchAlexNet), "VGG": (NumpyVGG, TorchVGG)}

# Smaller versions for the finite differences (every pooling and layer kind still there).
SMALL = {"AlexNet": dict(input_dim=(1, 16, 16), channels=(4, 6, 8, 6), hidden_size=12),
         "VGG": dict(input_dim=(1, 12, 12), stages=((4,), (6, 6)), hidden_size=12)}


def twins(cls_name, dtype, seed=0, **kwargs):
    """The same network in both backends: the reference starts from the NumPy weights, biases made nonzero."""
    numpy_cls, torch_cls = NETWORKS[cls_name]
    numpy_net = numpy_cls(dtype=dtype, seed=seed, **kwargs)
    torch_net = torch_cls(dtype=dtype, seed=seed, **kwargs)
    rng = np.random.default_rng(seed + 100)
    for name, param in numpy_net.params.items():
        if name.startswith("b"):
            param[...] = rng.uniform(-0.1, 0.1, param.shape)
    torch_net.load_params(numpy_net.params)
    return numpy_net, torch_net


def images(dtype, n, shape=(1, 28, 28), classes=10, seed=1, scale=10.0):
    """Images in [0, scale): 10 puts AlexNet's LRN well away from the identity (alpha * sum ~ k)."""
    rng = np.random.default_rng(seed)
    return (scale * rng.random((n,) + shape)).astype(dtype), rng.integers(0, classes, n)


def assert_same_pass(numpy_net, torch_net, x, t, dtype, what, train_flg):
    """Scores, loss and every gradient of one forward/backward pass agree (the NumPy side runs first)."""
    assert_close(numpy_net.predict(x, train_flg), torch_net.predict(x, train_flg), dtype, what=f"{what} scores")
    grads_numpy = numpy_net.gradient(x, t, train_flg=train_flg)
    grads_torch = torch_net.gradient(x, t, train_flg=train_flg)
    assert list(grads_numpy) == list(grads_torch) == list(numpy_net.params) == list(torch_net.params)
    assert_close(numpy_net.last_loss, torch_net.last_loss, dtype, what=f"{what} loss")
    for name in numpy_net.params:
        assert_close(grads_numpy[name], grads_torch[name], dtype, what=f"{what} d{name}")
    assert_close(numpy_net.loss(x, t, train_flg), torch_net.loss(x, t, train_flg), dtype, what=f"{what} loss()")


@parameterized.expand([(f"{n}_{d}", n, dt) for n in NETWORKS for d, dt in DTYPES])
def test_scores_loss_and_gradients_agree(_, cls_name, dtype):
    numpy_net, torch_net = twins(cls_name, dtype)
    share_dropout_masks(numpy_net, torch_net)
    x, t = images(dtype, 4)
    assert_same_pass(numpy_net, torch_net, x, t, dtype, f"{cls_name} train mode", train_flg=True)
    assert_same_pass(numpy_net, torch_net, x, t, dtype, f"{cls_name} eval mode", train_flg=False)
    # dropout is active in train mode only, and draws a new mask each pass
    eval_scores = numpy_net.predict(x)
    assert not np.allclose(numpy_net.predict(x, train_flg=True), eval_scores)
    np.testing.assert_array_equal(numpy_net.predict(x, train_flg=False), eval_scores)


def freeze_dropout_masks(net, seed=13):
    """Each dropout layer of ``net`` keeps one mask (drawn at its first training pass) from then on."""
    rng = np.random.default_rng(seed)
    for name, layer in net.layers.items():
        if name.startswith("Dropout"):
            masks = {}

            def forward(x, train_flg=True, _layer=layer, _masks=masks, _forward=layer.forward):
                if not train_flg:
                    return _forward(x, False)
                if "mask" not in _masks:
                    _masks["mask"] = rng.random(x.shape) >= _layer.dropout_ratio
                return _forward(x, True, mask=_masks["mask"])

            layer.forward = forward


@parameterized.expand([(f"{n}_{m}", n, m == "train") for n in NETWORKS for m in ("train", "eval")])
def test_backprop_equals_finite_differences(_, cls_name, train_flg, entries=3, h=1e-6):
    """Central differences of 3 entries of every parameter, float64; dropout masks held fixed in train mode."""
    numpy_net, _ = twins(cls_name, np.float64, seed=3, **SMALL[cls_name])
    freeze_dropout_masks(numpy_net)
    x, t = images(np.float64, 3, shape=SMALL[cls_name]["input_dim"])
    backprop = {name: g.copy() for name, g in numpy_net.gradient(x, t, train_flg=train_flg).items()}
    rng = np.random.default_rng(7)
    for name, param in numpy_net.params.items():
        for flat in rng.choice(param.size, min(entries, param.size), replace=False):
            i = np.unravel_index(flat, param.shape)
            original = param[i]
            param[i] = original + h
            plus = numpy_net.loss(x, t, train_flg)
            param[i] = original - h
            minus = numpy_net.loss(x, t, train_flg)
            param[i] = original
            numeric = (plus - minus) / (2 * h)
            assert abs(backprop[name][i] - numeric) < 1e-7 * max(1.0, abs(numeric)), \
                f"{name}{i}: backprop {backprop[name][i]!r}, numeric {numeric!r}"


@parameterized.expand([(n,) for n in NETWORKS])
def test_save_load_round_trip_and_summary(cls_name):
    check_save_load_summary_and_seed(*NETWORKS[cls_name], images(np.float32, 2)[0])


def test_architectures():
    alexnet, vgg = NumpyAlexNet(seed=0), NumpyVGG(seed=0)
    assert [tuple(p.shape) for p in alexnet.params.values()] == [
        (32, 1, 5, 5), (32,), (64, 32, 3, 3), (64,), (96, 64, 3, 3), (96,), (64, 96, 3, 3), (64,),
        (256, 256), (256,), (10, 256), (10,)]
    assert [name for name in alexnet.layers if name.startswith(("LRN", "Pool", "Dropout"))] == \
        ["LRN1", "Pool1", "LRN2", "Pool2", "Pool3", "Dropout1", "Dropout2"]
    lrn = alexnet.layers["LRN1"]  # the paper's constants, alpha on the sum: 5e-4 / 5 in PyTorch's convention
    assert (lrn.size, lrn.alpha / lrn.size, lrn.beta, lrn.k) == (5, pytest.approx(1e-4), 0.75, 2.0)
    assert [tuple(p.shape) for p in vgg.params.values()][::2] == [
        (16, 1, 3, 3), (16, 16, 3, 3), (32, 16, 3, 3), (32, 32, 3, 3), (64, 32, 3, 3), (64, 64, 3, 3),
        (256, 576), (10, 256)]
    deeper = TorchVGG(stages=[[8], [8, 16, 16]], hidden_size=32, output_size=5, seed=0)
    assert [tuple(p.shape) for p in deeper.params.values()][::2] == [
        (8, 1, 3, 3), (8, 8, 3, 3), (16, 8, 3, 3), (16, 16, 3, 3), (32, 16 * 7 * 7), (5, 32)]


@parameterized.expand([(n,) for n in NETWORKS])
def test_accuracy_agrees(cls_name):
    numpy_net, torch_net = twins(cls_name, np.float64)
    x, t = images(np.float64, 30)
    assert numpy_net.accuracy(x, t, batch_size=7) == torch_net.accuracy(x, t, batch_size=7)


@parameterized.expand([(n,) for n in NETWORKS])
def test_wrong_input_shapes_are_clear_errors(cls_name):
    numpy_cls, torch_cls = NETWORKS[cls_name]
    numpy_net, torch_net = numpy_cls(seed=0), torch_cls(seed=0)
    for bad in (np.zeros((2, 784), np.float32), np.zeros((2, 3, 28, 28), np.float32),
                np.zeros((2, 1, 32, 32), np.float32), np.zeros((1, 28, 28), np.float32)):
        for train_flg in (False, True):
            assert_same_error(lambda: numpy_net.predict(bad, train_flg), lambda: torch_net.predict(bad, train_flg),
                              ValueError, match=f"{cls_name.lower()} expects images of shape (n, 1, 28, 28)")
        assert_same_error(lambda: numpy_net.gradient(bad, np.zeros(len(bad), int)),
                          lambda: torch_net.gradient(bad, np.zeros(len(bad), int)),
                          ValueError, match="expects images of shape")
    assert_same_error(lambda: numpy_net.predict(np.zeros((0, 1, 28, 28), np.float32)),
                      lambda: torch_net.predict(np.zeros((0, 1, 28, 28), np.float32)), ValueError)


@parameterized.expand([
    ("alexnet_channels", "AlexNet", dict(channels=(32, 64, 96)), "channels"),
    ("alexnet_channel_zero", "AlexNet", dict(channels=(32, 0, 96, 64)), "channels"),
    ("alexnet_small_input", "AlexNet", dict(input_dim=(1, 12, 12)), "input_dim"),
    ("alexnet_2d_input", "AlexNet", dict(input_dim=(28, 28)), "input_dim"),
    ("alexnet_dropout", "AlexNet", dict(dropout_ratio=1.5), "dropout_ratio"),
    ("alexnet_hidden", "AlexNet", dict(hidden_size=0), "hidden_size"),
    ("vgg_no_stages", "VGG", dict(stages=()), "stages"),
    ("vgg_empty_stage", "VGG", dict(stages=((16,), ())), "stages"),
    ("vgg_bad_channels", "VGG", dict(stages=((16, 2.5),)), "stages"),
    ("vgg_too_deep", "VGG", dict(stages=((4,),) * 5), "input_dim"),
    ("vgg_output", "VGG", dict(output_size=0), "output_size"),
])
def test_constructor_errors(_, cls_name, kwargs, match):
    numpy_cls, torch_cls = NETWORKS[cls_name]
    assert_same_error(lambda: numpy_cls(**kwargs), lambda: torch_cls(**kwargs), ValueError, match=match)
