"""Parity of R-CNN's per-proposal network (8.4): scratch.rcnn against reference.rcnn.

The two networks hold the same weights (the NumPy network's, made live with
small random additions and copied with ``load_params``) and read the same
fake warped proposals (1, 28, 28), labelled 0..9 (digits), 10 (background)
and -1 (ignored), with box targets that are NaN where nothing reads them:

* ``Forward``: scores, deltas, the loss and EVERY parameter's gradient, float64 and float32;
  the readable NumPy layers give the fast ones' numbers;
* ``DetectionLoss``: the multi-task loss layer alone (loss, dscores, ddeltas) against the reference
  and against the formula written out by hand; ignored proposals count nowhere; no foreground
  proposal leaves only the classification term;
* ``Detect``: ``detect_boxes`` (and ``RCNN.detect``) give the same detections in both backends
  on the same scores; a hand-made example (decoding, clipping, threshold, per-class NMS);
* ``TrainingRun``: 10 Adam steps in float64 from the same weights give the same loss curve;
* ``BadInput``: one-line errors, the same class and words in both backends.
"""
import math
import unittest

import numpy as np
import pytest
from parameterized import parameterized

import reference.optimizer as RO
import reference.rcnn as R
import scratch.optimizer as SO
import scratch.rcnn as S
from conftest import DTYPES, assert_close, assert_exact, assert_same_error, to_numpy
from scratch import convolution as readable_layers
from scratch.boxes import decode_boxes, encode_boxes
from scratch.detection_metrics import mean_average_precision, mean_average_precision_50_95

pytestmark = [pytest.mark.filterwarnings("error"), pytest.mark.usefixtures("one_torch_thread")]

K = 11
SMALL = {"channels": (4, 8), "hidden_size": 16}
LABELS = np.array([0, 3, 10, -1, 9, 10, 5, -1, 1, 10, 2, 7])


def proposals(n=12, seed=0):
    """n fake crops (n, 1, 28, 28) float64, their labels (``LABELS`` cycled) and targets (n, 4): deltas of
    order 0.1 for the digits, NaN for the background and the ignored (never read)."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, 1, 28, 28))
    labels = np.resize(LABELS, n)
    targets = rng.normal(0, 0.15, (n, 4))
    targets[(labels < 0) | (labels == 10)] = np.nan
    return x, labels, targets


def live_params(net, seed=0, scale=0.05):
    rng = np.random.default_rng(seed)
    return {name: (to_numpy(p) + rng.normal(0, scale, p.shape)).astype(to_numpy(p).dtype)
            for name, p in net.params.items()}


def twins(dtype, seed=0, live=True, **kwargs):
    kwargs = {**SMALL, **kwargs}
    a = S.RCNN(dtype=dtype, seed=seed, **kwargs)
    if live:
        a.load_params(live_params(a, seed))
    b = R.RCNN(dtype=dtype, seed=seed + 1, **kwargs).load_params(a.params)
    return a, b


def scene_rois(n, num_images, seed=0):
    """rois (n, 5): scene index, then boxes of positive size inside a 64x64 scene."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 36, (n, 2))
    wh = rng.uniform(8, 28, (n, 2))
    return np.concatenate([rng.integers(0, num_images, (n, 1)), xy, xy + wh], axis=1)


