"""Parity of Fast R-CNN (8.4): scratch.fast_rcnn against reference.fast_rcnn.

The two networks hold the same weights (the NumPy network's, made live and
copied with ``load_params``) and read the same fake scenes (1, 64, 64) with
rois (scene index, x1, y1, x2, y2), labelled 0..9, 10 (background) and -1
(ignored):

* ``Forward``: scores, deltas, the loss and EVERY parameter's gradient (through RoI pooling onto
  the shared maps), float64 and float32; the readable layers (the loop ``RoIPooling``) give the
  default ones' numbers; the trunk is shared: a scene's scores do not depend on the other scenes;
* ``scratch.fast.RoIPooling``: the same output, chosen elements and dx as ``RoIPooling`` (its loop)
  and as ``torchvision.ops.roi_pool``, on rois of every size, partly outside, with ties;
* ``Detect``: the same detections in both backends, in any batch of scenes; ``detect`` is
  ``detect_boxes`` of ``predict``;
* ``TrainingRun``: 10 Adam steps in float64 give the same loss curve in both backends;
* ``BadInput``: one-line errors (x2 < x1, a batch index out of range, labels out of range, an
  empty batch, no rois), the same class and words in both backends.
"""
import unittest

import numpy as np
import pytest
import torch
import torchvision
from parameterized import parameterized

import reference.fast_rcnn as R
import reference.optimizer as RO
import scratch.fast_rcnn as S
import scratch.optimizer as SO
from conftest import DTYPES, assert_close, assert_exact, assert_same_error, to_numpy
from reference.rcnn import detect_boxes as torch_detect_boxes
from scratch.rcnn import detect_boxes
from scratch.fast.roi_pooling import RoIPooling as FastRoIPooling
from scratch.roi_pooling import RoIPooling

pytestmark = [pytest.mark.filterwarnings("error"), pytest.mark.usefixtures("one_torch_thread")]

K = 11
SMALL = {"channels": (4, 8, 8), "hidden_size": 16}
LABELS = np.array([0, 3, 10, -1, 9, 10, 5, -1, 1, 10, 2, 7])


def make_rois(num_images, per_image, seed=0, size=64):
    """rois (num_images * per_image, 5): boxes of 4 to 40 pixels, some reaching past the scene's edge."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(-4, size - 8, (num_images * per_image, 2))
    wh = rng.uniform(4, 40, (num_images * per_image, 2))
    index = np.repeat(np.arange(num_images), per_image)[:, None]
    return np.concatenate([index, xy, xy + wh], axis=1)


def scenes(n=3, per_image=6, seed=0):
    """n fake scenes (n, 1, 64, 64) float64, rois, labels (``LABELS`` cycled) and targets (NaN where unread)."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, 1, 64, 64))
    rois = make_rois(n, per_image, seed)
    labels = np.resize(LABELS, len(rois))
    targets = rng.normal(0, 0.15, (len(rois), 4))
    targets[(labels < 0) | (labels == 10)] = np.nan
    return x, rois, labels, targets


def live_params(net, seed=0, scale=0.05):
    rng = np.random.default_rng(seed)
    return {name: (to_numpy(p) + rng.normal(0, scale, p.shape)).astype(to_numpy(p).dtype)
            for name, p in net.params.items()}


def twins(dtype, seed=0, live=True, **kwargs):
    kwargs = {**SMALL, **kwargs}
    a = S.FastRCNN(dtype=dtype, seed=seed, **kwargs)
    if live:
        a.load_params(live_params(a, seed))
    b = R.FastRCNN(dtype=dtype, seed=seed + 1, **kwargs).load_params(a.params)
    return a, b


