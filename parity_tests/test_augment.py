"""Parity tests for data augmentation (8.1.1): scratch (NumPy) against reference (PyTorch),
and both against torchvision.transforms.v2.functional as a third opinion.

Tolerances: the default ``assert_close`` ones (rtol 1e-10 float64, 1e-5
float32, atol = rtol * max|expected|; images hold values in [0, 1]).
Bilinear interpolation is a few products and sums of at most four pixels, but
its weights come from source coordinates computed in the image's dtype, and
the three implementations round those coordinates differently (scratch works
in pixel units, ``F.affine_grid`` in normalised units, torchvision's
``_affine_grid`` in pixel units divided afterwards). A coordinate of size
~10 carries an error of ~10 ulp(1) at most; the output moves by that times
the difference of neighbouring pixels (<= 1), so float32 differences of a
few 1e-7 and float64 ones of ~1e-15 are expected, far inside the tolerance
(the images here are at most 12 pixels wide). The error grows with the
coordinates: on 64 x 64 images zoomed out to 0.5 (sources up to ~70 pixels
from the centre) float32 differences reach ~8.5e-6, still inside 1e-5 but not
by much, for scratch vs reference and for reference vs torchvision alike.
At exact grid points (angle 0, 90, 180, 270 on square images, integer
shifts) the weights are 0 and 1 up to that rounding, so results equal the
shifted/rotated pixels to float rounding (cos 90 degrees is 6e-17, not 0).

Conventions checked against torchvision (see scratch/augment.py):
``affine(x, angle, t, s) == TF.affine(img, -angle, t, s, shear=0, BILINEAR)``
(torchvision's affine turns clockwise, ours and its ``rotate``
counter-clockwise), with torchvision's default ``fill=None`` (zero padding;
its ``fill=0`` instead multiplies by an interpolated mask and darkens the
border pixels).
"""
import unittest

import numpy as np
import pytest
import torch
from parameterized import parameterized
from torchvision.transforms import InterpolationMode
from torchvision.transforms.v2 import functional as TF

import reference.augment as R
import scratch.augment as S
from conftest import DTYPES, assert_close, assert_same_error, to_numpy

pytestmark = pytest.mark.usefixtures("one_torch_thread")

BILINEAR = InterpolationMode.BILINEAR

# (name, angle, translate, scale, shape): zero, right angles, negative angles, fractional shifts,
# zoom in and out, square and non-square (odd and even sides).
AFFINE_CASES = [
    ("identity", 0.0, (0.0, 0.0), 1.0, (2, 1, 6, 6)),
    ("rot90_square", 90.0, (0.0, 0.0), 1.0, (2, 3, 6, 6)),
    ("rot90_nonsquare", 90.0, (0.0, 0.0), 1.0, (2, 1, 5, 8)),
    ("rot_minus90", -90.0, (0.0, 0.0), 1.0, (2, 1, 7, 7)),
    ("rot180_nonsquare", 180.0, (0.0, 0.0), 1.0, (1, 2, 5, 9)),
    ("rot270", 270.0, (0.0, 0.0), 1.0, (2, 1, 8, 8)),
    ("rot30", 30.0, (0.0, 0.0), 1.0, (2, 1, 9, 9)),
    ("rot_minus37_shift_scale", -37.5, (1.5, -2.0), 1.3, (3, 2, 7, 10)),
    ("rot12_nonsquare_zoom_out", 12.0, (-0.25, 0.75), 0.7, (2, 3, 11, 6)),
    ("shift_int", 0.0, (2.0, -1.0), 1.0, (2, 1, 6, 8)),
    ("shift_frac", 0.0, (0.5, 0.25), 1.0, (2, 1, 6, 8)),
    ("scale_up", 0.0, (0.0, 0.0), 1.5, (2, 1, 8, 8)),
    ("scale_down_nonsquare", 0.0, (0.0, 0.0), 0.6, (2, 1, 7, 12)),
    ("rot_minus135_all", -135.0, (-3.0, 2.5), 0.9, (2, 3, 12, 10)),
    ("rot400", 400.0, (0.0, 0.0), 1.0, (1, 1, 6, 6)),
]


def images(shape, dtype, seed=0):
    return np.random.default_rng(seed).random(shape).astype(dtype)


