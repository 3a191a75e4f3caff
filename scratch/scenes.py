"""Multi-digit scenes (8.4, detection and segmentation): 1 to 4 MNIST digits scattered on a 64 x 64 canvas.

    scenes = make_scenes(images, labels, n=1000, seed=0)
    scenes.images   # (N, 1, 64, 64) float32 in [0, 1]
    scenes.masks    # (N, 64, 64) int64: the class 0..9 of the digit whose stroke is there, BACKGROUND = 10 elsewhere
    scenes.boxes    # (N, 4, 4) int64: each digit's tight box (x1, y1, x2, y2) around its stroke, padded with PAD = -1
    scenes.labels   # (N, 4) int64: each box's digit, padded with -1
    scenes.counts   # (N,) int64: how many digits (1..4)
    scenes.sources  # (N, 4) int64: the index into ``images`` each digit came from, padded with -1
    scenes.scales   # (N, 4) float64: the scale factor each digit was drawn at, padded with 0

    train = load_scenes(10000, seed=0, train=True)     # only MNIST's training images
    test = load_scenes(2000, seed=1, train=False)      # only MNIST's test images
    targets = ground_truth(test)                       # [{"boxes": (k, 4) float64, "labels": (k,) int64}, ...]

The pixels, the stroke, the mask
--------------------------------
    image[p]  = max_j patch_j[p]                                   (paste by maximum, as multi_digit)
    stroke_j  = { p : patch_j[p] > MASK_THRESHOLD }                MASK_THRESHOLD = 0.5
    mask[p]   = label of the last-drawn j with patch_j[p] = image[p],   if image[p] > MASK_THRESHOLD
              = BACKGROUND (10),                                     otherwise
    box_j     = the tight box of stroke_j (pixel edges: stroke_j lies in rows y1..y2-1, columns x1..x2-1)

``patch_j`` is digit j's scaled image placed on the canvas (0 outside it).
So a pixel belongs to a digit where that digit's value is above one half,
and where two strokes cross, to the digit that shows there: the one of
larger value (the image holds the maximum), ties to the later-drawn digit.
The mask is background exactly where the image is <= MASK_THRESHOLD, and a
mask pixel of class c always shows the value of a digit of class c.

Why 0.5: MNIST's digits were black-and-white scans, anti-aliased when NIST's
pictures were scaled into 20 x 20 boxes, so a pixel's gray level is about the
fraction of it the pen covered; "more than half covered" is the stroke of
the binary original. A lower threshold would grow every mask by the faint
anti-aliased rim (and make overlaps of rims, not strokes, decide), a higher
one would thin strokes that bilinear scaling already softened. The rim
(0 < value <= 0.5) can reach one or two pixels beyond a digit's box; the box
is tight around the same pixels the mask is made of.

The IoU of two boxes is torchvision's: area (x2 - x1) * (y2 - y1)
(``scratch.boxes.box_iou``, which computes it).

How one scene is drawn (one ``np.random.default_rng(seed)`` for the whole set)
-------------------------------------------------------------------------------
For each scene, in this order, from the same generator:

1. its digit count k ~ uniform on min_digits..max_digits;
2. k source images, uniformly with replacement from the given images;
3. k scale factors ~ U(scale_range) (default 0.75 .. 1.25), each lowered where
   the digit would not fit the canvas (factor <= canvas_size / longest ink side;
   only reached with scale ranges far above the default);
4. k numbers u_j ~ U(0, 1), one per digit, which choose its position.

Each digit becomes a patch as in ``scratch.multi_digit`` (``scale_digit``:
cropped to its ink, resized bilinearly by its factor, cropped to its ink
again). Digits are then placed one after another, in drawing order. Digit j's
candidate positions are every top-left corner (x, y) that keeps its patch
inside the canvas, listed row by row (y, then x); a candidate is allowed when
its stroke box has IoU <= max_iou with the box of every digit placed before
(default ``MAX_IOU`` = 0.1: digits may touch and overlap a little, never
hide each other; and two true boxes stay far below the IoU of 0.3 to 0.5 at
which non-maximum suppression merges detections, so it never removes a
digit's neighbour). The digit takes the allowed candidate number
floor(u_j * number allowed). This is exactly "redraw a uniform position
until it is allowed" with no bound on the tries: every allowed position is
equally likely, and one draw per digit replaces a loop of tries. When no
candidate is allowed (the canvas is too crowded: it never happened with the
defaults in 20,000 four-digit MNIST scenes, 10,000 of training images with
seed 1 and 10,000 of test images with seed 2; it does with large scales or
max_iou near 0), the digit is left out and the
scene holds one digit fewer (its u_j is drawn all the same, so the draws of
the next scenes do not move). The first digit always fits, so a scene holds
at least one; ``counts`` is the number placed.

Scenes are drawn one after another, so the first m scenes of a set of n are
the m scenes of a set of m with the same seed and options.

Conventions
-----------
* Boxes, as in ``scratch.multi_digit`` and ``scratch.boxes``: (x1, y1, x2, y2)
  in pixel edges, x to the right, y down, ``canvas[y1:y2, x1:x2]``, int64.
  Tight: the first and last row and column of a box hold stroke of its digit.
  ``ground_truth`` gives them as float64, per scene, in the format of
  ``scratch.detection_metrics``.
* Boxes, labels and sources are padded to ``MAX_SCENE_DIGITS`` (4) with
  ``PAD`` (-1); scales with 0. The order is the drawing order (later digits
  win ties in the mask).
* Classes: digits 0..9, ``BACKGROUND`` = 10, ``NUM_CLASSES`` = 11 (a
  segmentation network scores 11 classes per pixel).

Inputs
------
As ``scratch.multi_digit``: ``images`` (M, 28, 28), (M, 1, 28, 28) or flat
(M, 784), uint8 0..255 or float in [0, 1]; ``labels`` (M,) integers 0..9. A
digit without ink, or whose scaled patch has no pixel above the threshold,
is named in a one-line error, as is every bad option. (Every one of MNIST's
70,000 digits keeps stroke at every scale of the default range, checked at
every patch size the range can give: the faintest peak is 0.557; a handful
of faint, thin ones lose it below 0.63, training image 12382 at 0.5.)

The PyTorch package re-exports these functions (``reference.scenes``): the
scenes are data, not arithmetic to compare, so both backends train and test
on the very same arrays.
"""
import numbers
from typing import NamedTuple

