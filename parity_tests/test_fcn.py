"""Parity of the segmentation network (8.4: FCN-8s style): scratch.fcn against reference.fcn.

The two networks start from the same weights (the NumPy network's, copied
into the PyTorch one with ``load_params``) and read the same fake scenes
(1, 64, 64): rectangles of classes 0..9, each with its own grey level, on a
background of class 10, a few pixels "don't care" (IGNORE_INDEX):

* ``Forward``: the scores, the loss and EVERY parameter's gradient, float64 and float32, from
  weights where every branch is live (the score layers start at zero, so random ones are loaded),
  and a skip's part of the scores taken out by zeroing its layer;
  the readable NumPy layers give the fast ones' numbers;
* ``BilinearUpsampling``: the fixed x f upsampling (two matrix products) against
  ``F.conv_transpose2d`` by the bilinear kernel, forward and backward, and against
  ``scratch``'s own ``Deconvolution`` (the same numbers);
* ``Init``: the bilinear kernels in place at construction, zero score layers (loss ln 11),
  the same parameter shapes in both backends, other input sizes, a seed repeats its draw;
* ``Segment``: ``segment`` is the argmax of ``predict``, in any batch size, the same in both;
  ``accuracy`` and ``evaluate`` count as ``segmentation_metrics`` does;
* ``TrainingRun``: a few SGD and Adam steps in float64 from the same weights and minibatches give
  the same loss curve (the issue's "same loss curve" in miniature) and the same final weights;
* ``BadInput``: one-line errors, the same class and words in both backends.
"""
import functools
import math
import unittest

import numpy as np
import pytest
from parameterized import parameterized

import reference.fcn as R
import reference.optimizer as RO
import scratch.fcn as S
import scratch.optimizer as SO
from conftest import DTYPES, assert_close, assert_exact, assert_same_error, to_numpy
from reference.deconvolution import bilinear_kernel as torch_bilinear_kernel
from scratch import convolution as readable_layers
from scratch import fast as fast_layers
from scratch.deconvolution import Deconvolution, bilinear_kernel
from scratch.segmentation_metrics import confusion_matrix, mean_iou, pixel_accuracy

pytestmark = [pytest.mark.filterwarnings("error"), pytest.mark.usefixtures("one_torch_thread")]

K = 11
SMALL = {"channels": (4, 8, 8)}  # the training run's network: fast