def tv_affine(img, angle, t, s):
    """torchvision's affine with our counter-clockwise angle, one (C, H, W) image."""
    return TF.affine(torch.from_numpy(img), angle=-float(angle), translate=[float(t[0]), float(t[1])],
                     scale=float(s), shear=[0.0, 0.0], interpolation=BILINEAR)


def cases(rows):
    return [(f"{row[0]}_{dname}",) + tuple(row[1:]) + (dtype,) for row in rows for dname, dtype in DTYPES]


class TestAffine(unittest.TestCase):

    @parameterized.expand(cases(AFFINE_CASES))
    def test_parity(self, _, angle, t, s, shape, dtype):
        x = images(shape, dtype)
        out = S.affine(x, angle, t, s)
        assert out.shape == shape
        assert_close(out, R.affine(x, angle, t, s), dtype)

    @parameterized.expand(cases(AFFINE_CASES))
    def test_torchvision(self, _, angle, t, s, shape, dtype):
        x = images(shape, dtype)
        scratch, reference = S.affine(x, angle, t, s), to_numpy(R.affine(x, angle, t, s))
        for i in range(shape[0]):
            expected = tv_affine(x[i], angle, t, s)
            assert_close(scratch[i], expected, dtype, what="scratch vs torchvision", component="augment.tv_affine")
            assert_close(reference[i], expected, dtype, what="reference vs torchvision",
                         component="augment.tv_affine")

    @parameterized.expand(DTYPES)
    def test_per_sample_parameters(self, _, dtype):
        x = images((4, 2, 7, 9), dtype)
        angle = np.array([0.0, 90.0, -33.0, 170.0])
        t = np.array([[0.0, 0.0], [1.0, -2.0], [0.5, 1.5], [-3.0, 0.25]])
        s = np.array([1.0, 0.8, 1.2, 1.05])
        out = S.affine(x, angle, t, s)
        assert_close(out, R.affine(x, angle, t, s), dtype)
        assert_close(R.affine(x, torch.from_numpy(angle), torch.from_numpy(t), torch.from_numpy(s)),
                     R.affine(x, angle, t, s), dtype)  # tensors as parameters
        for i in range(4):
            assert_close(out[i:i + 1], S.affine(x[i:i + 1], angle[i], t[i], s[i]), dtype, what=f"sample {i}")
            assert_close(out[i], tv_affine(x[i], angle[i], t[i], s[i]), dtype, component="augment.tv_affine")

    @parameterized.expand(DTYPES)
    def test_identity_is_exact(self, _, dtype):
        x = images((2, 3, 5, 7), dtype)
        np.testing.assert_array_equal(S.affine(x, 0.0, (0.0, 0.0), 1.0), x)

    @parameterized.expand(DTYPES)
    def test_right_angles_are_rot90(self, _, dtype):
        """Counter-clockwise as seen: np.rot90 over (H, W), k = angle / 90."""
        x = images((2, 3, 6, 6), dtype)
        for k in (1, 2, 3, -1):
            expected = np.ascontiguousarray(np.rot90(x, k, axes=(2, 3)))
            assert_close(S.rotate(x, 90.0 * k), expected, dtype, what=f"scratch k={k}")
            assert_close(R.rotate(x, 90.0 * k), expected, dtype, what=f"reference k={k}")

    @parameterized.expand(DTYPES)
    def test_integer_shift_moves_pixels(self, _, dtype):
        x = images((2, 1, 6, 8), dtype)
        expected = np.zeros_like(x)
        expected[:, :, 1:, :6] = x[:, :, :5, 2:]  # 2 left (tx = -2), 1 down (ty = 1)
        assert_close(S.translate(x, -2, 1), expected, dtype)
        assert_close(R.translate(x, -2, 1), expected, dtype)

    def test_direction(self):
        """A dot right of the centre goes up (counter-clockwise) at +90 degrees; +tx right, +ty down."""
        x = np.zeros((1, 1, 5, 5))
        x[0, 0, 2, 4] = 1.0
        for backend in (S, R):
            assert np.argwhere(to_numpy(backend.rotate(x, 90.0))[0, 0] > 0.5).tolist() == [[0, 2]]
            assert np.argwhere(to_numpy(backend.translate(x, -1, 2))[0, 0] > 0.5).tolist() == [[4, 3]]

    @parameterized.expand(cases([("rot90_square", 90.0, (6, 6)), ("rot90_nonsquare", 90.0, (5, 8)),
                                 ("rot_minus45", -45.0, (7, 9)), ("rot180", 180.0, (6, 7)),
                                 ("rot0", 0.0, (4, 4)), ("rot_minus270", -270.0, (6, 6))]))
    def test_rotate_torchvision(self, _, angle, hw, dtype):
        """TF.rotate takes fast paths (clone, torch.rot90) at 0/90/180/270 degrees: exact pixels."""
        x = images((2, 3) + hw, dtype)
        scratch, reference = S.rotate(x, angle), R.rotate(x, angle)
        assert_close(scratch, reference, dtype)
        for i in range(2):
            expected = TF.rotate(torch.from_numpy(x[i]), float(angle), interpolation=BILINEAR)
            assert_close(scratch[i], expected, dtype, component="augment.tv_rotate")
            assert_close(reference[i], expected, dtype, component="augment.tv_rotate")

    @parameterized.expand(cases([("int", (2, -3)), ("frac", (-1.5, 0.75)), ("zero", (0, 0))]))
    def test_translate(self, _, t, dtype):
        x = images((2, 1, 7, 9), dtype)
        out = S.translate(x, *t)
        assert_close(out, R.translate(x, *t), dtype)
        assert_close(out, S.affine(x, 0.0, t, 1.0), dtype)
        for i in range(2):
            assert_close(out[i], tv_affine(x[i], 0.0, t, 1.0), dtype, component="augment.tv_affine")

    @parameterized.expand(cases([("up", 1.4), ("down", 0.5), ("one", 1.0), ("per_sample", [0.8, 1.25])]))
    def test_scale(self, _, factor, dtype):
        x = images((2, 2, 8, 6), dtype)
        out = S.scale(x, factor)
        assert_close(out, R.scale(x, factor), dtype)
        for i, f in enumerate(np.broadcast_to(factor, (2,))):
            assert_close(out[i], tv_affine(x[i], 0.0, (0, 0), f), dtype, component="augment.tv_affine")

    def test_float32_stays_float32(self):
        x = images((2, 1, 5, 5), np.float32)
        for backend in (S, R):
            for out in (backend.affine(x, 10.0, (1, 1), 1.1), backend.crop(x, 1, 2, 3, 1), backend.hflip(x),
                        backend.brightness(x, 1.5)):
                assert to_numpy(out).dtype == np.float32