class TestForward(unittest.TestCase):

    @parameterized.expand([(name, dtype, pooled) for name, dtype in DTYPES for pooled in (4, 7)])
    def test_loss_outputs_and_every_gradient(self, _, dtype, pooled):
        x, rois, labels, targets = scenes()
        x = x.astype(dtype)
        a, b = twins(dtype, pooled_size=pooled)
        (sa, da), (sb, db) = a.predict(x, rois), b.predict(x, rois)
        self.assertEqual((sa.shape, da.shape), ((18, K), (18, K - 1, 4)))
        assert_close(sa, sb, dtype, what="scores")
        assert_close(da, db, dtype, what="deltas")
        ga, gb = a.gradient(x, rois, labels, targets), b.gradient(x, rois, labels, targets)
        assert_close(np.asarray(a.last_loss), b.last_loss, dtype, what="loss")
        self.assertEqual(list(ga), list(a.params))
        self.assertEqual(list(gb), list(a.params))
        for name in a.params:
            self.assertEqual(ga[name].shape, a.params[name].shape, name)
            self.assertEqual(ga[name].dtype, dtype, name)
            assert_close(ga[name], gb[name], dtype, what=f"d{name}")
            self.assertGreater(float(np.abs(ga[name]).max()), 0, f"d{name} is all zero")

    def test_readable_layers_give_the_same_numbers(self):
        x, rois, labels, targets = scenes()
        fast, _ = twins(np.float64)
        readable = S.FastRCNN(dtype=np.float64, seed=0, readable=True, **SMALL).load_params(fast.params)
        self.assertIs(type(readable.roi_pool), RoIPooling)
        self.assertIs(type(fast.roi_pool), FastRoIPooling)
        gf, gr = fast.gradient(x, rois, labels, targets), readable.gradient(x, rois, labels, targets)
        self.assertEqual(fast.last_loss, pytest.approx(readable.last_loss, rel=1e-13))
        for name in fast.params:
            np.testing.assert_allclose(gf[name], gr[name], rtol=1e-10, atol=1e-10 * np.abs(gr[name]).max(),
                                       err_msg=f"d{name} readable")

    def test_the_trunk_is_shared_per_scene(self):
        """A scene's rois score the same alone as among other scenes: one map per scene, no mixing."""
        x, rois, _, _ = scenes(3)
        for net in twins(np.float64):
            scores, deltas = net.predict(x, rois)
            mine = rois[:, 0] == 1
            alone = rois[mine] - np.array([1, 0, 0, 0, 0])
            scores1, deltas1 = net.predict(x[1:2], alone)
            np.testing.assert_allclose(to_numpy(scores1), to_numpy(scores)[mine], rtol=1e-12)
            np.testing.assert_allclose(to_numpy(deltas1), to_numpy(deltas)[mine], rtol=1e-12, atol=1e-15)

    def test_accuracy_counts_the_counted(self):
        x, rois, labels, targets = scenes()
        a, b = twins(np.float64)
        predicted = np.argmax(a.predict(x, rois)[0], axis=1)
        counted = labels != -1
        expected = np.count_nonzero(predicted[counted] == labels[counted]) / np.count_nonzero(counted)
        self.assertEqual(a.accuracy(x, rois, labels, batch_size=2), expected)
        self.assertEqual(b.accuracy(x, rois, labels), expected)

    def test_shapes_and_seed(self):
        a, b = S.FastRCNN(seed=3), R.FastRCNN(seed=3)
        shapes = {name: tuple(p.shape) for name, p in a.params.items()}
        self.assertEqual(shapes, {name: tuple(p.shape) for name, p in b.params.items()})
        self.assertEqual(shapes, {"W1": (16, 1, 3, 3), "b1": (16,), "W2": (32, 16, 3, 3), "b2": (32,),
                                  "W3": (64, 32, 3, 3), "b3": (64,), "W4": (256, 64 * 4 * 4), "b4": (256,),
                                  "W_cls": (K, 256), "b_cls": (K,), "W_box": (40, 256), "b_box": (40,)})
        again = S.FastRCNN(seed=3)
        for name in a.params:
            np.testing.assert_array_equal(a.params[name], again.params[name])