@functools.lru_cache(maxsize=None)
def scenes(n=6, seed=0, size=64):
    """n fake scenes (n, 1, size, size) float64 and their masks (n, size, size) int64: 1 to 3
    rectangles of classes 0..9 with grey levels (class + 1) / 10 and a little noise on the
    background (class 10); a few pixels IGNORE_INDEX."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, 1, size, size)) * 0.1
    masks = np.full((n, size, size), 10, dtype=np.int64)
    for i in range(n):
        for _ in range(rng.integers(1, 4)):
            c = int(rng.integers(0, 10))
            h, w = rng.integers(size // 8, size // 3, size=2)
            top, left = rng.integers(0, size - h), rng.integers(0, size - w)
            x[i, 0, top:top + h, left:left + w] = (c + 1) / 10
            masks[i, top:top + h, left:left + w] = c
    masks[:, 0, :3] = S.IGNORE_INDEX
    return x, masks


def live_params(net, seed=0):
    """The network's parameters with small random numbers added to each, so that the score layers
    (zero at construction) and the bilinear Up2 and Up1 are all live, as NumPy arrays."""
    rng = np.random.default_rng(seed)
    return {name: (to_numpy(p) + rng.normal(0, 0.1, p.shape)).astype(to_numpy(p).dtype)
            for name, p in net.params.items()}


def twins(dtype, seed=0, live=True, **kwargs):
    """A NumPy and a PyTorch FCN holding the same weights (the NumPy one's, made live)."""
    a = S.FCN(dtype=dtype, seed=seed, **kwargs)
    if live:
        a.load_params(live_params(a, seed))
    b = R.FCN(dtype=dtype, seed=seed + 1, **kwargs).load_params(a.params)
    return a, b


class TestForward(unittest.TestCase):

    @parameterized.expand(DTYPES)
    def test_loss_scores_and_every_gradient(self, _, dtype):
        x, masks = scenes(4)
        x = x.astype(dtype)
        a, b = twins(dtype)
        assert_close(a.predict(x), b.predict(x), dtype, what="scores")
        ga, gb = a.gradient(x, masks), b.gradient(x, masks)
        assert_close(a.last_loss, b.last_loss, dtype, what="loss")
        self.assertEqual(list(ga), list(a.params))
        self.assertEqual(list(gb), list(a.params))
        for name in a.params:
            self.assertEqual(ga[name].shape, a.params[name].shape, name)
            assert_close(ga[name], gb[name], dtype, what=f"d{name}")
            self.assertGreater(float(np.abs(ga[name]).max()), 0, f"d{name} is all zero")

    def test_readable_layers_give_the_same_numbers(self):
        x, masks = scenes(4)
        fast = S.FCN(dtype=np.float64, seed=0)
        readable = S.FCN(dtype=np.float64, seed=0, readable=True)
        params = live_params(fast)
        fast.load_params(params)
        readable.load_params(params)
        self.assertIs(type(readable.layers["Conv2"]), readable_layers.Convolution)
        self.assertIs(type(fast.layers["Conv2"]), fast_layers.Convolution)
        self.assertIs(type(readable.layers["Pool2"]), readable_layers.Pooling)
        np.testing.assert_allclose(fast.predict(x), readable.predict(x), rtol=1e-12, atol=1e-12)
        gf, gr = fast.gradient(x, masks), readable.gradient(x, masks)
        self.assertEqual(fast.last_loss, pytest.approx(readable.last_loss, rel=1e-13))
        for name in fast.params:
            np.testing.assert_allclose(gf[name], gr[name], rtol=1e-10, atol=1e-10 * np.abs(gr[name]).max(),
                                       err_msg=f"d{name} readable")

    def test_each_skip_adds_its_upsampled_scores(self):
        """The wiring, checked against a by-hand sum: zeroing Skip1 takes Up0(Skip1(pool1)) out of the
        scores, zeroing Skip2 takes Up0(Up1(Skip2(pool2))) out (everything after the sums is linear),
        with the 1x1 scores computed here by einsum on pool1 = Pool(Relu(Conv1 x)) and pool2."""
        x, _ = scenes(2)
        a, b = twins(np.float64)
        L = a.layers
        pool1 = L["Pool1"].forward(L["Relu1"].forward(L["Conv1"].forward(x)))
        pool2 = L["Pool2"].forward(L["Relu2"].forward(L["Conv2"].forward(pool1)))
        one_by_one = lambda W, bias, v: np.einsum("kc,nchw->nkhw", W[:, :, 0, 0], v) + bias[:, None, None]  # noqa: E731
        skip1 = one_by_one(a.params["W_skip1"], a.params["b_skip1"], pool1)
        skip2 = one_by_one(a.params["W_skip2"], a.params["b_skip2"], pool2)
        up0 = Deconvolution(bilinear_kernel(K, 4), np.zeros(K), stride=2, pad=1)
        up1 = Deconvolution(a.params["W_up1"].copy(), np.zeros(K), stride=2, pad=1)
        parts = {"skip1": up0.forward(skip1), "skip2": up0.forward(up1.forward(skip2))}
        self.assertEqual(parts["skip1"].shape, (2, K, 64, 64))
        full = a.predict(x)
        for skip, part in parts.items():
            for net in (a, b):
                params = {name: to_numpy(p).copy() for name, p in a.params.items()}
                params[f"W_{skip}"][...] = 0
                params[f"b_{skip}"][...] = 0
                net.load_params(params)
                np.testing.assert_allclose(full - to_numpy(net.predict(x)), part, rtol=1e-10,
                                           atol=1e-12 * np.abs(part).max(), err_msg=f"{skip}, {type(net).__module__}")
            a.load_params(live_params(S.FCN(dtype=np.float64, seed=0), 0))
            b.load_params(a.params)

    def test_ignored_pixels_do_not_count(self):
        """Whatever the network scores there, an IGNORE_INDEX pixel adds nothing: the loss is the mean
        over the other pixels (checked by relabelling: all ignored but one pixel)."""
        x, masks = scenes(2)
        a, b = twins(np.float64)
        only = np.full_like(masks, S.IGNORE_INDEX)
        only[1, 20, 30] = masks[1, 20, 30]
        scores = a.predict(x)[1, :, 20, 30]
        expected = -(scores[masks[1, 20, 30]] - np.log(np.exp(scores).sum()))
        np.testing.assert_allclose(a.loss(x, only), expected, rtol=1e-12)
        np.testing.assert_allclose(to_numpy(b.loss(x, only)), expected, rtol=1e-12)


class TestBilinearUpsampling(unittest.TestCase):

    @parameterized.expand([(name, dtype, f) for name, dtype in DTYPES for f in (2, 3, 4)])
    def test_forward_and_backward(self, _, dtype, factor):
        rng = np.random.default_rng(factor)
        x = rng.normal(size=(2, 3, 5, 7)).astype(dtype)
        dout = rng.normal(size=(2, 3, 5 * factor, 7 * factor)).astype(dtype)
        a, b = S.BilinearUpsampling(3, factor, dtype), R.BilinearUpsampling(3, factor, dtype)
        assert_close(a.forward(x), b.forward(x), dtype, what=f"x{factor} forward")
        assert_close(a.backward(dout), b.backward(dout), dtype, what=f"x{factor} dx")

    @parameterized.expand([(f,) for f in (1, 2, 3, 4, 5)])
    def test_equals_the_bilinear_deconvolution(self, factor):
        """The separable product gives scratch's own Deconvolution by ``bilinear_kernel``, forward and backward."""
        rng = np.random.default_rng(factor)
        _, size, pad = S.bilinear_upsampling_geometry(factor)
        up = S.BilinearUpsampling(2, factor)
        deconv = Deconvolution(bilinear_kernel(2, size), np.zeros(2), stride=factor, pad=pad)
        x = rng.normal(size=(3, 2, 4, 6))
        out = up.forward(x)
        self.assertEqual(out.shape, (3, 2, 4 * factor, 6 * factor))
        np.testing.assert_allclose(out, deconv.forward(x), rtol=1e-13, atol=1e-13)
        dout = rng.normal(size=out.shape)
        np.testing.assert_allclose(up.backward(dout), deconv.backward(dout), rtol=1e-13, atol=1e-13)

    def test_interpolates(self):
        """Away from the borders a constant stays that constant and a ramp stays a ramp, 1/4 of the slope."""
        up = S.BilinearUpsampling(1, 4)
        np.testing.assert_allclose(up.forward(np.full((1, 1, 6, 6), 3.0))[0, 0, 2:-2, 2:-2], 3.0, rtol=1e-14)
        ramp = up.forward(np.tile(np.arange(6.0), (1, 1, 6, 1)))[0, 0, 8, 2:-2]
        np.testing.assert_allclose(np.diff(ramp), 0.25, rtol=1e-12)

    def test_float32_stays_float32(self):
        up = S.BilinearUpsampling(2, 4, np.float32)
        out = up.forward(np.ones((1, 2, 3, 3), dtype=np.float32))
        self.assertEqual(out.dtype, np.float32)
        self.assertEqual(up.backward(np.ones_like(out)).dtype, np.float32)


class TestInit(unittest.TestCase):

    def test_bilinear_upsampling_in_place_at_construction(self):
        for dtype in (np.float64, np.float32):
            a, b = S.FCN(dtype=dtype, seed=0), R.FCN(dtype=dtype, seed=0)
            for up in ("up2", "up1"):  # the two learnt x2 upsamplings
                layer, name = up.capitalize(), f"W_{up}"
                np.testing.assert_array_equal(a.params[name], bilinear_kernel(K, 4, dtype))
                np.testing.assert_array_equal(to_numpy(b.params[name]), to_numpy(torch_bilinear_kernel(K, 4, dtype)))
                self.assertIs(a.layers[layer].W, a.params[name])  # the layer learns the parameter itself
                self.assertIs(b.layers[layer].W, b.params[name])
                self.assertTrue(b.params[name].requires_grad)
                self.assertEqual((a.layers[layer].stride, a.layers[layer].pad), (2, 1))
                self.assertEqual((b.layers[layer].stride, b.layers[layer].pad), (2, 1))
            self.assertIsNot(a.params["W_up2"], a.params["W_up1"])
            np.testing.assert_array_equal(to_numpy(b.layers["Up0"].kernel), bilinear_kernel(K, 4, dtype))
            for net in (a, b):
                self.assertEqual((net.layers["Up0"].factor, net.layers["Up0"].size, net.layers["Up0"].pad), (2, 4, 1))
            self.assertNotIn("W_up0", a.params)  # Up0 is fixed: not a parameter

    def test_score_layers_start_at_zero(self):
        """Zero scores everywhere: the loss of an untrained network is ln 11 in both backends."""
        x, masks = scenes(2)
        for net in (S.FCN(dtype=np.float64, seed=3), R.FCN(dtype=np.float64, seed=3)):
            for name in ("W_score", "b_score", "W_skip2", "b_skip2", "W_skip1", "b_skip1"):
                self.assertEqual(float(np.abs(to_numpy(net.params[name])).max()), 0.0, name)
            self.assertAlmostEqual(float(to_numpy(net.loss(x, masks))), math.log(K), places=12)

    def test_shapes_and_seed(self):
        a, b = S.FCN(seed=7), R.FCN(seed=7)
        shapes = {name: tuple(p.shape) for name, p in a.params.items()}
        self.assertEqual(shapes, {name: tuple(p.shape) for name, p in b.params.items()})
        self.assertEqual(shapes, {"W1": (16, 1, 3, 3), "b1": (16,), "W2": (32, 16, 3, 3), "b2": (32,),
                                  "W3": (64, 32, 3, 3), "b3": (64,), "W4": (64, 64, 3, 3), "b4": (64,),
                                  "W_score": (K, 64, 1, 1), "b_score": (K,), "W_skip2": (K, 32, 1, 1),
                                  "b_skip2": (K,), "W_skip1": (K, 16, 1, 1), "b_skip1": (K,),
                                  "W_up2": (K, K, 4, 4), "W_up1": (K, K, 4, 4)})
        self.assertEqual(tuple(a.predict(np.zeros((1, 1, 64, 64))).shape), (1, K, 64, 64))
        self.assertEqual(tuple(b.predict(np.zeros((1, 1, 64, 64))).shape), (1, K, 64, 64))
        for cls in (S.FCN, R.FCN):
            first, second = cls(seed=5).params, cls(seed=5).params
            for name in first:
                np.testing.assert_array_equal(to_numpy(first[name]), to_numpy(second[name]))
                self.assertEqual(to_numpy(first[name]).dtype, np.float32)

    def test_other_input_sizes(self):
        """Any (C, H, W) with H and W multiples of 8: scores (N, K, H, W) and the same gradients."""
        rng = np.random.default_rng(1)
        x = rng.random((2, 2, 24, 40))
        masks = rng.integers(0, 5, size=(2, 24, 40))
        a, b = twins(np.float64, input_dim=(2, 24, 40), channels=(4, 6, 8), num_classes=5)
        self.assertEqual(a.predict(x).shape, (2, 5, 24, 40))
        assert_close(a.predict(x), b.predict(x), np.float64, what="scores 24x40")
        ga, gb = a.gradient(x, masks), b.gradient(x, masks)
        self.assertEqual(ga["W_skip1"].shape, (5, 4, 1, 1))
        for name in a.params:
            assert_close(ga[name], gb[name], np.float64, what=f"d{name} 24x40")

    def test_save_and_load(self):
        import os
        import tempfile
        a, b = twins(np.float64)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "fcn.npz")
            b.save_params(path)
            c = S.FCN(dtype=np.float64, seed=9).load_params(path)
        for name in a.params:
            np.testing.assert_array_equal(c.params[name], a.params[name])


