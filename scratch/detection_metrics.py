"""Mean average precision (8.4: how object detection is scored), PASCAL VOC 2010+ and COCO style.

For one class, rank all detections of all images by decreasing score; the
k-th is a true positive (TP) if it matches a ground-truth box, else a false
positive (FP). With n ground-truth boxes of the class:

    precision_k = TP_k / k            recall_k = TP_k / n
    p_interp(r) = max { precision_j : recall_j >= r }        (precision made monotone decreasing)
    AP          = sum_k (recall_k - recall_(k-1)) * p_interp(recall_k),   recall_0 = 0

the area under the interpolated precision-recall curve, summed where the
recall changes ("all-point interpolation", PASCAL VOC 2010 onwards; recall
never reached adds nothing). mAP is the mean of AP over the classes, and
COCO's summary mAP@[.5:.95] the mean of mAP over the IoU thresholds 0.50,
0.55, ..., 0.95.

Matching, per image and class (``match_detections``): the detections in
order of decreasing score, each takes the still unmatched ground-truth box of
highest IoU if that IoU >= iou_threshold (COCO's rule; ties of IoU: the lower
ground-truth index). Each ground-truth box is matched at most once, so a
second detection of a found digit is a false positive.

Conventions:

* equal scores keep their given order: earlier image first, then lower
  detection index (a stable sort, as COCO's tool);
* a class without ground truth in any image has no AP (0/0 recall) and is
  skipped: its detections count nowhere. A class with ground truth and no
  detections has AP 0;
* COCO's own tool samples the curve at 101 recall points and VOC 2007 at 11;
  both averages here use all-point interpolation, so they differ slightly
  from pycocotools' numbers;
* no "difficult" or "crowd" boxes.

Detections are given per image, as a mapping with ``boxes`` (k, 4) (x1, y1,
x2, y2), ``scores`` (k,) and ``labels`` (k,) (torchvision's detection
output) or a tuple (boxes, scores, labels); ground truth per image as a
mapping with ``boxes`` (g, 4) and ``labels`` (g,) or a tuple (boxes, labels).
NumPy arrays, lists or CPU tensors.
"""
import numbers
from collections.abc import Mapping

import numpy as np

from .boxes import box_iou, check_box_labels, check_box_scores, check_boxes
from .checks import as_float_array

__all__ = ["COCO_IOU_THRESHOLDS", "match_detections", "precision_recall_curve", "average_precision",
           "average_precisions", "mean_average_precision", "mean_average_precision_50_95"]

COCO_IOU_THRESHOLDS = tuple(round(0.5 + 0.05 * k, 2) for k in range(10))   # 0.5, 0.55, ..., 0.95


# --- checks

def check_match_threshold(iou_threshold, who):
    """A number in (0, 1]: at 0, a detection could match a box it does not touch."""
    if isinstance(iou_threshold, bool) or not isinstance(iou_threshold, numbers.Real) or not 0 < iou_threshold <= 1:
        raise ValueError(f"{who}: iou_threshold must be a number in (0, 1], got {iou_threshold!r}")
    return float(iou_threshold)


