"""The reference networks' ``gradient``: one autograd pass, equal to the book's layer-by-layer loop.

``gradient`` asks autograd once for every parameter's gradient (as
``loss.backward()`` does); ``layerwise_gradient`` runs the book's backward
through the layers, one ``torch.autograd.grad`` per layer. Two networks built
with the same seed draw the same weights and the same dropout masks, so the
two methods must give the same numbers, and ``gradient`` must really be one
pass.
"""
import numpy as np
import pytest
import torch
from parameterized import parameterized

import reference
from conftest import assert_close

TINY_CONV = dict(input_dim=(2, 10, 9), conv_param={"filter_num": 4, "filter_size": 3, "pad": 1, "stride": 1},
                 hidden_size=6, output_size=5)
NETWORKS = [
    # name, class, constructor kwargs, input shape (without N), classes
    ("two_layer_relu", "TwoLayerNet", dict(input_size=12, hidden_size=7, output_size=4), (12,), 4),
    ("two_layer_sigmoid", "TwoLayerNet", dict(input_size=12, hidden_size=7, output_size=4, activation="sigmoid"),
     (12,), 4),
    ("multi_layer", "MultiLayerNet", dict(input_size=12, hidden_size_list=[9, 7], output_size=4,
                                          weight_decay_lambda=0.1), (12,), 4),
    ("multi_layer_extend_everything", "MultiLayerNetExtend",
     dict(input_size=12, hidden_size_list=[9, 7], output_size=4, use_batchnorm=True, use_dropout=True,
          dropout_ration=0.3, weight_decay_lambda=0.05), (12,), 4),
    ("simple_convnet", "SimpleConvNet", dict(weight_init_std=0.1, **TINY_CONV), (2, 10, 9), 5),
    ("deep_convnet", "DeepConvNet", dict(hidden_size=8), (1, 28, 28), 10),
]


def build(cls_name, kwargs):
    return getattr(reference, cls_name)(dtype="float64", seed=3, **kwargs)


def batch(shape, classes, n=4):
    rng = np.random.default_rng(7)
    return rng.standard_normal((n,) + shape), rng.integers(0, classes, n)


@parameterized.expand(NETWORKS)
def test_one_autograd_pass_equals_the_books_layer_loop(_, cls_name, kwargs, shape, classes):
    one_pass, layerwise = build(cls_name, kwargs), build(cls_name, kwargs)  # same weights, same dropout draws
    x, t = batch(shape, classes)
    grads, expected = one_pass.gradient(x, t), layerwise.layerwise_gradient(x, t)
    assert list(grads) == list(one_pass.params) == list(expected)
    for name in expected:
        assert_close(grads[name], expected[name], np.float64, what=f"d{name}")
    assert_close(one_pass.last_loss, layerwise.last_loss, np.float64, what="last_loss")


@parameterized.expand(NETWORKS)
def test_gradient_is_one_autograd_pass(_, cls_name, kwargs, shape, classes, monkeypatch=None):
    net = build(cls_name, kwargs)
    x, t = batch(shape, classes)
    calls = []
    real_grad = torch.autograd.grad

    def counting_grad(*args, **kw):
        calls.append(1)
        return real_grad(*args, **kw)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(torch.autograd, "grad", counting_grad)
        net.gradient(x, t)
        assert len(calls) == 1, f"{cls_name}.gradient made {len(calls)} autograd calls, expected one pass"
        calls.clear()
        net.layerwise_gradient(x, t)
        assert len(calls) > 1, "layerwise_gradient should go through the layers one call at a time"


def test_layerwise_gradient_refuses_nothing_the_one_pass_accepts():
    """Both methods check the input the same way (a wrong shape is a clear error in each)."""
    net = build("SimpleConvNet", dict(weight_init_std=0.1, **TINY_CONV))
    x, t = batch((1, 10, 9), 5)
    for method in (net.gradient, net.layerwise_gradient):
        with pytest.raises(ValueError, match="images of shape"):
            method(x, t)