class TestSegment(unittest.TestCase):

    @parameterized.expand(DTYPES)
    def test_segment_is_the_argmax_in_any_batch(self, _, dtype):
        x, masks = scenes(5)
        x = x.astype(dtype)
        a, b = twins(dtype, seed=2)
        sa, sb = a.segment(x), b.segment(x, batch_size=2)
        np.testing.assert_array_equal(sa, np.argmax(a.predict(x), axis=1))
        np.testing.assert_array_equal(a.segment(x, batch_size=2), sa)
        self.assertEqual((sa.shape, sa.dtype), ((5, 64, 64), np.int64))
        assert_exact(sa, sb, what="segment", dtype_name=np.dtype(dtype).name)

    def test_accuracy_and_evaluate_count_pixels(self):
        x, masks = scenes(5)
        a, b = twins(np.float64, seed=2)
        predicted = a.segment(x)
        counted = masks != S.IGNORE_INDEX
        expected = np.count_nonzero((predicted == masks) & counted) / np.count_nonzero(counted)
        self.assertEqual(a.accuracy(x, masks, batch_size=2), expected)
        C = confusion_matrix(predicted, masks, K, ignore_index=S.IGNORE_INDEX)
        for net in (a, b):
            scores = net.evaluate(x, masks, batch_size=3)
            np.testing.assert_array_equal(scores["confusion"], C)
            self.assertEqual(scores["pixel_accuracy"], pixel_accuracy(C))
            self.assertEqual(scores["mean_iou"], mean_iou(C))
            self.assertEqual(scores["per_class_iou"].shape, (K,))
        self.assertEqual(b.accuracy(x, masks), expected)

    def test_perfect_scores_from_a_perfect_mask(self):
        """Masks equal to the network's own segmentation score pixel accuracy 1 and mean IoU 1."""
        x, _ = scenes(3)
        a, _ = twins(np.float64, seed=4)
        own = a.segment(x)
        scores = a.evaluate(x, own)
        self.assertEqual((scores["pixel_accuracy"], scores["mean_iou"]), (1.0, 1.0))


