"""Multi-digit pictures (8.4, image captioning): a row of 1 to 5 MNIST digits, captioned by their sequence.

    pictures = make_multi_digit(images, labels, n=1000, seed=0)
    pictures.images    # (N, 1, 28, 140) float32 in [0, 1]
    pictures.captions  # (N, 5) int64: the digits left to right, padded with PAD = -1
    pictures.lengths   # (N,)   int64: how many digits (1..5)
    pictures.boxes     # (N, 5, 4) int64: each digit's tight box (x1, y1, x2, y2), padded with -1
    pictures.sources   # (N, 5) int64: the index into ``images`` each digit came from, padded with -1
    pictures.scales    # (N, 5) float64: the scale factor each digit was drawn at, padded with 0

    train = load_multi_digit(10000, seed=0, train=True)    # only MNIST's training images
    test = load_multi_digit(10000, seed=1, train=False)    # only MNIST's test images

The canvas
----------
28 rows by 140 columns (``CANVAS_SHAPE``): one MNIST digit is 28 x 28, so the
row is as tall as one digit and as wide as five side by side (5 x 28 = 140),
the most a caption holds (``MAX_DIGITS``). A digit's ink is about 20 pixels
tall (MNIST fits every digit into a 20 x 20 box), so there is room above and
below it to move, and room between the digits for random gaps.

How one picture is drawn (one ``np.random.default_rng(seed)`` for the whole set)
--------------------------------------------------------------------------------
For each picture, in this order, from the same generator:

1. its length k ~ uniform on min_digits..max_digits;
2. k source images, uniformly with replacement from the given images (their
   labels are the caption);
3. k scale factors ~ U(scale_range) (default 0.75 .. 1.25);
4. k + 1 gap weights ~ U(0, 1): the columns the digits leave free are shared
   out among the left margin and the k - 1 gaps in proportion to the first
   k weights (the right margin gets the rest);
5. k vertical positions y ~ uniform on 0 .. 28 - height (vertical jitter).

Each digit is cropped to its ink's bounding box (``crop_to_ink``), resized by
its factor with bilinear interpolation (``resize_bilinear``) and cropped to its
ink again, so its box is tight (``scale_digit``). A factor is lowered where the
digit would be taller than the canvas (factor <= 28 / ink height); if the row
is then wider than the canvas (only possible with a scale range above the
default), all k factors shrink by 2% at a time until it fits. Digits are
pasted left to right (``row_layout`` gives the positions, ``render`` pastes),
pixel values combined by their maximum where patches meet (``paste_max``).
Boxes in a row never overlap: the left-to-right order of the boxes is the
order of the caption.

Pictures are drawn one after another, so the first m pictures of a set of n
are the m pictures of a set of m with the same seed and options.

Conventions
-----------
* A pixel holds ink when its value is > 0 (MNIST's background is exactly 0).
* A box (x1, y1, x2, y2) is in pixel edges, x to the right, y down: the digit
  covers rows y1 .. y2 - 1 and columns x1 .. x2 - 1, i.e.
  ``canvas[y1:y2, x1:x2]``; its width is x2 - x1 and its area (x2 - x1) *
  (y2 - y1), as torchvision's ``box_iou`` counts it. Boxes are tight: the
  first and last row and column of each box hold ink.
* Captions, boxes and sources are padded to 5 entries with ``PAD`` (-1), never
  a digit or an index; scales with 0, never a factor.

For 2-D scenes (boxes and masks, detection and segmentation)
-----------------------------------------------------------
The pieces are independent of the row: ``scale_digit`` makes a digit's patch,
``paste_max`` puts a patch on any canvas at (x, y) and returns its box,
``render`` pastes several; only ``row_layout`` knows about rows. A scene
generator draws its own positions on its own canvas and calls ``render``
(a per-pixel mask can be made from the same patches: ``patch > threshold``
at each box).

Inputs
------
``images``: (M, 28, 28), (M, 1, 28, 28) or flat (M, 784); uint8 0..255 (divided
by 255) or float in [0, 1]. ``labels``: (M,) integers 0..9. Any other shape,
dtype, range, or a mismatch between them, is a one-line ValueError/TypeError.

The PyTorch package re-exports these functions (``reference.multi_digit``):
the pictures are data, not arithmetic to compare, so both backends train and
test on the very same arrays.
"""
from typing import NamedTuple

