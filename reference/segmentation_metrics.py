"""How segmentation is scored (8.4) for the PyTorch reference: the same functions as ``scratch.segmentation_metrics``.

The confusion matrix is counting, not arithmetic to compare: one count per
(true class, predicted class) pair, and the pixel accuracy and IoUs are
ratios of those counts. Nothing in it is a PyTorch operator, and two copies
could only disagree by a bug in one of them. So (like
``reference.detection_metrics`` and ``reference.multi_digit``) this module
re-exports the NumPy functions: both backends' segmentation networks are
scored by exactly the same code, and a difference in their mean IoU is a
difference in their predicted masks. The functions take CPU tensors as well
as arrays. Read ``scratch/segmentation_metrics.py`` for the formulas and
conventions (NaN for a class absent from both truth and prediction).
"""

from scratch.segmentation_metrics import (confusion_matrix, mean_iou, per_class_iou, pixel_accuracy,
                                          segmentation_scores)

__all__ = ["confusion_matrix", "pixel_accuracy", "per_class_iou", "mean_iou", "segmentation_scores"]