class TestTrainingRun(unittest.TestCase):

    @parameterized.expand([("SGD", 0.1), ("Adam", 0.01)])
    def test_same_loss_curve_float64(self, optimizer, lr):
        x, masks = scenes(16, seed=3)
        a, b = twins(np.float64, seed=5, live=False, **SMALL)  # from the constructor's own start: zero scores
        opt_a, opt_b = getattr(SO, optimizer)(lr=lr), getattr(RO, optimizer)(lr=lr)
        order = np.random.default_rng(0).permutation(np.tile(np.arange(16), 3))
        curve_a, curve_b = [], []
        for step in range(8):
            batch = order[step * 4:(step + 1) * 4]
            opt_a.update(a.params, a.gradient(x[batch], masks[batch]))
            opt_b.update(b.params, b.gradient(x[batch], masks[batch]))
            curve_a.append(float(a.last_loss))
            curve_b.append(float(b.last_loss))
        assert_close(np.array(curve_a), np.array(curve_b), np.float64, rtol=1e-9, what=f"{optimizer} loss curve")
        self.assertLess(curve_a[-1], curve_a[0], "the loss did not fall")
        for name in a.params:
            assert_close(a.params[name], b.params[name], np.float64, rtol=1e-9, what=f"{name} after 8 steps")
        for name in ("W_up2", "W_up1"):
            self.assertGreater(float(np.abs(a.params[name] - bilinear_kernel(K, 4)).max()), 0, f"{name} did not learn")
        for name in ("W_skip2", "W_skip1"):
            self.assertGreater(float(np.abs(a.params[name]).max()), 0, f"{name} did not learn")


