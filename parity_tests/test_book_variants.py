"""``scratch.book``: the book's variants against PyTorch where PyTorch can express them, else closed forms.

* Affine stored (in, out) = ``F.linear(x, W.T, b)``;
* non-inverted dropout = ``F.dropout`` rescaled by (1 - p), with the same mask;
* per-element batch norm = ``F.batch_norm`` over (N, C*H*W) with eps 1e-6, and
  a biased running variance from ``torch.var(unbiased=False)``; a batch of one
  against its closed form;
* the book's Momentum, Nesterov, AdaGrad, RMSprop (eps 1e-7) = ``torch.optim``'s
  for a constant lr; the book's Adam = ``torch.optim.Adam`` with eps = 1e-7 / sqrt(1 - beta2^t);
* cross-entropy with +1e-7 = ``F.nll_loss(log(softmax + 1e-7))``, its backward
  = autograd of ``F.cross_entropy`` (the book leaves the 1e-7 out of the derivative);
* the networks, given the same weights, against ``reference``'s;
* the book's random draws: weights, dropout masks and shuffles follow ``np.random.seed``.
"""
import os
import subprocess
import sys
import tempfile
import unittest
from unittest import mock

import numpy as np
import torch
import torch.nn.functional as F
from parameterized import parameterized

import reference
import scratch
import scratch.book as book
from conftest import BOOK_CODE_ENV, DTYPES, assert_close, to_numpy
from scratch.book.ch04 import TwoLayerNet as Chapter4TwoLayerNet

BOOK_EPS = 1e-6  # the book's 10e-7


def t64(a, grad=False):
    return torch.tensor(np.asarray(a), requires_grad=grad)


def transposed(params):
    """Book layout (in, out) <-> PyTorch's (out, in) for 2-D weights."""
    return {k: (v.T.copy() if v.ndim == 2 and k.startswith("W") else v.copy()) for k, v in params.items()}


class TestAffine(unittest.TestCase):

    @parameterized.expand(DTYPES)
    def test_affine_in_out_is_F_linear_of_the_transpose(self, _, dtype):
        rng = np.random.default_rng(0)
        x = rng.standard_normal((6, 2, 3, 4)).astype(dtype)
        W = rng.standard_normal((24, 5)).astype(dtype)
        b = rng.standard_normal(5).astype(dtype)
        dout = rng.standard_normal((6, 5)).astype(dtype)
        layer = book.Affine(W, b)
        out = layer.forward(x)
        dx = layer.backward(dout)
        xt, Wt, bt = t64(x, True), t64(W, True), t64(b, True)
        expected = F.linear(xt.reshape(6, -1), Wt.T, bt)
        expected.backward(torch.from_numpy(dout))
        assert_close(out, expected, dtype, what="out")
        assert_close(dx, xt.grad, dtype, what="dx")
        assert_close(layer.dW, Wt.grad, dtype, what="dW")
        assert_close(layer.db, bt.grad, dtype, what="db")

    def test_float32_images_meet_float64_weights_as_in_numpy(self):
        """The book feeds float32 MNIST to float64 weights; np.dot promotes to float64."""
        x = np.random.default_rng(1).random((3, 4)).astype(np.float32)
        layer = book.Affine(np.ones((4, 2)), np.zeros(2))
        out = layer.forward(x)
        self.assertEqual(out.dtype, np.float64)
        np.testing.assert_array_equal(out, np.dot(x, np.ones((4, 2))))

    def test_wrong_input_width_is_named(self):
        with self.assertRaisesRegex(ValueError, "expects 4 input features"):
            book.Affine(np.ones((4, 2)), np.zeros(2)).forward(np.ones((3, 5)))