class TestCrop(unittest.TestCase):

    @parameterized.expand(cases([("no_pad", 1, 2, 4, 0, (2, 3, 6, 7)), ("pad", 0, 5, 6, 2, (2, 1, 6, 7)),
                                 ("rect", 3, 0, (2, 5), 1, (2, 2, 5, 5)),
                                 ("per_sample", [0, 4, 2], [4, 1, 0], (5, 6), 2, (3, 1, 6, 6)),
                                 ("whole", 0, 0, (6, 9), 0, (1, 1, 6, 9))]))
    def test_parity_and_torchvision(self, _, top, left, size, pad, shape, dtype):
        x = images(shape, dtype)
        out = S.crop(x, top, left, size, pad)
        h, w = (size, size) if isinstance(size, int) else size
        assert out.shape == shape[:2] + (h, w)
        assert_close(out, R.crop(x, top, left, size, pad), dtype)
        tops, lefts = np.broadcast_to(top, shape[:1]), np.broadcast_to(left, shape[:1])
        for i in range(shape[0]):
            padded = TF.pad(torch.from_numpy(x[i]), [pad], fill=0)
            expected = TF.crop(padded, int(tops[i]), int(lefts[i]), h, w)
            np.testing.assert_array_equal(out[i], to_numpy(expected))

    def test_pad_is_zero(self):
        x = np.ones((1, 1, 3, 3))
        for backend in (S, R):
            out = to_numpy(backend.crop(x, 0, 0, 5, 1))
            assert out.sum() == 9 and out[0, 0, 0].sum() == 0 and out[0, 0, :, 0].sum() == 0


