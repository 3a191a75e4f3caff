"""Parity of the box functions (8.4, R-CNN): scratch.boxes (NumPy) and reference.boxes (torch operators).

Both backends are compared with each other (float64 rtol 1e-10, float32 1e-5;
kept indices exactly) and with ``torchvision.ops`` (``box_iou``, ``nms``,
``batched_nms``) and torchvision's ``BoxCoder`` (weights (1, 1, 1, 1)) as a
third opinion, on random boxes crowded into a small canvas (many overlaps),
scores rounded to one decimal (many ties), duplicated boxes, empty sets and a
single box. Hand examples pin the formulas: an IoU of 1/7, deltas worked out
on paper, the documented conventions (IoU > threshold suppresses, IoU exactly
at the threshold does not; ties keep the lower index; a union of area 0 gives
IoU 0 where torchvision returns NaN). ``BoxErrors``: the one-line errors, word
for word the same in both backends.
"""
import math

import numpy as np
import pytest
import torch
import torchvision.ops as tv
from parameterized import parameterized
from torchvision.models.detection._utils import BoxCoder

import reference.boxes as R
import scratch.boxes as S
from conftest import DTYPES, assert_close, assert_exact, make_rng, to_numpy

pytestmark = [pytest.mark.filterwarnings("error"), pytest.mark.usefixtures("one_torch_thread")]

THRESHOLDS = (0.0, 0.3, 0.5, 0.7, 1.0)


def random_boxes(n, dtype, seed, canvas=25.0, sizes=(1.0, 20.0), duplicates=0):
    """n boxes (x1, y1, x2, y2) crowded into a canvas x canvas square; the last ``duplicates`` copy earlier ones."""
    rng = make_rng(seed)
    xy = rng.uniform(0, canvas, (n, 2))
    wh = rng.uniform(*sizes, (n, 2))
    boxes = np.hstack([xy, xy + wh])
    if duplicates:
        boxes[n - duplicates:] = boxes[rng.integers(0, n - duplicates, duplicates)]
    return boxes.astype(dtype)


def tied_scores(n, dtype, seed):
    """Scores in {0.0, 0.1, ..., 1.0}: about n / 11 boxes share each score."""
    return np.round(make_rng(seed).uniform(0, 1, n), 1).astype(dtype)


def torch_of(a):
    return torch.from_numpy(np.array(a))


class TestBoxIou:
    """IoU of every pair, against each other and against ``torchvision.ops.box_iou``."""

    @parameterized.expand([(f"{n}x{m}_{name}", n, m, dt)
                           for n, m in ((40, 30), (1, 1), (1, 7), (0, 5), (5, 0), (0, 0))
                           for name, dt in DTYPES])
    def test_random(self, _, n, m, dtype):
        boxes1, boxes2 = random_boxes(n, dtype, 1, duplicates=n // 4), random_boxes(m, dtype, 2)
        ours, theirs = S.box_iou(boxes1, boxes2), R.box_iou(boxes1, boxes2)
        assert ours.shape == (n, m)
        assert_close(ours, theirs, dtype, what="iou")
        assert_close(ours, tv.box_iou(torch_of(boxes1), torch_of(boxes2)), dtype, what="iou vs torchvision")
        if n > 10 and m > 10:
            assert 0.2 < np.mean(ours > 0) < 0.9, "the random boxes should overlap often, not always"
        assert_close(S.box_area(boxes1), R.box_area(boxes1), dtype, what="area")
        assert_close(S.box_area(boxes1), tv.box_area(torch_of(boxes1)), dtype, what="area vs torchvision")

    def test_hand_example(self):
        a = np.array([[0, 0, 10, 10]], dtype=np.float64)
        b = np.array([[5, 5, 15, 15],      # 25 / (100 + 100 - 25) = 1/7
                      [10, 0, 20, 10],     # touching along x = 10: 0
                      [2, 2, 4, 4],        # inside: 4 / 100
                      [0, 0, 10, 20],      # 100 / 200 = 1/2
                      [30, 30, 40, 40],    # apart: 0
                      [0, 0, 10, 10]], dtype=np.float64)
        expected = np.array([[1 / 7, 0, 0.04, 0.5, 0, 1]])
        for backend in (S, R):
            assert_close(backend.box_iou(a, b), expected, np.float64, what=f"iou {backend.__name__}")
            assert_close(backend.box_iou(b, a), expected.T, np.float64, what=f"iou {backend.__name__} transposed")

    def test_zero_area(self):
        """A box of area 0 has IoU 0 with everything, itself included (torchvision: NaN for two of them)."""
        boxes = np.array([[3, 3, 3, 8], [2, 2, 6, 6], [3, 3, 3, 8]], dtype=np.float64)
        expected = np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=np.float64)
        for backend in (S, R):
            assert_close(backend.box_iou(boxes, boxes), expected, np.float64, what=f"iou zero area {backend.__name__}")
        assert np.isnan(to_numpy(tv.box_iou(torch_of(boxes), torch_of(boxes)))[0, 0])

    def test_dtypes(self):
        """Integers become float64; float32 with float64 computes in float64, in both backends."""
        ints = np.array([[0, 0, 10, 10], [5, 5, 15, 15]])
        floats32 = ints.astype(np.float32)
        for a, b, dtype in ((ints, ints, np.float64), (floats32, floats32, np.float32),
                            (floats32, ints.astype(np.float64), np.float64), (ints, floats32, np.float64)):
            ours, theirs = S.box_iou(a, b), R.box_iou(a, b)
            assert_close(ours, theirs, dtype, what=f"iou {a.dtype} with {b.dtype}")
            assert_close(ours[0], np.array([1, 1 / 7], dtype=dtype), dtype, what="iou values")

    def test_tensors_in(self):
        """reference takes tensors as well as arrays and leaves them unchanged."""
        boxes = random_boxes(6, np.float64, 3)
        t = torch_of(boxes)
        assert_close(S.box_iou(boxes, boxes), R.box_iou(t, t), np.float64, what="iou of tensors")
        np.testing.assert_array_equal(t.numpy(), boxes)


