"""Region proposals for R-CNN (8.4) and the proposals R-CNN and Fast R-CNN train on, for ``scratch.scenes``.

    boxes = propose(scene.images[i])                    # (P, 4) float64 candidate boxes of one scene
    crops = warp(scene.images, boxes, index)            # (P, 1, 28, 28): each box, with context, warped
    labels, matched, targets = label_proposals(boxes, gt_boxes, gt_labels)
    batch = sample_proposals(labels, 128, rng)          # 25% foreground, the rest background
    data = proposal_set(scenes, with_ground_truth=True) # all of it for a set of scenes

Proposals: connected components, their groups and sub-windows, tightened to the stroke
--------------------------------------------------------------------------------------
R-CNN (Girshick et al. 2014) classifies ~2000 class-independent region
proposals per picture, found by an unsupervised method (selective search).
Here a scene is dark ink on a black canvas, so the proposals come from the ink:

    stroke     = { p : image[p] > STROKE_THRESHOLD }             STROKE_THRESHOLD = 0.5 (the scenes' mask)
    components = the 8-connected components of the stroke        (labelled below, in NumPy)
    bases      = each component's box, and the box of every group of 2 or 3 components (MAX_GROUP)
                 whose box fits in MAX_SIDE x MAX_SIDE              (a digit broken into pieces),
                 among the MAX_PIECES = 8 largest components (most stroke pixels; ties: raster order)
    windows    = for each base box, every window whose left and right sides are two of the GRID + 1
                 cut positions round(x1 + k (x2 - x1) / GRID), k = 0..GRID, and likewise its top and
                 bottom (GRID = 4: 10 x 10 windows): sub-windows at all scales and places
    proposals  = each window tightened to the stroke inside it (the smallest box around the stroke
                 pixels within the window; windows without stroke vanish), kept when it can be a
                 digit: MIN_HEIGHT <= height, max(width, height) <= MAX_SIDE, width <= MAX_ASPECT * height;
                 duplicates removed, sorted (by x1, y1, x2, y2)

Why these pieces (measured on 500 test scenes, 1232 digits, ``load_scenes(500, seed=1, train=False)``):

* a scene's digits touch often: MAX_IOU lets boxes overlap, and strokes cross.
  Each component's box alone finds only 82% of the digits at IoU >= 0.5
  (79% with components of the faint rim, ink > 0.2, which links even more
  digits: hence the stroke threshold of the scenes' masks, 0.5);
* the windows cut a component of touching digits apart (a '1' inside a
  '7''s box needs a window on both axes), and tightening makes a window
  that holds one digit's stroke exactly that digit's box (the scenes' boxes
  are tight around the same pixels > 0.5). Cuts at the thirds and half of
  one axis only reached 0.984; the 4 x 4 grid of both axes 0.998 (6 x 6:
  0.999, with 3.4 times as many proposals before the size filter);
* groups of components put a digit broken into pieces (a thin stroke that
  dips under 0.5) back together. Those 500 scenes have 1 to 7 components
  (2 on average); MAX_PIECES only bounds the work on pathological pictures
  (noise: hundreds of specks would give millions of groups);
* the size filter drops windows that cannot be a digit: a scene's digit is
  MNIST's 20-pixel box scaled by 0.75 .. 1.25, 10 to 25 pixels tall, at most
  25 wide and at most 2.1 times as wide as tall in those scenes. It halves
  the proposals (175 -> 100 per scene) and loses no digit found.

Measured (those 500 scenes): recall 0.998 at IoU >= 0.5 (2 digits of 1232
missed), 0.985 at IoU >= 0.7, 0.847 at IoU >= 0.9, with 100 proposals per
scene on average (19 to 395). Speed, on one core of a busy 2-core machine:
``propose`` ~700 scenes/s, ``warp`` of all their proposals ~400 scenes/s,
both ~250-300 scenes/s; ``proposal_set`` (labels too) ~100 scenes/s. On
2000 test scenes (``load_scenes(2000, seed=1, train=False)``, 5012 digits):
recall 0.998 / 0.982 / 0.850 at IoU 0.5 / 0.7 / 0.9, 102 proposals per scene
(at most 771); on 2000 training scenes (seed 0, 4946 digits): 0.997 / 0.979 /
0.842, 98 per scene. The recall at 0.5 bounds R-CNN's mAP@0.5. The boxes are
integer pixel edges (as float64), inside the canvas by construction. There is
no "grown, shrunk or shifted" copy of a window: tightened to the stroke, it
would be the same box again; the regression targets of ``label_proposals``
train on the proposals' own spread around each digit (IoU 0.5 .. 1).

Connected components (``connected_components``): every stroke pixel starts
with its own label (its raster index); repeat "each pixel takes the smallest
label in its 3 x 3 neighbourhood of stroke pixels, then the label its label
points to" (pointer jumping) until nothing changes. The labels are renumbered
1..m in raster order of each component's first pixel (0: no stroke).

Warping (``warp``), R-CNN's "warp with context padding"
-------------------------------------------------------
Each box (x1, y1, x2, y2), whatever its aspect, is stretched to size x size
(anisotropically, R-CNN's best variant) with CONTEXT pixels of the picture
around it in the output (R-CNN: 16 of 227; here 2 of 28, the box fills the
middle 24 x 24):

    pad  = CONTEXT * (x2 - x1) / (size - 2 CONTEXT)               (likewise for y)
    X1   = x1 - pad,  X2 = x2 + pad                                the region cut out
    crop[i, j] = bilinear(image, y = Y1 + (i + 1/2) (Y2 - Y1) / size,
                                 x = X1 + (j + 1/2) (X2 - X1) / size)

at pixel-edge coordinates: pixel (r, c) is the square [c, c + 1) x [r, r + 1),
its value sits at its centre (c + 1/2, r + 1/2), and ``bilinear`` blends the 4
pixel centres around (x, y); pixels outside the canvas are 0 (the canvas'
background: a region over the border sees black). One sample per output pixel,
as ``torchvision.ops.roi_align(..., sampling_ratio=1, aligned=True)`` on a
zero-padded canvas, the tests' third opinion; a box of size x size pixels at
integer edges with no context is its plain crop.

Labels and minibatches (``label_proposals``, ``sample_proposals``)
------------------------------------------------------------------
Each proposal is matched to the ground-truth box of largest IoU (ties: the
lower index) and labelled

    its digit 0..9        if IoU >= fg_iou (FG_IOU = 0.5)
    BACKGROUND (10)       if IoU <  bg_iou (BG_IOU = 0.3)
    IGNORE (-1)           in between: neither a digit nor clean background, left out of training

(R-CNN fine-tunes its CNN with IoU >= 0.5 as positives; its SVMs call IoU
< 0.3 negatives.) The regression targets are ``encode_boxes(proposal,
matched box)``: R-CNN's (tx, ty, tw, th), for the foreground rows; the other
rows (nothing to regress to) are 0. A minibatch (``sample_proposals``) takes
round(fg_fraction * batch_size) foreground proposals (FG_FRACTION = 0.25, as
R-CNN's 32 of 128), or all when there are fewer, uniformly without
replacement, and fills the rest with background, likewise; ignored ones
never. Drawn from the generator given (seeded: the same batch every run).

In training, each scene's ground-truth boxes are added to its proposals
(``with_ground_truth=True``, as R-CNN and Fast R-CNN do): the perfect
positives, with regression targets 0. Duplicates of a proposal are dropped, so
a digit that a proposal fits exactly is there once. For evaluation they must
not be (``with_ground_truth=False``, the default): the detector sees only
what the proposal method found.

``proposal_set`` does it all for a set of scenes, scene after scene, so the
result is deterministic. Mind the memory: a crop is 28 x 28 float32 (3 kB),
~100 per scene, so 2000 scenes take ~600 MB; build large sets in slices of
scenes (``max_per_scene`` samples a minibatch per scene instead).

The PyTorch package re-exports these functions (``reference.proposals``):
proposals are data, like the scenes, so both backends train and test on the
very same crops and labels.
"""
import itertools
import numbers
import operator
from typing import NamedTuple

