"""R-CNN's per-proposal network (8.4): each region proposal, warped to 28x28, is classified and its box refined.

    net = RCNN(seed=0)                                 # warped proposals (P, 1, 28, 28)
    grads = net.gradient(crops, labels, targets)       # labels (P,): 0..9 digit, 10 background, -1 ignored
    scores, deltas = net.predict(crops)                # (P, 11) class scores, (P, 10, 4) box deltas
    detections = net.detect(crops, rois)               # per scene {"boxes", "scores", "labels"}

R-CNN (Girshick, Donahue, Darrell and Malik, CVPR 2014) in three steps:
region proposals from an unsupervised method, each proposal cut out and
warped to the network's fixed input size, and a convnet that says which
class (or background) the proposal holds and how to move its box
(``scratch.boxes.encode_boxes``'s deltas) onto the object. This module is the
third step; proposals and warping belong to the detection script. Fast
R-CNN (``scratch.fast_rcnn``) shares the heads and the loss defined here.

Labels and targets, one per proposal (assigned by IoU with the ground truth
by the caller):

* label c in 0..9: a digit (foreground); 10 = ``BACKGROUND`` (the last class);
  -1 = ``IGNORE_LABEL``: the proposal counts nowhere (neither loss term, nor the
  normaliser), as ``ignore_index`` in ``F.cross_entropy``;
* target (tx, ty, tw, th): the deltas from the proposal to its ground-truth
  box (``encode_boxes``); read only for foreground proposals (any numbers
  elsewhere).

The multi-task loss (Fast R-CNN, eq. 1; ``DetectionLoss``), over the M
proposals that are not ignored:

    L = 1/M sum_counted -log softmax(s_p)[u_p]
      + lambda / M sum_foreground sum_{i in x,y,w,h} smoothL1_beta(v_p,u_p,i - t_p,i / std_i)

Box regression is class-specific, as in R-CNN and Fast R-CNN: 4 deltas
per digit class, (P, 10, 4), and the loss reads those of the proposal's
true class u_p only (background has no box). The targets are divided by
``target_std`` = (0.1, 0.1, 0.2, 0.2) (Fast R-CNN's normalisation: the
deltas of proposals that overlap their digit by IoU >= 0.5 are of order
0.1, which would sit deep in the quadratic part of smooth L1 and learn
slowly); ``detect`` multiplies the predicted deltas back by it. The
regression sum is divided by M, as torchvision's ``fastrcnn_loss`` does
(not by the number of foreground proposals). ``box_weight`` is lambda (1
in Fast R-CNN), ``beta`` smooth L1's (1).

Detection (``detect_boxes``, the last step of R-CNN's test time): for every
proposal and digit class c, the score softmax(s)[c] and the box
decode(proposal, deltas[c] * std) clipped to the scene; boxes scoring at most
``score_threshold`` are dropped, non-maximum suppression runs per class
(``batched_nms``) within each scene, and the best ``max_detections`` are
kept, in the format of ``scratch.detection_metrics`` (torchvision's).

The network (``RCNN``):

    crops (P, 1, 28, 28)
    Conv1 3x3 pad 1 - Relu - Pool 2x2     (P, C1, 14, 14)
    Conv2 3x3 pad 1 - Relu - Pool 2x2     (P, C2, 7, 7)
    Affine3 (F) - Relu                    (P, F)  -+- Affine_cls -> scores (P, 11)
                                                   +- Affine_box -> deltas (P, 10 * 4) -> (P, 10, 4)

Parameters: W1 (C1, C, 3, 3), b1; W2 (C2, C1, 3, 3), b2; W3 (F, C2 * 7 * 7), b3;
W_cls (K, F), b_cls; W_box (4 (K - 1), F), b_box. Initial draws from one
generator in that order: W1..W3 with ``weight_init_std`` (He's by default),
W_cls ~ N(0, 0.01^2) and W_box ~ N(0, 0.001^2) (Fast R-CNN's); biases 0.
Backward: the two heads' input gradients add up in the hidden layer (as
the captioner's h0 and c0 branches), then run back through the trunk.

Speed (NumPy, float32, one BLAS thread, on a 2-core machine shared with two
trainings, load about 4): a training step (``gradient``) on 128 proposals
takes 83 to 90 ms (median of 9); ``predict`` on the 800 crops of 8 scenes
with 100 proposals each, 200 ms, warping not counted (Fast R-CNN: 68 ms for
the same scenes and proposals, ``scratch.fast_rcnn``).
"""
import math
import numbers
from collections import OrderedDict