def _array(x):
    """A NumPy array for a list, an array or a tensor (detached, on the CPU)."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


_EMPTY = {"boxes": lambda a: a.reshape(0, 4), "scores": lambda a: a.astype(np.float64),
         "labels": lambda a: a.astype(np.int64)}                           # np.asarray([]) is float64 (0,)


def _fields(item, keys, who, what):
    """The arrays ``keys`` of one image, from a mapping by name or a tuple in that order; an empty list
    becomes an empty array of the right shape and kind."""
    if isinstance(item, Mapping):
        missing = [k for k in keys if k not in item]
        if missing:
            raise ValueError(f"{who}: {what} lacks {', '.join(map(repr, missing))} "
                             f"(it needs {', '.join(map(repr, keys))})")
        values = [item[k] for k in keys]
    elif isinstance(item, (tuple, list)) and len(item) == len(keys):
        values = list(item)
    else:
        raise TypeError(f"{who}: {what} must be a mapping with {', '.join(map(repr, keys))} or a tuple of "
                        f"{len(keys)} arrays, got {type(item).__name__}")
    arrays = [_array(v) for v in values]
    return [_EMPTY[k](a) if a.size == 0 and a.ndim == 1 else a for k, a in zip(keys, arrays)]


def _images(detections, ground_truth, who):
    """Validated per-image arrays: [(boxes, scores, labels)], [(boxes, labels)], boxes floating."""
    detections, ground_truth = list(detections), list(ground_truth)
    if len(detections) != len(ground_truth):
        raise ValueError(f"{who}: detections for {len(detections)} images but ground truth for "
                         f"{len(ground_truth)}; give one entry per image to both (empty arrays where none)")
    if not ground_truth:
        raise ValueError(f"{who}: no images; mAP needs at least one image with ground truth")
    dets, gts = [], []
    for i, (det, gt) in enumerate(zip(detections, ground_truth)):
        boxes, scores, labels = _fields(det, ("boxes", "scores", "labels"), who, f"detections[{i}]")
        boxes = as_float_array(boxes, f"detections[{i}] boxes")
        check_boxes(boxes, who, f"detections[{i}] boxes")
        check_box_scores(scores, len(boxes), f"{who}: detections[{i}]")
        check_box_labels(labels, len(boxes), f"{who}: detections[{i}]")
        dets.append((boxes, scores.astype(np.float64), labels))
        g_boxes, g_labels = _fields(gt, ("boxes", "labels"), who, f"ground_truth[{i}]")
        g_boxes = as_float_array(g_boxes, f"ground_truth[{i}] boxes")
        check_boxes(g_boxes, who, f"ground_truth[{i}] boxes")
        check_box_labels(g_labels, len(g_boxes), f"{who}: ground_truth[{i}]")
        gts.append((g_boxes, g_labels))
    if sum(len(b) for b, _ in gts) == 0:
        raise ValueError(f"{who}: no ground-truth boxes in {len(gts)} images; mAP is undefined without them")
    return dets, gts


# --- one image, one class

def _greedy_match(iou, iou_threshold):
    """iou (D, G), detections in visiting order -> (D,) True where the detection takes a ground-truth box."""
    matched = np.zeros(iou.shape[0], dtype=bool)
    taken = np.zeros(iou.shape[1], dtype=bool)
    for d in range(iou.shape[0]):
        free = np.where(taken, -1.0, iou[d])                                 # a taken box cannot match again
        if free.size and free.max() >= iou_threshold:
            g = int(np.argmax(free))                                         # highest IoU; ties: lowest index
            matched[d] = taken[g] = True
    return matched


def match_detections(boxes, scores, gt_boxes, iou_threshold=0.5):
    """TP (True) or FP (False) for each detection of one class in one image, in the given order.

    Detections by decreasing score (ties: lower index first) each take the
    unmatched ground-truth box of highest IoU, if IoU >= iou_threshold.
    boxes (D, 4), scores (D,), gt_boxes (G, 4) -> bool (D,).
    """
    boxes, gt_boxes, scores = as_float_array(boxes, "boxes"), as_float_array(gt_boxes, "gt_boxes"), _array(scores)
    check_boxes(boxes, "match_detections")
    check_boxes(gt_boxes, "match_detections", "gt_boxes")
    check_box_scores(scores, len(boxes), "match_detections")
    iou_threshold = check_match_threshold(iou_threshold, "match_detections")
    order = np.argsort(-scores.astype(np.float64), kind="stable")
    matched = np.zeros(len(boxes), dtype=bool)
    matched[order] = _greedy_match(box_iou(boxes[order], gt_boxes), iou_threshold)
    return matched


# --- one class, all images

def precision_recall_curve(scores, matched, n_ground_truth):
    """precision_k = TP_k / k and recall_k = TP_k / n after ranking the detections by decreasing score.

    scores (D,), matched (D,) booleans (TP or FP), n = n_ground_truth >= 1 ->
    (precision, recall), each (D,) float64, in rank order (ties: given order).
    """
    scores, matched = _array(scores), _array(matched)
    if scores.ndim != 1 or matched.shape != scores.shape:
        raise ValueError(f"precision_recall_curve: scores and matched must have one shape (D,), "
                         f"got {scores.shape} and {matched.shape}")
    check_box_scores(scores, len(scores), "precision_recall_curve")
    if matched.dtype != bool:
        raise TypeError(f"precision_recall_curve: matched must hold booleans (TP or FP), got dtype {matched.dtype}")
    if isinstance(n_ground_truth, bool) or not isinstance(n_ground_truth, (int, np.integer)) or n_ground_truth < 1:
        raise ValueError(f"precision_recall_curve: n_ground_truth must be an integer >= 1 "
                         f"(AP is undefined without ground truth), got {n_ground_truth!r}")
    if matched.sum() > n_ground_truth:
        raise ValueError(f"precision_recall_curve: {int(matched.sum())} true positives but only "
                         f"{n_ground_truth} ground-truth boxes; each is matched at most once")
    tp = np.cumsum(matched[np.argsort(-scores.astype(np.float64), kind="stable")])
    ranks = np.arange(1, len(tp) + 1)
    return tp / ranks, tp / n_ground_truth


def average_precision(scores, matched, n_ground_truth):
    """AP = sum_k (recall_k - recall_(k-1)) * p_interp(recall_k), p_interp(r) = max precision at recall >= r.

    All-point interpolation (PASCAL VOC 2010+): precision made monotone
    decreasing from the right, then the area under the step curve, summed
    where the recall changes. scores (D,), matched (D,) booleans, n_ground_truth
    >= 1 -> a float in [0, 1]; no detections give 0.
    """
    precision, recall = precision_recall_curve(scores, matched, n_ground_truth)
    recall = np.concatenate([[0.0], recall])
    precision = np.concatenate([[0.0], precision])
    envelope = np.maximum.accumulate(precision[::-1])[::-1]                # max over this rank and all later ones
    steps = np.flatnonzero(recall[1:] != recall[:-1]) + 1                  # ranks where a TP raises the recall
    return float(np.sum((recall[steps] - recall[steps - 1]) * envelope[steps]))


# --- all classes, all images

def _class_results(dets, gts, iou_thresholds):
    """{class: (scores, [matched per threshold], n_ground_truth)} for the classes with ground truth."""
    classes = np.unique(np.concatenate([labels for _, labels in gts]))
    results = {int(c): ([], [[] for _ in iou_thresholds], 0) for c in classes}
    for (boxes, scores, labels), (g_boxes, g_labels) in zip(dets, gts):
        order = np.argsort(-scores, kind="stable")
        boxes, scores, labels = boxes[order], scores[order], labels[order]
        iou = box_iou(boxes, g_boxes)
        for c in results:
            d, g = labels == c, g_labels == c
            c_scores, c_matched, n = results[c]
            results[c] = (c_scores, c_matched, n + int(g.sum()))
            c_scores.append(scores[d])
            for k, threshold in enumerate(iou_thresholds):
                c_matched[k].append(_greedy_match(iou[np.ix_(d, g)], threshold))
    return {c: (np.concatenate(s), [np.concatenate(m) for m in ms], n) for c, (s, ms, n) in results.items()}


def _thresholds(iou_thresholds, who):
    iou_thresholds = [check_match_threshold(t, who) for t in iou_thresholds]
    if not iou_thresholds:
        raise ValueError(f"{who}: no IoU thresholds given")
    return iou_thresholds


def average_precisions(detections, ground_truth, iou_threshold=0.5):
    """{class label: AP} at one IoU threshold, for every class with ground truth (see the module docstring)."""
    threshold = _thresholds([iou_threshold], "average_precisions")
    dets, gts = _images(detections, ground_truth, "average_precisions")
    return {c: average_precision(scores, matched[0], n)
            for c, (scores, matched, n) in _class_results(dets, gts, threshold).items()}


def mean_average_precision(detections, ground_truth, iou_threshold=0.5):
    """mAP = mean over the classes with ground truth of AP at iou_threshold (PASCAL VOC: 0.5)."""
    threshold = _thresholds([iou_threshold], "mean_average_precision")
    dets, gts = _images(detections, ground_truth, "mean_average_precision")
    results = _class_results(dets, gts, threshold)
    return float(np.mean([average_precision(s, m[0], n) for s, m, n in results.values()]))


def mean_average_precision_50_95(detections, ground_truth, iou_thresholds=COCO_IOU_THRESHOLDS):
    """mAP@[.5:.95] = mean over the IoU thresholds 0.50, 0.55, ..., 0.95 of mAP (COCO's summary number,
    with all-point interpolation). The IoUs are computed once; each threshold matches anew."""
    thresholds = _thresholds(iou_thresholds, "mean_average_precision_50_95")
    dets, gts = _images(detections, ground_truth, "mean_average_precision_50_95")
    results = _class_results(dets, gts, thresholds)
    return float(np.mean([np.mean([average_precision(s, m[k], n) for s, m, n in results.values()])
                          for k in range(len(thresholds))]))
