"""Parity of the image captioner (8.4: CNN encoder + LSTM decoder): scratch.captioner against reference.captioner.

The two networks start from the same weights (the NumPy network's, copied
into the PyTorch one with ``load_params``) and read the same multi-digit
pictures (1, 28, 140), drawn from fake digits (``Forward``, ``Generate``,
``TrainingRun``, ``BadInput``) or, with ``@requires_mnist``, from MNIST:

* ``Tokens``: teacher forcing's inputs and targets, and the two accuracies, on hand examples;
* ``Forward``: the loss, the scores and EVERY parameter's gradient, float64 and float32, the fast
  and the readable NumPy layers;
* ``Generate``: greedy captions equal in both backends; stopping at <end> and running to max_len
  with weights that force one token;
* ``TrainingRun``: 20 steps of SGD and of Adam in float64 from the same weights and minibatches give
  the same loss curve (the issue's "same loss curve" in miniature) and the same final weights;
* ``Init``: parameter shapes, the same in both, and a seed repeats its draw;
* ``BadInput``: one-line errors, the same class in both backends.
"""
import functools
import unittest

import numpy as np
import pytest
from parameterized import parameterized

import reference.captioner as R
import reference.optimizer as RO
import scratch.captioner as S
import scratch.optimizer as SO
from conftest import DTYPES, assert_close, assert_exact, assert_same_error, to_numpy
from mnist_support import MNIST_DIR, requires_mnist
from scratch.multi_digit import make_multi_digit

pytestmark = [pytest.mark.filterwarnings("error"), pytest.mark.usefixtures("one_torch_thread")]

SMALL = {"channels": (4, 6, 8), "encoder_size": 20, "hidden_size": 24, "embed_size": 8}  # the training run's: fast