import numpy as np

from .boxes import box_iou
from .multi_digit import MIN_SCALE, PAD, SCALE_RANGE, check_digit_set, crop_to_ink, paste_max, scale_digit

# PAD and SCALE_RANGE are multi_digit's (same values), exported by it.
__all__ = ["BACKGROUND", "NUM_CLASSES", "SCENE_SIZE", "MAX_SCENE_DIGITS", "MASK_THRESHOLD", "MAX_IOU",
           "MultiDigitScenes", "make_scenes", "load_scenes", "ground_truth"]

BACKGROUND = 10          # the mask's class where no digit's stroke is
NUM_CLASSES = 11         # digits 0..9 and the background
SCENE_SIZE = 64          # the canvas is SCENE_SIZE x SCENE_SIZE pixels
MAX_SCENE_DIGITS = 4
MASK_THRESHOLD = 0.5     # a digit's stroke: its pixels with value > MASK_THRESHOLD (module docstring: why)
MAX_IOU = 0.1            # the most two digits' boxes may overlap, by IoU
MIN_CANVAS = 28          # one MNIST digit at scale 1


class MultiDigitScenes(NamedTuple):
    """A set of N scenes (see the module docstring for every field)."""

    images: np.ndarray    # (N, 1, S, S) float32 in [0, 1]
    masks: np.ndarray     # (N, S, S) int64: 0..9 on a digit's stroke, BACKGROUND elsewhere
    boxes: np.ndarray     # (N, 4, 4) int64 (x1, y1, x2, y2) around each stroke, PAD rows after the last digit
    labels: np.ndarray    # (N, 4) int64 digits, PAD after the last digit
    counts: np.ndarray    # (N,) int64, 1..4
    sources: np.ndarray   # (N, 4) int64 indices into the images given, PAD after the last digit
    scales: np.ndarray    # (N, 4) float64 scale factors, 0 after the last digit


# --------------------------------------------------------------------------------------------
# Checks (one call at the top of the generator)
# --------------------------------------------------------------------------------------------

def _integer(value, name, who="make_scenes"):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{who}: {name} must be an integer, got {value!r}")
    return int(value)


