"""R-CNN's per-proposal network (8.4), in PyTorch: the same network, loss and detection as ``scratch.rcnn``.

The trunk and heads are ``reference.convolution`` / ``reference.layers``
(``F.conv2d``, ``F.max_pool2d``, ``F.relu``, ``F.linear``); the multi-task
loss is ``F.cross_entropy`` on the counted proposals (``reference.layers``'
``SoftmaxWithLoss``) plus ``F.smooth_l1_loss(reduction="sum")``
(``reference.smooth_l1``) on the true class's deltas, picked by tensor
indexing; the gradient is one autograd pass from the loss (the selections
and the two heads' sum are autograd's business). Detection uses
``torch.softmax`` and ``reference.boxes``' ``decode_boxes`` and
``batched_nms``. The checks are ``scratch.rcnn``'s (the same one-line errors);
labels, targets and rois are data, read as NumPy arrays. Initial weights are
drawn with ``torch.nn.init`` from a ``torch.Generator`` (the same scales as the
NumPy network, other numbers); ``load_params`` copies one network's weights
into the other.
"""
from collections import OrderedDict

import numpy as np
import torch

from scratch.checks import check_batch, check_count, check_dout, check_forward_done, check_size
from scratch.rcnn import (IGNORE_LABEL, TARGET_STD, check_channels, check_detect_args, check_detection_targets,
                          check_head_outputs, check_loss_args, check_trunk_input_dim)
from scratch.scenes import NUM_CLASSES, SCENE_SIZE

from ._tensor import as_tensor, backprop, to_numpy, torch_dtype, track
from .boxes import batched_nms, decode_boxes
from .layers import Relu, SoftmaxWithLoss
from .network_base import Network
from .smooth_l1 import SmoothL1Loss
from .weight_init import make_rng

__all__ = ["RCNN", "DetectionLoss", "detect_boxes", "IGNORE_LABEL", "TARGET_STD"]


class DetectionLoss:
    """Fast R-CNN's multi-task loss (``scratch.rcnn``'s docstring): ``F.cross_entropy`` over the counted
    proposals + box_weight * ``F.smooth_l1_loss(sum)`` of the foreground proposals' true-class deltas
    against targets / std, divided by the number counted; backward: autograd to (dscores, ddeltas)."""

    def __init__(self, num_classes=NUM_CLASSES, box_weight=1.0, beta=1.0, target_std=TARGET_STD):
        self.num_classes, self.box_weight, self.beta, self.target_std = check_loss_args(
            num_classes, box_weight, beta, target_std, "DetectionLoss")
        self.classification = SoftmaxWithLoss()
        self.regression = SmoothL1Loss(self.beta, reduction="sum")
        self.scores = None
        self.deltas = None
        self.loss = None

    def forward(self, scores, deltas, labels, targets):
        scores, deltas = as_tensor(scores), as_tensor(deltas)
        check_head_outputs(scores, deltas, self.num_classes)
        labels, targets = check_detection_targets(to_numpy(labels), to_numpy(targets), len(scores),
                                                  self.num_classes, "DetectionLoss")
        self.scores, self.deltas = track(scores), track(deltas)
        labels = torch.from_numpy(labels)
        counted = torch.nonzero(labels != IGNORE_LABEL).flatten()
        foreground = torch.nonzero((labels >= 0) & (labels != self.num_classes - 1)).flatten()
        std = torch.tensor(self.target_std, dtype=scores.dtype)
        self.cls_loss = self.classification.forward(self.scores[counted], labels[counted])
        box_sum = self.regression.forward(self.deltas[foreground, labels[foreground]],
                                          torch.from_numpy(targets)[foreground].to(scores.dtype) / std)
        self.box_loss = box_sum / len(counted)
        self.loss = self.cls_loss + self.box_weight * self.box_loss
        return self.loss

    def backward(self, dout=1):
        check_forward_done(self.loss, "DetectionLoss")
        check_dout(dout, (), "DetectionLoss")
        return backprop(self.loss, (self.scores, self.deltas), dout)


@torch.no_grad()
def detect_boxes(rois, scores, deltas, num_images=None, score_threshold=0.05, iou_threshold=0.3,
                 max_detections=100, image_size=(SCENE_SIZE, SCENE_SIZE), target_std=TARGET_STD):
    """Final detections per scene (``scratch.rcnn.detect_boxes``): ``torch.softmax`` scores, ``decode_boxes``
    of the deltas times std, ``clamp`` to the scene, per-class ``batched_nms`` in each scene. Returns NumPy
    arrays, as ``scratch``'s, in a list of dicts {"boxes", "scores", "labels"}."""
    scores, deltas = as_tensor(scores), as_tensor(deltas)
    check_head_outputs(scores, deltas, scores.shape[1] if scores.ndim == 2 else 0, "detect_boxes")
    rois, num_images = check_detect_args(to_numpy(rois), len(scores), num_images, score_threshold, iou_threshold,
                                         max_detections, "detect_boxes")
    dtype, (P, K) = scores.dtype, scores.shape
    D = K - 1
    std = torch.tensor(target_std, dtype=dtype)
    rois = torch.from_numpy(rois)
    proposals = rois[:, 1:].to(dtype).repeat_interleave(D, dim=0)
    boxes = decode_boxes(proposals, (deltas * std).reshape(P * D, 4))
    H, W = image_size
    boxes = torch.clamp(boxes, min=torch.zeros(4, dtype=dtype), max=torch.tensor([W, H, W, H], dtype=dtype))
    probabilities = torch.softmax(scores, dim=1)[:, :D].reshape(-1)
    labels = torch.arange(D, dtype=torch.int64).repeat(P)
    scene = rois[:, 0].long().repeat_interleave(D)
    results = []
    for n in range(num_images):
        keep = torch.nonzero((scene == n) & (probabilities > score_threshold)).flatten()
        kept = keep[batched_nms(boxes[keep], probabilities[keep], labels[keep], iou_threshold)][:max_detections]
        results.append({"boxes": boxes[kept].numpy(), "scores": probabilities[kept].numpy(),
                        "labels": labels[kept].numpy()})
    return results


