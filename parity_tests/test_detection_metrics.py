"""Mean average precision (8.4): scratch.detection_metrics, re-exported by reference.detection_metrics.

mAP is counting, not arithmetic to compare between backends: the reference
re-exports the NumPy functions (``Reference``). What is tested is the metric:

* ``HandExample``: AP at IoU 0.5 and the 0.5:0.95 average worked out on paper
  (the tables are written below), and the mean over two classes;
* ``EdgeCases``: no detections give 0, perfect ones 1, a duplicate detection
  is a false positive, IoU exactly at the threshold matches, a wrong label
  does not, a detection takes the best *unmatched* box, classes without
  ground truth are skipped and classes without detections count 0;
* ``BruteForce``: random scenes against a literal loop-by-loop implementation
  of the definitions (another way to write the same sums);
* ``BadInput``: one-line errors.
"""
import math

import numpy as np
import pytest
import torch
from parameterized import parameterized

import reference.detection_metrics as R
import scratch.detection_metrics as M
from conftest import make_rng

pytestmark = pytest.mark.filterwarnings("error")

# One class (0), three images, 4 ground-truth boxes (n = 4):
#   image A: G1 (0, 0, 10, 10), G2 (20, 20, 30, 30);  image B: G3 (0, 0, 10, 10);  image C: G4 (40, 40, 50, 50).
# Six detections; their best IoU with a ground-truth box of their image:
#   d1 A (0, 0, 10, 10)   0.95  G1: 1
#   d2 B (1, 0, 11, 10)   0.90  G3: 90 / 110 = 0.818
#   d3 A (0, 0, 10, 10)   0.80  G1: 1, but G1 is taken by d1 (a duplicate); G2: 0
#   d4 C (45, 40, 55, 50) 0.70  G4: 50 / 150 = 0.333
#   d5 A (20, 20, 30, 35) 0.60  G2: 100 / 150 = 0.667
#   d6 B (60, 60, 70, 70) 0.50  none: 0
#
# At IoU 0.5, ranked by score:
#   rank  det  TP/FP  TP_k  precision  recall  interpolated precision (max of this and later ranks)
#   1     d1   TP     1     1/1 = 1    0.25    1
#   2     d2   TP     2     2/2 = 1    0.50    1
#   3     d3   FP     2     2/3        0.50    2/3
#   4     d4   FP     2     2/4 = 0.5  0.50    0.6
#   5     d5   TP     3     3/5 = 0.6  0.75    0.6
#   6     d6   FP     3     3/6 = 0.5  0.75    0.5
# The recall rises at ranks 1, 2, 5:
#   AP = (0.25 - 0) * 1 + (0.50 - 0.25) * 1 + (0.75 - 0.50) * 0.6 = 0.25 + 0.25 + 0.15 = 0.65
# (recall 0.75 -> 1 is never reached: G4 is missed, it adds nothing).
#
# 0.5:0.95: d1 matches at every threshold, d2 (0.818) up to 0.80, d5 (0.667) up to 0.65:
#   0.50 0.55 0.60 0.65  TP at ranks 1, 2, 5  AP = 0.65  (as above)
#   0.70 0.75 0.80       TP at ranks 1, 2     AP = 0.25 * 1 + 0.25 * 1 = 0.5
#   0.85 0.90 0.95       TP at rank 1         AP = 0.25
#   mean = (4 * 0.65 + 3 * 0.5 + 3 * 0.25) / 10 = (2.6 + 1.5 + 0.75) / 10 = 0.485
GROUND_TRUTH = [
    {"boxes": [[0, 0, 10, 10], [20, 20, 30, 30]], "labels": [0, 0]},
    {"boxes": [[0, 0, 10, 10]], "labels": [0]},
    {"boxes": [[40, 40, 50, 50]], "labels": [0]},
]
DETECTIONS = [
    {"boxes": [[0, 0, 10, 10], [0, 0, 10, 10], [20, 20, 30, 35]], "scores": [0.95, 0.8, 0.6], "labels": [0, 0, 0]},
    {"boxes": [[1, 0, 11, 10], [60, 60, 70, 70]], "scores": [0.9, 0.5], "labels": [0, 0]},
    {"boxes": [[45, 40, 55, 50]], "scores": [0.7], "labels": [0]},
]


def with_class(images, extra):
    """Each image's arrays with ``extra[i]``'s appended (dicts of lists)."""
    return [{k: list(image[k]) + list(more.get(k, [])) for k in image} for image, more in zip(images, extra)]