class TestHflipBrightness(unittest.TestCase):

    @parameterized.expand(DTYPES)
    def test_hflip(self, _, dtype):
        x = images((3, 2, 4, 5), dtype)
        out = S.hflip(x)
        np.testing.assert_array_equal(out, to_numpy(R.hflip(x)))
        for i in range(3):
            np.testing.assert_array_equal(out[i], to_numpy(TF.horizontal_flip(torch.from_numpy(x[i]))))
        which = np.array([True, False, True])
        some = S.hflip(x, which)
        np.testing.assert_array_equal(some, to_numpy(R.hflip(x, which)))
        np.testing.assert_array_equal(some[1], x[1])
        np.testing.assert_array_equal(some[2], x[2, :, :, ::-1])
        np.testing.assert_array_equal(S.hflip(S.hflip(x)), x)

    @parameterized.expand(cases([("scalar", 1.7), ("zero", 0.0), ("dim", 0.4), ("per_sample", [0.5, 1.0, 2.5])]))
    def test_brightness(self, _, factor, dtype):
        x = images((3, 3, 4, 4), dtype)
        out = S.brightness(x, factor)
        assert_close(out, R.brightness(x, factor), dtype)
        assert out.min() >= 0 and out.max() <= 1
        for i, f in enumerate(np.broadcast_to(factor, (3,))):
            expected = TF.adjust_brightness(torch.from_numpy(x[i]), float(f))
            assert_close(out[i], expected, dtype, component="augment.tv_brightness")


class TestAugmenter(unittest.TestCase):

    KWARGS = dict(max_angle=25.0, max_shift=2.0, scale_range=(0.9, 1.1), flip=True, brightness_range=(0.8, 1.2))

    @parameterized.expand(DTYPES)
    def test_same_seed_same_batches(self, _, dtype):
        x = images((6, 1, 8, 8), dtype)
        scratch, reference = S.Augmenter(7, **self.KWARGS), R.Augmenter(7, **self.KWARGS)
        for step in range(3):
            out = scratch(x)
            assert_close(out, reference(x), dtype, what=f"batch {step}")
            for key, value in scratch.last_params.items():
                np.testing.assert_array_equal(value, reference.last_params[key])
        again = S.Augmenter(7, **self.KWARGS)
        first = again(x)
        assert_close(first, S.Augmenter(7, **self.KWARGS)(x), dtype)
        assert not np.allclose(first, again(x)), "the generator should advance"

    def test_draw(self):
        params = S.Augmenter(3, **self.KWARGS).draw(500)
        assert params["angle"].shape == (500,) and params["translate"].shape == (500, 2)
        assert np.all(np.abs(params["angle"]) <= 25) and np.all(np.abs(params["translate"]) <= 2)
        assert np.all((params["scale"] >= 0.9) & (params["scale"] <= 1.1))
        assert np.all((params["brightness"] >= 0.8) & (params["brightness"] <= 1.2))
        assert 150 < params["flip"].sum() < 350
        assert not S.Augmenter(3, max_angle=10).draw(50)["flip"].any()
        # the stream does not depend on which augmentations are on
        np.testing.assert_array_equal(S.Augmenter(3, max_angle=10).draw(5)["angle"],
                                      S.Augmenter(3, max_angle=10, flip=True, max_shift=1).draw(5)["angle"])

    # each quantity and the option that switches it on alone
    ALONE = {"angle": dict(max_angle=25.0), "translate": dict(max_shift=2.0), "scale": dict(scale_range=(0.9, 1.1)),
             "flip": dict(flip=True), "brightness": dict(brightness_range=(0.8, 1.2))}

    @parameterized.expand(ALONE)
    def test_every_batch_draws_the_same_whatever_else_is_on(self, quantity):
        """The draws of a quantity, batch after batch, do not depend on the other options (so a run
        with --augment-flip added rotates its 3rd batch as the run without it does)."""
        batches = (5, 3, 8, 1, 6)
        alone, everything = S.Augmenter(11, **self.ALONE[quantity]), S.Augmenter(11, **self.KWARGS)
        with_one_more = S.Augmenter(11, **self.ALONE[quantity], **self.ALONE["flip" if quantity != "flip" else "angle"])
        for step, n in enumerate(batches):
            expected = alone.draw(n)[quantity]
            for other in (everything, with_one_more):
                np.testing.assert_array_equal(other.draw(n)[quantity], expected, err_msg=f"batch {step}")
        assert not np.array_equal(S.Augmenter(11, **self.ALONE[quantity]).draw(8)[quantity],
                                  S.Augmenter(12, **self.ALONE[quantity]).draw(8)[quantity])

    @parameterized.expand(DTYPES)
    def test_apply_is_the_composition(self, _, dtype):
        x = images((4, 3, 6, 7), dtype)
        aug = S.Augmenter(1, **self.KWARGS)
        out = aug(x)
        p = aug.last_params
        expected = S.brightness(S.affine(S.hflip(x, p["flip"]), p["angle"], p["translate"], p["scale"]),
                                p["brightness"])
        np.testing.assert_array_equal(out, expected)
        wide = 4 * x - 2  # standardised-like values outside [0, 1]
        np.testing.assert_array_equal(S.Augmenter(5)(wide), wide)  # nothing switched on: the identity
        assert_close(R.Augmenter(5)(wide), wide, dtype)  # (grid_sample's identity is exact to rounding)
        for backend in (S, R):
            out = to_numpy(backend.Augmenter(5, max_angle=10)(wide))
            assert out.min() < 0 and out.max() > 1, "brightness off must not clip"


