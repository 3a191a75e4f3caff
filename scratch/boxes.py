"""Boxes for object detection (8.4: R-CNN): areas, IoU, non-maximum suppression, box regression.

A box is a row (x1, y1, x2, y2) in pixel edges, x to the right and y down,
x1 <= x2 and y1 <= y2, in continuous coordinates: its width is x2 - x1 and
its area (x2 - x1) * (y2 - y1), as torchvision counts them (no "+ 1" as in the
first R-CNN code, which counted pixels). ``scratch.multi_digit``'s boxes
follow this convention. A set of N boxes is an (N, 4) array.

    area(b)   = (x2 - x1) * (y2 - y1)
    IoU(a, b) = area(a & b) / (area(a) + area(b) - area(a & b))

Non-maximum suppression keeps, among boxes that overlap by IoU > threshold,
only the highest-scoring one (greedily, from the best score down);
``batched_nms`` does it per class. R-CNN's box regression (Girshick et al.
2014, appendix C; torchvision's ``BoxCoder`` with weights (1, 1, 1, 1)) moves
a proposal towards its ground truth with four numbers per box, the deltas
written in ``encode_boxes``.

Integer boxes become float64, as everywhere in this project; float32 stays
float32; two arguments of different floating dtypes compute in the wider one
(NumPy's and PyTorch's promotion agree). Bad input gets one-line errors,
the same words in both backends: the checks below are shared with
``reference.boxes``. They read NumPy arrays (``reference`` hands them
``to_numpy`` of its tensors).
"""
import math
import numbers

import numpy as np

from .checks import as_float_array

__all__ = ["box_area", "box_iou", "nms", "batched_nms", "encode_boxes", "decode_boxes", "BBOX_XFORM_CLIP"]

# decode_boxes clamps the log-scale deltas tw, th at log(1000 / 16) before exp, as torchvision's BoxCoder:
# a box grows at most 62.5 times, and a wild prediction cannot overflow.
BBOX_XFORM_CLIP = math.log(1000.0 / 16)


# --- checks (NumPy arrays; reference passes to_numpy of its tensors)

def check_boxes(boxes, who, name="boxes", positive=False):
    """An (N, 4) floating array of finite boxes (x1, y1, x2, y2) with x1 <= x2, y1 <= y2;
    ``positive``: x1 < x2 and y1 < y2 (the box regression divides by widths and takes logs)."""
    shape = tuple(boxes.shape)
    if len(shape) != 2 or shape[1] != 4:
        raise ValueError(f"{who}: {name} must have shape (N, 4), rows (x1, y1, x2, y2), got {shape}")
    if not np.all(np.isfinite(boxes)):
        i = int(np.flatnonzero(~np.isfinite(boxes).all(axis=1))[0])
        raise ValueError(f"{who}: {name}[{i}] = {_row(boxes[i])} is not finite (NaN or inf)")
    x1, y1, x2, y2 = boxes.T
    less = np.less_equal if positive else np.less                          # positive: a zero width is bad too
    bad_x, bad_y = less(x2, x1), less(y2, y1)
    if np.any(bad_x | bad_y):
        i = int(np.flatnonzero(bad_x | bad_y)[0])
        sign, rule = ("<=", "x1 < x2 and y1 < y2") if positive else ("<", "x1 <= x2 and y1 <= y2")
        raise ValueError(f"{who}: {name}[{i}] = {_row(boxes[i])} has {'x2' if bad_x[i] else 'y2'} {sign} "
                         f"{'x1' if bad_x[i] else 'y1'} ({int(np.sum(bad_x | bad_y))} of {len(boxes)} boxes "
                         f"are bad); boxes are (x1, y1, x2, y2) with {rule}")


def _row(box):
    """'(1, 2, 0.5, 4)' for a box: the same words for float32 and float64, NumPy and torch."""
    return "(" + ", ".join(f"{float(v):g}" for v in box) + ")"


def check_box_scores(scores, n, who):
    """One finite score per box: shape (n,), real numbers."""
    if tuple(scores.shape) != (n,):
        raise ValueError(f"{who}: scores must have shape ({n},), one per box, got {tuple(scores.shape)}")
    if scores.dtype.kind not in "biuf":
        raise TypeError(f"{who}: scores must be real numbers, got dtype {scores.dtype}")
    if not np.all(np.isfinite(scores)):
        raise ValueError(f"{who}: scores[{int(np.flatnonzero(~np.isfinite(scores))[0])}] is not finite (NaN or inf)")


