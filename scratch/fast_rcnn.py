"""Fast R-CNN (8.4): R-CNN's heads on RoI-pooled features of ONE shared convolutional map per scene.

    net = FastRCNN(seed=0)                                     # scenes (N, 1, 64, 64)
    grads = net.gradient(images, rois, labels, targets)        # rois (R, 5): scene index, x1, y1, x2, y2
    scores, deltas = net.predict(images, rois)                 # (R, 11), (R, 10, 4)
    detections = net.detect(images, rois)                      # per scene {"boxes", "scores", "labels"}

R-CNN (``scratch.rcnn``) runs its whole convnet once per proposal, on a
warped crop: with a few hundred proposals per scene the same pixels go
through the convolutions hundreds of times. Fast R-CNN (Girshick, ICCV
2015) runs the convolutional layers once per scene and cuts each proposal
out of the shared feature map with ``RoIPooling`` (max over a fixed grid of
bins, whatever the proposal's size), then classifies and regresses each
proposal with the same two heads and the same multi-task loss
(``scratch.rcnn.DetectionLoss``: labels 0..9 digit, 10 background, -1
ignored; class-specific box deltas, targets divided by ``TARGET_STD``).

The network (``channels`` = (C1, C2, C3), F = ``hidden_size``, pooled
p x p = ``pooled_size``; shapes for the defaults 16, 32, 64, 4 and 256):

    images (N, 1, 64, 64)
    Conv1 3x3 pad 1 - Relu - Pool 2x2        (N, 16, 32, 32)
    Conv2 3x3 pad 1 - Relu - Pool 2x2        (N, 32, 16, 16)
    Conv3 3x3 pad 1 - Relu                   (N, 64, 16, 16)   the shared map, stride 4
    RoIPool p x p, spatial_scale 1/4         (R, 64, 4, 4)     one per roi, from its own scene's map
    Affine4 (F) - Relu                       (R, 256) -+- Affine_cls -> scores (R, 11)
                                                       +- Affine_box -> deltas (R, 10 * 4) -> (R, 10, 4)

Conv3 (no pooling) widens the receptive field of a map cell to 18
pixels, most of a digit, at stride 4 (a digit of 20 to 40 pixels spans 5 to
10 cells, 1 to 3 per bin of a 4x4 grid). Backward: the heads' gradients add
up in the hidden layer (as in ``RCNN``), RoI pooling's backward sends each
pooled value's gradient to the map element it copied (rois of one scene
add up on that scene's map), then the trunk runs back once per scene.

Parameters: W1 (C1, C, 3, 3), b1; W2 (C2, C1, 3, 3), b2; W3 (C3, C2, 3, 3), b3;
W4 (F, C3 * p * p), b4; W_cls (K, F), b_cls; W_box (4 (K - 1), F), b_box. Initial
draws from one generator in that order: W1..W4 with ``weight_init_std``
(He's by default), W_cls ~ N(0, 0.01^2), W_box ~ N(0, 0.001^2); biases 0.

RoI pooling: ``readable=True`` uses ``scratch.roi_pooling.RoIPooling`` (a
Python loop over rois and bins, the algorithm as written); the default
``scratch.fast.RoIPooling`` computes the same numbers (tested) with array
operations (a table of range maxima, four lookups per bin).

Speed (NumPy, float32, one BLAS thread, on a 2-core machine shared with two
trainings, load about 4): a training step (``gradient``) on 8 scenes with 64
rois each takes 87 to 92 ms (median of 5; with ``readable=True``, the loop
RoIPooling, 290 ms); ``predict`` on 8 scenes with 100 rois each 68 ms,
against 200 ms for R-CNN's ``predict`` on the same 800 proposals warped to
28x28 (warping not counted): 3 times as many scenes per second, the
convolutions running once per scene instead of once per proposal.
"""
from collections import OrderedDict

import numpy as np

from .checks import check_count, check_size, dtype_of
from .layers import Relu
from .network_base import Network
from .rcnn import (IGNORE_LABEL, TARGET_STD, DetectionLoss, check_channels, check_detection_targets,
                   check_trunk_input_dim, detect_boxes)
from . import fast
from .roi_pooling import RoIPooling, check_roi_input, check_roi_pooling_args
from .scenes import NUM_CLASSES
from .weight_init import make_rng

__all__ = ["FastRCNN"]

STRIDE = 4  # the shared map's stride: two 2x2 poolings


# --- checks, shared with reference.fast_rcnn

def check_scene_rois(images, rois, who="FastRCNN"):
    """rois (R, 5), R >= 1, for the images (N, C, H, W): ``check_roi_input``'s rules (batch index in [0, N),
    x1 <= x2, y1 <= y2, finite) in the images' dtype. Returns them as a NumPy array."""
    rois = np.asarray(rois)
    if rois.ndim == 2 and rois.shape[0] == 0:
        raise ValueError(f"{who}: no rois (rois of shape {rois.shape}); it needs at least one")
    return check_roi_input(images, rois, who)


