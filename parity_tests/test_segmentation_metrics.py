"""Segmentation metrics (8.4): scratch.segmentation_metrics, re-exported by reference.segmentation_metrics.

The confusion matrix is counting, not arithmetic to compare between
backends: the reference re-exports the NumPy functions (``Reference``). What
is tested is the metric:

* ``HandExample``: the confusion matrix, pixel accuracy, per-class IoU and mean
  IoU of a 2x4 example worked out on paper (below), with an ignored pixel and
  with a class that appears nowhere (NaN, left out of the mean);
* ``EdgeCases``: a class only predicted or only true has IoU 0; perfect
  prediction; nothing counted gives NaN without a warning; matrices add;
* ``BruteForce``: random maps against a pixel-by-pixel loop of the definitions;
* ``BadInput``: one-line errors.
"""
import math

import numpy as np
import pytest
import torch

import reference.segmentation_metrics as R
import scratch.segmentation_metrics as M
from conftest import make_rng

pytestmark = pytest.mark.filterwarnings("error")

# Three classes, 8 pixels:
#   truth     = 0 0 1 1 | 2 2 0 1
#   predicted = 0 1 1 1 | 2 0 0 2
# pairs (truth, predicted): (0,0) (0,1) (1,1) (1,1) (2,2) (2,0) (0,0) (1,2)
#
#   C (rows truth, columns predicted)    row sums   column sums
#       [[2, 1, 0],                       3          3
#        [0, 2, 1],                       3          3
#        [1, 0, 1]]                       2          2
#
#   pixel accuracy = (2 + 2 + 1) / 8 = 0.625
#   IoU_0 = 2 / (3 + 3 - 2) = 1/2,  IoU_1 = 2 / (3 + 3 - 2) = 1/2,  IoU_2 = 1 / (2 + 2 - 1) = 1/3
#   mean IoU = (1/2 + 1/2 + 1/3) / 3 = 4/9
#
# The last pixel (truth 1, predicted 2) ignored (truth = -1, ignore_index=-1):
#   C = [[2, 1, 0], [0, 2, 0], [1, 0, 1]]; pixel accuracy 5/7;
#   IoU_0 = 2 / (3 + 3 - 2) = 1/2, IoU_1 = 2 / (2 + 3 - 2) = 2/3, IoU_2 = 1 / (2 + 1 - 1) = 1/2; mean 5/9.
TRUTH = np.array([[0, 0, 1, 1], [2, 2, 0, 1]])
PREDICTED = np.array([[0, 1, 1, 1], [2, 0, 0, 2]])


class TestHandExample:
    def test_confusion_and_scores(self):
        C = M.confusion_matrix(PREDICTED, TRUTH, 3)
        np.testing.assert_array_equal(C, [[2, 1, 0], [0, 2, 1], [1, 0, 1]])
        assert C.dtype == np.int64
        assert M.pixel_accuracy(C) == 0.625
        np.testing.assert_allclose(M.per_class_iou(C), [1 / 2, 1 / 2, 1 / 3], rtol=1e-15)
        assert M.mean_iou(C) == pytest.approx(4 / 9, abs=1e-15)

    def test_ignored_pixel(self):
        truth = TRUTH.copy()
        truth[1, 3] = -1
        C = M.confusion_matrix(PREDICTED, truth, 3, ignore_index=-1)
        np.testing.assert_array_equal(C, [[2, 1, 0], [0, 2, 0], [1, 0, 1]])
        assert M.pixel_accuracy(C) == pytest.approx(5 / 7, abs=1e-15)
        np.testing.assert_allclose(M.per_class_iou(C), [1 / 2, 2 / 3, 1 / 2], rtol=1e-15)
        assert M.mean_iou(C) == pytest.approx(5 / 9, abs=1e-15)
        scores = M.segmentation_scores(PREDICTED, truth, 3, ignore_index=-1)
        assert scores["pixel_accuracy"] == M.pixel_accuracy(C) and scores["mean_iou"] == M.mean_iou(C)
        np.testing.assert_array_equal(scores["confusion"], C)

    def test_absent_class_is_nan_and_left_out(self):
        """With 5 classes, 3 and 4 appear in neither map: NaN, and the mean is still 4/9."""
        C = M.confusion_matrix(PREDICTED, TRUTH, 5)
        assert C.shape == (5, 5) and C[3:].sum() == 0 and C[:, 3:].sum() == 0
        iou = M.per_class_iou(C)
        np.testing.assert_allclose(iou[:3], [1 / 2, 1 / 2, 1 / 3], rtol=1e-15)
        assert np.isnan(iou[3]) and np.isnan(iou[4])
        assert M.mean_iou(C) == pytest.approx(4 / 9, abs=1e-15)
        assert M.pixel_accuracy(C) == 0.625

    def test_masks_and_tensors(self):
        """(N, H, W) masks and CPU tensors give the same counts as the flat arrays."""
        C = M.confusion_matrix(torch.from_numpy(PREDICTED[None]), torch.from_numpy(TRUTH[None]), 3)
        np.testing.assert_array_equal(C, M.confusion_matrix(PREDICTED.ravel(), TRUTH.ravel(), 3))