def digit_set(m=40, seed=0):
    """m fake 28x28 uint8 'digits' (a random blob in a random box) and random labels 0..9."""
    rng = np.random.default_rng(seed)
    images = np.zeros((m, 28, 28), dtype=np.uint8)
    for i in range(m):
        rows, cols = rng.integers(6, 22), rng.integers(2, 22)
        top, left = rng.integers(0, 28 - rows + 1), rng.integers(0, 28 - cols + 1)
        blob = rng.integers(1, 256, size=(rows, cols)) * (rng.random((rows, cols)) < 0.6)
        blob[rows // 2, cols // 2] = 255
        images[i, top:top + rows, left:left + cols] = blob
    return images, rng.integers(0, 10, size=m)


@functools.lru_cache(maxsize=None)
def pictures(n=12, seed=1):
    images, labels = digit_set()
    p = make_multi_digit(images, labels, n, seed)
    return p.images, p.captions


def twins(dtype, seed=0, **kwargs):
    """A NumPy and a PyTorch Captioner holding the NumPy one's initial weights."""
    a = S.Captioner(dtype=dtype, seed=seed, **kwargs)
    b = R.Captioner(dtype=dtype, seed=seed + 1, **kwargs).load_params(a.params)
    return a, b


class TestTokens(unittest.TestCase):

    def test_caption_tokens_hand_example(self):
        inputs, targets = S.caption_tokens(np.array([[3, 1, 4], [5, -1, -1], [-1, -1, -1]]))
        s, e, p = S.START, S.END, S.PAD_TOKEN
        np.testing.assert_array_equal(inputs, [[s, 3, 1, 4], [s, 5, p, p], [s, p, p, p]])
        np.testing.assert_array_equal(targets, [[3, 1, 4, e], [5, e, p, p], [e, p, p, p]])
        self.assertEqual(inputs.dtype, np.int64)
        self.assertEqual((S.VOCAB_SIZE, S.END, S.START, S.PAD_TOKEN), (13, 10, 11, 12))

    def test_caption_scores_hand_example(self):
        captions = np.array([[3, 1, 4], [5, -1, -1], [2, 2, -1], [7, -1, -1]])
        predicted = np.array([[3, 1, 4, -1], [5, 6, -1, -1], [2, -1, -1, -1], [7, 7, 7, 7]])
        exact, token = S.caption_scores(predicted, captions)
        self.assertEqual(exact, 0.25)  # only the first
        # targets: 3 1 4 <end> | 5 <end> | 2 2 <end> | 7 <end>: 11 tokens, right: 4 + 1 + 1 + 1
        self.assertEqual(token, 7 / 11)


class TestForward(unittest.TestCase):

    @parameterized.expand(DTYPES)
    def test_loss_scores_and_every_gradient(self, _, dtype):
        x, captions = pictures()
        x = x.astype(dtype)
        a, b = twins(dtype)
        inputs, _ = S.caption_tokens(captions)
        assert_close(a.predict(x, inputs), b.predict(x, inputs), dtype, what="scores")
        ga, gb = a.gradient(x, captions), b.gradient(x, captions)
        assert_close(a.last_loss, b.last_loss, dtype, what="loss")
        self.assertEqual(list(ga), list(a.params))
        self.assertEqual(list(gb), list(a.params))
        for name in a.params:
            assert_close(ga[name], gb[name], dtype, what=f"d{name}")
            self.assertGreater(float(np.abs(ga[name]).max()), 0, f"d{name} is all zero")

    def test_readable_layers_give_the_same_gradients(self):
        x, captions = pictures()
        x = x.astype(np.float64)
        fast = S.Captioner(dtype=np.float64, seed=0)
        readable = S.Captioner(dtype=np.float64, seed=0, readable=True)
        gf, gr = fast.gradient(x, captions), readable.gradient(x, captions)
        for name in fast.params:
            assert_close(gf[name], gr[name], np.float64, what=f"d{name} readable")

    def test_padding_positions_do_not_count(self):
        """Changing the digits that the padding hides (after the caption's end) changes nothing."""
        x, captions = pictures()
        a, _ = twins(np.float64)
        x = x.astype(np.float64)
        self.assertEqual(a.loss(x, captions), a.loss(x, captions))
        shorter = captions.copy()
        shorter[:, -1] = -1  # cut every caption to 4 digits at most: a different loss
        self.assertNotEqual(a.loss(x, captions), a.loss(x, shorter))


class TestGenerate(unittest.TestCase):

    @parameterized.expand(DTYPES)
    def test_greedy_captions_equal(self, _, dtype):
        x, _ = pictures()
        a, b = twins(dtype, seed=3)
        ta, tb = a.generate(x.astype(dtype)), b.generate(x.astype(dtype))
        assert_exact(ta, tb, what="greedy tokens")
        self.assertEqual(ta.shape, (len(x), 6))

    def test_stops_at_end_and_runs_to_max_len(self):
        x, _ = pictures(4)
        for cls in (S.Captioner, R.Captioner):
            net = cls(dtype=np.float64, seed=0, **SMALL)
            bias = np.zeros(S.VOCAB_SIZE)
            bias[S.END] = 1e3  # always <end>: every caption empty
            net.load_params({**{k: to_numpy(v) for k, v in net.params.items()},
                             "W_out": np.zeros((S.VOCAB_SIZE, 24)), "b_out": bias})
            np.testing.assert_array_equal(net.generate(x, max_len=3), np.full((4, 3), -1))
            bias[:] = 0
            bias[7] = 1e3
            bias[S.START] = bias[S.PAD_TOKEN] = 2e3  # never chosen
            net.load_params({"b_out": bias, **{k: to_numpy(v) for k, v in net.params.items() if k != "b_out"}})
            np.testing.assert_array_equal(net.generate(x, max_len=4), np.full((4, 4), 7))
            self.assertEqual(net.evaluate(x, np.full((4, 3), 7)), (0.0, 0.75))  # 7 7 7 7 vs 7 7 7 <end>

    @requires_mnist
    def test_greedy_captions_equal_on_mnist_pictures(self):
        from scratch.multi_digit import load_multi_digit
        p = load_multi_digit(16, seed=0, train=False, root=MNIST_DIR, download=False)
        a, b = twins(np.float64, seed=4)
        assert_exact(a.generate(p.images), b.generate(p.images), what="greedy tokens (MNIST)")
        self.assertEqual(a.evaluate(p.images, p.captions), b.evaluate(p.images, p.captions))


class TestTrainingRun(unittest.TestCase):

    @parameterized.expand([("SGD", 0.1), ("Adam", 0.003)])
    def test_same_loss_curve_float64(self, optimizer, lr):
        x, captions = pictures(40, seed=2)
        a, b = twins(np.float64, seed=5, **SMALL)
        opt_a, opt_b = getattr(SO, optimizer)(lr=lr), getattr(RO, optimizer)(lr=lr)
        order = np.random.default_rng(0).permutation(np.tile(np.arange(40), 4))
        curve_a, curve_b = [], []
        for step in range(20):
            batch = order[step * 8:(step + 1) * 8]
            xb, cb = x[batch].astype(np.float64), captions[batch]
            opt_a.update(a.params, a.gradient(xb, cb))
            opt_b.update(b.params, b.gradient(xb, cb))
            curve_a.append(float(a.last_loss))
            curve_b.append(float(b.last_loss))
        assert_close(np.array(curve_a), np.array(curve_b), np.float64, rtol=1e-9, what=f"{optimizer} loss curve")
        self.assertLess(curve_a[-1], curve_a[0], "the loss did not fall")
        for name in a.params:
            assert_close(a.params[name], b.params[name], np.float64, rtol=1e-9, what=f"{name} after 20 steps")


class TestInit(unittest.TestCase):

    def test_shapes_and_seed(self):
        a, b = S.Captioner(seed=7), R.Captioner(seed=7)
        shapes = {name: tuple(p.shape) for name, p in a.params.items()}
        self.assertEqual(shapes, {name: tuple(p.shape) for name, p in b.params.items()})
        self.assertEqual(shapes["W3"], (64, 32, 3, 3))
        self.assertEqual(shapes["W4"], (512, 64 * 4 * 18))  # 28 x 140 -> 14 x 70 -> 7 x 35 -> 4 x 18
        self.assertEqual(shapes["W_h"], (256, 512))
        self.assertEqual(shapes["W_key"], (256, 64 * 4))  # a column of the last feature map -> a key
        self.assertEqual(shapes["W_pos"], (18, 256))  # one per column
        self.assertEqual(shapes["W_att"], (256, 2 * 256))  # [context, h] -> the attentional state
        self.assertEqual(shapes["weight_ih"], (1024, 16))
        self.assertEqual(shapes["W_out"], (13, 256))
        for cls in (S.Captioner, R.Captioner):
            first, second = cls(seed=5).params, cls(seed=5).params
            for name in first:
                np.testing.assert_array_equal(to_numpy(first[name]), to_numpy(second[name]))
                self.assertEqual(to_numpy(first[name]).dtype, np.float32)


class TestBadInput(unittest.TestCase):

    def setUp(self):
        self.x, self.captions = pictures(4)
        self.nets = twins(np.float32, **SMALL)

    def same_error(self, method, *args, match=None, expected=(ValueError, TypeError)):
        a, b = self.nets
        return assert_same_error(lambda: getattr(a, method)(*args), lambda: getattr(b, method)(*args),
                                 expected=expected, match=match)

    def test_token_out_of_range(self):
        for bad in (10, -2):
            captions = self.captions.copy()
            captions[0, 0] = bad
            self.same_error("loss", self.x, captions, match="digits 0..9 or the padding -1")
        self.same_error("loss", self.x, self.captions.astype(np.float32), match="integer captions")

    def test_mismatched_batch_and_lengths(self):
        self.same_error("loss", self.x, self.captions[:3], match="4 pictures but 3 captions")
        gap = self.captions.copy()
        gap[0] = [1, -1, 2, -1, -1]
        self.same_error("gradient", self.x, gap, match="digit after its padding")
        self.same_error("loss", self.x, self.captions[:, 0], match="captions of shape (n, l)")

    def test_images_of_the_wrong_shape(self):
        self.same_error("loss", self.x[:, :, :, :28], self.captions, match="expects images of shape (n, 1, 28, 140)")
        self.same_error("generate", self.x[0], match="expects images of shape")
        self.same_error("generate", self.x, 0, match="max_len")

    def test_bad_constructor_arguments(self):
        for kwargs in ({"channels": (4, 8)}, {"hidden_size": 0}, {"encoder_size": 0}, {"input_dim": (1, 28, 30)}):
            assert_same_error(lambda: S.Captioner(**kwargs), lambda: R.Captioner(**kwargs))