class TestSoftmaxWithLoss(unittest.TestCase):

    @parameterized.expand([(f"{name}_{labels}", dtype, labels) for name, dtype in DTYPES
                           for labels in ("indices", "column", "one_hot")])
    def test_loss_adds_1e7_and_backward_is_cross_entropys(self, _, dtype, labels):
        rng = np.random.default_rng(2)
        x = (3 * rng.standard_normal((8, 10))).astype(dtype)
        t = rng.integers(0, 10, 8)
        given = {"indices": t, "column": t.reshape(-1, 1), "one_hot": np.eye(10)[t]}[labels]
        layer = book.SoftmaxWithLoss()
        loss = layer.forward(x, given)
        dx = layer.backward(1)
        xt = t64(x, True)
        expected_loss = F.nll_loss(torch.log(F.softmax(xt, dim=1) + 1e-7), torch.from_numpy(t))
        (expected_dx,) = torch.autograd.grad(F.cross_entropy(xt, torch.from_numpy(t)), xt)
        assert_close(np.asarray(loss, dtype=dtype), expected_loss, dtype, what="loss")
        assert_close(dx, expected_dx, dtype, what="dx")
        # and the 1e-7 is visible: the book's loss is not PyTorch's
        self.assertNotEqual(float(loss), F.cross_entropy(xt.detach().double(), torch.from_numpy(t)).item())

    def test_labels_of_shape_n_1_are_labels_not_a_broadcast(self):
        """The book indexes with t of shape (N, 1): right for N = 1, an N x N sum for N > 1."""
        y = book.softmax(np.random.default_rng(3).standard_normal((5, 10)))
        t = np.array([1, 4, 0, 9, 2])
        self.assertEqual(book.cross_entropy_error(y, t.reshape(-1, 1)), book.cross_entropy_error(y, t))
        expected = -np.sum(np.log(y[np.arange(5), t] + 1e-7)) / 5
        self.assertAlmostEqual(book.cross_entropy_error(y, t), expected, places=15)

    def test_a_single_vector_and_its_label(self):
        y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
        self.assertAlmostEqual(book.cross_entropy_error(y, 2), -np.log(0.6 + 1e-7), places=15)
        self.assertAlmostEqual(book.cross_entropy_error(y, np.eye(10)[2]), -np.log(0.6 + 1e-7), places=15)
        self.assertAlmostEqual(book.cross_entropy_error(y, np.eye(10)[3]), -np.log(1e-7), places=12)


class TestDropout(unittest.TestCase):

    @parameterized.expand([(f"p{p}_{name}", p, dtype) for p in (0.2, 0.5) for name, dtype in DTYPES])
    def test_non_inverted_dropout_is_F_dropout_rescaled(self, _, p, dtype):
        rng = np.random.default_rng(4)
        x = rng.standard_normal((16, 30)).astype(dtype)
        dout = rng.standard_normal(x.shape).astype(dtype)
        xt = t64(x, True)
        torch.manual_seed(0)
        expected = F.dropout(xt, p, training=True) * (1 - p)
        (expected_dx,) = torch.autograd.grad(expected, xt, torch.from_numpy(dout))
        kept = to_numpy(expected) != 0
        # np.random.rand gives the layer the same mask: u > p exactly where PyTorch kept
        draw = np.where(kept, (1 + p) / 2, p / 2)
        layer = book.Dropout(p)
        with mock.patch.object(np.random, "rand", return_value=draw):
            out = layer.forward(x)
        assert_close(out, expected, dtype, what="out")
        assert_close(layer.backward(dout), expected_dx, dtype, what="dx")
        test_out = layer.forward(x, train_flg=False)
        assert_close(test_out, F.dropout(t64(x), p, training=False) * (1 - p), dtype, what="test time")

    def test_the_mask_is_np_random_rand_greater_than_the_ratio(self):
        x = np.ones((50, 40))
        np.random.seed(7)
        out = book.Dropout(0.3).forward(x)
        np.random.seed(7)
        np.testing.assert_array_equal(out, (np.random.rand(50, 40) > 0.3).astype(float))


    def test_ratios_zero_and_one_and_float32(self):
        """p = 0 keeps everything (and x * 1 at test time); p = 1 drops everything and multiplies by 0 at
        test time (-0.0 for negatives, as x * 0); float32 stays float32 both ways."""
        x = np.array([1.5, -2.0, 0.0], np.float32)
        for train_flg in (True, False):
            keep = book.Dropout(0.0)
            np.testing.assert_array_equal(keep.forward(x, train_flg), x)
            np.testing.assert_array_equal(keep.backward(np.ones(3, np.float32)), np.ones(3, np.float32))
            drop = book.Dropout(1.0)
            out = drop.forward(x, train_flg)
            assert out.dtype == np.float32 and np.array_equal(np.signbit(out), [False, True, False])
            np.testing.assert_array_equal(out, np.zeros(3, np.float32))
            assert drop.backward(np.ones(3, np.float32)).dtype == np.float32