import numpy as np

from .boxes import batched_nms, decode_boxes
from .checks import (check_batch, check_count, check_dout, check_floating, check_forward_done,
                     check_size, dtype_name, dtype_of)
from .layers import Relu, SoftmaxWithLoss
from .network_base import Network
from .scenes import NUM_CLASSES, SCENE_SIZE
from .simple_convnet import check_input_dim
from .smooth_l1 import SmoothL1Loss, check_smooth_l1_args
from .weight_init import make_rng

__all__ = ["RCNN", "DetectionLoss", "detect_boxes", "IGNORE_LABEL", "TARGET_STD"]

IGNORE_LABEL = -1                   # a proposal's label that counts nowhere
TARGET_STD = (0.1, 0.1, 0.2, 0.2)    # the box targets are divided by these (Fast R-CNN's normalisation)


# --- checks, shared with reference.rcnn and the Fast R-CNN modules (NumPy arrays, or .shape/.dtype only)

def check_loss_args(num_classes, box_weight, beta, target_std, who):
    """num_classes >= 2 (the last is the background), box_weight a finite real >= 0, smooth L1's beta,
    four positive target_std. Returns (num_classes, box_weight, beta, target_std as a tuple of floats)."""
    num_classes = check_size(num_classes, "num_classes", who, minimum=2)
    if isinstance(box_weight, bool) or not isinstance(box_weight, numbers.Real) \
            or not (math.isfinite(box_weight) and box_weight >= 0):
        raise ValueError(f"{who}: box_weight must be a finite number >= 0, got {box_weight!r}")
    box_weight = float(box_weight)
    beta = check_smooth_l1_args(beta, "sum", who)[0]
    try:
        target_std = tuple(float(s) for s in target_std)
    except (TypeError, ValueError):
        raise ValueError(f"{who}: target_std must be four positive numbers, got {target_std!r}") from None
    if len(target_std) != 4 or not all(np.isfinite(s) and s > 0 for s in target_std):
        raise ValueError(f"{who}: target_std must be four positive numbers, got {target_std!r}")
    return num_classes, box_weight, beta, target_std


def check_detection_targets(labels, targets, n, num_classes, who):
    """labels (n,) integers in [0, num_classes) or IGNORE_LABEL, not all IGNORE_LABEL; targets (n, 4) numbers,
    finite where the label is a digit (0 .. num_classes - 2). Returns (labels int64, targets float64) NumPy arrays."""
    labels, targets = np.asarray(labels), np.asarray(targets)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"{who} expects integer labels (0..{num_classes - 2} digit, {num_classes - 1} background, "
                        f"{IGNORE_LABEL} ignored), got dtype {labels.dtype}")
    if labels.shape != (n,):
        raise ValueError(f"{who}: labels of shape {labels.shape} for {n} proposals; one label per proposal, "
                         f"({n},) expected")
    bad = (labels != IGNORE_LABEL) & ((labels < 0) | (labels >= num_classes))
    if np.any(bad):
        raise ValueError(f"{who}: labels must lie in [0, {num_classes}) or be IGNORE_LABEL = {IGNORE_LABEL}, got "
                         f"{labels[bad][0]} ({int(np.count_nonzero(bad))} of {n} outside)")
    if not np.any(labels != IGNORE_LABEL):
        raise ValueError(f"{who}: all {n} proposals are ignored (label {IGNORE_LABEL}); the loss needs at least one")
    if targets.dtype.kind not in "iuf":
        raise TypeError(f"{who}: box targets must be numbers, got dtype {targets.dtype}")
    if targets.shape != (n, 4):
        raise ValueError(f"{who}: box targets of shape {targets.shape} for {n} proposals; (tx, ty, tw, th) per "
                         f"proposal, ({n}, 4) expected")
    foreground = (labels >= 0) & (labels < num_classes - 1)
    bad = foreground & ~np.isfinite(targets).all(axis=1)
    if np.any(bad):
        raise ValueError(f"{who}: box target {int(np.argmax(bad))} of a foreground proposal is not finite")
    return labels.astype(np.int64, copy=False), targets.astype(np.float64)