class TestForward(unittest.TestCase):

    @parameterized.expand(DTYPES)
    def test_loss_outputs_and_every_gradient(self, _, dtype):
        x, labels, targets = proposals()
        x = x.astype(dtype)
        a, b = twins(dtype)
        (sa, da), (sb, db) = a.predict(x), b.predict(x)
        self.assertEqual((sa.shape, da.shape), ((12, K), (12, K - 1, 4)))
        assert_close(sa, sb, dtype, what="scores")
        assert_close(da, db, dtype, what="deltas")
        ga, gb = a.gradient(x, labels, targets), b.gradient(x, labels, targets)
        assert_close(np.asarray(a.last_loss), b.last_loss, dtype, what="loss")
        self.assertEqual(list(ga), list(a.params))
        self.assertEqual(list(gb), list(a.params))
        for name in a.params:
            self.assertEqual(ga[name].shape, a.params[name].shape, name)
            self.assertEqual(ga[name].dtype, dtype, name)
            assert_close(ga[name], gb[name], dtype, what=f"d{name}")
            self.assertGreater(float(np.abs(ga[name]).max()), 0, f"d{name} is all zero")

    def test_readable_layers_give_the_same_numbers(self):
        x, labels, targets = proposals()
        fast, _ = twins(np.float64)
        readable = S.RCNN(dtype=np.float64, seed=0, readable=True, **SMALL).load_params(fast.params)
        self.assertIs(type(readable.layers["Conv2"]), readable_layers.Convolution)
        gf, gr = fast.gradient(x, labels, targets), readable.gradient(x, labels, targets)
        self.assertEqual(fast.last_loss, pytest.approx(readable.last_loss, rel=1e-13))
        for name in fast.params:
            np.testing.assert_allclose(gf[name], gr[name], rtol=1e-10, atol=1e-10 * np.abs(gr[name]).max(),
                                       err_msg=f"d{name} readable")

    def test_accuracy_counts_the_counted(self):
        x, labels, _ = proposals()
        a, b = twins(np.float64)
        predicted = np.argmax(a.predict(x)[0], axis=1)
        counted = labels != -1
        expected = np.count_nonzero(predicted[counted] == labels[counted]) / np.count_nonzero(counted)
        self.assertEqual(a.accuracy(x, labels, batch_size=5), expected)
        self.assertEqual(b.accuracy(x, labels), expected)

    def test_shapes_init_and_seed(self):
        a, b = S.RCNN(seed=3), R.RCNN(seed=3)
        shapes = {name: tuple(p.shape) for name, p in a.params.items()}
        self.assertEqual(shapes, {name: tuple(p.shape) for name, p in b.params.items()})
        self.assertEqual(shapes, {"W1": (16, 1, 3, 3), "b1": (16,), "W2": (32, 16, 3, 3), "b2": (32,),
                                  "W3": (256, 32 * 7 * 7), "b3": (256,), "W_cls": (K, 256), "b_cls": (K,),
                                  "W_box": (40, 256), "b_box": (40,)})
        for net in (a, b):
            self.assertAlmostEqual(float(np.std(to_numpy(net.params["W_cls"]))), 0.01, delta=0.001)
            self.assertAlmostEqual(float(np.std(to_numpy(net.params["W_box"]))), 0.001, delta=0.0001)
        again = S.RCNN(seed=3)
        for name in a.params:
            np.testing.assert_array_equal(a.params[name], again.params[name])
            self.assertEqual(a.params[name].dtype, np.float32)


def loss_by_hand(scores, deltas, labels, targets, box_weight=1.0, beta=1.0, std=S.TARGET_STD):
    """The multi-task loss written out in float64 for the counted and foreground rows, one by one."""
    total_cls, total_box, counted = 0.0, 0.0, 0
    for p, u in enumerate(labels):
        if u == S.IGNORE_LABEL:
            continue
        counted += 1
        s = scores[p].astype(np.float64)
        total_cls -= s[u] - (s.max() + math.log(np.exp(s - s.max()).sum()))
        if u != K - 1:
            for i in range(4):
                d = abs(float(deltas[p, u, i]) - targets[p, i] / std[i])
                total_box += 0.5 * d * d / beta if d < beta else d - 0.5 * beta
    return total_cls / counted + box_weight * total_box / counted