import numpy as np

from .boxes import box_iou, check_boxes, encode_boxes
from .checks import as_float_array
from .scenes import BACKGROUND, MASK_THRESHOLD

__all__ = ["STROKE_THRESHOLD", "MAX_GROUP", "MAX_PIECES", "GRID", "MIN_HEIGHT", "MAX_SIDE", "MAX_ASPECT", "CONTEXT",
           "WARP_SIZE", "FG_IOU", "BG_IOU", "FG_FRACTION", "IGNORE", "ProposalSet", "connected_components", "propose",
           "propose_scenes", "warp", "label_proposals", "sample_proposals", "proposal_set"]

STROKE_THRESHOLD = MASK_THRESHOLD  # 0.5: the pixels the scenes' masks and boxes are made of
MAX_GROUP = 3          # groups of up to 3 components make a base box (a digit in pieces) ...
MAX_PIECES = 8         # ... among the 8 largest components of a scene (a bound on the groups)
GRID = 4               # each base box is cut at its quarters on both axes
MIN_HEIGHT = 8         # a proposal is at least 8 pixels tall ...
MAX_SIDE = 32          # ... at most 32 pixels tall and wide (groups too) ...
MAX_ASPECT = 2.5       # ... and at most 2.5 times as wide as tall
CONTEXT = 2            # warp: pixels of context around the box in the warped crop
WARP_SIZE = 28         # warp: crops are 28 x 28, an MNIST digit's size
FG_IOU = 0.5           # IoU >= 0.5 with a digit: that digit
BG_IOU = 0.3           # IoU < 0.3 with every digit: background
FG_FRACTION = 0.25     # a quarter of a minibatch is foreground (R-CNN)
IGNORE = -1            # the label of proposals between bg_iou and fg_iou