def check_box_labels(labels, n, who):
    """One integer class label per box: shape (n,)."""
    if tuple(labels.shape) != (n,):
        raise ValueError(f"{who}: labels must have shape ({n},), one per box, got {tuple(labels.shape)}")
    if labels.dtype.kind not in "iu":
        raise TypeError(f"{who}: labels must be integers, got dtype {labels.dtype}")


def check_iou_threshold(iou_threshold, who):
    """A real number in [0, 1] (NaN refused); returns it as a float."""
    if isinstance(iou_threshold, bool) or not isinstance(iou_threshold, numbers.Real) \
            or not 0 <= iou_threshold <= 1:
        raise ValueError(f"{who}: iou_threshold must be a number in [0, 1], got {iou_threshold!r}")
    return float(iou_threshold)


def check_box_pairs(proposals, other, who, other_name):
    """Proposals (N, 4) of positive width and height and ``other`` (N, 4), one row per proposal: the
    targets of ``encode_boxes`` (boxes of positive width and height too) or the deltas of ``decode_boxes``
    (finite numbers)."""
    check_boxes(proposals, who, "proposals", positive=True)
    shape = tuple(other.shape)
    if len(shape) != 2 or shape[1] != 4:
        raise ValueError(f"{who}: {other_name} must have shape (N, 4), got {shape}")
    if shape[0] != proposals.shape[0]:
        raise ValueError(f"{who}: {len(proposals)} proposals but {shape[0]} rows of {other_name}; "
                         f"one row per proposal")
    if other_name == "targets":
        check_boxes(other, who, other_name, positive=True)
    elif not np.all(np.isfinite(other)):
        i = int(np.flatnonzero(~np.isfinite(other).all(axis=1))[0])
        raise ValueError(f"{who}: {other_name}[{i}] = {_row(other[i])} is not finite (NaN or inf)")


# --- areas and overlaps