class TestDetectionLoss(unittest.TestCase):

    def outputs(self, dtype, n=12, seed=1):
        rng = np.random.default_rng(seed)
        return rng.normal(0, 2, (n, K)).astype(dtype), rng.normal(0, 1, (n, K - 1, 4)).astype(dtype)

    @parameterized.expand([(name, dtype, w, beta) for name, dtype in DTYPES for w, beta in ((1.0, 1.0), (2.5, 0.5))])
    def test_loss_and_gradients(self, _, dtype, box_weight, beta):
        scores, deltas = self.outputs(dtype)
        _, labels, targets = proposals()
        targets = np.where(np.isnan(targets), np.nan, targets * 10)  # some beyond beta
        a, b = S.DetectionLoss(K, box_weight, beta), R.DetectionLoss(K, box_weight, beta)
        la, lb = a.forward(scores, deltas, labels, targets), b.forward(scores, deltas, labels, targets)
        assert_close(np.asarray(la), lb, dtype, what="loss")
        (dsa, dda), (dsb, ddb) = a.backward(1.3), b.backward(1.3)
        assert_close(dsa, dsb, dtype, what="dscores")
        assert_close(dda, ddb, dtype, what="ddeltas")
        self.assertAlmostEqual(float(la), loss_by_hand(scores, deltas, labels, targets, box_weight, beta),
                               delta=1e-12 if dtype == np.float64 else 1e-5)

    def test_ignored_proposals_count_nowhere(self):
        scores, deltas = self.outputs(np.float64)
        _, labels, targets = proposals()
        loss = S.DetectionLoss()
        base = loss.forward(scores, deltas, labels, targets)
        dscores, ddeltas = loss.backward()
        ignored = labels == S.IGNORE_LABEL
        self.assertTrue(np.all(dscores[ignored] == 0) and np.all(ddeltas[ignored] == 0))
        background = labels == K - 1
        self.assertTrue(np.all(ddeltas[background] == 0), "background proposals regress no box")
        fg = np.flatnonzero(~ignored & ~background)
        for p in fg:  # only the true class's deltas get a gradient
            others = np.delete(np.arange(K - 1), labels[p])
            self.assertTrue(np.all(ddeltas[p, others] == 0))
            self.assertTrue(np.any(ddeltas[p, labels[p]] != 0))
        changed = scores.copy()
        changed[ignored] += 100.0
        self.assertEqual(S.DetectionLoss().forward(changed, deltas, labels, targets), base)
        kept = ~ignored
        alone = S.DetectionLoss().forward(scores[kept], deltas[kept], labels[kept], targets[kept])
        self.assertAlmostEqual(alone, base, places=13)

    def test_no_foreground_leaves_the_classification(self):
        scores, deltas = self.outputs(np.float64, n=4)
        labels = np.array([10, -1, 10, 10])
        targets = np.full((4, 4), np.nan)
        for module in (S, R):
            loss = module.DetectionLoss()
            value = float(to_numpy(loss.forward(scores, deltas, labels, targets)))
            s = scores[[0, 2, 3]]
            expected = np.mean(np.log(np.exp(s).sum(axis=1)) - s[:, 10])
            self.assertAlmostEqual(value, expected, places=12)
            self.assertEqual(float(np.abs(to_numpy(loss.backward()[1])).max()), 0.0)


