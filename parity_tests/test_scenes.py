"""Tests for the multi-digit scenes (8.4, detection and segmentation): scratch.scenes, re-exported by reference.scenes.

The generator is data, not arithmetic: ``reference.scenes`` re-exports the
NumPy functions (as ``reference.multi_digit`` does), so the backends share
every array by construction (``TestReference``). What is tested here is the
data itself, against an independent re-rendering of each scene from its
recorded sources and scales:

* ``Overlap``: the mask's rule on hand-made patches (threshold, larger value
  wins, ties to the later-drawn digit);
* ``Generator``: shapes, dtypes and padding; determinism for a seed and the
  prefix property; the image is the maximum of the scaled source digits; the
  mask is background exactly where the image is <= the threshold and
  elsewhere the class of the digit that shows there; boxes tight around each
  digit's stroke; the IoU limit (also against ``torchvision.ops.box_iou``);
  crowded canvases leave digits out; ``ground_truth`` in the format the
  detection metric reads. On small synthetic digit sets, so the file runs fast;
* ``BadInput``: one-line errors;
* ``RealMnist`` (``@requires_mnist``): training scenes come from MNIST's
  training images only, test scenes from its test images only.
"""
import functools
import unittest

import numpy as np
import pytest
import torch
import torchvision.ops as tv

import reference.scenes as R
import scratch.scenes as S
from mnist_support import MNIST_DIR, requires_mnist
from scratch.boxes import box_iou
from scratch.detection_metrics import mean_average_precision
from scratch.multi_digit import PAD, SCALE_RANGE, scale_digit

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SIZE, T = S.SCENE_SIZE, S.MASK_THRESHOLD