class ProposalSet(NamedTuple):
    """Proposals of a set of scenes with what R-CNN trains on (``proposal_set``); P rows in all."""

    crops: np.ndarray     # (P, 1, size, size) float32 warped crops (None when warp=False)
    labels: np.ndarray    # (P,) int64: digit 0..9, BACKGROUND (10) or IGNORE (-1)
    targets: np.ndarray   # (P, 4) float64 regression targets (tx, ty, tw, th), 0 unless a digit
    scene: np.ndarray     # (P,) int64: the scene each proposal belongs to
    boxes: np.ndarray     # (P, 4) float64 proposal boxes (x1, y1, x2, y2)
    matched: np.ndarray   # (P, 4) float64 the ground-truth box of largest IoU (0 when the scene has none)
    ious: np.ndarray      # (P,) float64 that largest IoU


# --------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------

def _scene_image(image, who):
    """One scene as a 2-D float array: (H, W) or (1, H, W)."""
    image = as_float_array(image, "image")
    if image.ndim == 3 and image.shape[0] == 1:
        image = image[0]
    if image.ndim != 2 or min(image.shape) < 1:
        raise ValueError(f"{who}: expects one scene image (H, W) or (1, H, W), got shape {image.shape}")
    if not np.all(np.isfinite(image)):
        raise ValueError(f"{who}: the image holds NaN or inf")
    return image


def _scene_batch(images, who):
    """A batch of scenes (N, 1, H, W) with N >= 1, floating."""
    images = as_float_array(images, "images")
    if images.ndim != 4 or images.shape[1] != 1 or min(images.shape[2:], default=0) < 1:
        raise ValueError(f"{who}: expects images of shape (N, 1, H, W), got {images.shape}")
    if images.shape[0] == 0:
        raise ValueError(f"{who}: empty scene batch (images of shape {images.shape}); it needs at least one scene")
    return images


def _positive_int(value, name, who, minimum=1):
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{who}: {name} must be an integer, got {value!r}")
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(f"{who}: {name} must be an integer, got {value!r}") from None
    if value < minimum:
        raise ValueError(f"{who}: {name} must be at least {minimum}, got {value}")
    return value