class TestBatchNormalization(unittest.TestCase):

    @parameterized.expand([(f"{ndim}d_{name}", ndim, dtype) for ndim in (2, 4) for name, dtype in DTYPES])
    def test_per_element_batch_norm_is_F_batch_norm_over_flattened_input(self, _, ndim, dtype):
        rng = np.random.default_rng(5)
        shape = (8, 6) if ndim == 2 else (8, 2, 3, 3)
        D = int(np.prod(shape[1:]))
        gamma = rng.uniform(0.5, 2, D).astype(dtype)
        beta = rng.standard_normal(D).astype(dtype)
        layer = book.BatchNormalization(gamma, beta)
        running_mean, running_var = np.zeros(D), np.zeros(D)
        for step in range(3):
            x = (rng.uniform(-2, 2, D).reshape((1,) + shape[1:]) + rng.standard_normal(shape)).astype(dtype)
            dout = rng.standard_normal(shape).astype(dtype)
            out = layer.forward(x, train_flg=True)
            dx = layer.backward(dout)
            x2 = t64(x.reshape(8, D), True)
            g, b = t64(gamma, True), t64(beta, True)
            expected = F.batch_norm(x2, None, None, g, b, training=True, eps=BOOK_EPS)
            expected.backward(torch.from_numpy(dout.reshape(8, D)))
            assert_close(out, expected.reshape(shape), dtype, what=f"out, step {step}")
            assert_close(dx, x2.grad.reshape(shape), dtype, what=f"dx, step {step}")
            assert_close(layer.dgamma, g.grad, dtype, what="dgamma")
            assert_close(layer.dbeta, b.grad, dtype, what="dbeta")
            x64 = torch.from_numpy(x.reshape(8, D).astype(np.float64))
            running_mean = 0.9 * running_mean + 0.1 * x64.mean(0).numpy()
            running_var = 0.9 * running_var + 0.1 * torch.var(x64, 0, unbiased=False).numpy()
            assert_close(layer.running_mean.astype(np.float64), running_mean, np.float64,
                         rtol=1e-10 if dtype == np.float64 else 1e-5, what="running mean", check_dtype=False)
            assert_close(layer.running_var.astype(np.float64), running_var, np.float64,
                         rtol=1e-10 if dtype == np.float64 else 1e-5, what="biased running var", check_dtype=False)
        x = rng.standard_normal(shape).astype(dtype)
        expected = F.batch_norm(t64(x.reshape(8, D)), t64(layer.running_mean), t64(layer.running_var),
                                t64(gamma), t64(beta), training=False, eps=BOOK_EPS)
        assert_close(layer.forward(x, train_flg=False), expected.reshape(shape), dtype, what="test time")

    def test_running_variance_starts_at_zero(self):
        layer = book.BatchNormalization(np.ones(3), np.zeros(3))
        np.testing.assert_array_equal(layer.running_var, np.zeros(3))
        x = np.array([[1.0, 2.0, 3.0]])
        np.testing.assert_allclose(layer.forward(x, train_flg=False), x / np.sqrt(1e-6))

    def test_a_batch_of_one_trains_as_in_the_book(self):
        """PyTorch refuses one value per channel; the book's closed form: var = 0, out = beta, dx = 0."""
        gamma, beta = np.array([1.5, 2.0]), np.array([0.3, -0.7])
        x, dout = np.array([[4.0, -1.0]]), np.array([[0.25, 2.0]])
        with self.assertRaises(ValueError):
            F.batch_norm(t64(x), None, None, t64(gamma), t64(beta), training=True)
        layer = book.BatchNormalization(gamma, beta)
        np.testing.assert_array_equal(layer.forward(x), beta[None])
        np.testing.assert_array_equal(layer.backward(dout), np.zeros_like(x))
        np.testing.assert_array_equal(layer.dgamma, [0.0, 0.0])
        np.testing.assert_array_equal(layer.dbeta, dout[0])
        np.testing.assert_allclose(layer.running_mean, 0.1 * x[0], rtol=1e-15)
        np.testing.assert_array_equal(layer.running_var, [0.0, 0.0])