def box_area(boxes):
    """area = (x2 - x1) * (y2 - y1) of each of the (N, 4) boxes -> (N,)."""
    boxes = as_float_array(boxes, "boxes")
    check_boxes(boxes, "box_area")
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def box_iou(boxes1, boxes2):
    """IoU(a, b) = area(a & b) / area(a | b) for every pair: (N, 4) and (M, 4) boxes -> (N, M).

    a & b is the box (max x1, max y1, min x2, min y2), empty (area 0) when
    the boxes do not meet; area(a | b) = area(a) + area(b) - area(a & b).
    Two boxes of area 0 have a union of area 0: their IoU is 0 here
    (torchvision divides 0 by 0 and returns NaN).
    """
    boxes1, boxes2 = as_float_array(boxes1, "boxes1"), as_float_array(boxes2, "boxes2")
    check_boxes(boxes1, "box_iou", "boxes1")
    check_boxes(boxes2, "box_iou", "boxes2")
    area1 = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])
    area2 = (boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])
    top_left = np.maximum(boxes1[:, None, :2], boxes2[None, :, :2])          # (N, M, 2)
    bottom_right = np.minimum(boxes1[:, None, 2:], boxes2[None, :, 2:])
    wh = np.clip(bottom_right - top_left, 0, None)                          # 0 where they do not meet
    inter = wh[..., 0] * wh[..., 1]
    union = area1[:, None] + area2[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


# --- non-maximum suppression

def _greedy_suppression(overlaps):
    """Which of the boxes, in visiting order, survive: overlaps[i, j] True where box i, if kept,
    suppresses box j (only j > i is read)."""
    n = len(overlaps)
    kept = np.zeros(n, dtype=bool)
    suppressed = np.zeros(n, dtype=bool)
    for i in range(n):
        if not suppressed[i]:
            kept[i] = True
            suppressed[i + 1:] |= overlaps[i, i + 1:]
    return kept


def _nms(boxes, scores, labels, iou_threshold, who):
    boxes = as_float_array(boxes, "boxes")
    scores = np.asarray(scores)
    check_boxes(boxes, who)
    check_box_scores(scores, len(boxes), who)
    scores = scores.astype(np.float64)                                      # -scores of unsigned or bool wraps
    if labels is not None:
        labels = np.asarray(labels)
        check_box_labels(labels, len(boxes), who)
    iou_threshold = check_iou_threshold(iou_threshold, who)
    order = np.argsort(-scores, kind="stable")                               # best first; ties: lower index first
    boxes = boxes[order]
    overlaps = box_iou(boxes, boxes).astype(np.float64) > iou_threshold    # compared in float64, as torchvision
    if labels is not None:
        labels = labels[order]
        overlaps &= labels[:, None] == labels[None, :]                      # a box suppresses only its own class
    return order[_greedy_suppression(overlaps)].astype(np.int64)


def nms(boxes, scores, iou_threshold):
    """Non-maximum suppression: the indices of the boxes kept, by decreasing score.

    Visit the boxes from the highest score down; keep a box unless a box kept
    before it overlaps it by IoU > iou_threshold. Equal scores are visited in
    the order of their indices (a stable sort, as torchvision's CPU kernel), so
    of two equal boxes with equal scores the lower index is kept.
    ``torchvision.ops.nms`` semantics: boxes (N, 4), scores (N,) -> int64 (K,).
    """
    return _nms(boxes, scores, None, iou_threshold, "nms")


def batched_nms(boxes, scores, labels, iou_threshold):
    """``nms`` for each class on its own: a box suppresses only boxes of its own label.

    Returns the indices kept across all classes, by decreasing score (ties:
    lower index first), as ``torchvision.ops.batched_nms``.
    """
    return _nms(boxes, scores, labels, iou_threshold, "batched_nms")


# --- R-CNN's box regression

def _centres(boxes):
    """(cx, cy, w, h): w = x2 - x1, h = y2 - y1, cx = x1 + w / 2, cy = y1 + h / 2."""
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    return boxes[:, 0] + 0.5 * w, boxes[:, 1] + 0.5 * h, w, h


def encode_boxes(proposals, targets):
    """tx = (gx - px) / pw,  ty = (gy - py) / ph,  tw = log(gw / pw),  th = log(gh / ph)  -> (N, 4).

    (px, py, pw, ph) are a proposal's centre, width and height, (gx, gy, gw, gh)
    those of its ground-truth box (R-CNN, Girshick et al. 2014, appendix C;
    torchvision's ``BoxCoder(weights=(1, 1, 1, 1)).encode_single``). The
    deltas are what the regression head learns: shifts in units of the
    proposal's size, and log scale factors. Both box sets (N, 4) must have
    positive widths and heights.
    """
    proposals, targets = as_float_array(proposals, "proposals"), as_float_array(targets, "targets")
    check_box_pairs(proposals, targets, "encode_boxes", "targets")
    px, py, pw, ph = _centres(proposals)
    gx, gy, gw, gh = _centres(targets)
    return np.stack([(gx - px) / pw, (gy - py) / ph, np.log(gw / pw), np.log(gh / ph)], axis=1)


def decode_boxes(proposals, deltas, clip=BBOX_XFORM_CLIP):
    """gx = px + pw tx,  gy = py + ph ty,  gw = pw exp(tw),  gh = ph exp(th)  -> boxes (N, 4).

    The inverse of ``encode_boxes``: the box (gx - gw/2, gy - gh/2, gx + gw/2,
    gy + gh/2) for each proposal and its deltas (tx, ty, tw, th). tw and th
    are first clamped at ``clip`` (log(1000/16), as torchvision's ``BoxCoder``;
    None: no clamp), so the round trip is exact for boxes up to 62.5 times
    their proposal's size.
    """
    proposals, deltas = as_float_array(proposals, "proposals"), as_float_array(deltas, "deltas")
    check_box_pairs(proposals, deltas, "decode_boxes", "deltas")
    px, py, pw, ph = _centres(proposals)
    tx, ty, tw, th = deltas.T
    if clip is not None:
        tw, th = np.minimum(tw, clip), np.minimum(th, clip)
    gx, gy = px + tx * pw, py + ty * ph
    gw, gh = np.exp(tw) * pw, np.exp(th) * ph
    return np.stack([gx - 0.5 * gw, gy - 0.5 * gh, gx + 0.5 * gw, gy + 0.5 * gh], axis=1)