import numpy as np

# What the packages re-export (``from scratch import make_multi_digit``); the pieces a scene generator
# reuses (crop_to_ink, resize_bilinear, scale_digit, paste_max, render, row_layout, check_digit_set) are
# called through the module: ``scratch.multi_digit.render``.
__all__ = ["CANVAS_SHAPE", "MAX_DIGITS", "PAD", "SCALE_RANGE", "MultiDigitPictures", "make_multi_digit",
           "load_multi_digit"]

CANVAS_SHAPE = (28, 140)  # rows, columns: one digit tall, five digits wide
MAX_DIGITS = 5
PAD = -1                  # padding of captions, boxes and sources
SCALE_RANGE = (0.75, 1.25)
MIN_SCALE = 0.5           # below one half, bilinear interpolation skips whole pixels and breaks thin strokes


class MultiDigitPictures(NamedTuple):
    """A set of N multi-digit pictures (see the module docstring for every field)."""

    images: np.ndarray    # (N, 1, 28, 140) float32 in [0, 1]
    captions: np.ndarray  # (N, 5) int64, PAD after the last digit
    lengths: np.ndarray   # (N,) int64, 1..5
    boxes: np.ndarray     # (N, 5, 4) int64 (x1, y1, x2, y2), PAD rows after the last digit
    sources: np.ndarray   # (N, 5) int64 indices into the images given, PAD after the last digit
    scales: np.ndarray    # (N, 5) float64 scale factors, 0 after the last digit


# --------------------------------------------------------------------------------------------
# The pieces: crop, resize, scale, paste (a 2-D scene generator calls these too)
# --------------------------------------------------------------------------------------------