class TestDetect(unittest.TestCase):

    @parameterized.expand(DTYPES)
    def test_same_detections_on_the_same_scores(self, _, dtype):
        rng = np.random.default_rng(4)
        n = 30
        scores = rng.normal(0, 3, (n, K)).astype(dtype)
        deltas = rng.normal(0, 1, (n, K - 1, 4)).astype(dtype)
        rois = scene_rois(n, 3, seed=4)
        rois[:5, 1:] = rois[5, 1:] + rng.uniform(-2, 2, (5, 4))  # overlapping proposals: NMS has work
        rois[:6, 0] = 1
        da = S.detect_boxes(rois, scores, deltas, num_images=4, score_threshold=0.02, iou_threshold=0.3)
        db = R.detect_boxes(rois, scores, deltas, num_images=4, score_threshold=0.02, iou_threshold=0.3)
        self.assertEqual(len(da), 4)
        self.assertEqual(len(db), 4)
        self.assertEqual(len(da[3]["boxes"]), 0)  # a scene without proposals
        total = 0
        for i, (u, v) in enumerate(zip(da, db)):
            assert_exact(u["labels"], v["labels"], what=f"scene {i} labels", dtype_name=np.dtype(dtype).name)
            assert_close(u["boxes"], v["boxes"], dtype, what=f"scene {i} boxes")
            assert_close(u["scores"], v["scores"], dtype, what=f"scene {i} scores")
            self.assertEqual(u["labels"].dtype, np.int64)
            self.assertTrue(np.all(np.diff(u["scores"]) <= 0), "by decreasing score")
            self.assertTrue(np.all(u["scores"] > 0.02))
            self.assertTrue(np.all((u["boxes"] >= 0) & (u["boxes"] <= 64)))
            total += len(u["boxes"])
        self.assertGreater(total, 10)

    def test_network_detect_is_detect_boxes_of_predict(self):
        x, _, _ = proposals(12)
        a, b = twins(np.float64, seed=2)
        rois = scene_rois(12, 2, seed=1)
        for net, module in ((a, S), (b, R)):
            scores, deltas = net.predict(x)
            expected = module.detect_boxes(rois, scores, deltas, 3, 0.0, 0.5, 5)
            got = net.detect(x, rois, num_images=3, score_threshold=0.0, iou_threshold=0.5, max_detections=5,
                             batch_size=5)
            self.assertEqual(len(got), 3)
            for u, v in zip(got, expected):
                np.testing.assert_array_equal(u["labels"], v["labels"])
                np.testing.assert_allclose(u["boxes"], v["boxes"], rtol=1e-13)
                self.assertLessEqual(len(u["boxes"]), 5)
        for u, v in zip(a.detect(x, rois, 3, 0.0), b.detect(x, rois, 3, 0.0)):
            np.testing.assert_array_equal(u["labels"], v["labels"])
            assert_close(u["boxes"], v["boxes"], np.float64, what="detect boxes")

    def test_hand_made_example(self):
        """Two proposals on one digit 3 and one on a 7 partly outside the scene: zero deltas give the
        proposals back (clipped); the weaker 3 is suppressed by NMS, the 7 is not (another class)."""
        rois = np.array([[0, 10, 10, 30, 30], [0, 11, 10, 31, 30], [0, 50, 50, 70, 66]], dtype=float)
        scores = np.full((3, K), -10.0)
        scores[0, 3], scores[1, 3], scores[2, 7] = 5.0, 4.0, 3.0
        deltas = np.zeros((3, K - 1, 4))
        deltas[2, 7] = [0.5, 0, 0, 0]  # move the 7 right by half its width / std: 0.1 * 0.5 * 20 = 1 pixel
        for module in (S, R):
            (out,) = module.detect_boxes(rois, scores, deltas, score_threshold=0.5)
            np.testing.assert_array_equal(out["labels"], [3, 7])
            np.testing.assert_allclose(out["boxes"], [[10, 10, 30, 30], [51, 50, 64, 64]], rtol=1e-14)
            p = np.exp(5.0) / (np.exp(5.0) + 10 * np.exp(-10.0))
            np.testing.assert_allclose(out["scores"][0], p, rtol=1e-14)
        expected = decode_boxes(rois[2:, 1:], deltas[2, 7:8] * np.array(S.TARGET_STD))
        np.testing.assert_allclose(expected, [[51, 50, 71, 66]], rtol=1e-14)


    def test_perfect_predictions_score_map_one(self):
        """Proposals jittered around the true boxes, scored for the true class, with deltas that are the
        encoded targets divided by TARGET_STD: detect gives the true boxes back, mAP@0.5 and @[.5:.95] 1."""
        rng = np.random.default_rng(6)
        truth = [{"boxes": np.array([[5.0, 6, 25, 30], [34, 30, 58, 60]]), "labels": np.array([2, 8])},
                 {"boxes": np.array([[10.0, 12, 40, 44]]), "labels": np.array([0])}]
        rois, labels, boxes = [], [], []
        for n, gt in enumerate(truth):
            for box, label in zip(gt["boxes"], gt["labels"]):
                for _ in range(3):
                    rois.append([n, *(box + rng.uniform(-3, 3, 4))])
                    labels.append(label)
                    boxes.append(box)
        rois, labels, boxes = np.array(rois), np.array(labels), np.array(boxes)
        scores = np.full((len(rois), K), -5.0)
        scores[np.arange(len(rois)), labels] = 5.0
        deltas = np.zeros((len(rois), K - 1, 4))
        deltas[np.arange(len(rois)), labels] = encode_boxes(rois[:, 1:], boxes) / np.array(S.TARGET_STD)
        for module in (S, R):
            found = module.detect_boxes(rois, scores, deltas, num_images=2)
            for det, gt in zip(found, truth):
                order = np.argsort(det["labels"])
                np.testing.assert_allclose(det["boxes"][order], gt["boxes"][np.argsort(gt["labels"])], atol=1e-12)
            self.assertEqual(mean_average_precision(found, truth), 1.0)
            self.assertEqual(mean_average_precision_50_95(found, truth), 1.0)