def check_head_outputs(scores, deltas, num_classes, who="DetectionLoss"):
    """Floating scores (P, K) and deltas (P, K - 1, 4) of one dtype, P >= 1."""
    check_floating(scores, who)
    shape, K = tuple(scores.shape), num_classes
    if len(shape) != 2 or shape[1] != K:
        raise ValueError(f"{who} expects class scores of shape (P, {K}), got {shape}")
    check_batch(shape, who)
    if tuple(deltas.shape) != (shape[0], K - 1, 4):
        raise ValueError(f"{who}: box deltas of shape {tuple(deltas.shape)} for scores of shape {shape}; "
                         f"(P, {K - 1}, 4) expected")
    if dtype_name(deltas.dtype) != dtype_name(scores.dtype):
        raise TypeError(f"{who}: scores are {dtype_name(scores.dtype)} but deltas are {dtype_name(deltas.dtype)}")


def check_rois(rois, who):
    """Proposals as rois (R, 5), rows (scene index, x1, y1, x2, y2): finite numbers, integer scene indices
    >= 0; returns them as a float64 NumPy array."""
    rois = np.asarray(rois)
    if rois.ndim != 2 or rois.shape[1] != 5:
        raise ValueError(f"{who} expects rois of shape (R, 5), rows (scene index, x1, y1, x2, y2), got {rois.shape}")
    if rois.dtype.kind not in "iuf":
        raise TypeError(f"{who}: rois must be numbers, got dtype {rois.dtype}")
    rois = rois.astype(np.float64)
    if not np.all(np.isfinite(rois)):
        raise ValueError(f"{who}: roi {int(np.argmin(np.isfinite(rois).all(axis=1)))} is not finite")
    n = rois[:, 0]
    bad = (n != np.floor(n)) | (n < 0)
    if np.any(bad):
        r = int(np.argmax(bad))
        raise ValueError(f"{who}: roi {r} has scene index {n[r]:g}, not an integer >= 0")
    return rois