def digit_set(m=40, seed=0, low=1, high=256):
    """m distinct fake 28x28 uint8 'digits' (a random blob with a solid 3x3 core of ``high - 1``) and labels 0..9."""
    rng = np.random.default_rng(seed)
    images = np.zeros((m, 28, 28), dtype=np.uint8)
    for i in range(m):
        rows, cols = rng.integers(6, 21), rng.integers(4, 21)
        top, left = rng.integers(0, 28 - rows + 1), rng.integers(0, 28 - cols + 1)
        blob = rng.integers(low, high, size=(rows, cols)) * (rng.random((rows, cols)) < 0.6)
        blob[rows // 2 - 1:rows // 2 + 2, cols // 2 - 1:cols // 2 + 2] = high - 1  # a stroke at every scale
        images[i, top:top + rows, left:left + cols] = blob
    return images, rng.integers(0, 10, size=m)


@functools.lru_cache(maxsize=None)
def scenes(n=60, seed=1, **options):
    """Scenes from the default fake digit set (cached: several tests read the same set, none changes it)."""
    images, labels = digit_set()
    return S.make_scenes(images, labels, n, seed, **dict(options))


def placed_patches(sc, i, images):
    """Scene i re-rendered independently: (k, S, S) canvases, each holding one digit's scaled patch where the
    generator put it (found from its stroke box), and its label."""
    size = sc.images.shape[-1]
    layers = []
    for box, source, scale in zip(sc.boxes[i, :sc.counts[i]], sc.sources[i, :sc.counts[i]], sc.scales[i]):
        patch = scale_digit(images[source] / 255.0, scale)
        rows = np.flatnonzero((patch > T).any(axis=1))
        cols = np.flatnonzero((patch > T).any(axis=0))
        x, y = box[0] - cols[0], box[1] - rows[0]
        layer = np.zeros((size, size), dtype=np.float32)
        layer[y:y + patch.shape[0], x:x + patch.shape[1]] = patch
        layers.append(layer)
    return np.array(layers), sc.labels[i, :sc.counts[i]]


def pairwise_ious(boxes):
    iou = box_iou(boxes, boxes)
    return iou[np.triu_indices(len(boxes), 1)]


class TestOverlap(unittest.TestCase):
    """The mask's rule on a hand example: the stroke is value > 0.5; the larger value wins; ties to the later."""

    def test_claims(self):
        mask, best = np.full((2, 5), S.BACKGROUND, dtype=np.int64), np.zeros((2, 5), dtype=np.float32)
        canvas = np.zeros((2, 5), dtype=np.float32)
        three = np.array([[0.5, 0.9, 0.7, 0.6, 0.2]], dtype=np.float32)
        seven = np.array([[0.6, 0.3, 0.7, 0.8], [0.4, 0.0, 1.0, 0.51]], dtype=np.float32)
        for patch, x, y, label in ((three, 0, 0, 3), (seven, 1, 0, 7)):
            S.paste_max(canvas, patch, x, y)
            S._claim(mask, best, patch, x, y, label)
        # row 0, left to right: 0.5 is no stroke (not above 0.5); 0.9 (three) beats 0.6; 0.7 (three) beats 0.3,
        # which is no stroke; 0.7 (seven) beats 0.6; 0.8 (seven) over 0.2. Row 1: 0.4 is no stroke; 1.0 and 0.51
        np.testing.assert_array_equal(canvas, np.float32([[0.5, 0.9, 0.7, 0.7, 0.8], [0, 0.4, 0, 1.0, 0.51]]))
        np.testing.assert_array_equal(mask, [[10, 3, 3, 7, 7], [10, 10, 10, 7, 7]])
        # a tie goes to the later-drawn digit
        S._claim(mask, best, np.array([[0.9]], dtype=np.float32), 1, 0, 5)
        self.assertEqual(mask[0, 1], 5)


class TestGenerator(unittest.TestCase):

    def test_shapes_dtypes_and_padding(self):
        sc = scenes()
        self.assertEqual((sc.images.shape, sc.images.dtype), ((60, 1, SIZE, SIZE), np.float32))
        self.assertTrue(sc.images.min() >= 0 and sc.images.max() <= 1)
        for array, shape in ((sc.masks, (60, SIZE, SIZE)), (sc.boxes, (60, 4, 4)), (sc.labels, (60, 4)),
                             (sc.counts, (60,)), (sc.sources, (60, 4))):
            self.assertEqual((array.shape, array.dtype), (shape, np.int64))
        self.assertEqual((sc.scales.shape, sc.scales.dtype), ((60, 4), np.float64))
        self.assertTrue(np.all((sc.counts >= 1) & (sc.counts <= 4)))
        self.assertTrue(np.all((sc.masks >= 0) & (sc.masks <= S.BACKGROUND)))
        used = np.arange(4) < sc.counts[:, None]
        for array in (sc.labels, sc.sources, sc.boxes):
            self.assertTrue(np.all(array[~used] == PAD) and np.all(array[used] >= 0))
        self.assertTrue(np.all(sc.scales[~used] == 0) and np.all(sc.scales[used] > 0))
        self.assertEqual((S.BACKGROUND, S.NUM_CLASSES, S.SCENE_SIZE, S.MAX_SCENE_DIGITS), (10, 11, 64, 4))

    def test_deterministic_for_a_seed(self):
        images, labels = digit_set()
        first, again = (S.make_scenes(images, labels, 15, seed=7) for _ in range(2))
        other = S.make_scenes(images, labels, 15, seed=8)
        for name in S.MultiDigitScenes._fields:
            np.testing.assert_array_equal(getattr(first, name), getattr(again, name), err_msg=name, strict=True)
        self.assertFalse(np.array_equal(first.images, other.images))
        self.assertFalse(np.array_equal(first.masks, other.masks))

    def test_first_scenes_do_not_depend_on_n(self):
        images, labels = digit_set()
        for options in ({}, {"scale_range": (2.0, 2.5), "max_iou": 0.05}):  # also when digits are left out
            short, long = (S.make_scenes(images, labels, n, 3, **options) for n in (5, 12))
            for name in S.MultiDigitScenes._fields:
                np.testing.assert_array_equal(getattr(short, name), getattr(long, name)[:5], err_msg=name)

    def test_image_is_the_maximum_of_the_scaled_sources(self):
        images, labels = digit_set()
        sc = scenes()
        for i in range(len(sc.counts)):
            layers, digits = placed_patches(sc, i, images)
            np.testing.assert_array_equal(sc.images[i, 0], layers.max(axis=0), err_msg=f"scene {i}")
            np.testing.assert_array_equal(digits, labels[sc.sources[i, :sc.counts[i]]])

    def test_mask_is_the_digit_that_shows(self):
        images, _ = digit_set()
        sc = scenes()
        overlaps = 0
        for i in range(len(sc.counts)):
            image, mask = sc.images[i, 0], sc.masks[i]
            np.testing.assert_array_equal(mask == S.BACKGROUND, image <= T, err_msg=f"scene {i}")
            layers, digits = placed_patches(sc, i, images)
            # the last-drawn digit among those of the largest value at each pixel
            winner = len(layers) - 1 - np.argmax(layers[::-1], axis=0)
            expected = np.where(image > T, digits[winner], S.BACKGROUND)
            np.testing.assert_array_equal(mask, expected, err_msg=f"scene {i}")
            # every labelled pixel shows the value of a digit of that class
            for c in np.unique(mask[mask != S.BACKGROUND]):
                shown = image[mask == c]
                of_class = layers[digits == c][:, mask == c]
                self.assertTrue(np.all(np.any(of_class == shown, axis=0)), f"scene {i}, class {c}")
            overlaps += np.count_nonzero((layers > T).sum(axis=0) > 1)
        self.assertGreater(overlaps, 0, "no two strokes ever cross: the overlap rule is untested")

    def test_boxes_are_tight_around_each_stroke(self):
        images, _ = digit_set()
        sc = scenes()
        for i in range(len(sc.counts)):
            layers, digits = placed_patches(sc, i, images)
            for (x1, y1, x2, y2), layer, digit in zip(sc.boxes[i], layers, digits):
                self.assertTrue(0 <= x1 < x2 <= SIZE and 0 <= y1 < y2 <= SIZE, f"scene {i}: {sc.boxes[i]}")
                stroke = layer > T
                rows, cols = np.flatnonzero(stroke.any(axis=1)), np.flatnonzero(stroke.any(axis=0))
                self.assertEqual((x1, y1, x2, y2), (cols[0], rows[0], cols[-1] + 1, rows[-1] + 1), f"scene {i}")
                # the mask's pixels of this digit lie in its box (the mask may give crossings to another digit)
                inside = np.zeros_like(stroke)
                inside[y1:y2, x1:x2] = True
                self.assertFalse(np.any(stroke & ~inside))
            labelled = sc.masks[i] != S.BACKGROUND
            covered = np.zeros_like(labelled)
            for x1, y1, x2, y2 in sc.boxes[i, :sc.counts[i]]:
                covered[y1:y2, x1:x2] = True
            self.assertFalse(np.any(labelled & ~covered), f"scene {i}: stroke outside every box")

    def test_iou_limit(self):
        for max_iou in (S.MAX_IOU, 0.0, 0.3):
            sc = scenes(120, 4, max_iou=max_iou)
            ious = np.concatenate([pairwise_ious(sc.boxes[i, :k].astype(np.float64))
                                   for i, k in enumerate(sc.counts)])
            self.assertLessEqual(ious.max(), max_iou)
            boxes = torch.from_numpy(sc.boxes[sc.counts == 4].reshape(-1, 4, 4).astype(np.float64))
            theirs = torch.stack([tv.box_iou(b, b)[tuple(torch.triu_indices(4, 4, 1))] for b in boxes])
            self.assertLessEqual(theirs.max().item(), max_iou)  # torchvision's IoU, the third opinion
            if max_iou > 0:
                self.assertGreater(np.count_nonzero(ious > 0), 10, f"max_iou {max_iou}: digits never overlap")
            if max_iou == 0.3:
                self.assertGreater(np.count_nonzero(ious > S.MAX_IOU), 3, "the option makes no difference")

    def test_counts_about_uniform(self):
        images, labels = digit_set(10)
        sc = S.make_scenes(images, labels, 600, seed=11)
        counts = np.bincount(sc.counts, minlength=5)
        self.assertEqual(counts[0], 0)
        # each count is Binomial(600, 1/4): mean 150, standard deviation 10.6; 5 sigma either side
        self.assertTrue(np.all(np.abs(counts[1:] - 150) < 53), f"counts 1..4 came {counts[1:]} times")
        fixed = S.make_scenes(images, labels, 20, seed=11, min_digits=3, max_digits=3)
        self.assertTrue(np.all(fixed.counts == 3))

    def test_positions_and_scales_vary_in_range(self):
        sc = scenes()
        used = np.arange(4) < sc.counts[:, None]
        boxes = sc.boxes[used]
        self.assertGreater(len(np.unique(boxes[:, 0])), 30, "no horizontal spread")
        self.assertGreater(len(np.unique(boxes[:, 1])), 30, "no vertical spread")
        low, high = SCALE_RANGE
        self.assertTrue(np.all((sc.scales[used] >= low) & (sc.scales[used] <= high)))
        self.assertGreater(np.ptp(sc.scales[used]), 0.4)

    def test_crowded_canvas_leaves_digits_out(self):
        # solid 20 x 20 ink at 2.5..3 times is lowered to 64 / 20 = 3.2 at most: boxes 50..60 pixels wide,
        # of which no two fit with IoU <= 0.1, so every scene holds its first digit only
        images = np.zeros((3, 28, 28), dtype=np.uint8)
        images[:, 4:24, 4:24] = 255
        sc = S.make_scenes(images, np.arange(3), 20, seed=0, min_digits=4, scale_range=(2.5, 3.5))
        self.assertTrue(np.all(sc.counts == 1))
        self.assertTrue(np.all(sc.sources[:, 1:] == PAD) and np.all(sc.boxes[:, 1:] == PAD))
        self.assertTrue(np.all(sc.scales[:, 0] <= 64 / 20))
        self.assertTrue(np.all(sc.boxes[:, 0, 2:] <= SIZE))

    def test_canvas_size(self):
        images, labels = digit_set()
        sc = S.make_scenes(images, labels, 10, seed=2, canvas_size=40)
        self.assertEqual((sc.images.shape, sc.masks.shape), ((10, 1, 40, 40), (10, 40, 40)))
        self.assertTrue(np.all(sc.boxes[..., 2:] <= 40))
        np.testing.assert_array_equal(sc.masks == S.BACKGROUND, sc.images[:, 0] <= T)

    def test_float_and_uint8_images_agree(self):
        images, labels = digit_set()
        as_uint8 = S.make_scenes(images, labels, 8, seed=4)
        for other in (images.reshape(-1, 1, 28, 28) / 255.0, images.reshape(-1, 784)):
            theirs = S.make_scenes(other, labels, 8, seed=4)
            for name in S.MultiDigitScenes._fields:
                np.testing.assert_array_equal(getattr(as_uint8, name), getattr(theirs, name), err_msg=name)

    def test_sources_index_only_the_given_set(self):
        # a 'training' and a 'test' set with disjoint pixel values: a scene of one holds none of the other
        train_images, train_labels = digit_set(30, seed=1, low=1, high=150)
        test_images, test_labels = digit_set(30, seed=2, low=200, high=256)
        sc = S.make_scenes(train_images, train_labels, 30, seed=0)
        self.assertTrue(np.all(sc.sources[sc.sources != PAD] < 30))
        self.assertLessEqual(sc.images.max(), 149 / 255 + 1e-6)      # interpolation never exceeds its pixels
        for i in range(30):
            layers, _ = placed_patches(sc, i, train_images)
            np.testing.assert_array_equal(sc.images[i, 0], layers.max(axis=0))
        other = S.make_scenes(test_images, test_labels, 30, seed=0)
        self.assertTrue(all(other.images[i, 0].max() >= 200 / 255 - 1e-6 for i in range(30)))

    def test_ground_truth(self):
        sc = scenes()
        truth = S.ground_truth(sc)
        self.assertEqual(len(truth), 60)
        for i, item in enumerate(truth):
            k = sc.counts[i]
            self.assertEqual(set(item), {"boxes", "labels"})
            self.assertEqual((item["boxes"].shape, item["boxes"].dtype), ((k, 4), np.float64))
            self.assertEqual((item["labels"].shape, item["labels"].dtype), ((k,), np.int64))
            np.testing.assert_array_equal(item["boxes"], sc.boxes[i, :k])
            np.testing.assert_array_equal(item["labels"], sc.labels[i, :k])
        truth[0]["boxes"][0] = 0
        self.assertGreater(sc.boxes[0, 0, 2], 0, "ground_truth returned a view into the scenes")
        # the detection metric reads it: the truth itself as detections scores 1, a shifted copy less
        truth = S.ground_truth(sc)
        perfect = [dict(item, scores=np.ones(len(item["labels"]))) for item in truth]
        self.assertEqual(mean_average_precision(perfect, truth), 1.0)
        shifted = [dict(item, boxes=item["boxes"] + [6, 0, 6, 0]) for item in perfect]
        self.assertLess(mean_average_precision(shifted, truth), 1.0)


class TestBadInput(unittest.TestCase):

    def check(self, match, *args, error=ValueError, call=S.make_scenes, **kwargs):
        with pytest.raises(error) as info:
            call(*args, **kwargs)
        message = str(info.value)
        self.assertIn(match, message)
        self.assertNotIn("\n", message)

    def test_bad_options(self):
        images, labels = digit_set(5)
        self.check("make_scenes: n must be at least 1", images, labels, 0, 0)
        self.check("n must be an integer", images, labels, 2.0, 0, error=TypeError)
        self.check("1 <= min_digits <= max_digits <= 4", images, labels, 3, 0, min_digits=0)
        self.check("1 <= min_digits <= max_digits <= 4", images, labels, 3, 0, max_digits=5)
        self.check("min_digits=4, max_digits=2", images, labels, 3, 0, min_digits=4, max_digits=2)
        self.check("scale_range must satisfy", images, labels, 3, 0, scale_range=(1.2, 0.8))
        self.check("scale_range must satisfy", images, labels, 3, 0, scale_range=(0.1, 0.8))
        self.check("scale_range must be a pair", images, labels, 3, 0, scale_range=1.0)
        self.check("max_iou must be a number in [0, 1]", images, labels, 3, 0, max_iou=-0.1)
        self.check("max_iou must be a number in [0, 1]", images, labels, 3, 0, max_iou=float("nan"))
        self.check("max_iou must be a number in [0, 1]", images, labels, 3, 0, max_iou="0.1")
        self.check("canvas_size must be at least 28", images, labels, 3, 0, canvas_size=20)
        self.check("canvas_size must be an integer", images, labels, 3, 0, canvas_size=64.0, error=TypeError)

    def test_bad_images_and_labels(self):
        images, labels = digit_set(5)
        self.check("make_scenes: labels must be (M,) with one label per image", images, labels[:4], 3, 0)
        self.check("make_scenes: labels must be digits 0..9", images, labels + 10, 3, 0)
        self.check("make_scenes: images must be (M, H, W)", images[:, 0], labels, 3, 0)
        self.check("make_scenes: float images must lie in [0, 1]", images.astype(np.float32), labels, 3, 0)
        blank = np.zeros_like(images)
        self.check("has no ink", blank, labels, 3, 0)
        faint = np.where(images > 0, 100, 0).astype(np.uint8)  # 100 / 255 < 0.5 everywhere: ink, no stroke
        self.check("no pixel above the mask threshold 0.5", faint, labels, 3, 0)

    def test_bad_train_flag(self):
        self.check("load_scenes: train must be True", 3, 0, train="test", call=S.load_scenes, error=TypeError)

    def test_bad_ground_truth(self):
        self.check("ground_truth: expects scenes with boxes", np.zeros((2, 4, 4)), call=S.ground_truth,
                   error=TypeError)
        sc = scenes()
        self.check("ground_truth: expects N >= 1 scenes", sc._replace(counts=sc.counts[:0], boxes=sc.boxes[:0],
                                                                     labels=sc.labels[:0]), call=S.ground_truth)
        self.check("got boxes (60, 4, 3)", sc._replace(boxes=sc.boxes[..., :3]), call=S.ground_truth)


class TestReference(unittest.TestCase):

    def test_reference_shares_the_generator(self):
        for name in S.__all__:
            self.assertIs(getattr(R, name), getattr(S, name), name)
        self.assertEqual(sorted(R.__all__), sorted(S.__all__))
        images, labels = digit_set()
        ours, theirs = S.make_scenes(images, labels, 8, 9), R.make_scenes(images, labels, 8, 9)
        for name in S.MultiDigitScenes._fields:
            np.testing.assert_array_equal(getattr(ours, name), getattr(theirs, name), err_msg=name, strict=True)


@functools.lru_cache(maxsize=None)
def mnist_uint8():
    from scratch.mnist import load_mnist
    return load_mnist(normalize=False, flatten=False, root=MNIST_DIR, download=False)


@requires_mnist
class TestRealMnist(unittest.TestCase):

    def check_split(self, train, n=60):
        (x_train, t_train), (x_test, t_test) = mnist_uint8()
        images, labels = (x_train, t_train) if train else (x_test, t_test)
        sc = S.load_scenes(n, seed=5, train=train, root=MNIST_DIR, download=False)
        self.assertTrue(np.all(sc.sources[sc.sources != PAD] < len(images)))
        for i in range(n):
            layers, digits = placed_patches(sc, i, images[:, 0])
            np.testing.assert_array_equal(digits, labels[sc.sources[i, :sc.counts[i]]])
            np.testing.assert_array_equal(sc.images[i, 0], layers.max(axis=0), err_msg=f"scene {i}")
            np.testing.assert_array_equal(sc.masks[i] == S.BACKGROUND, sc.images[i, 0] <= T)
            self.assertLessEqual(pairwise_ious(sc.boxes[i, :sc.counts[i]]).max(initial=0), S.MAX_IOU)
        return sc

    def test_training_scenes_use_training_images(self):
        self.check_split(train=True)

    def test_test_scenes_use_test_images_only(self):
        (x_train, _), (x_test, _) = mnist_uint8()
        sc = self.check_split(train=False)
        training = {image.tobytes() for image in x_train}
        sources = np.unique(sc.sources[sc.sources != PAD])
        seen = [x_test[s].tobytes() in training for s in sources]
        self.assertFalse(any(seen), f"test scenes use {sum(seen)} images that are in the training set")