class TestEdgeCases:
    def test_only_predicted_or_only_true_is_zero(self):
        """truth 0 0, predicted 0 3: class 0 IoU 1/2, class 3 (predicted, never true) 0, classes 1, 2 NaN."""
        iou = M.per_class_iou(M.confusion_matrix([0, 3], [0, 0], 4))
        np.testing.assert_array_equal(iou[[0, 3]], [0.5, 0.0])
        assert np.isnan(iou[1]) and np.isnan(iou[2])
        assert M.mean_iou(M.confusion_matrix([0, 3], [0, 0], 4)) == 0.25
        iou = M.per_class_iou(M.confusion_matrix([0, 0], [0, 3], 4))  # 3 true, never predicted
        np.testing.assert_array_equal(iou[[0, 3]], [0.5, 0.0])

    def test_perfect(self):
        truth = make_rng().integers(0, 11, size=(3, 8, 8))
        C = M.confusion_matrix(truth, truth, 11)
        assert M.pixel_accuracy(C) == 1.0 and M.mean_iou(C) == 1.0
        assert np.count_nonzero(C - np.diag(np.diag(C))) == 0

    def test_nothing_counted_is_nan(self):
        C = M.confusion_matrix(PREDICTED, np.full_like(TRUTH, -100), 3, ignore_index=-100)
        assert C.sum() == 0
        assert math.isnan(M.pixel_accuracy(C)) and math.isnan(M.mean_iou(C))
        assert np.all(np.isnan(M.per_class_iou(C)))

    def test_matrices_add_over_batches(self):
        rng = make_rng()
        truth, predicted = rng.integers(0, 4, size=(2, 6, 5, 5))
        whole = M.confusion_matrix(predicted, truth, 4)
        parts = M.confusion_matrix(predicted[:2], truth[:2], 4) + M.confusion_matrix(predicted[2:], truth[2:], 4)
        np.testing.assert_array_equal(whole, parts)
        assert whole.sum() == truth.size


class TestBruteForce:
    @pytest.mark.parametrize("seed", [0, 1, 2])
    def test_random_maps_against_loops(self, seed):
        rng = make_rng(seed)
        K = 5
        truth = rng.integers(-1, K, size=(3, 7, 6))  # -1: ignored
        predicted = rng.integers(0, K - 1, size=truth.shape)  # class 4 never predicted
        C = np.zeros((K, K), dtype=np.int64)
        for t, p in zip(truth.ravel(), predicted.ravel()):
            if t != -1:
                C[t, p] += 1
        np.testing.assert_array_equal(M.confusion_matrix(predicted, truth, K, ignore_index=-1), C)
        counted = truth != -1
        assert M.pixel_accuracy(C) == pytest.approx(np.mean(predicted[counted] == truth[counted]), abs=1e-15)
        ious = []
        for c in range(K):
            inter = np.count_nonzero(counted & (truth == c) & (predicted == c))
            union = np.count_nonzero(counted & ((truth == c) | (predicted == c)))
            ious.append(inter / union if union else np.nan)
        np.testing.assert_allclose(M.per_class_iou(C), ious, rtol=1e-15)
        assert M.mean_iou(C) == pytest.approx(np.nanmean(ious), abs=1e-15)


class TestReference:
    def test_same_functions(self):
        for name in M.__all__:
            assert getattr(R, name) is getattr(M, name), name
        assert R.__all__ == M.__all__


class TestBadInput:
    @pytest.mark.parametrize("call, error, match", [
        (lambda: M.confusion_matrix(PREDICTED, TRUTH[:, :3], 3), ValueError, "predicted of shape (2, 4) and truth"),
        (lambda: M.confusion_matrix(PREDICTED.astype(float), TRUTH, 3), TypeError, "integer class indices"),
        (lambda: M.confusion_matrix(PREDICTED, TRUTH, 2), ValueError, "truth must lie in [0, 2), got 2"),
        (lambda: M.confusion_matrix(PREDICTED - 1, TRUTH, 3), ValueError, "predicted must lie in [0, 3), got -1"),
        (lambda: M.confusion_matrix(PREDICTED, TRUTH - 2, 3, ignore_index=-2), ValueError,
         "truth must lie in [0, 3) or ignore_index=-2, got -1"),
        (lambda: M.confusion_matrix(PREDICTED, TRUTH, 0), ValueError, "num_classes must be >= 1"),
        (lambda: M.confusion_matrix(PREDICTED, TRUTH, 2.5), TypeError, "num_classes must be an integer"),
        (lambda: M.pixel_accuracy(np.ones((2, 3))), ValueError, "square confusion matrix"),
        (lambda: M.per_class_iou(-np.eye(2)), ValueError, "non-negative counts"),
        (lambda: M.mean_iou(np.array([["a"]])), TypeError, "holds counts"),
    ])
    def test_one_line_errors(self, call, error, match):
        with pytest.raises(error) as info:
            call()
        assert match in str(info.value), str(info.value)
        assert "\n" not in str(info.value)