class TestBadInput(unittest.TestCase):

    def setUp(self):
        x, self.masks = scenes(3)
        self.x = x.astype(np.float32)
        self.nets = twins(np.float32, **SMALL)

    def same_error(self, method, *args, match=None, expected=(ValueError, TypeError)):
        a, b = self.nets
        errors = assert_same_error(lambda: getattr(a, method)(*args), lambda: getattr(b, method)(*args),
                                   expected=expected, match=match)
        for error in errors:
            self.assertNotIn("\n", str(error))
        self.assertEqual(str(errors[0]), str(errors[1]))
        return errors

    def test_masks_of_the_wrong_shape(self):
        self.same_error("loss", self.x, self.masks[:, :32], match="masks of shape (3, 32, 64) for 3 images of 64x64")
        self.same_error("gradient", self.x, self.masks[:2], match="masks (n, h, w) = (3, 64, 64) expected")
        self.same_error("loss", self.x, self.masks[:, None], match="masks of shape (3, 1, 64, 64)")
        self.same_error("accuracy", self.x, self.masks[0], match="masks of shape (64, 64)")

    def test_labels_out_of_range(self):
        for bad in (11, -1, 255):
            masks = self.masks.copy()
            masks[0, 5, 5] = bad
            self.same_error("loss", self.x, masks, match=f"mask labels must lie in [0, 11) or be ignore_index = -100, "
                                                         f"got {bad} (1 of")
            self.same_error("evaluate", self.x, masks, match="mask labels must lie in [0, 11)")
        self.same_error("loss", self.x, self.masks.astype(np.float32), match="integer masks")

    def test_images_of_the_wrong_shape(self):
        self.same_error("loss", self.x[:, :, :, :32], self.masks, match="expects images of shape (n, 1, 64, 64)")
        self.same_error("predict", self.x[:, 0], match="got (3, 64, 64)")
        self.same_error("segment", np.zeros((2, 3, 64, 64), dtype=np.float32), match="expects images of shape")
        self.same_error("segment", np.zeros((0, 1, 64, 64), dtype=np.float32), match="empty")
        self.same_error("segment", self.x, 0, match="batch_size must be >= 1")

    def test_non_finite_images_in_evaluation(self):
        x = self.x.copy()
        x[1, 0, 3, 3] = np.nan
        self.same_error("accuracy", x, self.masks, match="1 of 3 images hold nan or inf")

    def test_bad_constructor_arguments(self):
        for kwargs in ({"channels": (4, 8)}, {"channels": (4, 0, 8)}, {"input_dim": (1, 60, 64)},
                       {"input_dim": (64, 64)}, {"num_classes": 1}):
            errors = assert_same_error(lambda: S.FCN(**kwargs), lambda: R.FCN(**kwargs))
            self.assertEqual(str(errors[0]), str(errors[1]))

    def test_bad_upsampling_input(self):
        for up in (S.BilinearUpsampling(3, 4), R.BilinearUpsampling(3, 4)):
            with self.assertRaisesRegex(ValueError, r"expects \(N, 3, h, w\) input, got shape \(2, 2, 4, 4\)"):
                up.forward(np.zeros((2, 2, 4, 4)))
            with self.assertRaisesRegex(TypeError, "input is float32 but the layer is float64"):
                up.forward(np.zeros((2, 3, 4, 4), dtype=np.float32))
            with self.assertRaisesRegex(RuntimeError, "forward"):
                up.backward(np.zeros((2, 3, 16, 16)))
