"""Tests for the multi-digit pictures (8.4, captioning): scratch.multi_digit, re-exported by reference.multi_digit.

The generator is data, not arithmetic: ``reference.multi_digit`` re-exports the
NumPy functions (as ``reference.mnist`` and ``reference.augment.draw_params``
do), so the backends share every array by construction (``TestReference``).
What is tested here is the data itself:

* ``Pieces``: crop to ink, bilinear resize (against ``F.interpolate(mode="bilinear",
  align_corners=False)`` as a third opinion), paste with max, render, row layout,
  with hand-made images (no figures: the expected canvases are written out);
* ``Generator``: shapes and padding, determinism for a seed, captions equal to
  the source labels, every box inside the canvas, tight, in x order and apart,
  the ink inside each box exactly the scaled source digit and no ink outside
  the boxes, lengths 1..5 about uniform, scales in range; on small synthetic
  digit sets, so the file runs in a few seconds;
* ``BadInput``: one-line errors;
* ``RealMnist`` (``@requires_mnist``): training pictures come from MNIST's
  training images and test pictures from its test images, none of which
  appears in the training set (compared by the bytes of the images).
"""
import functools
import unittest

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from parameterized import parameterized

import reference.multi_digit as R
import scratch.multi_digit as S
from conftest import assert_close
from mnist_support import MNIST_DIR, requires_mnist

pytestmark = pytest.mark.usefixtures("one_torch_thread")

HEIGHT, WIDTH = S.CANVAS_SHAPE