class FastRCNN(Network):
    """Fast R-CNN: a shared conv map per scene, RoI pooling per proposal, R-CNN's two heads and
    multi-task loss (module docstring: shapes, parameters, backward)."""

    def __init__(self, input_dim=(1, 64, 64), channels=(16, 32, 64), pooled_size=4, hidden_size=256,
                 num_classes=NUM_CLASSES, box_weight=1.0, beta=1.0, target_std=TARGET_STD, weight_init_std="he",
                 dtype="float32", seed=None, readable=False):
        self.readable = readable
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
        self.dtype = dtype_of(dtype)
        rng = make_rng(seed)
        zeros = lambda n: np.zeros(n, dtype=self.dtype)  # noqa: E731
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
        self.layers["Conv1"].need_dx = False  # nothing upstream needs dL/dx of the images
        self.roi_pool = (RoIPooling if readable else fast.RoIPooling)(p, 1 / STRIDE)
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
        """Class scores (R, K) and box deltas (R, K - 1, 4) (in units of ``target_std``) of the rois (R, 5)
        (scene index, x1, y1, x2, y2 in the scenes' pixels) of the scenes (N, *input_dim)."""
        x = self._as_images(x)
        rois = check_scene_rois(x, rois)
        h = self.relu4.forward(self.affine4.forward(self.roi_pool.forward(self.feature_map(x), rois)))
        return self.affine_cls.forward(h), self.affine_box.forward(h).reshape(len(h), self.num_classes - 1, 4)

    def loss(self, x, rois, labels, targets):
        """The multi-task loss (``DetectionLoss``) of the rois given their labels (R,) and box targets (R, 4)."""
        x = self._as_images(x)
        rois = check_scene_rois(x, rois)
        labels, targets = check_detection_targets(labels, targets, len(rois), self.num_classes, "FastRCNN")
        return self.last_layer.forward(*self.predict(x, rois), labels, targets)

    def gradient(self, x, rois, labels, targets):
        """Backpropagation: the heads, the hidden layer, RoI pooling back onto the shared maps, the trunk;
        the loss of the forward pass is kept as ``last_loss``."""
        self.last_loss = self.loss(x, rois, labels, targets)
        dscores, ddeltas = self.last_layer.backward(1)
        dh = self.affine_cls.backward(dscores) + self.affine_box.backward(ddeltas.reshape(len(ddeltas), -1))
        dout = self.roi_pool.backward(self.affine4.backward(self.relu4.backward(dh)))
        for layer in reversed(self.layers.values()):
            dout = layer.backward(dout)
        L = self.layers
        grads = {}
        for i in (1, 2, 3):
            grads[f"W{i}"], grads[f"b{i}"] = L[f"Conv{i}"].dW, L[f"Conv{i}"].db
        grads["W4"], grads["b4"] = self.affine4.dW, self.affine4.db
        grads["W_cls"], grads["b_cls"] = self.affine_cls.dW, self.affine_cls.db
        grads["W_box"], grads["b_box"] = self.affine_box.dW, self.affine_box.db
        return grads

    def _batches(self, x, rois, batch_size, who):
        """(scores (R, K), deltas (R, K - 1, 4)) of all rois, predicted ``batch_size`` scenes at a time."""
        x = self._as_images(x)
        rois = check_scene_rois(x, rois, who)
        batch_size = check_count(batch_size, "batch_size", 1)
        scores = np.zeros((len(rois), self.num_classes), dtype=self.dtype)
        deltas = np.zeros((len(rois), self.num_classes - 1, 4), dtype=self.dtype)
        for i in range(0, len(x), batch_size):
            mine = np.flatnonzero((rois[:, 0] >= i) & (rois[:, 0] < i + batch_size))
            if len(mine):
                shifted = rois[mine] - np.array([i, 0, 0, 0, 0], dtype=rois.dtype)
                scores[mine], deltas[mine] = self.predict(x[i:i + batch_size], shifted)
        return rois, scores, deltas

    def accuracy(self, x, rois, labels, batch_size=100):
        """The share of counted rois (label != IGNORE_LABEL) whose highest score is their label."""
        rois, scores, _ = self._batches(x, rois, batch_size, "FastRCNN.accuracy")
        labels = check_detection_targets(labels, np.zeros((len(rois), 4)), len(rois), self.num_classes,
                                         "FastRCNN.accuracy")[0]
        counted = labels != IGNORE_LABEL
        return int(np.count_nonzero(np.argmax(scores, axis=1)[counted] == labels[counted])) / int(counted.sum())

    def detect(self, x, rois, score_threshold=0.05, iou_threshold=0.3, max_detections=100, batch_size=100):
        """Detections for each of the N scenes (``scratch.rcnn.detect_boxes``: a list of N dicts {"boxes",
        "scores", "labels"}), boxes clipped to the scene, from the rois (R, 5), predicted in batches of scenes."""
        rois, scores, deltas = self._batches(x, rois, batch_size, "FastRCNN.detect")
        return detect_boxes(rois, scores, deltas, len(np.asarray(x)), score_threshold, iou_threshold,
                            max_detections, self.input_dim[1:], self.target_std)