def check_detect_args(rois, n, num_images, score_threshold, iou_threshold, max_detections, who):
    """rois (n, 5) (``check_rois``) whose scene indices lie in [0, num_images) (default: the largest + 1),
    thresholds in [0, 1], max_detections >= 1. Returns (rois float64, num_images)."""
    rois = check_rois(rois, who)
    if len(rois) != n:
        raise ValueError(f"{who}: {len(rois)} rois for {n} scored proposals; one roi per proposal")
    if num_images is None:
        num_images = int(rois[:, 0].max()) + 1 if len(rois) else 0
    num_images = check_count(num_images, "num_images", 1)
    if len(rois) and rois[:, 0].max() >= num_images:
        r = int(np.argmax(rois[:, 0] >= num_images))
        raise ValueError(f"{who}: roi {r} has scene index {rois[r, 0]:g}, not a scene index in [0, {num_images})")
    for name, value in (("score_threshold", score_threshold), ("iou_threshold", iou_threshold)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
                or not 0 <= value <= 1:
            raise ValueError(f"{who}: {name} must be a number in [0, 1], got {value!r}")
    check_count(max_detections, "max_detections", 1)
    return rois, num_images


def check_trunk_input_dim(input_dim, pools, who):
    """(C, H, W) with H and W multiples of 2**pools."""
    input_dim = check_input_dim(input_dim, who)
    if input_dim[1] % 2 ** pools or input_dim[2] % 2 ** pools:
        raise ValueError(f"{who}: input_dim {input_dim}: the height and width must be multiples of {2 ** pools} "
                         f"({pools} 2x2 poolings)")
    return input_dim


def check_channels(channels, count, who):
    channels = tuple(channels)
    if len(channels) != count:
        raise ValueError(f"{who}: channels must be {count} counts, got {channels!r}")
    return tuple(check_size(c, "channels", who) for c in channels)


# --- the multi-task loss

class DetectionLoss:
    """Fast R-CNN's multi-task loss (module docstring): softmax cross-entropy over the counted
    proposals plus box_weight times smooth L1 of the true class's deltas of the foreground ones.

        forward:   M = #(labels != IGNORE_LABEL);  L = SoftmaxWithLoss(scores[counted], labels[counted])
                   + box_weight * SmoothL1(sum)(deltas[fg, labels[fg]], targets[fg] / std) / M
        backward:  dscores = zeros, its counted rows from SoftmaxWithLoss.backward(dout);
                   ddeltas = zeros, row p's class labels[p] from SmoothL1.backward(dout * box_weight / M)
                   for the foreground rows (selection's backward: scatter into zeros)
    """

    def __init__(self, num_classes=NUM_CLASSES, box_weight=1.0, beta=1.0, target_std=TARGET_STD):
        self.num_classes, self.box_weight, self.beta, self.target_std = check_loss_args(
            num_classes, box_weight, beta, target_std, "DetectionLoss")
        self.classification = SoftmaxWithLoss()
        self.regression = SmoothL1Loss(self.beta, reduction="sum")
        self.shapes = None
        self.counted = None
        self.foreground = None
        self.fg_labels = None
        self.count = None

    def forward(self, scores, deltas, labels, targets):
        check_head_outputs(scores, deltas, self.num_classes)
        labels, targets = check_detection_targets(labels, targets, len(scores), self.num_classes, "DetectionLoss")
        self.shapes = scores.shape, deltas.shape
        self.counted = np.flatnonzero(labels != IGNORE_LABEL)
        self.foreground = np.flatnonzero((labels >= 0) & (labels != self.num_classes - 1))
        self.fg_labels = labels[self.foreground]
        self.count = len(self.counted)
        std = np.asarray(self.target_std, dtype=scores.dtype)
        self.cls_loss = self.classification.forward(scores[self.counted], labels[self.counted])
        box_sum = self.regression.forward(deltas[self.foreground, self.fg_labels],
                                          targets[self.foreground].astype(scores.dtype) / std)
        self.box_loss = box_sum / scores.dtype.type(self.count)
        return self.cls_loss + scores.dtype.type(self.box_weight) * self.box_loss

    def backward(self, dout=1):
        check_forward_done(self.shapes, "DetectionLoss")
        check_dout(dout, (), "DetectionLoss")
        (scores_shape, deltas_shape), dtype = self.shapes, self.regression.diff.dtype
        dscores = np.zeros(scores_shape, dtype=dtype)
        dscores[self.counted] = self.classification.backward(dout)
        ddeltas = np.zeros(deltas_shape, dtype=dtype)
        ddeltas[self.foreground, self.fg_labels] = self.regression.backward(
            dtype.type(dout) * dtype.type(self.box_weight) / dtype.type(self.count))
        return dscores, ddeltas


# --- detection: scores and deltas of proposals -> boxes per scene

def _softmax(scores):
    shifted = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def detect_boxes(rois, scores, deltas, num_images=None, score_threshold=0.05, iou_threshold=0.3,
                 max_detections=100, image_size=(SCENE_SIZE, SCENE_SIZE), target_std=TARGET_STD):
    """Final detections per scene from the proposals (rois (P, 5): scene index, x1, y1, x2, y2), their class
    scores (P, K) and box deltas (P, K - 1, 4) (module docstring). Returns a list of ``num_images`` (default:
    the largest scene index + 1) dicts {"boxes" (k, 4), "scores" (k,), "labels" (k,) int64} of NumPy arrays,
    by decreasing score; boxes and scores in the scores' dtype. ``image_size`` (H, W) clips the boxes."""
    scores, deltas = np.asarray(scores), np.asarray(deltas)
    check_head_outputs(scores, deltas, scores.shape[1] if scores.ndim == 2 else 0, "detect_boxes")
    rois, num_images = check_detect_args(rois, len(scores), num_images, score_threshold, iou_threshold,
                                         max_detections, "detect_boxes")
    dtype, (P, K) = scores.dtype, scores.shape
    D = K - 1                                                       # the digit classes; the last is background
    std = np.asarray(target_std, dtype=dtype)
    proposals = np.repeat(rois[:, 1:].astype(dtype), D, axis=0)     # (P * D, 4): proposal p, class c at p * D + c
    boxes = decode_boxes(proposals, (deltas * std).reshape(P * D, 4))
    H, W = image_size
    boxes = np.clip(boxes, 0, np.array([W, H, W, H], dtype=dtype))
    probabilities = _softmax(scores)[:, :D].reshape(-1)
    labels = np.tile(np.arange(D, dtype=np.int64), P)
    scene = np.repeat(rois[:, 0].astype(np.int64), D)
    results = []
    for n in range(num_images):
        keep = np.flatnonzero((scene == n) & (probabilities > score_threshold))
        kept = keep[batched_nms(boxes[keep], probabilities[keep], labels[keep], iou_threshold)][:max_detections]
        results.append({"boxes": boxes[kept], "scores": probabilities[kept], "labels": labels[kept]})
    return results


# --- the network

class RCNN(Network):
    """R-CNN's classifier and box regressor of warped proposals: conv-relu-pool x2, a hidden affine
    layer, two heads (module docstring: shapes, loss, parameters, detection)."""

    def __init__(self, input_dim=(1, 28, 28), channels=(16, 32), hidden_size=256, num_classes=NUM_CLASSES,
                 box_weight=1.0, beta=1.0, target_std=TARGET_STD, weight_init_std="he", dtype="float32",
                 seed=None, readable=False):
        self.readable = readable
        self.input_dim = check_trunk_input_dim(input_dim, 2, "RCNN")
        (C1, C2), F = check_channels(channels, 2, "RCNN"), check_size(hidden_size, "hidden_size", "RCNN")
        self.last_layer = DetectionLoss(num_classes, box_weight, beta, target_std)
        K = self.num_classes = self.last_layer.num_classes
        self.target_std = self.last_layer.target_std
        C, H, W = self.input_dim
        self.dtype = dtype_of(dtype)
        rng = make_rng(seed)
        zeros = lambda n: np.zeros(n, dtype=self.dtype)  # noqa: E731
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
        self.layers["Conv1"].need_dx = False  # nothing upstream needs dL/dx of the crops
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
        """(scores (P, K), deltas (P, K - 1, 4)) of the hidden layer."""
        return self.affine_cls.forward(h), self.affine_box.forward(h).reshape(len(h), self.num_classes - 1, 4)

    def predict(self, x):
        """Class scores (P, K) and box deltas (P, K - 1, 4) (in units of ``target_std``) of the crops."""
        return self._heads(self.features(x))

    def loss(self, x, labels, targets):
        """The multi-task loss (``DetectionLoss``) of the crops given their labels (P,) and box targets (P, 4)."""
        x = self._as_images(x)
        labels, targets = check_detection_targets(labels, targets, len(x), self.num_classes, "RCNN")
        return self.last_layer.forward(*self.predict(x), labels, targets)

    def _backward_heads(self):
        """Backward from the loss through both heads; returns dL/dh of the hidden layer (the sum of both)."""
        dscores, ddeltas = self.last_layer.backward(1)
        return self.affine_cls.backward(dscores) + self.affine_box.backward(ddeltas.reshape(len(ddeltas), -1))

    def gradient(self, x, labels, targets):
        """Backpropagation; the loss of the forward pass is kept as ``last_loss``."""
        self.last_loss = self.loss(x, labels, targets)
        dout = self._backward_heads()
        for layer in reversed(self.layers.values()):
            dout = layer.backward(dout)
        L = self.layers
        return {"W1": L["Conv1"].dW, "b1": L["Conv1"].db, "W2": L["Conv2"].dW, "b2": L["Conv2"].db,
                "W3": L["Affine3"].dW, "b3": L["Affine3"].db, "W_cls": self.affine_cls.dW, "b_cls": self.affine_cls.db,
                "W_box": self.affine_box.dW, "b_box": self.affine_box.db}

    def accuracy(self, x, labels, batch_size=500):
        """The share of counted proposals (label != IGNORE_LABEL) whose highest score is their label."""
        x = np.asarray(x)
        n = check_batch(x.shape, "RCNN.accuracy")
        labels = check_detection_targets(labels, np.zeros((n, 4)), n, self.num_classes, "RCNN.accuracy")[0]
        predicted = np.concatenate([np.argmax(self.predict(x[i:i + batch_size])[0], axis=1)
                                    for i in range(0, n, check_count(batch_size, "batch_size", 1))])
        counted = labels != IGNORE_LABEL
        return int(np.count_nonzero(predicted[counted] == labels[counted])) / int(np.count_nonzero(counted))

    def detect(self, x, rois, num_images=None, score_threshold=0.05, iou_threshold=0.3, max_detections=100,
               image_size=(SCENE_SIZE, SCENE_SIZE), batch_size=500):
        """Detections per scene (``detect_boxes``) from the warped proposals (P, *input_dim) and their
        boxes as rois (P, 5) (scene index, x1, y1, x2, y2) in the scenes' coordinates."""
        x = np.asarray(x)
        n = check_batch(x.shape, "RCNN.detect")
        batch_size = check_count(batch_size, "batch_size", 1)
        outputs = [self.predict(x[i:i + batch_size]) for i in range(0, n, batch_size)]
        scores = np.concatenate([s for s, _ in outputs])
        deltas = np.concatenate([d for _, d in outputs])
        return detect_boxes(rois, scores, deltas, num_images, score_threshold, iou_threshold, max_detections,
                            image_size, self.target_std)