def _check_options(n, canvas_size, min_digits, max_digits, scale_range, max_iou, image_shape):
    """The generator's options as plain numbers, or a one-line error."""
    n = _integer(n, "n")
    if n < 1:
        raise ValueError(f"make_scenes: n must be at least 1, got {n}")
    canvas_size = _integer(canvas_size, "canvas_size")
    smallest = max(MIN_CANVAS, *image_shape)
    if canvas_size < smallest:
        raise ValueError(f"make_scenes: canvas_size must be at least {smallest} (one digit image), got {canvas_size}")
    min_digits, max_digits = _integer(min_digits, "min_digits"), _integer(max_digits, "max_digits")
    if not 1 <= min_digits <= max_digits <= MAX_SCENE_DIGITS:
        raise ValueError(f"make_scenes: digit counts must satisfy 1 <= min_digits <= max_digits <= "
                         f"{MAX_SCENE_DIGITS}, got min_digits={min_digits}, max_digits={max_digits}")
    try:
        low, high = (float(v) for v in scale_range)
    except (TypeError, ValueError):
        raise ValueError(f"make_scenes: scale_range must be a pair (low, high), got {scale_range!r}") from None
    if not MIN_SCALE <= low <= high < np.inf:
        raise ValueError(f"make_scenes: scale_range must satisfy {MIN_SCALE} <= low <= high (finite), "
                         f"got {scale_range!r}")
    if isinstance(max_iou, (bool, np.bool_)) or not isinstance(max_iou, numbers.Real) or not 0 <= max_iou <= 1:
        raise ValueError(f"make_scenes: max_iou must be a number in [0, 1], got {max_iou!r}")
    return n, canvas_size, min_digits, max_digits, (low, high), float(max_iou)


# --------------------------------------------------------------------------------------------
# The pieces: a digit's patch and stroke, its allowed positions, the mask
# --------------------------------------------------------------------------------------------

def _patch_of(images, index, factor, canvas_size):
    """Digit ``index``'s patch (float32, cropped to its ink) and its stroke box inside the patch; the factor
    lowered so the patch fits the canvas. Returns (patch, (x1, y1, x2, y2), factor)."""
    image = images[index]
    if not np.any(image > 0):
        raise ValueError(f"make_scenes: image {index} has no ink (every pixel is 0); it cannot be a digit")
    ink = crop_to_ink(image / 255.0 if image.dtype == np.uint8 else image.astype(np.float64))
    factor = min(factor, canvas_size / max(ink.shape))  # then round(factor * side) <= canvas_size
    patch = scale_digit(ink, factor)
    rows = np.flatnonzero((patch > MASK_THRESHOLD).any(axis=1))
    cols = np.flatnonzero((patch > MASK_THRESHOLD).any(axis=0))
    if rows.size == 0:
        raise ValueError(f"make_scenes: image {index} at scale {factor:.3f} has no pixel above the mask threshold "
                         f"{MASK_THRESHOLD} (max {patch.max():.3f}); it has no stroke to label")
    return patch, (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1), factor


def _allowed_corners(patch_shape, stroke, placed, canvas_size, max_iou):
    """Top-left corners (k, 2) as (x, y), row by row, whose stroke box has IoU <= max_iou with every placed box."""
    height, width = patch_shape
    ys, xs = np.meshgrid(np.arange(canvas_size - height + 1), np.arange(canvas_size - width + 1), indexing="ij")
    corners = np.stack([xs.ravel(), ys.ravel()], axis=1)
    if not placed:
        return corners
    boxes = np.concatenate([corners + stroke[:2], corners + stroke[2:]], axis=1)
    allowed = np.all(box_iou(boxes, np.array(placed)) <= max_iou, axis=1)
    return corners[allowed]


def _claim(mask, best, patch, x, y, label):
    """Give digit ``label`` the pixels of its stroke where its value is >= the value that claimed them so far
    (later digits win ties); ``mask`` and ``best`` (the claiming values, 0 where unclaimed) change in place."""
    height, width = patch.shape
    region, values = mask[y:y + height, x:x + width], best[y:y + height, x:x + width]
    wins = (patch > MASK_THRESHOLD) & (patch >= values)
    region[wins] = label
    values[wins] = patch[wins]


# --------------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------------