class TestFastRoIPooling(unittest.TestCase):

    @parameterized.expand([(name, dtype, size) for name, dtype in DTYPES for size in (1, 4, 7, (2, 5))])
    def test_same_as_the_loop_and_the_references(self, _, dtype, size):
        rng = np.random.default_rng(7)
        x = rng.normal(size=(3, 4, 16, 13)).astype(dtype)
        x[0, :, 2:8, 2:8] = 0.75  # a plateau: ties go to the first in row-major order
        rois = make_rois(3, 20, seed=3)
        rois[:4, 0], rois[:4, 1:] = 0, [[8, 8, 30, 30], [10, 10, 10, 10], [0, 0, 63, 63], [-30, -30, 2, 2]]
        loop, vec, ref = RoIPooling(size, 0.25), FastRoIPooling(size, 0.25), R.RoIPooling(size, 0.25)
        out = vec.forward(x, rois)
        assert_exact(out, loop.forward(x, rois), what="out vs loop")
        np.testing.assert_array_equal(vec.arg_max, loop.arg_max)
        assert_close(out, ref.forward(x, rois), dtype, what="out")
        tv = torchvision.ops.roi_pool(torch.from_numpy(x), torch.from_numpy(rois.astype(dtype)), size, 0.25)
        np.testing.assert_array_equal(out, tv.numpy())
        dout = rng.normal(size=out.shape).astype(dtype)
        dx = vec.backward(dout)
        self.assertEqual(dx.dtype, dtype)
        assert_close(dx, ref.backward(dout), dtype, what="dx")
        np.testing.assert_allclose(dx, loop.backward(dout), rtol=1e-6 if dtype == np.float32 else 1e-14,
                                   atol=1e-6 if dtype == np.float32 else 1e-14)


class TestDetect(unittest.TestCase):

    @parameterized.expand(DTYPES)
    def test_same_detections_in_both_backends(self, _, dtype):
        x, rois, _, _ = scenes(4, 8, seed=2)
        x = x.astype(dtype)
        a, b = twins(dtype, seed=2)
        da, db = a.detect(x, rois, score_threshold=0.0, batch_size=3), b.detect(x, rois, score_threshold=0.0)
        self.assertEqual((len(da), len(db)), (4, 4))
        for i, (u, v) in enumerate(zip(da, db)):
            assert_exact(u["labels"], v["labels"], what=f"scene {i} labels", dtype_name=np.dtype(dtype).name)
            assert_close(u["boxes"], v["boxes"], dtype, what=f"scene {i} boxes")
            assert_close(u["scores"], v["scores"], dtype, what=f"scene {i} scores")
            self.assertGreater(len(u["boxes"]), 0)

    def test_detect_is_detect_boxes_of_predict_in_any_batch(self):
        x, rois, _, _ = scenes(4, 5, seed=3)
        rois = rois[np.random.default_rng(0).permutation(len(rois))]  # rois of the scenes in any order
        a, b = twins(np.float64, seed=3)
        for net, detect in ((a, detect_boxes), (b, torch_detect_boxes)):
            scores, deltas = net.predict(x, rois)
            expected = detect(rois, scores, deltas, 4, 0.01, 0.4, 7)
            for batch_size in (1, 3, 100):
                got = net.detect(x, rois, 0.01, 0.4, 7, batch_size=batch_size)
                for u, v in zip(got, expected):
                    np.testing.assert_array_equal(u["labels"], v["labels"])
                    np.testing.assert_allclose(u["boxes"], v["boxes"], rtol=1e-12)
                    np.testing.assert_allclose(u["scores"], v["scores"], rtol=1e-12)