OPTIMIZERS = [
    ("SGD", {"lr": 0.1}, lambda p: torch.optim.SGD(p, lr=0.1)),
    ("Momentum", {"lr": 0.01, "momentum": 0.9}, lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9)),
    ("Nesterov", {"lr": 0.05, "momentum": 0.7},
     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.7, nesterov=True)),
    ("AdaGrad", {"lr": 0.05}, lambda p: torch.optim.Adagrad(p, lr=0.05, eps=1e-7)),
    ("RMSprop", {"lr": 0.01, "decay_rate": 0.9}, lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-7)),
    ("Adam", {"lr": 0.01, "beta1": 0.8, "beta2": 0.99},
     lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.99))),
]


class TestOptimizers(unittest.TestCase):

    @parameterized.expand([(f"{name}_{scale:g}_{dname}", name, kw, make, scale, dtype)
                           for name, kw, make in OPTIMIZERS for scale in (1.0, 1e-4) for dname, dtype in DTYPES])
    def test_the_books_update_rule_is_torch_optims(self, _, name, kwargs, make_torch, scale, dtype):
        """100 steps; Adam gets eps = 1e-7 / sqrt(1 - beta2^t) each step (the book adds 1e-7 before the correction)."""
        rng = np.random.default_rng(6)
        shapes = {"W1": (5, 4), "b1": (4,), "W2": (2, 3, 3, 3)}
        ours = {k: rng.standard_normal(s).astype(dtype) for k, s in shapes.items()}
        theirs = [torch.tensor(v.copy(), requires_grad=True) for v in ours.values()]
        optimizer, torch_optimizer = getattr(book, name)(**kwargs), make_torch(theirs)
        steps = 100 if dtype == np.float64 else 30
        for step in range(1, steps + 1):
            grads = {k: (scale * rng.standard_normal(s)).astype(dtype) for k, s in shapes.items()}
            optimizer.update(ours, grads)
            for p, g in zip(theirs, grads.values()):
                p.grad = torch.from_numpy(g.copy())
            if name == "Adam":
                torch_optimizer.param_groups[0]["eps"] = 1e-7 / np.sqrt(1 - kwargs["beta2"] ** step)
            torch_optimizer.step()
            for (k, v), p in zip(ours.items(), theirs):
                assert_close(v, p, dtype, what=f"{name} {k} step {step}")

    def test_the_book_and_pytorch_adam_differ_for_tiny_gradients(self):
        """The test above can fail: with PyTorch's fixed eps the book's Adam takes another step."""
        g = {"w": np.full(3, 1e-4)}
        ours, theirs = {"w": np.zeros(3)}, {"w": np.zeros(3)}
        book.Adam(lr=0.001).update(ours, g)
        scratch.Adam(lr=0.001, eps=1e-7).update(theirs, g)
        self.assertGreater(abs(ours["w"][0] - theirs["w"][0]) / abs(theirs["w"][0]), 1e-3)

    def test_book_momentum_keeps_lr_inside_the_velocity(self):
        """A changed lr acts at once in PyTorch's form, only on new gradients in the book's."""
        g = {"w": np.ones(1)}
        ours, theirs = {"w": np.zeros(1)}, {"w": np.zeros(1)}
        a, b = book.Momentum(lr=0.1), scratch.Momentum(lr=0.1)
        a.update(ours, g), b.update(theirs, g)
        a.lr = b.lr = 0.01
        a.update(ours, g), b.update(theirs, g)
        self.assertAlmostEqual(ours["w"][0], -0.1 - (0.9 * 0.1 + 0.01), places=15)
        self.assertAlmostEqual(theirs["w"][0], -0.1 - 0.01 * (0.9 + 1), places=15)


