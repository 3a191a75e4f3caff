"""Boxes for object detection (8.4: R-CNN), with PyTorch's operators.

The same functions as ``scratch.boxes`` (read its docstring for the box
convention (x1, y1, x2, y2), continuous coordinates, area (x2 - x1) * (y2 - y1)):
IoU, non-maximum suppression, R-CNN's box regression. PyTorch has no box
operators of its own (torchvision has, and the tests use ``torchvision.ops``
as a third opinion; this package does not depend on torchvision), so each
function is written with tensor operators: ``torch.maximum``/``torch.minimum``
for the intersection, ``torch.sort(stable=True)`` for the visiting order,
``torch.log``/``torch.exp`` for the deltas. Every function takes tensors or
NumPy arrays and returns tensors; ``decode_boxes`` is differentiable in its
deltas through autograd. The checks are ``scratch.boxes``'s, so that both
backends raise the same one-line errors.
"""
import torch

from scratch.boxes import (BBOX_XFORM_CLIP, check_box_labels, check_box_pairs, check_box_scores, check_boxes,
                           check_iou_threshold)
from scratch.checks import as_float_array

from ._tensor import as_float_tensor, as_tensor, to_numpy

__all__ = ["box_area", "box_iou", "nms", "batched_nms", "encode_boxes", "decode_boxes", "BBOX_XFORM_CLIP"]


def _float_boxes(boxes, name):
    """``boxes`` as a floating tensor: integers become float64; non-numeric input gets scratch's error."""
    if not isinstance(boxes, torch.Tensor):
        boxes = as_float_array(boxes, name)
    return as_float_tensor(boxes, name)


def _area(boxes):
    x1, y1, x2, y2 = boxes.unbind(dim=1)
    return (x2 - x1) * (y2 - y1)


def box_area(boxes):
    """area = (x2 - x1) * (y2 - y1) of each of the (N, 4) boxes -> (N,)."""
    boxes = _float_boxes(boxes, "boxes")
    check_boxes(to_numpy(boxes), "box_area")
    return _area(boxes)


def box_iou(boxes1, boxes2):
    """IoU(a, b) = area(a & b) / area(a | b) for every pair: (N, 4) and (M, 4) boxes -> (N, M).

    The intersection's corners by ``torch.maximum``/``torch.minimum`` over
    broadcast pairs, its sides ``clamp``-ed at 0; a union of area 0 gives IoU 0
    (``torch.where``).
    """
    boxes1, boxes2 = _float_boxes(boxes1, "boxes1"), _float_boxes(boxes2, "boxes2")
    check_boxes(to_numpy(boxes1), "box_iou", "boxes1")
    check_boxes(to_numpy(boxes2), "box_iou", "boxes2")
    area1, area2 = _area(boxes1), _area(boxes2)
    top_left = torch.maximum(boxes1[:, None, :2], boxes2[None, :, :2])
    bottom_right = torch.minimum(boxes1[:, None, 2:], boxes2[None, :, 2:])
    inter = (bottom_right - top_left).clamp(min=0).prod(dim=2)
    union = area1[:, None] + area2[None, :] - inter
    return torch.where(union > 0, inter / torch.where(union > 0, union, 1), 0)


def _nms(boxes, scores, labels, iou_threshold, who):
    boxes, scores = _float_boxes(boxes, "boxes"), as_tensor(scores)
    check_boxes(to_numpy(boxes), who)
    check_box_scores(to_numpy(scores), len(boxes), who)
    if labels is not None:
        labels = as_tensor(labels)
        check_box_labels(to_numpy(labels), len(boxes), who)
    iou_threshold = check_iou_threshold(iou_threshold, who)
    order = torch.sort(scores.to(torch.float64), descending=True, stable=True).indices
    boxes = boxes[order]
    overlaps = box_iou(boxes, boxes).to(torch.float64) > iou_threshold
    if labels is not None:
        labels = labels[order]
        overlaps &= labels[:, None] == labels[None, :]
    overlaps = torch.triu(overlaps, diagonal=1)                      # box i suppresses only later boxes j > i
    kept = torch.zeros(len(order), dtype=torch.bool)
    suppressed = torch.zeros(len(order), dtype=torch.bool)
    for i in range(len(order)):
        if not suppressed[i]:
            kept[i] = True
            suppressed |= overlaps[i]
    return order[kept]


def nms(boxes, scores, iou_threshold):
    """Non-maximum suppression: indices kept, by decreasing score (ties: lower index first), as
    ``torchvision.ops.nms``: visit boxes best first, drop those overlapping a kept one by IoU > iou_threshold."""
    return _nms(boxes, scores, None, iou_threshold, "nms")


def batched_nms(boxes, scores, labels, iou_threshold):
    """``nms`` per class (a box suppresses only its own label), as ``torchvision.ops.batched_nms``."""
    return _nms(boxes, scores, labels, iou_threshold, "batched_nms")


def _centres(boxes):
    x1, y1, x2, y2 = boxes.unbind(dim=1)
    w, h = x2 - x1, y2 - y1
    return x1 + 0.5 * w, y1 + 0.5 * h, w, h


def encode_boxes(proposals, targets):
    """tx = (gx - px) / pw,  ty = (gy - py) / ph,  tw = log(gw / pw),  th = log(gh / ph)  -> (N, 4),
    with ``torch.log`` (see ``scratch.boxes.encode_boxes``)."""
    proposals, targets = _float_boxes(proposals, "proposals"), _float_boxes(targets, "targets")
    check_box_pairs(to_numpy(proposals), to_numpy(targets), "encode_boxes", "targets")
    px, py, pw, ph = _centres(proposals)
    gx, gy, gw, gh = _centres(targets)
    return torch.stack([(gx - px) / pw, (gy - py) / ph, torch.log(gw / pw), torch.log(gh / ph)], dim=1)


def decode_boxes(proposals, deltas, clip=BBOX_XFORM_CLIP):
    """gx = px + pw tx,  gy = py + ph ty,  gw = pw exp(tw),  gh = ph exp(th)  -> boxes (N, 4),
    tw and th ``clamp``-ed at ``clip`` first (None: not), with ``torch.exp``."""
    proposals, deltas = _float_boxes(proposals, "proposals"), _float_boxes(deltas, "deltas")
    check_box_pairs(to_numpy(proposals), to_numpy(deltas), "decode_boxes", "deltas")
    px, py, pw, ph = _centres(proposals)
    tx, ty, tw, th = deltas.unbind(dim=1)
    if clip is not None:
        tw, th = tw.clamp(max=clip), th.clamp(max=clip)
    gx, gy = px + tx * pw, py + ty * ph
    gw, gh = torch.exp(tw) * pw, torch.exp(th) * ph
    return torch.stack([gx - 0.5 * gw, gy - 0.5 * gh, gx + 0.5 * gw, gy + 0.5 * gh], dim=1)