class TestBadInput(unittest.TestCase):

    def test_shapes_and_dtypes(self):
        good = images((2, 1, 4, 4), np.float64)
        for bad, error in ((good[0], ValueError), (good[None], ValueError), (good[:0], ValueError),
                           (good[:, :, :0], ValueError), (good.astype(np.uint8), TypeError),
                           (good.astype(np.int64), TypeError), (good.astype(np.float16), TypeError)):
            for name, args in (("affine", (10.0,)), ("rotate", (10.0,)), ("translate", (1, 1)), ("scale", (1.2,)),
                               ("crop", (0, 0, 2)), ("hflip", ()), ("brightness", (1.1,))):
                assert_same_error(lambda: getattr(S, name)(bad, *args), lambda: getattr(R, name)(bad, *args),
                                  expected=error)
            assert_same_error(lambda: S.Augmenter(0)(bad), lambda: R.Augmenter(0)(bad), expected=error)

    def test_parameters(self):
        x = images((3, 1, 5, 5), np.float32)
        calls = [
            ("affine", (np.zeros(2),), "angle"),                 # length 2 for a batch of 3
            ("affine", (0.0, np.zeros((2, 2))), "translate"),
            ("affine", (0.0, (1.0, 2.0, 3.0)), "translate"),
            ("affine", (0.0, (0, 0), 0.0), "scale"),
            ("affine", (0.0, (0, 0), [1.0, -1.0, 1.0]), "scale"),
            ("affine", (np.nan,), "angle"),
            ("affine", (np.zeros((3, 1)),), "angle"),
            ("affine", ("ten",), "angle"),
            ("translate", ([1, 2], 0), "tx"),
            ("scale", (np.ones(4),), "scale"),
            ("crop", (0, 0, 6), "crop"),                         # larger than the image
            ("crop", (0, 3, 3), "left"),                         # 3 + 3 > 5
            ("crop", (-1, 0, 3), "top"),
            ("crop", (0.5, 0, 3), "top"),
            ("crop", (0, 0, 3, -1), "pad"),
            ("crop", (0, 0, (3, 0)), "size"),
            ("crop", ([0, 1], 0, 3), "top"),
            ("hflip", ([True, False],), "which"),
            ("hflip", ([0, 2, 1],), "which"),
            ("brightness", (-0.5,), "factor"),
            ("brightness", (np.ones(2),), "factor"),
        ]
        for name, args, word in calls:
            assert_same_error(lambda: getattr(S, name)(x, *args), lambda: getattr(R, name)(x, *args),
                              match=word)

    def test_augmenter_arguments(self):
        for kwargs in (dict(max_angle=-1), dict(max_shift=np.inf), dict(scale_range=(0.0, 1.0)),
                       dict(scale_range=(1.2, 1.1)), dict(scale_range=1.0), dict(brightness_range=(-0.1, 1.0))):
            assert_same_error(lambda: S.Augmenter(0, **kwargs), lambda: R.Augmenter(0, **kwargs))
        for n in (0, -1, 2.5, True):
            assert_same_error(lambda: S.Augmenter(0).draw(n), lambda: R.Augmenter(0).draw(n))