class TestHandExample:
    def test_ap_at_05(self):
        np.testing.assert_array_equal(M.match_detections(DETECTIONS[0]["boxes"], DETECTIONS[0]["scores"],
                                                         GROUND_TRUTH[0]["boxes"]), [True, False, True])
        scores = np.array([0.95, 0.8, 0.6, 0.9, 0.5, 0.7])           # d1 d3 d5 | d2 d6 | d4, in image order
        matched = np.array([True, False, True, True, False, False])
        precision, recall = M.precision_recall_curve(scores, matched, 4)
        np.testing.assert_allclose(precision, [1, 1, 2 / 3, 0.5, 0.6, 0.5], rtol=1e-15)
        np.testing.assert_allclose(recall, [0.25, 0.5, 0.5, 0.5, 0.75, 0.75], rtol=1e-15)
        assert M.average_precision(scores, matched, 4) == pytest.approx(0.65, abs=1e-15)
        assert M.average_precisions(DETECTIONS, GROUND_TRUTH) == {0: pytest.approx(0.65, abs=1e-15)}
        assert M.mean_average_precision(DETECTIONS, GROUND_TRUTH) == pytest.approx(0.65, abs=1e-15)

    def test_ap_over_thresholds(self):
        expected = {0.5: 0.65, 0.55: 0.65, 0.6: 0.65, 0.65: 0.65, 0.7: 0.5, 0.75: 0.5, 0.8: 0.5,
                    0.85: 0.25, 0.9: 0.25, 0.95: 0.25}
        assert tuple(expected) == M.COCO_IOU_THRESHOLDS
        for threshold, ap in expected.items():
            assert M.mean_average_precision(DETECTIONS, GROUND_TRUTH, threshold) == pytest.approx(ap, abs=1e-15), \
                threshold
        assert M.mean_average_precision_50_95(DETECTIONS, GROUND_TRUTH) == pytest.approx(0.485, abs=1e-15)

    def test_two_classes(self):
        """Class 1: one box in image C found exactly (AP 1); class 2 has only a detection, no ground truth
        (skipped). mAP = (0.65 + 1) / 2 = 0.825; over 0.5:0.95, (0.485 + 1) / 2 = 0.7425."""
        gt = with_class(GROUND_TRUTH, [{}, {}, {"boxes": [[5, 5, 25, 25]], "labels": [1]}])
        det = with_class(DETECTIONS, [{"boxes": [[0, 0, 3, 3]], "scores": [0.99], "labels": [2]}, {},
                                      {"boxes": [[5, 5, 25, 25]], "scores": [0.1], "labels": [1]}])
        assert M.average_precisions(det, gt) == {0: pytest.approx(0.65, abs=1e-15), 1: 1.0}
        assert M.mean_average_precision(det, gt) == pytest.approx(0.825, abs=1e-15)
        assert M.mean_average_precision_50_95(det, gt) == pytest.approx(0.7425, abs=1e-15)

    def test_tuples_and_tensors(self):
        """The same example given as tuples of tensors and arrays."""
        det = [(torch.tensor(d["boxes"], dtype=torch.float32), torch.tensor(d["scores"]), torch.tensor(d["labels"]))
               for d in DETECTIONS]
        gt = [(np.array(g["boxes"]), np.array(g["labels"])) for g in GROUND_TRUTH]
        assert M.mean_average_precision(det, gt) == pytest.approx(0.65, abs=1e-7)
        assert M.mean_average_precision_50_95(det, gt) == pytest.approx(0.485, abs=1e-7)


def one_class(boxes_per_image, scores_per_image=None):
    """Images of class 0 only, from lists of boxes (detections get scores 1.0 unless given)."""
    if scores_per_image is None:
        return [{"boxes": b, "labels": [0] * len(b)} for b in boxes_per_image]
    return [{"boxes": b, "scores": s, "labels": [0] * len(b)} for b, s in zip(boxes_per_image, scores_per_image)]