class TestNetworks(unittest.TestCase):
    """Given the same weights the book's networks compute what ``reference``'s do (no dropout, no batch norm)."""

    def check_against_reference(self, ours, theirs, x, t):
        theirs.load_params(transposed(ours.params))
        assert_close(ours.predict(x), theirs.predict(x), np.float64, what="predict")
        grads, expected = ours.gradient(x, t), theirs.gradient(x, t)
        for k in ours.params:
            assert_close(transposed({k: grads[k]})[k], expected[k], np.float64, what=f"d{k}")

    def test_two_layer_net(self):
        np.random.seed(0)
        ours = book.TwoLayerNet(12, 7, 4, weight_init_std=0.5)
        theirs = reference.TwoLayerNet(12, 7, 4, dtype="float64")
        rng = np.random.default_rng(8)
        self.check_against_reference(ours, theirs, rng.random((9, 12)).astype(np.float32), rng.integers(0, 4, 9))

    def test_chapter_4_network_is_the_sigmoid_network(self):
        np.random.seed(1)
        ours = Chapter4TwoLayerNet(12, 7, 4, weight_init_std=0.5)
        theirs = reference.TwoLayerNet(12, 7, 4, activation="sigmoid", dtype="float64")
        theirs.load_params(transposed(ours.params))
        rng = np.random.default_rng(9)
        x, t = rng.random((9, 12)), np.eye(4)[rng.integers(0, 4, 9)]
        assert_close(ours.predict(x), F.softmax(theirs.predict(x), dim=1), np.float64, what="probabilities")
        grads, expected = ours.gradient(x, t), theirs.gradient(x, t.argmax(1))
        for k in ours.params:
            assert_close(transposed({k: grads[k]})[k], expected[k], np.float64, what=f"d{k}")

    def test_simple_convnet(self):
        np.random.seed(2)
        conv = {"filter_num": 4, "filter_size": 3, "pad": 0, "stride": 1}
        ours = book.SimpleConvNet((1, 8, 8), conv, hidden_size=6, output_size=3, weight_init_std=0.3)
        theirs = reference.SimpleConvNet((1, 8, 8), conv, hidden_size=6, output_size=3, dtype="float64")
        rng = np.random.default_rng(10)
        self.check_against_reference(ours, theirs, rng.random((5, 1, 8, 8)), rng.integers(0, 3, 5))

    def test_batch_norm_gradient_check_on_a_batch_of_one(self):
        """ch06/batch_norm_gradient_check.py trains on x_train[:1]. With one sample every batch norm
        outputs its beta, so nothing before the last one matters: those gradients are exactly 0 both
        ways. beta2 starts at 0, on ReLU's kink, where central differences see half a slope and
        backprop none: the book's own script prints beta2:0.0488 for that reason."""
        np.random.seed(3)
        net = book.MultiLayerNetExtend(10, [6, 5], 3, use_batchnorm=True)
        x, t = np.random.rand(1, 10), np.eye(3)[[2]]
        numerical, backprop = net.numerical_gradient(x, t), net.gradient(x, t)
        self.assertEqual(list(numerical), ["W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2", "beta2", "W3", "b3"])
        for k in ("W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2"):
            np.testing.assert_array_equal(backprop[k], 0, err_msg=k)
            np.testing.assert_array_equal(numerical[k], 0, err_msg=k)
        for k in ("W3", "b3"):
            self.assertLess(np.abs(numerical[k] - backprop[k]).mean(), 1e-6, k)
        self.assertGreater(np.abs(numerical["beta2"] - backprop["beta2"]).mean(), 1e-3)  # the kink

    def test_the_networks_compute_in_float64(self):
        net = book.MultiLayerNetExtend(10, [6], 3, use_batchnorm=True, use_dropout=True)
        self.assertTrue(all(v.dtype == np.float64 for v in net.params.values()))
        self.assertEqual(net.predict(np.ones((2, 10), dtype=np.float32)).dtype, np.float64)
        self.assertIsInstance(net.accuracy(np.ones((2, 10)), np.array([0, 1])), np.float64)