class TestTrainingRun(unittest.TestCase):

    def test_same_loss_curve_float64_adam(self):
        x, labels, targets = proposals(32, seed=5)
        a, b = twins(np.float64, seed=5, live=False)  # the constructor's own start
        opt_a, opt_b = SO.Adam(lr=0.01), RO.Adam(lr=0.01)
        order = np.random.default_rng(0).permutation(np.tile(np.arange(32), 3))
        curve_a, curve_b = [], []
        for step in range(10):
            batch = order[step * 8:(step + 1) * 8]
            batch = batch if np.any(labels[batch] != -1) else batch[::-1]
            opt_a.update(a.params, a.gradient(x[batch], labels[batch], targets[batch]))
            opt_b.update(b.params, b.gradient(x[batch], labels[batch], targets[batch]))
            curve_a.append(float(a.last_loss))
            curve_b.append(float(b.last_loss))
        assert_close(np.array(curve_a), np.array(curve_b), np.float64, rtol=1e-9, what="Adam loss curve")
        full_a = float(a.loss(x, labels, targets))
        self.assertLess(full_a, curve_a[0], "the loss did not fall")
        for name in a.params:
            assert_close(a.params[name], b.params[name], np.float64, rtol=1e-9, what=f"{name} after 10 steps")


class TestBadInput(unittest.TestCase):

    def setUp(self):
        x, self.labels, self.targets = proposals()
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

    def test_labels(self):
        for bad in (11, -2):
            labels = self.labels.copy()
            labels[4] = bad
            self.same_error("loss", self.x, labels, self.targets,
                            match=f"labels must lie in [0, 11) or be ignore_label = -1, got {bad} (1 of 12 outside)")
        self.same_error("gradient", self.x, self.labels.astype(np.float64), self.targets, match="integer labels")
        self.same_error("loss", self.x, self.labels[:5], self.targets, match="labels of shape (5,) for 12 proposals")
        self.same_error("loss", self.x, np.full(12, -1), self.targets, match="all 12 proposals are ignored")
        self.same_error("accuracy", self.x, self.labels[:3], match="labels of shape (3,)")

    def test_targets(self):
        self.same_error("loss", self.x, self.labels, self.targets[:, :3],
                        match="box targets of shape (12, 3) for 12 proposals")
        targets = self.targets.copy()
        targets[0, 2] = np.inf
        self.same_error("loss", self.x, self.labels, targets,
                        match="box target 0 of a foreground proposal is not finite")

    def test_empty_batch_and_shapes(self):
        self.same_error("loss", self.x[:0], self.labels[:0], self.targets[:0], match="empty batch")
        self.same_error("predict", self.x[:0], match="empty batch")
        self.same_error("detect", self.x[:0], scene_rois(0, 1), match="empty batch")
        self.same_error("predict", self.x[:, :, :24], match="expects images of shape (n, 1, 28, 28)")

    def test_detect_rois(self):
        rois = scene_rois(12, 2)
        bad = rois.copy()
        bad[3, 3] = bad[3, 1] - 1  # x2 < x1
        self.same_error("detect", self.x, bad, match="proposals[30] = ")
        self.same_error("detect", self.x, bad, match="has x2 <= x1")
        self.same_error("detect", self.x, rois, 1, match="has scene index 1, not a scene index in [0, 1)")
        self.same_error("detect", self.x, rois[:5], match="5 rois for 12 scored proposals")
        self.same_error("detect", self.x, rois[:, 1:], match="expects rois of shape (r, 5)")
        negative = rois.copy()
        negative[2, 0] = -1
        self.same_error("detect", self.x, negative, match="roi 2 has scene index -1, not an integer >= 0")
        self.same_error("detect", self.x, rois, score_threshold=1.5, match="score_threshold must be a number in [0, 1]")

    def test_bad_constructor_arguments(self):
        for kwargs in ({"channels": (4,)}, {"hidden_size": 0}, {"input_dim": (1, 30, 28)}, {"num_classes": 1},
                       {"box_weight": -1.0}, {"beta": float("nan")}, {"target_std": (0.1, 0.1, 0.2)},
                       {"target_std": (0.1, 0.1, 0.2, 0.0)}):
            errors = assert_same_error(lambda: S.RCNN(**kwargs), lambda: R.RCNN(**kwargs))
            self.assertEqual(str(errors[0]), str(errors[1]))
            self.assertNotIn("\n", str(errors[0]))