class TestEdgeCases:
    GT = one_class([[[0, 0, 10, 10], [20, 0, 30, 10]], [[5, 5, 15, 15]]])

    def test_no_detections(self):
        det = [{"boxes": [], "scores": [], "labels": []}, {"boxes": np.zeros((0, 4)), "scores": [], "labels": []}]
        assert M.mean_average_precision(det, self.GT) == 0.0
        assert M.mean_average_precision_50_95(det, self.GT) == 0.0
        assert M.average_precision([], np.zeros(0, dtype=bool), 3) == 0.0

    def test_perfect(self):
        det = one_class([[[20, 0, 30, 10], [0, 0, 10, 10]], [[5, 5, 15, 15]]], [[0.3, 0.2], [0.9]])
        assert M.mean_average_precision(det, self.GT) == 1.0
        assert M.mean_average_precision_50_95(det, self.GT) == 1.0

    def test_duplicates_are_false_positives(self):
        """Ground truth A, B; detections A (0.9), A again (0.8), B (0.7): TP, FP, TP.
        precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1: AP = 1/2 * 1 + 1/2 * 2/3 = 5/6."""
        gt = one_class([[[0, 0, 10, 10], [20, 0, 30, 10]]])
        det = one_class([[[0, 0, 10, 10], [0, 0, 10, 10], [20, 0, 30, 10]]], [[0.9, 0.8, 0.7]])
        np.testing.assert_array_equal(M.match_detections(det[0]["boxes"], det[0]["scores"], gt[0]["boxes"]),
                                      [True, False, True])
        assert M.mean_average_precision(det, gt) == pytest.approx(5 / 6, abs=1e-15)
        # without the duplicate: AP 1
        assert M.mean_average_precision(one_class([[[0, 0, 10, 10], [20, 0, 30, 10]]], [[0.9, 0.7]]), gt) == 1.0

    def test_threshold_inclusive(self):
        """IoU exactly 0.5 (100 / 200) matches at 0.5 (COCO's >=) and not at 0.55."""
        gt = one_class([[[0, 0, 10, 10]]])
        det = one_class([[[0, 0, 10, 20]]], [[0.5]])
        assert M.mean_average_precision(det, gt, 0.5) == 1.0
        assert M.mean_average_precision(det, gt, 0.55) == 0.0

    def test_wrong_label(self):
        """A perfect box with the wrong label is a false positive of its class and finds nothing of its own."""
        gt = [{"boxes": [[0, 0, 10, 10], [20, 0, 30, 10]], "labels": [3, 7]}]
        det = [{"boxes": [[0, 0, 10, 10], [20, 0, 30, 10]], "scores": [0.9, 0.8], "labels": [7, 7]}]
        assert M.average_precisions(det, gt) == {3: 0.0, 7: pytest.approx(0.5, abs=1e-15)}
        assert M.mean_average_precision(det, gt) == pytest.approx(0.25, abs=1e-15)

    def test_best_unmatched(self):
        """G0 (0, 0, 10, 10) and G1 (0, 5, 10, 15). d1 = G0 (0.9) takes G0. d2 (0, 2, 10, 12) (0.8) overlaps
        G0 by 80/120 and G1 by 70/130 = 0.54: G0 is taken, so it takes G1 (the VOC devkit would call it FP)."""
        gt = one_class([[[0, 0, 10, 10], [0, 5, 10, 15]]])
        det = one_class([[[0, 0, 10, 10], [0, 2, 10, 12]]], [[0.9, 0.8]])
        np.testing.assert_array_equal(M.match_detections(det[0]["boxes"], det[0]["scores"], gt[0]["boxes"]),
                                      [True, True])
        assert M.mean_average_precision(det, gt) == 1.0
        # given in the other order, the scores still decide who matches first
        np.testing.assert_array_equal(M.match_detections([[0, 2, 10, 12], [0, 0, 10, 10]], [0.8, 0.9],
                                                         gt[0]["boxes"]), [True, True])
        np.testing.assert_array_equal(M.match_detections([[0, 2, 10, 12], [0, 0, 10, 10]], [0.9, 0.8],
                                                         gt[0]["boxes"]), [True, False])

    def test_images_without_boxes(self):
        """An image without ground truth makes every detection in it a false positive."""
        gt = one_class([[[0, 0, 10, 10]], []])
        det = one_class([[[0, 0, 10, 10]], [[0, 0, 10, 10]]], [[0.5], [0.9]])
        assert M.mean_average_precision(det, gt) == pytest.approx(0.5, abs=1e-15)   # FP then TP: 1 * 1/2

    def test_tied_scores(self):
        """Equal scores keep the given order. FP first: precision 0, 1/2, 2/3 at recall 0, 1/2, 1, interpolated
        2/3 at both steps: AP 2/3. FP between the TPs: precision 1, 1/2, 2/3: AP 1/2 * 1 + 1/2 * 2/3 = 5/6."""
        gt = one_class([[[0, 0, 10, 10]], [[0, 0, 10, 10]]])
        fp_first = one_class([[[50, 50, 60, 60], [0, 0, 10, 10]], [[0, 0, 10, 10]]], [[0.5, 0.5], [0.5]])
        tp_first = one_class([[[0, 0, 10, 10], [50, 50, 60, 60]], [[0, 0, 10, 10]]], [[0.5, 0.5], [0.5]])
        assert M.mean_average_precision(fp_first, gt) == pytest.approx(2 / 3, abs=1e-15)
        assert M.mean_average_precision(tp_first, gt) == pytest.approx(5 / 6, abs=1e-15)