def _fraction(value, name, who, low_open=False):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not 0 <= value <= 1 \
            or (low_open and value == 0):
        raise ValueError(f"{who}: {name} must be a number in {'(0' if low_open else '[0'}, 1], got {value!r}")
    return float(value)


def _box_array(boxes, who, name="boxes", positive=True):
    boxes = as_float_array(boxes, name)
    if boxes.ndim == 1 and boxes.size == 0:
        boxes = boxes.reshape(0, 4)
    check_boxes(boxes, who, name, positive=positive)
    return boxes


# --------------------------------------------------------------------------------------------
# Proposals
# --------------------------------------------------------------------------------------------

def connected_components(mask):
    """The 8-connected components of a 2-D boolean mask: (labels (H, W) int64, m).

    labels is 0 off the mask and 1..m on it, numbered in raster order of each component's first pixel.
    Min-label propagation over 3 x 3 neighbourhoods with pointer jumping (module docstring).
    """
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"connected_components: expects a 2-D mask (H, W), got shape {mask.shape}")
    mask = mask.astype(bool)
    height, width = mask.shape
    off = height * width                                      # larger than every label: "no stroke"
    label = np.where(mask, np.arange(height * width).reshape(height, width), off)
    while True:
        padded = np.pad(label, 1, constant_values=off)
        smallest = np.min([padded[dy:dy + height, dx:dx + width] for dy in range(3) for dx in range(3)], axis=0)
        smallest = np.where(mask, smallest, off)
        pointed = np.append(smallest.ravel(), off)[smallest]   # the label of the pixel a label names
        if np.array_equal(pointed, label):
            break
        label = pointed
    roots, numbered = np.unique(label, return_inverse=True)   # roots sorted: raster order of first pixels
    numbered = numbered.reshape(height, width) + 1
    numbered[~mask] = 0
    return numbered.astype(np.int64), int(np.count_nonzero(roots < off))


def _bases(label, m, max_side, max_group):
    """Each component's box and the box of each group of 2..max_group components fitting max_side: (B, 4)."""
    ys, xs = np.nonzero(label)
    which = label[ys, xs] - 1
    boxes = np.empty((m, 4), dtype=np.int64)
    boxes[:, 0] = np.full(m, np.iinfo(np.int64).max)
    boxes[:, 1] = boxes[:, 0]
    boxes[:, 2:] = -1
    np.minimum.at(boxes[:, 0], which, xs)
    np.minimum.at(boxes[:, 1], which, ys)
    np.maximum.at(boxes[:, 2], which, xs + 1)
    np.maximum.at(boxes[:, 3], which, ys + 1)
    bases = [boxes]
    pixels = np.bincount(which, minlength=m)
    pieces = np.sort(np.argsort(-pixels, kind="stable")[:MAX_PIECES])   # the largest components, in raster order
    for size in range(2, min(max_group, len(pieces)) + 1):
        groups = np.array(list(itertools.combinations(pieces, size)), dtype=np.int64).reshape(-1, size)
        union = np.concatenate([boxes[groups, :2].min(axis=1), boxes[groups, 2:].max(axis=1)], axis=1)
        fits = np.maximum(union[:, 2] - union[:, 0], union[:, 3] - union[:, 1]) <= max_side
        bases.append(union[fits])
    return np.concatenate(bases)


def _windows(bases, grid):
    """Every window (x1, y1, x2, y2) of each base box whose sides lie on its grid cuts: (K, 4), duplicates kept."""
    k = np.arange(grid + 1) / grid
    cut_x = np.floor(bases[:, [0]] + k * (bases[:, [2]] - bases[:, [0]]) + 0.5).astype(np.int64)   # (B, grid + 1)
    cut_y = np.floor(bases[:, [1]] + k * (bases[:, [3]] - bases[:, [1]]) + 0.5).astype(np.int64)
    first, last = np.triu_indices(grid + 1, 1)                 # the pairs of cuts a < b
    x1, x2, y1, y2 = cut_x[:, first], cut_x[:, last], cut_y[:, first], cut_y[:, last]   # (B, pairs)
    pairs = len(first)
    windows = np.stack([np.repeat(x1, pairs, axis=1), np.tile(y1, pairs), np.repeat(x2, pairs, axis=1),
                        np.tile(y2, pairs)], axis=-1)
    windows = windows.reshape(-1, 4)
    return windows[(windows[:, 2] > windows[:, 0]) & (windows[:, 3] > windows[:, 1])]


