"""Fast R-CNN (8.4), in PyTorch: the same network as ``scratch.fast_rcnn``.

The trunk is ``reference.convolution`` / ``reference.layers`` (``F.conv2d``,
``F.max_pool2d``, ``F.relu``), once per scene; the rois are cut out of the
shared map by ``reference.roi_pooling.RoIPooling`` (tensor operators,
torchvision's conventions); the heads, the multi-task loss and the detection
are ``reference.rcnn``'s. The gradient is one autograd pass from the loss,
through RoI pooling back onto each scene's map. The checks are
``scratch.fast_rcnn``'s and ``scratch.rcnn``'s (the same one-line errors).
Initial weights are drawn with ``torch.nn.init`` from a ``torch.Generator``;
``load_params`` copies one network's weights into the other.
"""
from collections import OrderedDict

import numpy as np
import torch

from scratch.checks import check_count, check_size
from scratch.fast_rcnn import STRIDE, check_scene_rois
from scratch.rcnn import IGNORE_LABEL, TARGET_STD, check_channels, check_detection_targets, check_trunk_input_dim
from scratch.roi_pooling import check_roi_pooling_args
from scratch.scenes import NUM_CLASSES

from ._tensor import as_tensor, to_numpy, torch_dtype
from .layers import Relu
from .network_base import Network
from .rcnn import DetectionLoss, detect_boxes
from .roi_pooling import RoIPooling
from .weight_init import make_rng

__all__ = ["FastRCNN"]