def brute_force_map(detections, ground_truth, threshold):
    """The definitions written as plain loops: match per image and class, rank, sum the area."""
    classes = sorted({int(c) for g in ground_truth for c in g["labels"]})
    aps = []
    for c in classes:
        ranked, n = [], 0
        for image, (det, gt) in enumerate(zip(detections, ground_truth)):
            gt_boxes = [b for b, l in zip(gt["boxes"], gt["labels"]) if l == c]
            n += len(gt_boxes)
            taken = [False] * len(gt_boxes)
            mine = [(s, i, b) for i, (b, s, l) in enumerate(zip(det["boxes"], det["scores"], det["labels"])) if l == c]
            for s, i, b in sorted(mine, key=lambda t: (-t[0], t[1])):
                best, best_iou = None, threshold
                for g, gb in enumerate(gt_boxes):
                    iw = min(b[2], gb[2]) - max(b[0], gb[0])
                    ih = min(b[3], gb[3]) - max(b[1], gb[1])
                    inter = max(iw, 0) * max(ih, 0)
                    iou = inter / ((b[2] - b[0]) * (b[3] - b[1]) + (gb[2] - gb[0]) * (gb[3] - gb[1]) - inter)
                    if not taken[g] and iou >= best_iou and (best is None or iou > best_iou):
                        best, best_iou = g, iou
                if best is not None:
                    taken[best] = True
                ranked.append((-s, image, i, best is not None))
        ranked.sort()
        hits = [tp for *_, tp in ranked]
        precision = [sum(hits[:k + 1]) / (k + 1) for k in range(len(hits))]
        # every TP raises the recall by 1/n; interpolated precision = the best precision from there on
        aps.append(sum(max(precision[k:]) / n for k in range(len(hits)) if hits[k]))
    return sum(aps) / len(aps)


def random_scenes(n_images, seed, classes=3):
    rng = make_rng(seed)
    dets, gts = [], []
    for _ in range(n_images):
        g = rng.integers(0, 4)
        xy = rng.uniform(0, 40, (g, 2))
        gt_boxes = np.hstack([xy, xy + rng.uniform(4, 16, (g, 2))])
        gt_labels = rng.integers(0, classes, g)
        # detections: jittered copies of the truth (some twice, some relabelled) and some strays
        k = rng.integers(0, 2 * g + 1) if g else 0
        src = rng.integers(0, g, k) if g else np.zeros(0, dtype=int)
        boxes = gt_boxes[src] + rng.normal(0, 0.6, (k, 4))
        boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2] + 0.5)
        labels = np.where(rng.random(k) < 0.15, rng.integers(0, classes, k), gt_labels[src])
        strays = rng.integers(0, 3)
        sxy = rng.uniform(0, 50, (strays, 2))
        boxes = np.vstack([boxes, np.hstack([sxy, sxy + rng.uniform(2, 10, (strays, 2))])])
        labels = np.concatenate([labels, rng.integers(0, classes, strays)])
        scores = np.round(rng.random(len(boxes)), 1)                       # ties
        dets.append({"boxes": boxes.tolist(), "scores": scores.tolist(), "labels": labels.tolist()})
        gts.append({"boxes": gt_boxes.tolist(), "labels": gt_labels.tolist()})
    return dets, gts