class TestRandomDraws(unittest.TestCase):
    """After np.random.seed(s) the book's networks draw exactly what the book's code draws."""

    def test_weights_are_std_randn_in_the_books_order_and_shapes(self):
        np.random.seed(11)
        net = book.MultiLayerNet(6, [5, 4], 3, weight_init_std="he")
        np.random.seed(11)
        for k, (n_in, n_out) in enumerate([(6, 5), (5, 4), (4, 3)], start=1):
            np.testing.assert_array_equal(net.params[f"W{k}"], np.sqrt(2.0 / n_in) * np.random.randn(n_in, n_out))
            np.testing.assert_array_equal(net.params[f"b{k}"], np.zeros(n_out))

    def test_deep_convnet_draws_filters_then_affine_weights(self):
        np.random.seed(12)
        net = book.DeepConvNet()
        np.random.seed(12)
        scales = np.sqrt(2.0 / np.array([9, 144, 144, 288, 288, 576, 1024, 50]))
        shapes = [(16, 1, 3, 3), (16, 16, 3, 3), (32, 16, 3, 3), (32, 32, 3, 3), (64, 32, 3, 3), (64, 64, 3, 3),
                  (1024, 50), (50, 10)]
        for k, (scale, shape) in enumerate(zip(scales, shapes), start=1):
            np.testing.assert_array_equal(net.params[f"W{k}"], scale * np.random.randn(*shape), err_msg=f"W{k}")

    def test_shuffle_dataset_is_np_random_permutation(self):
        x, t = np.arange(20).reshape(10, 2), np.arange(10)
        np.random.seed(13)
        xs, ts = book.shuffle_dataset(x, t)
        np.random.seed(13)
        p = np.random.permutation(10)
        np.testing.assert_array_equal(xs, x[p])
        np.testing.assert_array_equal(ts, t[p])


class TestUtilities(unittest.TestCase):

    def test_smooth_curve_is_the_kaiser_weighted_average(self):
        x = np.random.default_rng(14).random(40)
        w = np.kaiser(11, 2)
        w /= w.sum()
        y = book.smooth_curve(x)
        self.assertEqual(y.shape, x.shape)
        for i in range(5, 35):  # away from the mirrored ends: a plain weighted average
            self.assertAlmostEqual(y[i], np.dot(w, x[i - 5:i + 6]), places=14)
        # the ends: x[5..1] mirrored on the left, x[-1..-5] on the right
        self.assertAlmostEqual(y[0], np.dot(w, np.r_[x[5:0:-1], x[:6]]), places=14)
        self.assertAlmostEqual(y[-1], np.dot(w, np.r_[x[-6:], x[::-1][:5]]), places=14)

    def test_smooth_curve_refuses_a_short_curve(self):
        with self.assertRaisesRegex(ValueError, "at least 11 points"):
            book.smooth_curve(np.ones(5))

    def test_books_small_differences(self):
        self.assertEqual(book.step_function(np.array([-1.0, 0.0, 2.0])).dtype.kind, "i")
        np.testing.assert_array_equal(book.relu_grad(np.array([-1.0, 0.0, 2.0])), [0.0, 1.0, 1.0])
        self.assertEqual(book.conv_output_size(28, 5), 24.0)
        self.assertIsInstance(book.conv_output_size(7, 2, stride=2), float)
        self.assertEqual(book.im2col(np.ones((1, 1, 3, 3), dtype=np.float32), 2, 2).dtype, np.float64)
        x = np.linspace(-3, 3, 13)
        np.testing.assert_allclose(book.sigmoid_grad(x), book.sigmoid(x) * (1 - book.sigmoid(x)), rtol=1e-15)

    def test_wildcard_import_brings_np_and_the_books_names(self):
        namespace = {}
        exec("from scratch.book import *", namespace)
        for name in ("np", "Affine", "SoftmaxWithLoss", "BatchNormalization", "Dropout", "Convolution", "Pooling",
                     "SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam", "Trainer", "MultiLayerNet",
                     "MultiLayerNetExtend", "TwoLayerNet", "SimpleConvNet", "DeepConvNet", "load_mnist",
                     "smooth_curve", "shuffle_dataset", "im2col", "col2im", "numerical_gradient",
                     "numerical_gradient_2d", "sigmoid_grad", "relu_grad", "softmax_loss", "MulLayer", "AddLayer",
                     "AND", "NAND", "OR", "XOR"):
            self.assertIn(name, namespace)
        self.assertIs(namespace["np"], np)
        self.assertIs(namespace["Affine"], book.Affine)