def _tighten(stroke, windows):
    """Each window shrunk to the smallest box around the stroke pixels inside it; windows without stroke
    dropped. Through prefix sums: rows_hit[k, r] = any stroke in row r between the window's columns."""
    height, width = stroke.shape
    along_x = np.concatenate([np.zeros((height, 1), np.int64), np.cumsum(stroke, axis=1)], axis=1)   # (H, W + 1)
    along_y = np.concatenate([np.zeros((width, 1), np.int64), np.cumsum(stroke.T, axis=1)], axis=1)  # (W, H + 1)
    x1, y1, x2, y2 = windows.T
    rows, cols = np.arange(height), np.arange(width)
    rows_hit = (along_x[:, x2].T - along_x[:, x1].T > 0) & (rows >= y1[:, None]) & (rows < y2[:, None])   # (K, H)
    cols_hit = (along_y[:, y2].T - along_y[:, y1].T > 0) & (cols >= x1[:, None]) & (cols < x2[:, None])   # (K, W)
    some = rows_hit.any(axis=1)
    rows_hit, cols_hit = rows_hit[some], cols_hit[some]
    return np.stack([cols_hit.argmax(axis=1), rows_hit.argmax(axis=1),
                     width - cols_hit[:, ::-1].argmax(axis=1), height - rows_hit[:, ::-1].argmax(axis=1)], axis=1)


def propose(image, threshold=STROKE_THRESHOLD, grid=GRID, max_group=MAX_GROUP, min_height=MIN_HEIGHT,
            max_side=MAX_SIDE, max_aspect=MAX_ASPECT):
    """Region proposals of one scene (H, W) or (1, H, W): (P, 4) float64 boxes (x1, y1, x2, y2), sorted.

    Components of the stroke (pixels > threshold), their groups, the grid of sub-windows of each,
    tightened to the stroke and filtered by size (module docstring). P is 0 for a scene without stroke.
    """
    who = "propose"
    image = _scene_image(image, who)
    threshold = float(_fraction(threshold, "threshold", who))
    grid = _positive_int(grid, "grid", who)
    max_group = _positive_int(max_group, "max_group", who)
    min_height = _positive_int(min_height, "min_height", who)
    max_side = _positive_int(max_side, "max_side", who)
    if isinstance(max_aspect, (bool, np.bool_)) or not isinstance(max_aspect, numbers.Real) or not max_aspect > 0:
        raise ValueError(f"{who}: max_aspect must be a number > 0, got {max_aspect!r}")

    stroke = image > threshold
    label, m = connected_components(stroke)
    if m == 0:
        return np.zeros((0, 4), dtype=np.float64)
    boxes = _tighten(stroke, _windows(_bases(label, m, max_side, max_group), grid))
    width, height = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    digit_like = (height >= min_height) & (np.maximum(width, height) <= max_side) & (width <= max_aspect * height)
    return np.unique(boxes[digit_like], axis=0).astype(np.float64)


def propose_scenes(images, **options):
    """``propose`` for each scene of a batch (N, 1, H, W): a list of N (P_i, 4) float64 arrays."""
    images = _scene_batch(images, "propose_scenes")
    return [propose(image, **options) for image in images]


# --------------------------------------------------------------------------------------------
# Warping
# --------------------------------------------------------------------------------------------

def _samples(start, end, size, n_pixels):
    """Bilinear sampling along one axis for P regions [start, end): the two pixel indices (P, size) each
    output pixel reads (clipped into the image) and their weights (0 for pixels outside the image)."""
    centre = start[:, None] + (np.arange(size) + 0.5) * ((end - start)[:, None] / size) - 0.5   # pixel-centre coords
    low = np.floor(centre)
    frac = centre - low
    low = low.astype(np.int64)
    indices, weights = [], []
    for pixel, weight in ((low, 1.0 - frac), (low + 1, frac)):
        inside = (pixel >= 0) & (pixel < n_pixels)
        indices.append(np.clip(pixel, 0, n_pixels - 1))
        weights.append(np.where(inside, weight, 0.0))
    return indices, weights