class TestBruteForce:
    @parameterized.expand([(f"seed{seed}_t{t}", seed, t) for seed in (1, 2, 3) for t in (0.3, 0.5, 0.75)])
    def test_random(self, _, seed, threshold):
        dets, gts = random_scenes(30, seed)
        ours = M.mean_average_precision(dets, gts, threshold)
        assert 0.05 < ours < 0.98, "a case with nothing or everything found proves little"
        assert ours == pytest.approx(brute_force_map(dets, gts, threshold), abs=1e-12)

    def test_50_95(self):
        dets, gts = random_scenes(30, 4)
        expected = np.mean([brute_force_map(dets, gts, t) for t in M.COCO_IOU_THRESHOLDS])
        assert M.mean_average_precision_50_95(dets, gts) == pytest.approx(expected, abs=1e-12)


class TestReference:
    def test_same_functions(self):
        """reference re-exports scratch's functions: both backends are scored by the same code."""
        for name in M.__all__:
            assert getattr(R, name) is getattr(M, name), name
        assert R.__all__ == M.__all__


GOOD_GT = [{"boxes": [[0, 0, 10, 10]], "labels": [0]}]
GOOD_DET = [{"boxes": [[0, 0, 10, 10]], "scores": [0.5], "labels": [0]}]

ERROR_CASES = [
    ("image_count", lambda: M.mean_average_precision(GOOD_DET * 2, GOOD_GT),
     "detections for 2 images but ground truth for 1"),
    ("no_images", lambda: M.mean_average_precision([], []), "no images"),
    ("no_ground_truth", lambda: M.mean_average_precision(GOOD_DET, [{"boxes": [], "labels": []}]),
     "no ground-truth boxes in 1 images"),
    ("missing_key", lambda: M.mean_average_precision([{"boxes": [[0, 0, 1, 1]], "labels": [0]}], GOOD_GT),
     "detections[0] lacks 'scores'"),
    ("not_a_mapping", lambda: M.mean_average_precision([[0, 0, 1, 1]], GOOD_GT), "detections[0] must be a mapping"),
    ("x2_lt_x1", lambda: M.mean_average_precision(GOOD_DET, [{"boxes": [[0, 0, 10, 10], [9, 0, 3, 4]],
                                                               "labels": [0, 0]}]),
     "mean_average_precision: ground_truth[0] boxes[1] = (9, 0, 3, 4) has x2 < x1"),
    ("nan_box", lambda: M.mean_average_precision([{"boxes": [[0, 0, math.nan, 1]], "scores": [1], "labels": [0]}],
                                                 GOOD_GT), "detections[0] boxes[0] = (0, 0, nan, 1) is not finite"),
    ("scores_shape", lambda: M.mean_average_precision([{"boxes": [[0, 0, 1, 1]], "scores": [1, 2], "labels": [0]}],
                                                      GOOD_GT), "detections[0]: scores must have shape (1,)"),
    ("float_labels", lambda: M.mean_average_precision(GOOD_DET, [{"boxes": [[0, 0, 1, 1]], "labels": [0.5]}]),
     "ground_truth[0]: labels must be integers"),
    ("threshold_0", lambda: M.mean_average_precision(GOOD_DET, GOOD_GT, 0), "iou_threshold must be a number in (0, 1]"),
    ("threshold_list", lambda: M.mean_average_precision_50_95(GOOD_DET, GOOD_GT, [0.5, 1.2]),
     "iou_threshold must be a number in (0, 1], got 1.2"),
    ("no_thresholds", lambda: M.mean_average_precision_50_95(GOOD_DET, GOOD_GT, []), "no IoU thresholds"),
    ("ap_no_ground_truth", lambda: M.average_precision([0.5], [False], 0), "n_ground_truth must be an integer >= 1"),
    ("ap_too_many_tp", lambda: M.average_precision([0.5, 0.4], [True, True], 1), "2 true positives but only 1"),
    ("ap_matched_not_bool", lambda: M.average_precision([0.5], [1], 1), "matched must hold booleans"),
    ("ap_shapes", lambda: M.precision_recall_curve([0.5, 0.4], [True], 1), "scores and matched must have one shape"),
    ("match_shape", lambda: M.match_detections([[0, 0, 1, 1]], [0.5], [0, 0, 1, 1]),
     "match_detections: gt_boxes must have shape (N, 4)"),
]


class TestBadInput:
    @parameterized.expand(ERROR_CASES)
    def test_error(self, _, call, words):
        with pytest.raises((ValueError, TypeError)) as info:
            call()
        assert words in str(info.value), f"{words!r} not in {str(info.value)!r}"
        assert "\n" not in str(info.value)