class RCNN(Network):
    """R-CNN's classifier and box regressor of warped proposals (``scratch.rcnn.RCNN``'s docstring)."""

    def __init__(self, input_dim=(1, 28, 28), channels=(16, 32), hidden_size=256, num_classes=NUM_CLASSES,
                 box_weight=1.0, beta=1.0, target_std=TARGET_STD, weight_init_std="he", dtype="float32",
                 seed=None, readable=False):
        self.readable = readable  # PyTorch's operators are one code path: accepted for the same signature
        self.input_dim = check_trunk_input_dim(input_dim, 2, "RCNN")
        (C1, C2), F = check_channels(channels, 2, "RCNN"), check_size(hidden_size, "hidden_size", "RCNN")
        self.last_layer = DetectionLoss(num_classes, box_weight, beta, target_std)
        K = self.num_classes = self.last_layer.num_classes
        self.target_std = self.last_layer.target_std
        C, H, W = self.input_dim
        self.dtype = torch_dtype(dtype)
        rng = make_rng(seed)
        zeros = lambda n: torch.zeros(n, dtype=self.dtype, requires_grad=True)  # noqa: E731
        self.params = {
            "W1": self._init_weight((C1, C, 3, 3), weight_init_std, rng), "b1": zeros(C1),
            "W2": self._init_weight((C2, C1, 3, 3), weight_init_std, rng), "b2": zeros(C2),
            "W3": self._init_weight((F, C2 * (H // 4) * (W // 4)), weight_init_std, rng), "b3": zeros(F),
            "W_cls": self._init_weight((K, F), 0.01, rng), "b_cls": zeros(K),
            "W_box": self._init_weight((4 * (K - 1), F), 0.001, rng), "b_box": zeros(4 * (K - 1)),
        }
        p = self.params
        self.layers = OrderedDict()
        for i in (1, 2):
            self.layers[f"Conv{i}"] = self._convolution(p[f"W{i}"], p[f"b{i}"], 1, 1)
            self.layers[f"Relu{i}"] = Relu()
            self.layers[f"Pool{i}"] = self._pooling(2, 2, 2, 0)
        self.layers["Conv1"].need_dx = False
        self.layers["Affine3"] = self._affine(p["W3"], p["b3"])
        self.layers["Relu3"] = Relu()
        self.affine_cls = self._affine(p["W_cls"], p["b_cls"])
        self.affine_box = self._affine(p["W_box"], p["b_box"])

    def features(self, x):
        """The hidden layer (P, F) of the crops (P, *input_dim)."""
        x = self._as_images(x)
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def _heads(self, h):
        return self.affine_cls.forward(h), self.affine_box.forward(h).reshape(len(h), self.num_classes - 1, 4)

    def predict(self, x):
        """Class scores (P, K) and box deltas (P, K - 1, 4) (in units of ``target_std``) of the crops."""
        return self._heads(self.features(x))

    def loss(self, x, labels, targets):
        """The multi-task loss (``DetectionLoss``) of the crops given their labels (P,) and box targets (P, 4)."""
        x = self._as_images(x)
        labels, targets = check_detection_targets(to_numpy(labels), to_numpy(targets), len(x), self.num_classes,
                                                  "RCNN")
        return self.last_layer.forward(*self.predict(x), labels, targets)

    def gradient(self, x, labels, targets):
        """Every parameter's gradient in one autograd pass from the loss; the loss is kept as ``last_loss``."""
        return self._autograd_gradient(self.loss(x, labels, targets))

    @torch.no_grad()
    def accuracy(self, x, labels, batch_size=500):
        """The share of counted proposals (label != IGNORE_LABEL) whose highest score (``torch.argmax``) is
        their label."""
        x = as_tensor(x)
        n = check_batch(x.shape, "RCNN.accuracy")
        labels = check_detection_targets(to_numpy(labels), np.zeros((n, 4)), n, self.num_classes,
                                         "RCNN.accuracy")[0]
        predicted = torch.cat([torch.argmax(self.predict(x[i:i + batch_size])[0], dim=1)
                               for i in range(0, n, check_count(batch_size, "batch_size", 1))]).numpy()
        counted = labels != IGNORE_LABEL
        return int(np.count_nonzero(predicted[counted] == labels[counted])) / int(np.count_nonzero(counted))

    @torch.no_grad()
    def detect(self, x, rois, num_images=None, score_threshold=0.05, iou_threshold=0.3, max_detections=100,
               image_size=(SCENE_SIZE, SCENE_SIZE), batch_size=500):
        """Detections per scene (``detect_boxes``) from the warped proposals and their rois (P, 5)."""
        x = as_tensor(x)
        n = check_batch(x.shape, "RCNN.detect")
        batch_size = check_count(batch_size, "batch_size", 1)
        outputs = [self.predict(x[i:i + batch_size]) for i in range(0, n, batch_size)]
        scores = torch.cat([s for s, _ in outputs])
        deltas = torch.cat([d for _, d in outputs])
        return detect_boxes(rois, scores, deltas, num_images, score_threshold, iou_threshold, max_detections,
                            image_size, self.target_std)