def warp(images, boxes, index=None, size=WARP_SIZE, context=CONTEXT):
    """Each box cut out of its scene with context padding and stretched to (1, size, size) (module docstring).

    images (N, 1, H, W); boxes (P, 4) with x1 < x2, y1 < y2; index (P,) integers in 0..N-1, the scene of each
    box (may be left out when N = 1). Returns (P, 1, size, size) in the images' floating dtype (computed in
    float64). ``context`` pixels of each crop's border show the picture around the box: 0 <= 2 context < size.
    """
    who = "warp"
    images = _scene_batch(images, who)
    boxes = _box_array(boxes, who)
    size = _positive_int(size, "size", who)
    if isinstance(context, (bool, np.bool_)) or not isinstance(context, numbers.Real) or not 0 <= 2 * context < size:
        raise ValueError(f"{who}: context must be a number with 0 <= 2 * context < size = {size}, got {context!r}")
    n, _, height, width = images.shape
    if index is None:
        if n != 1:
            raise ValueError(f"{who}: {n} images: give index, the scene of each box, shape ({len(boxes)},)")
        index = np.zeros(len(boxes), dtype=np.int64)
    index = np.asarray(index)
    if index.shape != (len(boxes),) or (index.size and index.dtype.kind not in "iu"):
        raise ValueError(f"{who}: index must be ({len(boxes)},) integers, one scene per box, got shape "
                         f"{index.shape}, dtype {index.dtype}")
    if index.size and (index.min() < 0 or index.max() >= n):
        raise ValueError(f"{who}: index must lie in 0..{n - 1} (the images given), got {index.min()}..{index.max()}")

    boxes = boxes.astype(np.float64)
    stretch = context / (size - 2 * context)
    pad_x = stretch * (boxes[:, 2] - boxes[:, 0])
    pad_y = stretch * (boxes[:, 3] - boxes[:, 1])
    (x_low, x_high), (wx_low, wx_high) = _samples(boxes[:, 0] - pad_x, boxes[:, 2] + pad_x, size, width)
    (y_low, y_high), (wy_low, wy_high) = _samples(boxes[:, 1] - pad_y, boxes[:, 3] + pad_y, size, height)
    pictures = images[:, 0].astype(np.float64)
    scene = index.astype(np.int64)[:, None, None]
    crops = np.zeros((len(boxes), size, size))
    for rows, row_weights in ((y_low, wy_low), (y_high, wy_high)):
        for cols, col_weights in ((x_low, wx_low), (x_high, wx_high)):
            crops += row_weights[:, :, None] * col_weights[:, None, :] * pictures[scene, rows[:, :, None],
                                                                                  cols[:, None, :]]
    return crops[:, None].astype(images.dtype)


# --------------------------------------------------------------------------------------------
# Labels, regression targets, minibatches
# --------------------------------------------------------------------------------------------

def _check_ground_truth(gt_boxes, gt_labels, who):
    gt_boxes = _box_array(gt_boxes, who, "gt_boxes")
    gt_labels = np.asarray(gt_labels)
    if gt_labels.shape != (len(gt_boxes),) or (gt_labels.size and gt_labels.dtype.kind not in "iu"):
        raise ValueError(f"{who}: gt_labels must be ({len(gt_boxes)},) integers, one per ground-truth box, got "
                         f"shape {gt_labels.shape}, dtype {gt_labels.dtype}")
    if gt_labels.size and (gt_labels.min() < 0 or gt_labels.max() >= BACKGROUND):
        raise ValueError(f"{who}: gt_labels must be digits 0..{BACKGROUND - 1}, "
                         f"got {gt_labels.min()}..{gt_labels.max()}")
    return gt_boxes, gt_labels.astype(np.int64)