def digit_set(m=40, seed=0, low=1, high=256):
    """m distinct fake 28x28 uint8 'digits' (a random blob in a random box) and random labels 0..9."""
    rng = np.random.default_rng(seed)
    images = np.zeros((m, 28, 28), dtype=np.uint8)
    for i in range(m):
        rows, cols = rng.integers(6, 22), rng.integers(2, 22)
        top, left = rng.integers(0, 28 - rows + 1), rng.integers(0, 28 - cols + 1)
        blob = rng.integers(low, high, size=(rows, cols)) * (rng.random((rows, cols)) < 0.6)
        blob[rows // 2, cols // 2] = high - 1  # never blank
        images[i, top:top + rows, left:left + cols] = blob
    return images, rng.integers(0, 10, size=m)


@functools.lru_cache(maxsize=None)
def pictures(n=60, seed=1, **options):
    """Pictures from the default fake digit set (cached: several tests read the same set, none changes it)."""
    images, labels = digit_set()
    return S.make_multi_digit(images, labels, n, seed, **dict(options))


def placed_digits(p, i):
    """The (box, source, scale) of every digit of picture i."""
    k = p.lengths[i]
    return list(zip(p.boxes[i, :k], p.sources[i, :k], p.scales[i, :k]))


class TestPieces(unittest.TestCase):

    def test_crop_to_ink(self):
        image = np.zeros((5, 6))
        image[1, 2], image[3, 4] = 0.5, 1.0
        np.testing.assert_array_equal(S.crop_to_ink(image), [[0.5, 0, 0], [0, 0, 0], [0, 0, 1.0]])
        image[4, 1] = 1 / 255  # the faintest MNIST ink still counts
        np.testing.assert_array_equal(S.crop_to_ink(image), [[0, 0.5, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1.0],
                                                             [1 / 255, 0, 0, 0]])
        with pytest.raises(ValueError, match="no ink"):
            S.crop_to_ink(np.zeros((3, 3)))

    @parameterized.expand([
        ("same", (7, 5), (7, 5)),
        ("up", (6, 4), (9, 7)),
        ("down", (20, 13), (15, 10)),
        ("mixed", (18, 9), (23, 7)),
        ("to_one", (5, 4), (1, 1)),
        ("from_one", (1, 3), (4, 5)),
    ])
    def test_resize_bilinear_is_interpolate(self, _, shape, size):
        image = np.random.default_rng(3).random(shape)
        ours = S.resize_bilinear(image, *size)
        theirs = F.interpolate(torch.from_numpy(image)[None, None], size=size, mode="bilinear",
                               align_corners=False)[0, 0]
        assert_close(ours, theirs, np.float64, what="resized image")

    def test_resize_same_size_is_identity(self):
        image = np.random.default_rng(4).random((9, 11))
        np.testing.assert_array_equal(S.resize_bilinear(image, 9, 11), image)

    def test_paste_max_combines_by_maximum(self):
        canvas = np.zeros((4, 6), dtype=np.float32)
        box1 = S.paste_max(canvas, np.full((2, 3), 0.5, dtype=np.float32), 1, 1)
        box2 = S.paste_max(canvas, np.array([[0.25, 1.0]], dtype=np.float32), 3, 2)
        self.assertEqual((box1, box2), ((1, 1, 4, 3), (3, 2, 5, 3)))
        np.testing.assert_array_equal(canvas, [[0, 0, 0, 0, 0, 0],
                                               [0, 0.5, 0.5, 0.5, 0, 0],
                                               [0, 0.5, 0.5, 0.5, 1.0, 0],
                                               [0, 0, 0, 0, 0, 0]])
        with pytest.raises(ValueError, match="leaves the 4x6 canvas"):
            S.paste_max(canvas, np.ones((2, 2), dtype=np.float32), 5, 0)

    def test_render_hand_example(self):
        one = np.array([[1.0], [1.0], [0.5]], dtype=np.float32)
        seven = np.array([[1.0, 1.0], [0.0, 1.0]], dtype=np.float32)
        canvas, boxes = S.render((3, 7), [one, seven], [(1, 0), (4, 1)])
        np.testing.assert_array_equal(canvas, [[0, 1.0, 0, 0, 0, 0, 0],
                                               [0, 1.0, 0, 0, 1.0, 1.0, 0],
                                               [0, 0.5, 0, 0, 0, 1.0, 0]])
        np.testing.assert_array_equal(boxes, [[1, 0, 2, 3], [4, 1, 6, 3]])
        self.assertEqual((canvas.dtype, boxes.dtype), (np.float32, np.int64))

    def test_row_layout_keeps_order_and_gaps(self):
        rng = np.random.default_rng(5)
        sizes = [(20, 15), (28, 20), (10, 3), (16, 25)]
        for _ in range(50):
            positions = S.row_layout(rng, sizes, min_gap=4)
            right_edges = [x + cols for (x, _), (_, cols) in zip(positions, sizes)]
            self.assertGreaterEqual(positions[0][0], 0)
            self.assertLessEqual(right_edges[-1], WIDTH)
            for right, (x_next, _) in zip(right_edges, positions[1:]):
                self.assertGreaterEqual(x_next - right, 4)
            for (_, y), (rows, _) in zip(positions, sizes):
                self.assertTrue(0 <= y <= HEIGHT - rows)
        with pytest.raises(ValueError, match="do not fit"):
            S.row_layout(rng, [(28, 70), (28, 71)])

    def test_scale_digit_is_tight_float32(self):
        image = np.zeros((28, 28))
        image[5:20, 10:13] = 1.0
        patch = S.scale_digit(image, 1.2)
        self.assertEqual((patch.shape, patch.dtype), ((18, 4), np.float32))  # 15 * 1.2 = 18, 3 * 1.2 = 3.6 -> 4
        for edge in (patch[0], patch[-1], patch[:, 0], patch[:, -1]):
            self.assertGreater(edge.max(), 0)

    def test_scale_digit_crops_again_where_interpolation_loses_an_edge(self):
        # ink 10 x 10 whose first column holds one pixel: at 0.3 the 3 columns sample the input at
        # 1.17, 4.5 and 7.83, which never reach column 0, so the resized patch starts with a blank column
        image = np.zeros((10, 10))
        image[:, 3:10] = 1.0
        image[5, 0] = 1.0
        resized = S.resize_bilinear(image, 3, 3)
        self.assertEqual(resized[:, 0].max(), 0)
        patch = S.scale_digit(image, 0.3)
        np.testing.assert_array_equal(patch, resized[:, 1:].astype(np.float32))


class TestGenerator(unittest.TestCase):

    def test_shapes_dtypes_and_padding(self):
        p = pictures()
        self.assertEqual(p.images.shape, (60, 1, 28, 140))
        self.assertEqual(p.images.dtype, np.float32)
        self.assertTrue(p.images.min() >= 0 and p.images.max() <= 1)
        for array, shape in ((p.captions, (60, 5)), (p.lengths, (60,)), (p.boxes, (60, 5, 4)),
                             (p.sources, (60, 5))):
            self.assertEqual((array.shape, array.dtype), (shape, np.int64))
        self.assertEqual((p.scales.shape, p.scales.dtype), ((60, 5), np.float64))
        self.assertTrue(np.all((p.lengths >= 1) & (p.lengths <= 5)))
        used = np.arange(5) < p.lengths[:, None]
        self.assertTrue(np.all(p.captions[~used] == S.PAD) and np.all(p.sources[~used] == S.PAD))
        self.assertTrue(np.all(p.boxes[~used] == S.PAD) and np.all(p.scales[~used] == 0))
        self.assertTrue(np.all(p.captions[used] >= 0) and np.all(p.sources[used] >= 0))
        self.assertTrue(np.all(p.scales[used] > 0))

    def test_deterministic_for_a_seed(self):
        images, labels = digit_set()
        first, again = (S.make_multi_digit(images, labels, 20, seed=7) for _ in range(2))
        other = S.make_multi_digit(images, labels, 20, seed=8)
        for name in S.MultiDigitPictures._fields:
            np.testing.assert_array_equal(getattr(first, name), getattr(again, name), err_msg=name)
        self.assertFalse(np.array_equal(first.images, other.images))
        self.assertFalse(np.array_equal(first.captions, other.captions))

    def test_first_pictures_do_not_depend_on_n(self):
        images, labels = digit_set()
        short, long = S.make_multi_digit(images, labels, 5, 3), S.make_multi_digit(images, labels, 12, 3)
        for name in S.MultiDigitPictures._fields:
            np.testing.assert_array_equal(getattr(short, name), getattr(long, name)[:5], err_msg=name)

    def test_captions_are_the_source_labels(self):
        images, labels = digit_set()
        p = pictures()
        for i in range(len(p.lengths)):
            k = p.lengths[i]
            np.testing.assert_array_equal(p.captions[i, :k], labels[p.sources[i, :k]])

    def test_ink_in_each_box_is_the_scaled_source_digit(self):
        images, _ = digit_set()
        p = pictures()
        for i in range(len(p.lengths)):
            canvas, outside = p.images[i, 0], np.ones(S.CANVAS_SHAPE, dtype=bool)
            for (x1, y1, x2, y2), source, scale in placed_digits(p, i):
                patch = S.scale_digit(images[source] / 255.0, scale)
                np.testing.assert_array_equal(canvas[y1:y2, x1:x2], patch, err_msg=f"picture {i}")
                outside[y1:y2, x1:x2] = False
            self.assertEqual(np.count_nonzero(canvas[outside]), 0, f"ink outside the boxes of picture {i}")

    def test_sources_index_only_the_given_set(self):
        # a 'training' and a 'test' set with disjoint pixel values: what comes out of one holds none of the other
        train_images, train_labels = digit_set(30, seed=1, low=1, high=100)
        test_images, test_labels = digit_set(30, seed=2, low=200, high=256)
        p = S.make_multi_digit(train_images, train_labels, 40, seed=0)
        self.assertTrue(np.all(p.sources[p.sources != S.PAD] < 30))
        self.assertLessEqual(p.images.max(), 99 / 255 + 1e-6)  # interpolation never exceeds its pixels
        for i in range(len(p.lengths)):
            for (x1, y1, x2, y2), source, scale in placed_digits(p, i):
                patch = S.scale_digit(train_images[source] / 255.0, scale)
                np.testing.assert_array_equal(p.images[i, 0, y1:y2, x1:x2], patch)
        q = S.make_multi_digit(test_images, test_labels, 40, seed=0)
        self.assertTrue(all(q.images[i, 0].max() >= 200 / 255 - 1e-6 for i in range(40)))
        self.assertTrue(np.all(q.sources[q.sources != S.PAD] < 30))

    def test_boxes_inside_the_canvas_in_x_order_and_tight(self):
        p = pictures()
        for i in range(len(p.lengths)):
            canvas = p.images[i, 0]
            boxes = p.boxes[i, :p.lengths[i]]
            x1, y1, x2, y2 = boxes.T
            self.assertTrue(np.all((0 <= x1) & (x1 < x2) & (x2 <= WIDTH)), f"picture {i}: {boxes}")
            self.assertTrue(np.all((0 <= y1) & (y1 < y2) & (y2 <= HEIGHT)), f"picture {i}: {boxes}")
            self.assertTrue(np.all(x2[:-1] <= x1[1:]), f"picture {i}: boxes overlap or are out of order: {boxes}")
            for bx1, by1, bx2, by2 in boxes:
                patch = canvas[by1:by2, bx1:bx2]
                for edge in (patch[0], patch[-1], patch[:, 0], patch[:, -1]):
                    self.assertGreater(edge.max(), 0, f"picture {i}: box {(bx1, by1, bx2, by2)} is not tight")

    def test_min_gap_parts_neighbours(self):
        p = pictures(40, 2, min_gap=6)
        for i in range(40):
            x1, _, x2, _ = p.boxes[i, :p.lengths[i]].T
            self.assertTrue(np.all(x1[1:] - x2[:-1] >= 6), f"picture {i}: {p.boxes[i]}")

    def test_lengths_about_uniform(self):
        images, labels = digit_set(10)
        p = S.make_multi_digit(images, labels, 1000, seed=11)
        counts = np.bincount(p.lengths, minlength=6)
        self.assertEqual(counts[0], 0)
        # each count is Binomial(1000, 1/5): mean 200, standard deviation 12.6; 5 sigma either side
        self.assertTrue(np.all(np.abs(counts[1:] - 200) < 63), f"lengths 1..5 counted {counts[1:]}")
        fixed = S.make_multi_digit(images, labels, 30, seed=11, min_digits=3, max_digits=3)
        self.assertTrue(np.all(fixed.lengths == 3))

    def test_positions_and_scales_vary_in_range(self):
        p = pictures()
        used = np.arange(5) < p.lengths[:, None]
        boxes = p.boxes[used]
        self.assertGreater(len(np.unique(boxes[:, 1])), 8, "no vertical jitter")
        self.assertGreater(len(np.unique(boxes[:, 0])), 50, "no horizontal spread")
        low, high = S.SCALE_RANGE
        self.assertTrue(np.all((p.scales[used] >= low) & (p.scales[used] <= high)))
        self.assertGreater(np.ptp(p.scales[used]), 0.4)

    def test_large_scales_still_fit(self):
        # ink 20 rows by 24 columns: 2.5 times is 50 rows (lowered to 28 / 20 = 1.4), and five digits at
        # 1.4 times are 5 * 34 = 170 columns (all five factors shrink until the row fits 140)
        images = np.zeros((3, 28, 28), dtype=np.uint8)
        images[:, 4:24, 2:26] = 255
        p = S.make_multi_digit(images, np.arange(3), 20, seed=0, min_digits=5, scale_range=(2.5, 3.0))
        x1, y1, x2, y2 = p.boxes.reshape(-1, 4).T
        self.assertTrue(np.all(x1 >= 0) and np.all(y1 >= 0) and np.all(y2 <= HEIGHT) and np.all(x2 <= WIDTH))
        self.assertTrue(np.all(p.scales <= 28 / 20), "factors were not lowered to fit the canvas height")
        self.assertTrue(np.all((x2 - x1).reshape(20, 5).sum(axis=1) <= WIDTH))
        self.assertTrue(np.all((x2 - x1).reshape(20, 5).sum(axis=1) > WIDTH - 5 * 24 * 0.02 * 1.4 - 5),
                        "the row shrank more than a step of 2% needs")

    def test_float_and_uint8_images_agree(self):
        images, labels = digit_set()
        as_uint8 = S.make_multi_digit(images, labels, 10, seed=4)
        as_float = S.make_multi_digit(images.reshape(-1, 1, 28, 28) / 255.0, labels, 10, seed=4)
        flat = S.make_multi_digit(images.reshape(-1, 784), labels, 10, seed=4)
        for other in (as_float, flat):
            for name in S.MultiDigitPictures._fields:
                np.testing.assert_array_equal(getattr(as_uint8, name), getattr(other, name), err_msg=name)


class TestBadInput(unittest.TestCase):

    def check(self, match, *args, error=ValueError, call=S.make_multi_digit, **kwargs):
        with pytest.raises(error) as info:
            call(*args, **kwargs)
        message = str(info.value)
        self.assertIn(match, message)
        self.assertNotIn("\n", message)

    def test_bad_counts(self):
        images, labels = digit_set(5)
        self.check("n must be at least 1", images, labels, 0, 0)
        self.check("n must be an integer", images, labels, 2.0, 0, error=TypeError)
        self.check("1 <= min_digits <= max_digits <= 5", images, labels, 3, 0, min_digits=0)
        self.check("1 <= min_digits <= max_digits <= 5", images, labels, 3, 0, max_digits=6)
        self.check("min_digits=4, max_digits=2", images, labels, 3, 0, min_digits=4, max_digits=2)
        self.check("scale_range must satisfy", images, labels, 3, 0, scale_range=(1.2, 0.8))
        self.check("scale_range must satisfy", images, labels, 3, 0, scale_range=(0.1, 0.8))
        self.check("scale_range must be a pair", images, labels, 3, 0, scale_range=1.0)
        self.check("min_gap must be >= 0", images, labels, 3, 0, min_gap=-1)
        self.check("min_gap must be >= 0", images, labels, 3, 0, min_gap=40)

    def test_bad_images_and_labels(self):
        images, labels = digit_set(5)
        self.check("one label per image", images, labels[:4], 3, 0)
        self.check("one label per image", images, labels[:, None], 3, 0)
        self.check("digits 0..9", images, labels + 10, 3, 0)
        self.check("integers 0..9", images, labels.astype(float), 3, 0, error=TypeError)
        self.check("got shape (5, 28)", images[:, 0], labels, 3, 0)
        self.check("got shape (0, 28, 28)", images[:0], labels[:0], 3, 0)
        self.check("must lie in [0, 1]", images.astype(np.float32), labels, 3, 0)
        self.check("uint8 (0..255) or float", images.astype(np.int64), labels, 3, 0, error=TypeError)
        blank = images.copy()
        blank[:] = 0
        self.check("has no ink", blank, labels, 3, 0)

    def test_bad_train_flag(self):
        self.check("train must be True", 3, 0, train="test", call=S.load_multi_digit, error=TypeError)


class TestReference(unittest.TestCase):

    def test_reference_shares_the_generator(self):
        for name in S.__all__:
            self.assertIs(getattr(R, name), getattr(S, name), name)
        self.assertEqual(sorted(R.__all__), sorted(S.__all__))
        images, labels = digit_set()
        ours, theirs = S.make_multi_digit(images, labels, 8, 9), R.make_multi_digit(images, labels, 8, 9)
        for name in S.MultiDigitPictures._fields:
            np.testing.assert_array_equal(getattr(ours, name), getattr(theirs, name), err_msg=name)


@functools.lru_cache(maxsize=None)
def mnist_uint8():
    from scratch.mnist import load_mnist
    return load_mnist(normalize=False, flatten=False, root=MNIST_DIR, download=False)


@requires_mnist
class TestRealMnist(unittest.TestCase):

    def check_split(self, train, n=150):
        (x_train, t_train), (x_test, t_test) = mnist_uint8()
        images, labels = (x_train, t_train) if train else (x_test, t_test)
        p = S.load_multi_digit(n, seed=5, train=train, root=MNIST_DIR, download=False)
        self.assertTrue(np.all(p.sources[p.sources != S.PAD] < len(images)))
        for i in range(n):
            k = p.lengths[i]
            np.testing.assert_array_equal(p.captions[i, :k], labels[p.sources[i, :k]])
            for (x1, y1, x2, y2), source, scale in placed_digits(p, i):
                patch = S.scale_digit(images[source, 0] / 255.0, scale)
                np.testing.assert_array_equal(p.images[i, 0, y1:y2, x1:x2], patch)
        return p

    def test_training_pictures_use_training_images(self):
        self.check_split(train=True)

    def test_test_pictures_use_test_images_only(self):
        (x_train, _), (x_test, _) = mnist_uint8()
        p = self.check_split(train=False)
        training = {image.tobytes() for image in x_train}
        sources = np.unique(p.sources[p.sources != S.PAD])
        seen = [x_test[s].tobytes() in training for s in sources]
        self.assertFalse(any(seen), f"test pictures use {sum(seen)} images that are in the training set")