class FastRCNN(Network):
    """Fast R-CNN: a shared conv map per scene, RoI pooling per proposal, R-CNN's two heads and
    multi-task loss (``scratch.fast_rcnn``'s docstring)."""

    def __init__(self, input_dim=(1, 64, 64), channels=(16, 32, 64), pooled_size=4, hidden_size=256,
                 num_classes=NUM_CLASSES, box_weight=1.0, beta=1.0, target_std=TARGET_STD, weight_init_std="he",
                 dtype="float32", seed=None, readable=False):
        self.readable = readable  # PyTorch's operators are one code path: accepted for the same signature
        self.input_dim = check_trunk_input_dim(input_dim, 2, "FastRCNN")
        (C1, C2, C3), F = check_channels(channels, 3, "FastRCNN"), check_size(hidden_size, "hidden_size", "FastRCNN")
        (p, _), _ = check_roi_pooling_args(pooled_size, 1 / STRIDE, "FastRCNN")
        if not isinstance(pooled_size, (int, np.integer)):
            raise TypeError(f"FastRCNN: pooled_size must be an integer, got {pooled_size!r}")
        self.pooled_size = p
        self.last_layer = DetectionLoss(num_classes, box_weight, beta, target_std)
        K = self.num_classes = self.last_layer.num_classes
        self.target_std = self.last_layer.target_std
        C = self.input_dim[0]
        self.dtype = torch_dtype(dtype)
        rng = make_rng(seed)
        zeros = lambda n: torch.zeros(n, dtype=self.dtype, requires_grad=True)  # noqa: E731
        self.params = {
            "W1": self._init_weight((C1, C, 3, 3), weight_init_std, rng), "b1": zeros(C1),
            "W2": self._init_weight((C2, C1, 3, 3), weight_init_std, rng), "b2": zeros(C2),
            "W3": self._init_weight((C3, C2, 3, 3), weight_init_std, rng), "b3": zeros(C3),
            "W4": self._init_weight((F, C3 * p * p), weight_init_std, rng), "b4": zeros(F),
            "W_cls": self._init_weight((K, F), 0.01, rng), "b_cls": zeros(K),
            "W_box": self._init_weight((4 * (K - 1), F), 0.001, rng), "b_box": zeros(4 * (K - 1)),
        }
        P = self.params
        self.layers = OrderedDict()
        for i in (1, 2, 3):
            self.layers[f"Conv{i}"] = self._convolution(P[f"W{i}"], P[f"b{i}"], 1, 1)
            self.layers[f"Relu{i}"] = Relu()
            if i < 3:
                self.layers[f"Pool{i}"] = self._pooling(2, 2, 2, 0)
        self.layers["Conv1"].need_dx = False
        self.roi_pool = RoIPooling(p, 1 / STRIDE)
        self.affine4 = self._affine(P["W4"], P["b4"])
        self.relu4 = Relu()
        self.affine_cls = self._affine(P["W_cls"], P["b_cls"])
        self.affine_box = self._affine(P["W_box"], P["b_box"])

    def feature_map(self, x):
        """The shared map (N, C3, H/4, W/4) of the scenes (N, *input_dim)."""
        x = self._as_images(x)
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def predict(self, x, rois):
        """Class scores (R, K) and box deltas (R, K - 1, 4) (in units of ``target_std``) of the rois (R, 5)."""
        x = self._as_images(x)
        rois = check_scene_rois(x, to_numpy(rois))
        h = self.relu4.forward(self.affine4.forward(self.roi_pool.forward(self.feature_map(x), rois)))
        return self.affine_cls.forward(h), self.affine_box.forward(h).reshape(len(h), self.num_classes - 1, 4)

    def loss(self, x, rois, labels, targets):
        """The multi-task loss (``DetectionLoss``) of the rois given their labels (R,) and box targets (R, 4)."""
        x = self._as_images(x)
        rois = check_scene_rois(x, to_numpy(rois))
        labels, targets = check_detection_targets(to_numpy(labels), to_numpy(targets), len(rois), self.num_classes,
                                                  "FastRCNN")
        return self.last_layer.forward(*self.predict(x, rois), labels, targets)

    def gradient(self, x, rois, labels, targets):
        """Every parameter's gradient in one autograd pass from the loss; the loss is kept as ``last_loss``."""
        return self._autograd_gradient(self.loss(x, rois, labels, targets))

    @torch.no_grad()
    def _batches(self, x, rois, batch_size, who):
        x = self._as_images(x)
        rois = check_scene_rois(x, to_numpy(rois), who)
        batch_size = check_count(batch_size, "batch_size", 1)
        scores = torch.zeros((len(rois), self.num_classes), dtype=self.dtype)
        deltas = torch.zeros((len(rois), self.num_classes - 1, 4), dtype=self.dtype)
        for i in range(0, len(x), batch_size):
            mine = np.flatnonzero((rois[:, 0] >= i) & (rois[:, 0] < i + batch_size))
            if len(mine):
                shifted = rois[mine] - np.array([i, 0, 0, 0, 0], dtype=rois.dtype)
                scores[mine], deltas[mine] = self.predict(x[i:i + batch_size], shifted)
        return rois, scores, deltas

    def accuracy(self, x, rois, labels, batch_size=100):
        """The share of counted rois (label != IGNORE_LABEL) whose highest score (``torch.argmax``) is their label."""
        rois, scores, _ = self._batches(x, rois, batch_size, "FastRCNN.accuracy")
        labels = check_detection_targets(to_numpy(labels), np.zeros((len(rois), 4)), len(rois), self.num_classes,
                                         "FastRCNN.accuracy")[0]
        counted = labels != IGNORE_LABEL
        predicted = torch.argmax(scores, dim=1).numpy()
        return int(np.count_nonzero(predicted[counted] == labels[counted])) / int(counted.sum())

    def detect(self, x, rois, score_threshold=0.05, iou_threshold=0.3, max_detections=100, batch_size=100):
        """Detections for each of the N scenes (``reference.rcnn.detect_boxes``), predicted in batches of scenes."""
        rois, scores, deltas = self._batches(x, rois, batch_size, "FastRCNN.detect")
        return detect_boxes(rois, scores, deltas, len(as_tensor(x)), score_threshold, iou_threshold,
                            max_detections, self.input_dim[1:], self.target_std)