def _match(proposals, gt_boxes, gt_labels, fg_iou, bg_iou):
    """(labels, matched boxes, largest IoU, targets) of checked arrays (see label_proposals)."""
    n = len(proposals)
    if len(gt_boxes) == 0:
        return (np.full(n, BACKGROUND, dtype=np.int64), np.zeros((n, 4)), np.zeros(n), np.zeros((n, 4)))
    iou = box_iou(proposals, gt_boxes).astype(np.float64)
    best = iou.argmax(axis=1)                                          # ties: the lower ground-truth index
    largest = iou[np.arange(n), best]
    labels = np.where(largest >= fg_iou, gt_labels[best], np.where(largest < bg_iou, BACKGROUND, IGNORE))
    matched = gt_boxes[best].astype(np.float64)
    targets = np.zeros((n, 4))
    fg = labels < BACKGROUND
    fg &= labels >= 0
    if np.any(fg):
        targets[fg] = encode_boxes(proposals[fg].astype(np.float64), matched[fg])
    return labels.astype(np.int64), matched, largest, targets


def label_proposals(proposals, gt_boxes, gt_labels, fg_iou=FG_IOU, bg_iou=BG_IOU):
    """Training labels of a scene's proposals: (labels (P,) int64, matched (P, 4), targets (P, 4)).

    Each proposal's ground-truth box of largest IoU (ties: lower index) is ``matched``; the label is that
    box's digit if IoU >= fg_iou, BACKGROUND (10) if IoU < bg_iou, IGNORE (-1) in between; the targets are
    ``encode_boxes(proposal, matched)`` for the digits and 0 elsewhere. proposals (P, 4) and gt_boxes
    (G, 4) with positive widths and heights, gt_labels (G,) digits 0..9; 0 <= bg_iou <= fg_iou <= 1,
    fg_iou > 0. Without ground truth (G = 0) every proposal is background and ``matched`` is 0.
    """
    who = "label_proposals"
    proposals = _box_array(proposals, who, "proposals")
    gt_boxes, gt_labels = _check_ground_truth(gt_boxes, gt_labels, who)
    fg_iou, bg_iou = _check_ious(fg_iou, bg_iou, who)
    labels, matched, _, targets = _match(proposals, gt_boxes, gt_labels, fg_iou, bg_iou)
    return labels, matched, targets


def _check_ious(fg_iou, bg_iou, who):
    fg_iou = _fraction(fg_iou, "fg_iou", who, low_open=True)
    bg_iou = _fraction(bg_iou, "bg_iou", who)
    if bg_iou > fg_iou:
        raise ValueError(f"{who}: bg_iou must be <= fg_iou, got bg_iou={bg_iou}, fg_iou={fg_iou}")
    return fg_iou, bg_iou


def _rng(rng, who):
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, (bool, np.bool_)):
        return np.random.default_rng(rng)
    raise TypeError(f"{who}: rng must be a np.random.Generator or an integer seed, got {type(rng).__name__}")


def sample_proposals(labels, batch_size, rng, fg_fraction=FG_FRACTION):
    """Indices (B,) int64 of a minibatch: up to round(fg_fraction * batch_size) foreground proposals (labels
    0..9), the rest background (BACKGROUND), each drawn uniformly without replacement; IGNORE never.

    B = batch_size unless there are too few proposals: foreground missing is filled with background, and
    B is smaller only when both run out. Foreground first, then background, each in the order drawn.
    ``rng``: a np.random.Generator or an integer seed (foreground drawn first, then background).
    """
    who = "sample_proposals"
    labels = np.asarray(labels)
    if labels.ndim != 1 or (labels.size and labels.dtype.kind not in "iu"):
        raise ValueError(f"{who}: labels must be a 1-D integer array (P,), got shape {labels.shape}, "
                         f"dtype {labels.dtype}")
    if labels.size and (labels.min() < IGNORE or labels.max() > BACKGROUND):
        raise ValueError(f"{who}: labels must be digits 0..9, BACKGROUND ({BACKGROUND}) or IGNORE ({IGNORE}), "
                         f"got {labels.min()}..{labels.max()}")
    batch_size = _positive_int(batch_size, "batch_size", who)
    fg_fraction = _fraction(fg_fraction, "fg_fraction", who)
    rng = _rng(rng, who)
    foreground = np.flatnonzero((labels >= 0) & (labels < BACKGROUND))
    background = np.flatnonzero(labels == BACKGROUND)
    n_fg = min(int(np.floor(fg_fraction * batch_size + 0.5)), len(foreground))
    n_bg = min(batch_size - n_fg, len(background))
    return np.concatenate([rng.choice(foreground, n_fg, replace=False),
                           rng.choice(background, n_bg, replace=False)]).astype(np.int64)