class TestClearErrors(unittest.TestCase):
    """The book's own classes answer bad input as scratch's do: one clear error naming the problem."""

    def test_layers(self):
        with self.assertRaisesRegex(ValueError, "empty batch"):
            book.Affine(np.ones((4, 2)), np.zeros(2)).forward(np.ones((0, 4)))
        with self.assertRaisesRegex(RuntimeError, "Affine.backward called before Affine.forward"):
            book.Affine(np.ones((4, 2)), np.zeros(2)).backward(np.ones((3, 2)))
        with self.assertRaisesRegex(ValueError, "empty batch"):
            book.SoftmaxWithLoss().forward(np.ones((0, 3)), np.zeros(0, dtype=int))
        with self.assertRaisesRegex(RuntimeError, "before SoftmaxWithLoss.forward"):
            book.SoftmaxWithLoss().backward()
        layer = book.BatchNormalization(np.ones(3), np.zeros(3))
        with self.assertRaisesRegex(RuntimeError, "before BatchNormalization.forward"):
            layer.backward(np.ones((2, 3)))
        layer.forward(np.ones((2, 3)))
        with self.assertRaisesRegex(ValueError, "does not match the forward output shape"):
            layer.backward(np.ones((2, 4)))

    @parameterized.expand([("Momentum",), ("Nesterov",), ("Adam",)])
    def test_the_books_own_optimizers(self, name):
        with self.assertRaisesRegex(ValueError, "lr must be >= 0"):
            getattr(book, name)(lr=-1)
        optimizer = getattr(book, name)()
        params = {"W": np.zeros((2, 3))}
        with self.assertRaisesRegex(ValueError, "gradient 'W' has shape"):
            optimizer.update(params, {"W": np.ones(3)})
        with self.assertRaises(KeyError):
            optimizer.update(params, {})
        np.testing.assert_array_equal(params["W"], 0)  # nothing moved

    def test_chapter_4_network_sizes(self):
        with self.assertRaisesRegex(ValueError, "positive integers"):
            Chapter4TwoLayerNet(4, -5, 3)


class TestBookFiles(unittest.TestCase):

    def test_save_params_writes_a_pickle_the_book_reads(self):
        np.random.seed(15)
        net = book.SimpleConvNet((1, 8, 8), {"filter_num": 2, "filter_size": 3, "pad": 0, "stride": 1}, 5, 3)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "params.pkl")
            net.save_params(path)
            with open(path, "rb") as f:
                saved = book.safe_pickle.load(f)
            self.assertEqual(sorted(saved), sorted(net.params))
            for k, v in net.params.items():
                np.testing.assert_array_equal(saved[k], v)
            other = book.SimpleConvNet((1, 8, 8), {"filter_num": 2, "filter_size": 3, "pad": 0, "stride": 1}, 5, 3)
            other.load_params(path)
            for k, v in net.params.items():
                np.testing.assert_array_equal(other.params[k], v)
            self.assertEqual(os.listdir(tmp), ["params.pkl"])  # no temporary file left behind

    @unittest.skipUnless(os.environ.get(BOOK_CODE_ENV), f"set {BOOK_CODE_ENV} to the book's code (../shared/book-code)")
    def test_the_books_own_load_params_reads_our_pickle(self):
        """The book's ch07 SimpleConvNet, in its own process, loads what scratch.book saved."""
        np.random.seed(16)
        net = book.SimpleConvNet()
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "params.pkl")
            net.save_params(path)
            code = os.environ[BOOK_CODE_ENV]
            program = ("import sys, numpy as np; sys.path[:0] = [sys.argv[1], sys.argv[1] + '/ch07'];"
                       "from simple_convnet import SimpleConvNet; n = SimpleConvNet(); n.load_params(sys.argv[2]);"
                       "print(repr(sum(float(np.sum(v)) for v in n.params.values())))")
            out = subprocess.run([sys.executable, "-c", program, code, path], capture_output=True, text=True,
                                 check=True, cwd=tmp).stdout
        self.assertEqual(float(out), sum(float(np.sum(v)) for v in net.params.values()))


if __name__ == "__main__":
    unittest.main()