def crop_to_ink(image):
    """The smallest part of a 2-D image holding all its ink (pixels > 0)."""
    image = np.asarray(image)
    if image.ndim != 2:
        raise ValueError(f"crop_to_ink expects one 2-D image (H, W), got shape {image.shape}")
    rows = np.flatnonzero(image.max(axis=1) > 0)
    cols = np.flatnonzero(image.max(axis=0) > 0)
    if rows.size == 0:
        raise ValueError(f"crop_to_ink: the image of shape {image.shape} has no ink (every pixel is <= 0)")
    return image[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def _linear_weights(n_in, n_out):
    """(n_out, n_in) weights of 1-D linear interpolation, pixel centres aligned (half-pixel convention).

    Output pixel j samples the input at s = (j + 0.5) * n_in / n_out - 0.5, clamped to
    [0, n_in - 1], from its two neighbours floor(s) and floor(s) + 1: weights 1 - (s - floor(s))
    and s - floor(s). This is ``F.interpolate(mode="bilinear", align_corners=False)`` along one axis.
    """
    src = np.clip((np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5, 0, n_in - 1)
    lo = np.floor(src).astype(np.int64)
    hi = np.minimum(lo + 1, n_in - 1)
    frac = src - lo
    weights = np.zeros((n_out, n_in))
    rows = np.arange(n_out)
    np.add.at(weights, (rows, lo), 1 - frac)
    np.add.at(weights, (rows, hi), frac)
    return weights


def resize_bilinear(image, height, width):
    """Resize a 2-D image to (height, width) by bilinear interpolation: rows, then columns.

    out = Wy @ image @ Wx^T, with Wy (height, H) and Wx (width, W) the linear weights of each
    axis (``_linear_weights``); the same as ``F.interpolate(x, (height, width), mode="bilinear",
    align_corners=False)`` without antialiasing. Computed in float64.
    """
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2:
        raise ValueError(f"resize_bilinear expects one 2-D image (H, W), got shape {image.shape}")
    for size, name in ((height, "height"), (width, "width")):
        if isinstance(size, (bool, np.bool_)) or not isinstance(size, (int, np.integer)) or size < 1:
            raise ValueError(f"resize_bilinear: {name} must be a positive integer, got {size!r}")
    rows = _linear_weights(image.shape[0], int(height))
    cols = _linear_weights(image.shape[1], int(width))
    return rows @ image @ cols.T


def _scaled_size(ink_shape, factor):
    """(rows, columns) of an ink box of ``ink_shape`` scaled by ``factor``: rounded, at least 1."""
    return tuple(max(1, int(np.floor(side * factor + 0.5))) for side in ink_shape)


def scale_digit(image, factor):
    """A digit's tight float32 patch: cropped to its ink, resized by ``factor``, cropped to its ink again.

    ``image`` is 2-D with values in [0, 1]. The ink is resized to round(factor * its rows) by
    round(factor * its columns) (halves up, at least 1), then cropped again. For factors >= 0.5
    (the generator's ``MIN_SCALE``) bilinear interpolation samples every input pixel, so the ink's
    edge rows and columns survive; below that, samples can step over a thin edge stroke, and the
    second crop keeps the box tight.
    """
    ink = crop_to_ink(image)
    patch = resize_bilinear(ink, *_scaled_size(ink.shape, factor)).astype(np.float32)
    return crop_to_ink(patch)


def paste_max(canvas, patch, x, y):
    """Paste ``patch`` onto ``canvas`` (2-D, changed in place) with its top-left corner at column x, row y.

    Pixels where the patch meets earlier ink keep the larger value. Returns the patch's box
    (x, y, x + width, y + height); the patch must lie inside the canvas.
    """
    height, width = patch.shape
    if not (0 <= x and x + width <= canvas.shape[1] and 0 <= y and y + height <= canvas.shape[0]):
        raise ValueError(f"paste_max: a {height}x{width} patch at (x={x}, y={y}) leaves the "
                         f"{canvas.shape[0]}x{canvas.shape[1]} canvas")
    region = canvas[y:y + height, x:x + width]
    np.maximum(region, patch, out=region)
    return (int(x), int(y), int(x + width), int(y + height))


def render(canvas_shape, patches, positions):
    """A float32 canvas of ``canvas_shape`` with each patch pasted at its (x, y); returns (canvas, boxes).

    ``boxes`` is an (len(patches), 4) int64 array of (x1, y1, x2, y2), in the order of the patches.
    """
    canvas = np.zeros(canvas_shape, dtype=np.float32)
    boxes = [paste_max(canvas, patch, x, y) for patch, (x, y) in zip(patches, positions)]
    return canvas, np.array(boxes, dtype=np.int64).reshape(len(boxes), 4)


def row_layout(rng, sizes, canvas_shape=CANVAS_SHAPE, min_gap=0):
    """Top-left corners (x, y) for patches of ``sizes`` [(rows, cols), ...], left to right in one row.

    Draws k + 1 gap weights ~ U(0, 1) and then k rows y ~ uniform on 0..H - rows (in that
    order). The free columns W - sum(cols) - (k - 1) * min_gap go to the left margin and the
    gaps in proportion to the first k weights, rounded down (the right margin takes the rest),
    so the patches never overlap and at least ``min_gap`` columns part neighbours.
    """
    height, width = canvas_shape
    rows = np.array([size[0] for size in sizes], dtype=np.int64)
    cols = np.array([size[1] for size in sizes], dtype=np.int64)
    k = len(sizes)
    free = width - int(cols.sum()) - (k - 1) * min_gap
    if free < 0 or np.any(rows > height):
        raise ValueError(f"row_layout: patches of sizes {list(sizes)} with min_gap {min_gap} do not fit "
                         f"a {height}x{width} canvas")
    weights = rng.random(k + 1)
    slack = np.floor(free * np.cumsum(weights[:k]) / weights.sum()).astype(np.int64)  # free columns left of each
    xs = slack + np.concatenate([[0], np.cumsum(cols[:-1])]) + np.arange(k) * min_gap
    ys = rng.integers(0, height - rows + 1)
    return [(int(x), int(y)) for x, y in zip(xs, ys)]


# --------------------------------------------------------------------------------------------
# Checks (one call at the top of the generator)
# --------------------------------------------------------------------------------------------

def _integer(value, name):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"make_multi_digit: {name} must be an integer, got {value!r}")
    return int(value)


def check_digit_set(images, labels, who="make_multi_digit"):
    """``images`` as (M, H, W) (uint8 or float, a view, not a copy) and ``labels`` as (M,) int64; one-line errors.

    Accepted images: (M, H, W), (M, 1, H, W) or flat (M, 784) (MNIST's 28 x 28); uint8 or
    float in [0, 1]. Labels: (M,) integers 0..9, as many as the images. ``who`` begins the
    errors (the generator that called: ``scratch.scenes`` passes "make_scenes").
    """
    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim == 2 and images.shape[1] == 28 * 28:
        images = images.reshape(-1, 28, 28)
    elif images.ndim == 4 and images.shape[1] == 1:
        images = images[:, 0]
    if images.ndim != 3 or min(images.shape) < 1:
        raise ValueError(f"{who}: images must be (M, H, W), (M, 1, H, W) or (M, 784) with M >= 1, "
                         f"got shape {images.shape}")
    if images.dtype != np.uint8:
        if images.dtype.kind != "f":
            raise TypeError(f"{who}: images must be uint8 (0..255) or float in [0, 1], "
                            f"got dtype {images.dtype}")
        if not (images.min() >= 0 and images.max() <= 1):  # also False for NaN
            raise ValueError(f"{who}: float images must lie in [0, 1], got range "
                             f"[{images.min()}, {images.max()}]")
    if labels.ndim != 1 or len(labels) != len(images):
        raise ValueError(f"{who}: labels must be (M,) with one label per image, got labels of shape "
                         f"{labels.shape} for {len(images)} images")
    if labels.dtype.kind not in "iu":
        raise TypeError(f"{who}: labels must be integers 0..9, got dtype {labels.dtype}")
    if labels.min() < 0 or labels.max() > 9:
        raise ValueError(f"{who}: labels must be digits 0..9, got range [{labels.min()}, {labels.max()}]")
    return images, labels.astype(np.int64)


def _check_options(n, min_digits, max_digits, scale_range, min_gap):
    """The generator's options as plain numbers, or a one-line error."""
    n = _integer(n, "n")
    if n < 1:
        raise ValueError(f"make_multi_digit: n must be at least 1, got {n}")
    min_digits, max_digits = _integer(min_digits, "min_digits"), _integer(max_digits, "max_digits")
    if not 1 <= min_digits <= max_digits <= MAX_DIGITS:
        raise ValueError(f"make_multi_digit: digit counts must satisfy 1 <= min_digits <= max_digits <= "
                         f"{MAX_DIGITS}, got min_digits={min_digits}, max_digits={max_digits}")
    try:
        low, high = (float(v) for v in scale_range)
    except (TypeError, ValueError):
        raise ValueError(f"make_multi_digit: scale_range must be a pair (low, high), got {scale_range!r}") from None
    if not MIN_SCALE <= low <= high < np.inf:
        raise ValueError(f"make_multi_digit: scale_range must satisfy {MIN_SCALE} <= low <= high (finite), "
                         f"got {scale_range!r}")
    min_gap = _integer(min_gap, "min_gap")
    widest = CANVAS_SHAPE[1] - (max_digits - 1) * min_gap
    if min_gap < 0 or widest < max_digits:
        raise ValueError(f"make_multi_digit: min_gap must be >= 0 and leave room for {max_digits} digits on "
                         f"{CANVAS_SHAPE[1]} columns, got {min_gap}")
    return n, min_digits, max_digits, (low, high), min_gap


# --------------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------------

def _as_unit_float(image):
    """One image as float64 in [0, 1] (uint8 divided by 255)."""
    return image / 255.0 if image.dtype == np.uint8 else image.astype(np.float64)


def _ink_of(images, index):
    """Image ``index`` as float64 in [0, 1], cropped to its ink; an image without ink is named in the error."""
    image = images[index]
    if not np.any(image > 0):
        raise ValueError(f"make_multi_digit: image {index} has no ink (every pixel is 0); it cannot be a digit")
    return crop_to_ink(_as_unit_float(image))


def _fit_factors(ink_shapes, factors, min_gap):
    """Factors lowered so each digit fits the canvas height and the row fits its width (module docstring)."""
    height, width = CANVAS_SHAPE
    factors = np.minimum(factors, [height / rows for rows, _ in ink_shapes])
    room = width - (len(ink_shapes) - 1) * min_gap
    while sum(_scaled_size(shape, f)[1] for shape, f in zip(ink_shapes, factors)) > room:
        factors = factors * 0.98
    return factors


def make_multi_digit(images, labels, n, seed, min_digits=1, max_digits=MAX_DIGITS, scale_range=SCALE_RANGE,
                     min_gap=0):
    """n pictures of a row of min_digits..max_digits digits drawn from ``images`` (module docstring).

    ``seed`` seeds ``np.random.default_rng``: the same images, labels, seed and options give the
    same pictures. ``sources`` index into ``images``: pass only a training set to make training
    pictures, only a test set to make test pictures. ``min_gap``: the fewest blank columns
    between neighbouring digits (0: they may touch). ``scale_range`` (low, high) needs
    0.5 <= low <= high (``MIN_SCALE``).
    """
    images, labels = check_digit_set(images, labels)
    n, min_digits, max_digits, (low, high), min_gap = _check_options(n, min_digits, max_digits, scale_range,
                                                                      min_gap)
    rng = np.random.default_rng(seed)
    out = MultiDigitPictures(images=np.zeros((n, 1) + CANVAS_SHAPE, dtype=np.float32),
                             captions=np.full((n, MAX_DIGITS), PAD, dtype=np.int64),
                             lengths=np.zeros(n, dtype=np.int64),
                             boxes=np.full((n, MAX_DIGITS, 4), PAD, dtype=np.int64),
                             sources=np.full((n, MAX_DIGITS), PAD, dtype=np.int64),
                             scales=np.zeros((n, MAX_DIGITS), dtype=np.float64))
    for i in range(n):
        k = int(rng.integers(min_digits, max_digits + 1))
        sources = rng.integers(0, len(images), size=k)
        factors = rng.uniform(low, high, size=k)
        inks = [_ink_of(images, s) for s in sources]
        factors = _fit_factors([ink.shape for ink in inks], factors, min_gap)
        patches = [scale_digit(ink, f) for ink, f in zip(inks, factors)]
        positions = row_layout(rng, [patch.shape for patch in patches], CANVAS_SHAPE, min_gap)
        out.images[i, 0], boxes = render(CANVAS_SHAPE, patches, positions)
        out.captions[i, :k] = labels[sources]
        out.lengths[i] = k
        out.boxes[i, :k] = boxes
        out.sources[i, :k] = sources
        out.scales[i, :k] = factors
    return out


def load_multi_digit(n, seed, train=True, root=None, download=True, **options):
    """n pictures from MNIST's training images (``train=True``) or its test images (``train=False``) only.

    Loads MNIST with ``scratch.mnist.load_mnist(root=root, download=download)`` and calls
    ``make_multi_digit(images, labels, n, seed, **options)`` on the one split; ``sources`` index
    into that split.
    """
    if not isinstance(train, (bool, np.bool_)):
        raise TypeError(f"load_multi_digit: train must be True (training images) or False (test images), "
                        f"got {train!r}")
    from .mnist import load_mnist  # here, so that the generator itself needs no data files

    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=False, flatten=False, root=root, download=download)
    images, labels = (x_train, t_train) if train else (x_test, t_test)
    return make_multi_digit(images, labels, n, seed, **options)