# --------------------------------------------------------------------------------------------
# A whole set of scenes
# --------------------------------------------------------------------------------------------

def proposal_set(scenes, with_ground_truth=False, fg_iou=FG_IOU, bg_iou=BG_IOU, size=WARP_SIZE, context=CONTEXT,
                 warp_crops=True, max_per_scene=None, fg_fraction=FG_FRACTION, seed=0, **options):
    """The proposals of every scene with their crops, labels and targets: a ``ProposalSet``, scene by scene.

    ``scenes``: ``make_scenes``' result (images, boxes, labels, counts). ``with_ground_truth``: add each
    scene's true boxes to its proposals (training; duplicates dropped). ``max_per_scene``: keep only a
    minibatch of that many per scene (``sample_proposals`` with ``fg_fraction``, drawn from
    ``np.random.default_rng(seed)``, one generator for the set, scene after scene); None keeps all
    proposals, IGNORE ones included. ``warp_crops=False`` leaves ``crops`` None (boxes and labels only).
    ``options`` go to ``propose``. Deterministic: the same scenes and options give the same arrays.
    """
    who = "proposal_set"
    try:
        images, gt, counts = scenes.images, scenes.boxes, scenes.counts
        gt_labels = scenes.labels
    except AttributeError:
        raise TypeError(f"{who}: expects scenes with images, boxes, labels and counts (make_scenes' result), "
                        f"got {type(scenes).__name__}") from None
    images = _scene_batch(images, who)
    gt, gt_labels, counts = np.asarray(gt), np.asarray(gt_labels), np.asarray(counts)
    n = len(images)
    if gt.ndim != 3 or gt.shape[0] != n or gt.shape[2] != 4 or gt_labels.shape != gt.shape[:2] \
            or counts.shape != (n,) or counts.min() < 0 or counts.max() > gt.shape[1]:
        raise ValueError(f"{who}: expects {n} scenes with boxes (N, K, 4), labels (N, K) and counts (N,) in 0..K, "
                         f"got boxes {gt.shape}, labels {gt_labels.shape}, counts {counts.shape}")
    fg_iou, bg_iou = _check_ious(fg_iou, bg_iou, who)
    if max_per_scene is not None:
        max_per_scene = _positive_int(max_per_scene, "max_per_scene", who)
    rng = np.random.default_rng(seed)

    parts = []
    for i in range(n):
        k = int(counts[i])
        truth_boxes, truth_labels = _check_ground_truth(gt[i, :k], gt_labels[i, :k], who)
        boxes = propose(images[i], **options)
        if with_ground_truth and k:
            boxes = np.unique(np.concatenate([boxes, truth_boxes.astype(np.float64)]), axis=0)
        labels, matched, ious, targets = _match(boxes, truth_boxes, truth_labels, fg_iou, bg_iou)
        keep = np.arange(len(boxes)) if max_per_scene is None else \
            sample_proposals(labels, max_per_scene, rng, fg_fraction)
        parts.append((labels[keep], targets[keep], np.full(len(keep), i, dtype=np.int64), boxes[keep],
                      matched[keep], ious[keep]))
    labels, targets, scene, boxes, matched, ious = (np.concatenate(column) for column in zip(*parts))
    crops = warp(images, boxes, scene, size=size, context=context) if warp_crops else None
    return ProposalSet(crops=crops, labels=labels, targets=targets, scene=scene, boxes=boxes.reshape(-1, 4),
                       matched=matched.reshape(-1, 4), ious=ious)