def make_scenes(images, labels, n, seed, canvas_size=SCENE_SIZE, min_digits=1, max_digits=MAX_SCENE_DIGITS,
                scale_range=SCALE_RANGE, max_iou=MAX_IOU):
    """n scenes of min_digits..max_digits digits drawn from ``images`` (module docstring).

    ``seed`` seeds ``np.random.default_rng``: the same images, labels, seed and options give the same
    scenes. ``sources`` index into ``images``: pass only a training set to make training scenes, only a
    test set to make test scenes. ``canvas_size``: the side of the square canvas (at least 28).
    ``scale_range`` (low, high) needs 0.5 <= low <= high. ``max_iou`` in [0, 1]: the largest IoU any two
    digits' boxes may have.
    """
    images, labels = check_digit_set(images, labels, who="make_scenes")
    n, size, min_digits, max_digits, (low, high), max_iou = _check_options(
        n, canvas_size, min_digits, max_digits, scale_range, max_iou, images.shape[1:])
    rng = np.random.default_rng(seed)
    out = MultiDigitScenes(images=np.zeros((n, 1, size, size), dtype=np.float32),
                           masks=np.full((n, size, size), BACKGROUND, dtype=np.int64),
                           boxes=np.full((n, MAX_SCENE_DIGITS, 4), PAD, dtype=np.int64),
                           labels=np.full((n, MAX_SCENE_DIGITS), PAD, dtype=np.int64),
                           counts=np.zeros(n, dtype=np.int64),
                           sources=np.full((n, MAX_SCENE_DIGITS), PAD, dtype=np.int64),
                           scales=np.zeros((n, MAX_SCENE_DIGITS), dtype=np.float64))
    for i in range(n):
        k = int(rng.integers(min_digits, max_digits + 1))
        sources = rng.integers(0, len(images), size=k)
        factors = rng.uniform(low, high, size=k)
        choices = rng.random(k)
        canvas, best, placed = out.images[i, 0], np.zeros((size, size), dtype=np.float32), []
        for source, factor, u in zip(sources, factors, choices):
            patch, stroke, factor = _patch_of(images, int(source), float(factor), size)
            corners = _allowed_corners(patch.shape, np.array(stroke), placed, size, max_iou)
            if len(corners) == 0:
                continue                                      # no room: the digit is left out
            x, y = (int(v) for v in corners[int(u * len(corners))])
            paste_max(canvas, patch, x, y)
            _claim(out.masks[i], best, patch, x, y, labels[source])
            j = len(placed)
            placed.append((x + stroke[0], y + stroke[1], x + stroke[2], y + stroke[3]))
            out.boxes[i, j], out.labels[i, j], out.sources[i, j], out.scales[i, j] = placed[-1], labels[source], \
                source, factor
        out.counts[i] = len(placed)
    return out


def load_scenes(n, seed, train=True, root=None, download=True, **options):
    """n scenes from MNIST's training images (``train=True``) or its test images (``train=False``) only.

    Loads MNIST with ``scratch.mnist.load_mnist(root=root, download=download)`` and calls
    ``make_scenes(images, labels, n, seed, **options)`` on the one split; ``sources`` index into that split.
    """
    if not isinstance(train, (bool, np.bool_)):
        raise TypeError(f"load_scenes: train must be True (training images) or False (test images), got {train!r}")
    from .mnist import load_mnist  # here, so that the generator itself needs no data files

    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=False, flatten=False, root=root, download=download)
    images, labels = (x_train, t_train) if train else (x_test, t_test)
    return make_scenes(images, labels, n, seed, **options)


def ground_truth(scenes):
    """Each scene's boxes and labels without padding, as ``scratch.detection_metrics`` reads ground truth.

    Returns a list of N dicts {"boxes": (k, 4) float64, "labels": (k,) int64}, k = ``counts[i]``
    (fresh arrays: changing them leaves ``scenes`` as it is).
    """
    try:
        boxes, labels, counts = (np.asarray(getattr(scenes, name)) for name in ("boxes", "labels", "counts"))
    except AttributeError:
        raise TypeError(f"ground_truth: expects scenes with boxes, labels and counts (make_scenes' result), "
                        f"got {type(scenes).__name__}") from None
    n = len(counts) if counts.ndim == 1 else 0
    if n == 0 or boxes.shape[:1] != (n,) or boxes.ndim != 3 or boxes.shape[2] != 4 \
            or labels.shape != boxes.shape[:2] or counts.min() < 0 or counts.max() > boxes.shape[1]:
        raise ValueError(f"ground_truth: expects N >= 1 scenes with boxes (N, K, 4), labels (N, K) and counts (N,) "
                         f"in 0..K, got boxes {boxes.shape}, labels {labels.shape}, counts {counts.shape}")
    return [{"boxes": boxes[i, :k].astype(np.float64), "labels": labels[i, :k].astype(np.int64)}
            for i, k in enumerate(counts.tolist())]
