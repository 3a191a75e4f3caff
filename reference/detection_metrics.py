"""Mean average precision (8.4) for the PyTorch reference: the same functions as ``scratch.detection_metrics``.

mAP is counting, not arithmetic to compare: rank detections, match them to
ground truth once each, count true and false positives, sum the area under a
step curve. Nothing in it is a PyTorch operator, and two copies could only
disagree by a bug in one of them. So (like ``reference.multi_digit`` and
``reference.mnist``) this module re-exports the NumPy functions: both backends'
detectors are scored by exactly the same code, and a difference in their mAP
is a difference in their detections. The functions take tensors as well as
arrays (CPU, detached). The IoUs inside come from ``scratch.boxes.box_iou``,
whose parity with ``reference.boxes.box_iou`` and ``torchvision.ops.box_iou``
is tested in ``parity_tests/test_boxes.py``. Read ``scratch/detection_metrics.py``
for the formulas and conventions.
"""

from scratch.detection_metrics import (COCO_IOU_THRESHOLDS, average_precision, average_precisions,
                                       match_detections, mean_average_precision, mean_average_precision_50_95,
                                       precision_recall_curve)

__all__ = ["COCO_IOU_THRESHOLDS", "match_detections", "precision_recall_curve", "average_precision",
           "average_precisions", "mean_average_precision", "mean_average_precision_50_95"]
