"""How segmentation is scored (8.4): the confusion matrix, pixel accuracy, per-class IoU and mean IoU.

Every pixel is one sample: its true class (the mask) and its predicted class
(the argmax of the network's scores). Everything follows from the confusion
matrix of the K classes, summed over all pixels of all images:

    C[i, j] = number of pixels of true class i predicted as class j      (rows: truth, columns: prediction)

    pixel accuracy = sum_i C[i, i] / sum_ij C[i, j]                       (the share of pixels right)
    IoU_c          = C[c, c] / (sum_j C[c, j] + sum_i C[i, c] - C[c, c])  (TP / (TP + FN + FP))
    mean IoU       = the mean of IoU_c over the classes that have one     (FCN's "mean IU")

IoU_c is the intersection over union of the pixels truly of class c and the
pixels predicted as c. Conventions:

* a class absent from both the truth and the prediction has no IoU (0/0):
  ``per_class_iou`` gives NaN for it and ``mean_iou`` leaves it out (a
  nan-mean), so a test set without a "9" does not count the 9s as perfect or
  as failed. A class present in only one of them has IoU 0;
* pixels whose truth is ``ignore_index`` (a "don't care" label, as
  ``PixelSoftmaxWithLoss``'s) are not counted anywhere, whatever is predicted
  there;
* with no pixel counted at all, pixel accuracy and mean IoU are NaN.

Confusion matrices add: score a large set batch by batch, add the matrices,
then compute the numbers once (``FCN.evaluate`` does).
"""
import operator

import numpy as np

__all__ = ["confusion_matrix", "pixel_accuracy", "per_class_iou", "mean_iou", "segmentation_scores"]


# --- checks

def check_num_classes(num_classes, who):
    """A class count: an integer >= 1."""
    try:
        num_classes = operator.index(num_classes)
    except TypeError:
        raise TypeError(f"{who}: num_classes must be an integer, got {num_classes!r}") from None
    if num_classes < 1:
        raise ValueError(f"{who}: num_classes must be >= 1, got {num_classes}")
    return num_classes


def check_class_map(a, name, num_classes, who, ignore_index=None):
    """Integer class indices in [0, num_classes) (or ``ignore_index``), as an int64 NumPy array."""
    a = np.asarray(a)
    if a.dtype.kind not in "iu":
        raise TypeError(f"{who}: {name} must hold integer class indices, got dtype {a.dtype}")
    bad = (a < 0) | (a >= num_classes)
    if ignore_index is not None:
        bad &= a != ignore_index
    if np.any(bad):
        allowed = f"[0, {num_classes})" + ("" if ignore_index is None else f" or ignore_index={ignore_index}")
        raise ValueError(f"{who}: {name} must lie in {allowed}, got {a[bad][0]} "
                         f"({int(np.count_nonzero(bad))} of {a.size} outside)")
    return a.astype(np.int64, copy=False)


def check_confusion(confusion, who):
    """A square matrix (K, K), K >= 1, of non-negative counts, as a NumPy array."""
    confusion = np.asarray(confusion)
    if confusion.ndim != 2 or confusion.shape[0] != confusion.shape[1] or confusion.shape[0] < 1:
        raise ValueError(f"{who} expects a square confusion matrix (K, K), got shape {confusion.shape}")
    if confusion.dtype.kind not in "iuf":
        raise TypeError(f"{who}: a confusion matrix holds counts, got dtype {confusion.dtype}")
    if np.any(confusion < 0):
        raise ValueError(f"{who}: a confusion matrix holds non-negative counts, got {confusion.min()}")
    return confusion


# --- the metrics

def confusion_matrix(predicted, truth, num_classes, ignore_index=None):
    """C (num_classes, num_classes) int64: C[i, j] = pixels of true class i predicted as j.

    ``predicted`` and ``truth`` are integer class maps of one shape (any shape:
    (N, H, W) masks, or flat). Predictions lie in [0, num_classes); truth too,
    or equals ``ignore_index`` (such pixels are skipped). One ``np.bincount``
    over the index truth * K + predicted.
    """
    who = "confusion_matrix"
    K = check_num_classes(num_classes, who)
    predicted, truth = np.asarray(predicted), np.asarray(truth)
    if predicted.shape != truth.shape:
        raise ValueError(f"{who}: predicted of shape {predicted.shape} and truth of shape {truth.shape} differ; "
                         f"one predicted class per true pixel expected")
    if ignore_index is not None:
        ignore_index = operator.index(ignore_index)
    truth = check_class_map(truth, "truth", K, who, ignore_index)
    predicted = check_class_map(predicted, "predicted", K, who)
    counted = truth != ignore_index if ignore_index is not None else np.ones(truth.shape, dtype=bool)
    index = truth[counted] * K + predicted[counted]
    return np.bincount(index, minlength=K * K).reshape(K, K).astype(np.int64)


def pixel_accuracy(confusion):
    """The share of counted pixels predicted right, trace(C) / sum(C); NaN when no pixel was counted."""
    C = check_confusion(confusion, "pixel_accuracy")
    total = C.sum()
    return float(np.trace(C) / total) if total else float("nan")


def per_class_iou(confusion):
    """IoU_c = C[c, c] / (row c's sum + column c's sum - C[c, c]) for every class, (K,) float64;
    NaN for a class absent from both the truth and the prediction (an empty union)."""
    C = check_confusion(confusion, "per_class_iou").astype(np.float64)
    intersection = np.diag(C)
    union = C.sum(axis=1) + C.sum(axis=0) - intersection
    iou = np.full(len(C), np.nan)
    present = union > 0
    iou[present] = intersection[present] / union[present]
    return iou


def mean_iou(confusion):
    """The mean of ``per_class_iou`` over the classes that have one (a nan-mean); NaN if none has."""
    iou = per_class_iou(confusion)
    present = ~np.isnan(iou)
    return float(iou[present].mean()) if present.any() else float("nan")


def segmentation_scores(predicted, truth, num_classes, ignore_index=None):
    """{"pixel_accuracy", "mean_iou", "per_class_iou", "confusion"} of one pair of class maps."""
    C = confusion_matrix(predicted, truth, num_classes, ignore_index)
    return {"pixel_accuracy": pixel_accuracy(C), "mean_iou": mean_iou(C), "per_class_iou": per_class_iou(C),
            "confusion": C}