class TestTrainingRun(unittest.TestCase):

    def test_same_loss_curve_float64_adam(self):
        x, rois, labels, targets = scenes(6, 8, seed=5)
        a, b = twins(np.float64, seed=5, live=False)
        opt_a, opt_b = SO.Adam(lr=0.01), RO.Adam(lr=0.01)
        curve_a, curve_b = [], []
        for step in range(10):
            images = np.sort([step % 6, (step + 3) % 6])  # two scenes a step, their rois renumbered 0, 1
            mine = np.isin(rois[:, 0], images)
            batch_rois = rois[mine].copy()
            batch_rois[:, 0] = np.searchsorted(images, batch_rois[:, 0])
            args = (x[images], batch_rois, labels[mine], targets[mine])
            opt_a.update(a.params, a.gradient(*args))
            opt_b.update(b.params, b.gradient(*args))
            curve_a.append(float(a.last_loss))
            curve_b.append(float(b.last_loss))
        assert_close(np.array(curve_a), np.array(curve_b), np.float64, rtol=1e-9, what="Adam loss curve")
        self.assertLess(float(a.loss(x, rois, labels, targets)), curve_a[0], "the loss did not fall")
        for name in a.params:
            assert_close(a.params[name], b.params[name], np.float64, rtol=1e-9, what=f"{name} after 10 steps")


class TestBadInput(unittest.TestCase):

    def setUp(self):
        x, self.rois, self.labels, self.targets = scenes()
        self.x = x.astype(np.float32)
        self.nets = twins(np.float32)

    def same_error(self, method, *args, match=None, expected=(ValueError, TypeError), **kwargs):
        a, b = self.nets
        errors = assert_same_error(lambda: getattr(a, method)(*args, **kwargs),
                                   lambda: getattr(b, method)(*args, **kwargs), expected=expected, match=match)
        for error in errors:
            self.assertNotIn("\n", str(error))
        self.assertEqual(str(errors[0]), str(errors[1]))
        return errors

    def test_rois(self):
        bad = self.rois.copy()
        bad[5, 3] = bad[5, 1] - 1
        self.same_error("loss", self.x, bad, self.labels, self.targets, match="roi 5 has x2 < x1")
        bad = self.rois.copy()
        bad[2, 4] = bad[2, 2] - 0.5
        self.same_error("predict", self.x, bad, match="roi 2 has y2 < y1")
        bad = self.rois.copy()
        bad[7, 0] = 3
        self.same_error("gradient", self.x, bad, self.labels, self.targets,
                        match="roi 7 has batch index 3, not an image index in [0, 3)")
        self.same_error("detect", self.x, bad, match="roi 7 has batch index 3")
        self.same_error("predict", self.x, self.rois[:, :4], match="expects rois of shape (r, 5)")
        self.same_error("predict", self.x, self.rois[:0], match="no rois (rois of shape (0, 5))")

    def test_labels_and_targets(self):
        for bad in (11, -2, 100):
            labels = self.labels.copy()
            labels[4] = bad
            self.same_error("loss", self.x, self.rois, labels, self.targets,
                            match=f"labels must lie in [0, 11) or be ignore_label = -1, got {bad}")
        self.same_error("loss", self.x, self.rois, self.labels[:-1], self.targets,
                        match="labels of shape (17,) for 18 proposals")
        self.same_error("loss", self.x, self.rois, np.full(18, -1), self.targets, match="all 18 proposals are ignored")
        self.same_error("loss", self.x, self.rois, self.labels, self.targets[:2],
                        match="box targets of shape (2, 4) for 18 proposals")
        self.same_error("accuracy", self.x, self.rois, self.labels.astype(np.float32), match="integer labels")

    def test_empty_batch_and_wrong_images(self):
        self.same_error("loss", self.x[:0], self.rois, self.labels, self.targets, match="empty batch")
        self.same_error("detect", self.x[:0], self.rois, match="empty batch")
        self.same_error("predict", self.x[:, :, :32], self.rois, match="expects images of shape (n, 1, 64, 64)")

    def test_bad_constructor_arguments(self):
        for kwargs in ({"channels": (4, 8)}, {"pooled_size": 0}, {"pooled_size": (2, 3)}, {"input_dim": (1, 62, 64)},
                       {"hidden_size": -1}, {"box_weight": float("inf")}):
            errors = assert_same_error(lambda: S.FastRCNN(**kwargs), lambda: R.FastRCNN(**kwargs))
            self.assertEqual(str(errors[0]), str(errors[1]))
            self.assertNotIn("\n", str(errors[0]))