def check_nms_properties(boxes, scores, labels, keep, iou_threshold):
    """What NMS promises, checked by brute force: kept by decreasing score; no two kept boxes of one class
    overlap by more than the threshold; every dropped box is overlapped by a kept one of its class that
    comes before it (higher score, or equal score and lower index)."""
    iou = S.box_iou(boxes, boxes).astype(np.float64)
    same = labels[:, None] == labels[None, :]
    assert np.all(np.diff(scores[keep].astype(np.float64)) <= 0), "not sorted by decreasing score"
    kept = np.zeros(len(boxes), dtype=bool)
    kept[keep] = True
    for i in keep:
        for j in keep:
            assert i == j or not (same[i, j] and iou[i, j] > iou_threshold), f"kept {i} and {j} overlap"
    for j in np.flatnonzero(~kept):
        before = (scores > scores[j]) | ((scores == scores[j]) & (np.arange(len(boxes)) < j))
        assert np.any(kept & before & same[j] & (iou[j] > iou_threshold)), f"box {j} dropped without cause"


class TestNms:
    """Greedy suppression against ``torchvision.ops.nms``: the same indices in the same order."""

    @parameterized.expand([(f"{n}_t{t}_{name}", n, t, dt)
                           for n in (60, 1, 0) for t in THRESHOLDS for name, dt in DTYPES])
    def test_random(self, _, n, iou_threshold, dtype):
        boxes, scores = random_boxes(n, dtype, 4, duplicates=n // 5), tied_scores(n, dtype, 5)
        ours, theirs = S.nms(boxes, scores, iou_threshold), R.nms(boxes, scores, iou_threshold)
        assert_exact(ours, theirs, what="kept", dtype_name=np.dtype(dtype).name)
        assert_exact(ours, tv.nms(torch_of(boxes), torch_of(scores), iou_threshold), what="kept vs torchvision",
                     dtype_name=np.dtype(dtype).name)
        check_nms_properties(boxes, scores, np.zeros(n, dtype=np.int64), ours, iou_threshold)
        if n > 1 and 0 < iou_threshold < 1:
            assert 1 < len(ours) < n, "a test that suppresses nothing or everything proves little"

    def test_hand_example(self):
        """Visit b0 (0.9): keep; b2 (0.8) overlaps b0 by 81/119 > 0.5: drop; b1 (0.7) is apart: keep;
        b3 (0.6) overlaps b0 by exactly 1/2, not more: keep; b4 (0.6, later index than b3) overlaps b3 by 1: drop."""
        boxes = np.array([[0, 0, 10, 10], [20, 20, 30, 30], [1, 1, 11, 11], [0, 0, 10, 20], [0, 0, 10, 20]],
                         dtype=np.float64)
        scores = np.array([0.9, 0.7, 0.8, 0.6, 0.6])
        assert_close(S.box_iou(boxes[:1], boxes[2:3]), np.array([[81 / 119]]), np.float64, what="hand example iou")
        for backend in (S, R, tv):
            keep = backend.nms(torch_of(boxes) if backend is tv else boxes,
                               torch_of(scores) if backend is tv else scores, 0.5)
            np.testing.assert_array_equal(to_numpy(keep), [0, 1, 3], err_msg=backend.__name__)

    def test_ties(self):
        """Equal boxes with equal scores: the lowest index is kept, as torchvision's stable sort does."""
        boxes = np.tile(np.array([[0, 0, 10, 10]], dtype=np.float64), (5, 1))
        scores = np.array([1.0, 2.0, 2.0, 2.0, 1.0])
        for backend in (S, R):
            np.testing.assert_array_equal(to_numpy(backend.nms(boxes, scores, 0.5)), [1])
            # apart: all kept, equal scores in index order
            apart = boxes + 100 * np.arange(5)[:, None]
            np.testing.assert_array_equal(to_numpy(backend.nms(apart, scores, 0.5)), [1, 2, 3, 0, 4])
        np.testing.assert_array_equal(to_numpy(tv.nms(torch_of(boxes), torch_of(scores), 0.5)), [1])

    def test_empty_and_integer_scores(self):
        empty = np.zeros((0, 4))
        for backend in (S, R):
            keep = backend.nms(empty, np.zeros(0), 0.5)
            assert to_numpy(keep).shape == (0,) and to_numpy(keep).dtype == np.int64
            keep = backend.nms(np.array([[0, 0, 4, 4], [0, 0, 4, 5], [9, 9, 12, 12]]), np.array([3, 7, 1],
                               dtype=np.uint8), 0.5)
            np.testing.assert_array_equal(to_numpy(keep), [1, 2])


class TestBatchedNms:
    """Per-class suppression against ``torchvision.ops.batched_nms``."""

    @parameterized.expand([(f"{n}_t{t}_{name}", n, t, dt)
                           for n in (80, 1, 0) for t in THRESHOLDS for name, dt in DTYPES])
    def test_random(self, _, n, iou_threshold, dtype):
        boxes, scores = random_boxes(n, dtype, 6, duplicates=n // 5), tied_scores(n, dtype, 7)
        labels = make_rng(8).integers(0, 4, n)
        ours = S.batched_nms(boxes, scores, labels, iou_threshold)
        theirs = R.batched_nms(boxes, scores, labels, iou_threshold)
        assert_exact(ours, theirs, what="kept", dtype_name=np.dtype(dtype).name)
        tv_keep = tv.batched_nms(torch_of(boxes), torch_of(scores), torch_of(labels), iou_threshold)
        assert_exact(ours, tv_keep, what="kept vs torchvision", dtype_name=np.dtype(dtype).name)
        check_nms_properties(boxes, scores, labels, ours, iou_threshold)
        for c in range(4):  # the same as nms on each class alone
            idx = np.flatnonzero(labels == c)
            np.testing.assert_array_equal(np.sort(ours[labels[ours] == c]),
                                          np.sort(idx[S.nms(boxes[idx], scores[idx], iou_threshold)]))

    def test_classes_apart(self):
        """Two equal boxes of different classes both survive; of the same class, one."""
        boxes = np.array([[0, 0, 10, 10]] * 3, dtype=np.float64)
        scores = np.array([0.5, 0.9, 0.7])
        for backend in (S, R):
            np.testing.assert_array_equal(to_numpy(backend.batched_nms(boxes, scores, np.array([0, 1, 0]), 0.5)),
                                          [1, 2])
            np.testing.assert_array_equal(to_numpy(backend.batched_nms(boxes, scores, np.array([0, 0, 0]), 0.5)),
                                          [1])


class TestBoxCoder:
    """R-CNN's deltas: a hand example, torchvision's BoxCoder, and the round trip."""

    def test_hand_example(self):
        """Proposal (0, 0, 10, 20): centre (5, 10), size 10 x 20. Target (2, 4, 22, 24): centre (12, 14), 20 x 20.
        tx = (12 - 5) / 10 = 0.7, ty = (14 - 10) / 20 = 0.2, tw = log(20 / 10) = log 2, th = log(20 / 20) = 0."""
        proposal = np.array([[0, 0, 10, 20]], dtype=np.float64)
        target = np.array([[2, 4, 22, 24]], dtype=np.float64)
        deltas = np.array([[0.7, 0.2, math.log(2), 0.0]])
        for backend in (S, R):
            assert_close(backend.encode_boxes(proposal, target), deltas, np.float64, what=f"encode {backend.__name__}")
            assert_close(backend.decode_boxes(proposal, deltas), target, np.float64, what=f"decode {backend.__name__}")

    @parameterized.expand([(f"{n}_{name}", n, dt) for n in (50, 1, 0) for name, dt in DTYPES])
    def test_random(self, _, n, dtype):
        proposals, targets = random_boxes(n, dtype, 9), random_boxes(n, dtype, 10)
        coder = BoxCoder(weights=(1.0, 1.0, 1.0, 1.0))
        deltas = S.encode_boxes(proposals, targets)
        assert_close(deltas, R.encode_boxes(proposals, targets), dtype, what="encode")
        assert_close(deltas, coder.encode_single(torch_of(targets), torch_of(proposals)), dtype,
                     what="encode vs torchvision")
        wild = (make_rng(11).standard_normal((n, 4)) * 2).astype(dtype)   # some tw, th above the clip
        decoded = S.decode_boxes(proposals, wild)
        assert_close(decoded, R.decode_boxes(proposals, wild), dtype, what="decode")
        assert_close(decoded, coder.decode_single(torch_of(wild), torch_of(proposals)), dtype,
                     what="decode vs torchvision")
        for backend in (S, R):  # round trips, both ways
            assert_close(backend.decode_boxes(proposals, deltas), targets, dtype, what="decode round trip")
            back = backend.encode_boxes(proposals, backend.decode_boxes(proposals, deltas.clip(-4, 4)))
            assert_close(back, deltas.clip(-4, 4), dtype, what="encode round trip")

    def test_clip(self):
        """tw = 10 is clamped at log(1000/16): the width grows 62.5 times, not e^10; clip=None does not clamp."""
        proposal = np.array([[0, 0, 2, 2]], dtype=np.float64)
        deltas = np.array([[0, 0, 10, 0]], dtype=np.float64)
        for backend in (S, R):
            clamped = to_numpy(backend.decode_boxes(proposal, deltas))
            assert_close(clamped, np.array([[1 - 62.5, 0, 1 + 62.5, 2]]), np.float64, what="decode clamped")
            free = to_numpy(backend.decode_boxes(proposal, deltas, clip=None))
            assert_close(free, np.array([[1 - math.exp(10), 0, 1 + math.exp(10), 2]]), np.float64,
                         what="decode unclamped")

    def test_decode_gradient(self):
        """reference.decode_boxes is differentiable in the deltas: d(x2 - x1)/d(tw) = gw, d(x1 + x2)/d(tx) = 2 pw."""
        proposals = random_boxes(4, np.float64, 12)
        deltas = torch.zeros((4, 4), dtype=torch.float64, requires_grad=True)
        boxes = R.decode_boxes(proposals, deltas)
        (boxes[:, 2] - boxes[:, 0] + boxes[:, 0] + boxes[:, 2]).sum().backward()
        widths = proposals[:, 2] - proposals[:, 0]
        assert_close(deltas.grad[:, 0], 2 * widths, np.float64, what="decode d/dtx")
        assert_close(deltas.grad[:, 2], widths, np.float64, what="decode d/dtw")


BAD = np.array([[0, 0, 4, 4], [5, 1, 3, 6]], dtype=np.float64)          # box 1: x2 < x1
GOOD = np.array([[0, 0, 4, 4], [1, 1, 5, 5]], dtype=np.float64)
SCORES = np.array([0.5, 0.4])
LABELS = np.array([0, 1])


def nan_box():
    boxes = GOOD.copy()
    boxes[1, 2] = np.nan
    return boxes


ERROR_CASES = [
    # name, call (backend -> result), words the message must hold
    ("iou_x2_lt_x1", lambda b: b.box_iou(BAD, GOOD), "box_iou: boxes1[1] = (5, 1, 3, 6) has x2 < x1"),
    ("iou_y2_lt_y1", lambda b: b.box_iou(GOOD, np.array([[0, 3, 1, 2]])), "boxes2[0] = (0, 3, 1, 2) has y2 < y1"),
    ("iou_shape", lambda b: b.box_iou(GOOD[:, :3], GOOD), "boxes1 must have shape (N, 4)"),
    ("iou_1d", lambda b: b.box_iou(GOOD, GOOD[0]), "boxes2 must have shape (N, 4), rows (x1, y1, x2, y2), got (4,)"),
    ("iou_nan", lambda b: b.box_iou(GOOD, nan_box()), "boxes2[1] = (1, 1, nan, 5) is not finite"),
    ("iou_inf", lambda b: b.box_iou(np.array([[0, 0, np.inf, 1]]), GOOD), "boxes1[0] = (0, 0, inf, 1) is not finite"),
    ("area_x2_lt_x1", lambda b: b.box_area(BAD), "box_area: boxes[1] = (5, 1, 3, 6) has x2 < x1"),
    ("nms_x2_lt_x1", lambda b: b.nms(BAD, SCORES, 0.5), "nms: boxes[1] = (5, 1, 3, 6) has x2 < x1"),
    ("nms_nan", lambda b: b.nms(nan_box(), SCORES, 0.5), "nms: boxes[1] = (1, 1, nan, 5) is not finite"),
    ("nms_shape", lambda b: b.nms(GOOD[None], SCORES, 0.5), "nms: boxes must have shape (N, 4)"),
    ("nms_scores_shape", lambda b: b.nms(GOOD, SCORES[:1], 0.5), "nms: scores must have shape (2,)"),
    ("nms_scores_nan", lambda b: b.nms(GOOD, np.array([0.5, np.nan]), 0.5), "nms: scores[1] is not finite"),
    ("nms_threshold", lambda b: b.nms(GOOD, SCORES, 1.5), "nms: iou_threshold must be a number in [0, 1]"),
    ("nms_threshold_nan", lambda b: b.nms(GOOD, SCORES, float("nan")), "iou_threshold must be a number in [0, 1]"),
    ("batched_x2_lt_x1", lambda b: b.batched_nms(BAD, SCORES, LABELS, 0.5), "batched_nms: boxes[1] = (5, 1, 3, 6)"),
    ("batched_labels_shape", lambda b: b.batched_nms(GOOD, SCORES, LABELS[:1], 0.5),
     "batched_nms: labels must have shape (2,)"),
    ("batched_labels_float", lambda b: b.batched_nms(GOOD, SCORES, LABELS * 1.0, 0.5),
     "batched_nms: labels must be integers"),
    ("encode_x2_lt_x1", lambda b: b.encode_boxes(GOOD, BAD), "encode_boxes: targets[1] = (5, 1, 3, 6) has x2 <= x1"),
    ("encode_zero_width", lambda b: b.encode_boxes(np.array([[0, 0, 0, 3.0], [0, 0, 1, 1]]), GOOD),
     "encode_boxes: proposals[0] = (0, 0, 0, 3) has x2 <= x1"),
    ("encode_count", lambda b: b.encode_boxes(GOOD, GOOD[:1]), "encode_boxes: 2 proposals but 1 rows of targets"),
    ("decode_nan", lambda b: b.decode_boxes(GOOD, nan_box()), "decode_boxes: deltas[1] = (1, 1, nan, 5) is not finite"),
    ("decode_shape", lambda b: b.decode_boxes(GOOD, GOOD[:, :2]), "decode_boxes: deltas must have shape (N, 4)"),
    ("decode_x2_lt_x1", lambda b: b.decode_boxes(BAD, GOOD), "decode_boxes: proposals[1] = (5, 1, 3, 6) has x2 <= x1"),
]


class TestBoxErrors:
    """Bad input: one ValueError or TypeError, of one line, word for word the same in both backends."""

    @parameterized.expand([(name, call, words, dt) for name, call, words in ERROR_CASES for _, dt in DTYPES])
    def test_error(self, _, call, words, dtype):
        errors = []
        for backend in (S, R):
            with pytest.raises((ValueError, TypeError)) as info:
                call(_Cast(backend, dtype))
            errors.append(info.value)
        ours, theirs = errors
        assert type(ours) is type(theirs), f"{type(ours).__name__} vs {type(theirs).__name__}"
        assert str(ours) == str(theirs)
        assert words in str(ours), f"{words!r} not in {str(ours)!r}"
        assert "\n" not in str(ours)

    def test_tensor_input_same_message(self):
        with pytest.raises(ValueError) as ours:
            S.box_iou(BAD, GOOD)
        with pytest.raises(ValueError) as theirs:
            R.box_iou(torch_of(BAD), torch_of(GOOD))
        assert str(ours.value) == str(theirs.value)


class _Cast:
    """A backend whose box functions receive float arrays cast to ``dtype`` (labels and thresholds as given)."""

    def __init__(self, backend, dtype):
        self.backend, self.dtype = backend, dtype

    def __getattr__(self, name):
        function = getattr(self.backend, name)

        def call(*args):
            args = [a.astype(self.dtype) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a for a in args]
            return function(*args)
        return call


def test_same_public_names():
    """Both backends export the same names; the clamp of decode_boxes is one constant, log(1000 / 16)."""
    assert R.__all__ == S.__all__
    assert R.BBOX_XFORM_CLIP is S.BBOX_XFORM_CLIP and S.BBOX_XFORM_CLIP == pytest.approx(math.log(62.5), rel=1e-15)
