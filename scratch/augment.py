"""Data augmentation (8.1.1): rotate, shift, scale, crop, flip and brighten batches of images.

Every function takes a batch ``x`` of shape (N, C, H, W) (float32 or float64)
and explicit parameters, so both backends can be handed the same draw; a
parameter is either one number for the whole batch or an array of N numbers,
one per sample. No Python loop runs over the batch.

Geometry (the conventions of ``torchvision.transforms.v2.functional``)
---------------------------------------------------------------------
Pixel (i, j) (row i, column j) is the point (x, y) = (j, i); x runs right,
y runs down. The centre of the image is ((W - 1) / 2, (H - 1) / 2), the middle
of the pixel grid (torchvision's ``_affine_grid`` with ``grid_sample(...,
align_corners=False)``: pixel j sits at j + 0.5 of a W-wide image, whose
centre is W / 2). ``affine(x, angle, (tx, ty), s)`` moves the content

    p_out = s * R(angle) (p_in - c) + c + (tx, ty)

where R(angle) turns **counter-clockwise as the image is seen** (content right
of the centre moves up for angle = 90), tx > 0 moves right and ty > 0 down.
Each output pixel is filled by bilinear interpolation at its source point

    p_in = R(-angle) (p_out - c - (tx, ty)) / s + c

and a neighbour outside the image counts as 0 (``grid_sample``'s zero
padding).

torchvision's own ``affine`` takes its angle **clockwise** (its ``rotate``
negates the angle before building the same matrix), so

    affine(x, angle, t, s)  ==  TF.affine(img, -angle, t, s, shear=0, BILINEAR)
    rotate(x, angle)        ==  TF.rotate(img, angle, BILINEAR)

both with torchvision's default ``fill=None`` (zero padding). The inverse
matrix is torchvision's ``_get_inverse_affine_matrix`` with shear 0, computed
in float64 and then rounded to the image's dtype, as torchvision does.

Bilinear interpolation at an exact grid point gives that pixel (weights 1 and
0), so rotations by multiples of 90 degrees on square images and integer
shifts reproduce ``torch.rot90`` / a shifted copy up to float rounding of the
source coordinates (cos 90 degrees is 6e-17, not 0).
"""
import numpy as np

from .checks import as_booleans, check_batch

__all__ = ["affine", "rotate", "translate", "scale", "crop", "hflip", "brightness",
           "Augmenter", "draw_params"]

_FLOATS = ("float32", "float64")


# --------------------------------------------------------------------------------------------
# Checks shared by both backends (reference/augment.py imports them: same messages, same classes)
# --------------------------------------------------------------------------------------------

def check_images(shape, dtype, who):
    """(N, C, H, W) with N, C, H, W >= 1 and a float32/float64 dtype; returns N, C, H, W.

    ``dtype`` may be a NumPy or torch dtype (its name is what counts).
    """
    name = str(dtype).removeprefix("torch.")
    if name not in _FLOATS:
        raise TypeError(f"{who} expects float32 or float64 images (values in [0, 1]), got dtype {name}; "
                        "convert integer images with x.astype(np.float32) / 255")
    shape = tuple(shape)
    if len(shape) != 4:
        raise ValueError(f"{who} expects a batch of images (N, C, H, W), got shape {shape}")
    check_batch(shape, who)
    if min(shape) < 1:
        raise ValueError(f"{who}: every dimension of (N, C, H, W) must be at least 1, got {shape}")
    return shape


def per_sample(value, n, name, who):
    """One float64 per sample, shape (n,), from a number or an array of n numbers (never broadcast)."""
    a = np.asarray(value.detach().cpu().numpy() if hasattr(value, "detach") else value)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{who}: {name} must be numeric, got dtype {a.dtype}")
    a = a.astype(np.float64)
    if a.ndim == 0:
        a = np.full(n, float(a))
    elif a.shape != (n,):
        raise ValueError(f"{who}: {name} must be one number or one per sample, shape ({n},); got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{who}: {name} must be finite, got {a}")
    return a


def check_affine_params(angle, translate, scale, n, who="affine"):
    """angle (n,), translate (n, 2), scale (n,) as float64 arrays; scale must be positive.

    ``translate`` is (tx, ty) for the whole batch or an (n, 2) array of per-sample shifts.
    """
    angle = per_sample(angle, n, "angle", who)
    t = np.asarray(translate.detach().cpu().numpy() if hasattr(translate, "detach") else translate)
    if t.dtype.kind not in "biuf":
        raise TypeError(f"{who}: translate must be numeric, got dtype {t.dtype}")
    t = t.astype(np.float64)
    if t.shape == (2,):
        t = np.broadcast_to(t, (n, 2)).copy()
    elif t.shape != (n, 2):
        raise ValueError(f"{who}: translate must be (tx, ty) or one pair per sample, shape ({n}, 2); "
                         f"got shape {t.shape}")
    if not np.all(np.isfinite(t)):
        raise ValueError(f"{who}: translate must be finite")
    scale = per_sample(scale, n, "scale", who)
    if np.any(scale <= 0):
        raise ValueError(f"{who}: scale must be positive, got {scale}")
    return angle, t, scale


def check_crop_params(top, left, size, pad, shape, who="crop"):
    """top, left as int64 arrays (n,), the crop size (h, w) and pad; the crop must fit the padded image."""
    n, _, height, width = shape
    if isinstance(pad, (bool, np.bool_)) or not isinstance(pad, (int, np.integer)) or pad < 0:
        raise ValueError(f"{who}: pad must be a non-negative integer, got {pad!r}")
    pad = int(pad)
    sizes = (size, size) if isinstance(size, (int, np.integer)) else tuple(size)
    if len(sizes) != 2 or not all(isinstance(s, (int, np.integer)) and not isinstance(s, (bool, np.bool_))
                                  and s >= 1 for s in sizes):
        raise ValueError(f"{who}: size must be a positive integer or a pair (h, w) of them, got {size!r}")
    h, w = int(sizes[0]), int(sizes[1])
    ph, pw = height + 2 * pad, width + 2 * pad
    if h > ph or w > pw:
        raise ValueError(f"{who}: a crop of {h}x{w} does not fit the padded image {ph}x{pw}")
    out = []
    for value, name, limit in ((top, "top", ph - h), (left, "left", pw - w)):
        a = per_sample(value, n, name, who)
        if np.any(a != np.round(a)):
            raise ValueError(f"{who}: {name} must hold integers, got {a}")
        if np.any(a < 0) or np.any(a > limit):
            raise ValueError(f"{who}: {name} must lie in [0, {limit}] (padded size minus crop size), got {a}")
        out.append(a.astype(np.int64))
    return out[0], out[1], h, w, pad


def check_flags(which, n, who="hflip"):
    """Per-sample booleans (n,); None means every sample; a single bool applies to all."""
    if which is None:
        return np.ones(n, dtype=bool)
    a = np.asarray(which.detach().cpu().numpy() if hasattr(which, "detach") else which)
    if a.ndim == 0:
        a = np.full(n, a)
    if a.shape != (n,):
        raise ValueError(f"{who}: which must be one flag or one per sample, shape ({n},); got shape {a.shape}")
    return as_booleans(a, f"{who}: which")


def check_brightness(factor, n, who="brightness"):
    """Per-sample non-negative factors (n,), like torchvision's ``adjust_brightness``."""
    factor = per_sample(factor, n, "factor", who)
    if np.any(factor < 0):
        raise ValueError(f"{who}: factor must be non-negative, got {factor}")
    return factor


# --------------------------------------------------------------------------------------------
# Geometric transforms
# --------------------------------------------------------------------------------------------

def inverse_matrices(angle, translate, scale):
    """(n, 2, 3) float64: output pixel (relative to the centre) -> source pixel (relative to the centre).

    torchvision's ``_get_inverse_affine_matrix(center=0, -angle, translate, scale, shear=0)``:
    M = R(-angle) / scale, offset = M @ (-translate).
    """
    rot = np.radians(-angle)  # torchvision's clockwise angle
    c, s = np.cos(rot), np.sin(rot)
    # torchvision: a = cos, b = -sin, c = sin, d = cos; inverse = [d, -b; -c, a] / scale
    m = np.empty((len(angle), 2, 3))
    m[:, 0, 0] = c / scale
    m[:, 0, 1] = s / scale
    m[:, 1, 0] = -s / scale
    m[:, 1, 1] = c / scale
    tx, ty = translate[:, 0], translate[:, 1]
    m[:, 0, 2] = m[:, 0, 0] * -tx + m[:, 0, 1] * -ty
    m[:, 1, 2] = m[:, 1, 0] * -tx + m[:, 1, 1] * -ty
    return m


def bilinear_sample(x, src_x, src_y):
    """x sampled at (src_x, src_y) (pixel indices, shape (N, H', W')), zero outside: (N, C, H', W').

    The four neighbours (floor and floor + 1 in each direction) are gathered
    for every output pixel at once; one outside the image contributes 0,
    exactly like ``grid_sample(..., mode="bilinear", padding_mode="zeros")``.
    """
    n, c, height, width = x.shape
    x0 = np.floor(src_x)
    y0 = np.floor(src_y)
    wx1 = src_x - x0  # weight of the right neighbour
    wy1 = src_y - y0  # weight of the lower neighbour
    wx0 = 1 - wx1
    wy0 = 1 - wy1
    batch = np.arange(n)[:, None, None, None]
    chan = np.arange(c)[None, :, None, None]
    out = np.zeros((n, c) + src_x.shape[1:], dtype=x.dtype)
    for dy, wy in ((0, wy0), (1, wy1)):
        for dx, wx in ((0, wx0), (1, wx1)):
            xi = x0 + dx
            yi = y0 + dy
            inside = (xi >= 0) & (xi <= width - 1) & (yi >= 0) & (yi <= height - 1)
            xi = np.clip(xi, 0, width - 1).astype(np.intp)
            yi = np.clip(yi, 0, height - 1).astype(np.intp)
            weight = np.where(inside, wx * wy, 0).astype(x.dtype)
            out += x[batch, chan, yi[:, None], xi[:, None]] * weight[:, None]
    return out


def affine(x, angle, translate=(0.0, 0.0), scale=1.0):
    """Rotate by ``angle`` degrees counter-clockwise about the centre, scale by ``scale``, then shift
    by ``translate`` = (tx, ty) pixels (right, down); bilinear, fill 0.

    Equals torchvision's ``affine(img, -angle, translate, scale, shear=0, interpolation=BILINEAR)``
    (its angle turns clockwise). Each parameter is one value for the batch or one per sample
    (``translate``: (2,) or (N, 2)).
    """
    n, _, height, width = check_images(np.shape(x), np.asarray(x).dtype, "affine")
    x = np.asarray(x)
    angle, translate, scale = check_affine_params(angle, translate, scale, n)
    m = inverse_matrices(angle, translate, scale).astype(x.dtype)  # rounded to the dtype, like torchvision
    cx = x.dtype.type((width - 1) / 2)
    cy = x.dtype.type((height - 1) / 2)
    gx = (np.arange(width, dtype=x.dtype) - cx)[None, None, :]   # output pixel, relative to the centre
    gy = (np.arange(height, dtype=x.dtype) - cy)[None, :, None]
    m = m[:, :, :, None, None]
    src_x = m[:, 0, 0] * gx + m[:, 0, 1] * gy + m[:, 0, 2] + cx
    src_y = m[:, 1, 0] * gx + m[:, 1, 1] * gy + m[:, 1, 2] + cy
    return bilinear_sample(x, src_x, src_y)


def rotate(x, angle):
    """Rotate by ``angle`` degrees counter-clockwise about the centre (torchvision's ``rotate``,
    bilinear, same size, fill 0)."""
    return affine(x, angle, (0.0, 0.0), 1.0)


def translate(x, tx, ty):
    """Shift by ``tx`` pixels right and ``ty`` down (fractions interpolate bilinearly), fill 0."""
    n = check_images(np.shape(x), np.asarray(x).dtype, "translate")[0]
    t = np.stack([per_sample(tx, n, "tx", "translate"), per_sample(ty, n, "ty", "translate")], axis=1)
    return affine(x, 0.0, t, 1.0)


def scale(x, factor):
    """Zoom by ``factor`` about the centre (> 1 enlarges), bilinear, fill 0."""
    return affine(x, 0.0, (0.0, 0.0), factor)


# --------------------------------------------------------------------------------------------
# Crop, flip, brightness
# --------------------------------------------------------------------------------------------

def crop(x, top, left, size, pad=0):
    """Pad every side with ``pad`` zeros, then cut out ``size`` (h or (h, w)) at (top, left) of the
    padded image: torchvision's ``RandomCrop(size, padding=pad)`` with its draw made explicit.

    ``top``/``left`` are integers, one for the batch or one per sample, in
    [0, H + 2 pad - h] and [0, W + 2 pad - w].
    """
    shape = check_images(np.shape(x), np.asarray(x).dtype, "crop")
    x = np.asarray(x)
    top, left, h, w, pad = check_crop_params(top, left, size, pad, shape)
    padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    rows = top[:, None] + np.arange(h)   # (N, h)
    cols = left[:, None] + np.arange(w)  # (N, w)
    batch = np.arange(shape[0])[:, None, None, None]
    chan = np.arange(shape[1])[None, :, None, None]
    return padded[batch, chan, rows[:, None, :, None], cols[:, None, None, :]]


def hflip(x, which=None):
    """Mirror left-right (``torch.flip(x, dims=(-1,))``); ``which`` (N booleans) flips only those samples."""
    n = check_images(np.shape(x), np.asarray(x).dtype, "hflip")[0]
    x = np.asarray(x)
    which = check_flags(which, n)
    return np.where(which[:, None, None, None], x[..., ::-1], x)


def brightness(x, factor):
    """x * factor clipped to [0, 1]: torchvision's ``adjust_brightness`` on float images."""
    n = check_images(np.shape(x), np.asarray(x).dtype, "brightness")[0]
    x = np.asarray(x)
    factor = check_brightness(factor, n).astype(x.dtype)
    return np.clip(x * factor[:, None, None, None], 0, 1)


# --------------------------------------------------------------------------------------------
# Random augmentation with a reproducible draw
# --------------------------------------------------------------------------------------------

def check_range(value, name, lower=None):
    """A pair (lo, hi) of finite floats with lo <= hi (and lo >= ``lower`` when given)."""
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"Augmenter: {name} must be a pair (low, high), got {value!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo > hi or (lower is not None and lo < lower):
        bound = f" with low >= {lower}" if lower is not None else ""
        raise ValueError(f"Augmenter: {name} must be a finite pair low <= high{bound}, got {value!r}")
    return lo, hi


def check_augmenter_args(max_angle, max_shift, scale_range, brightness_range):
    """The Augmenter's ranges as floats: max_angle, max_shift >= 0, 0 < scale low <= high, 0 <= brightness."""
    for value, name in ((max_angle, "max_angle"), (max_shift, "max_shift")):
        if not (isinstance(value, (int, float, np.integer, np.floating)) and np.isfinite(value) and value >= 0):
            raise ValueError(f"Augmenter: {name} must be a finite number >= 0, got {value!r}")
    scale_range = check_range(scale_range, "scale_range")
    if scale_range[0] <= 0:
        raise ValueError(f"Augmenter: scale_range must be positive, got {scale_range!r}")
    brightness_range = check_range(brightness_range, "brightness_range", lower=0.0)
    return float(max_angle), float(max_shift), scale_range, brightness_range


def draw_params(rng, n, max_angle=0.0, max_shift=0.0, scale_range=(1.0, 1.0), flip=False,
                brightness_range=(1.0, 1.0)):
    """Parameters for n samples from the NumPy generator ``rng``, always in the same order.

    angle ~ U(-max_angle, max_angle) degrees, translate ~ U(-max_shift, max_shift)
    pixels (n, 2), scale ~ U(scale_range), flip ~ Bernoulli(1/2) when ``flip``
    (else all False), brightness ~ U(brightness_range). Every quantity is
    drawn even when its range is a single point, so the stream of random
    numbers does not depend on which augmentations are switched on.
    """
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"Augmenter.draw: n must be a positive integer, got {n!r}")
    n = int(n)
    angle = rng.uniform(-max_angle, max_angle, size=n)
    shift = rng.uniform(-max_shift, max_shift, size=(n, 2))
    factor = rng.uniform(scale_range[0], scale_range[1], size=n)
    coin = rng.random(n) < 0.5
    bright = rng.uniform(brightness_range[0], brightness_range[1], size=n)
    return {"angle": angle, "translate": shift, "scale": factor,
            "flip": coin & bool(flip), "brightness": bright}


class Augmenter:
    """Random augmentation (8.1.1): flip, then rotate/scale/shift, then brightness, per sample.

    ``draw(n)`` returns the parameters of the next batch (a dict of arrays:
    angle (n,), translate (n, 2), scale (n,), flip (n,) booleans, brightness
    (n,)) from ``np.random.default_rng(seed)``; ``__call__(x)`` draws for
    ``len(x)`` samples and applies them (also kept in ``last_params``).
    ``apply(x, params)`` applies a given draw. The PyTorch backend draws with
    the same NumPy generator, so the same seed gives the same batches.
    """

    def __init__(self, seed=None, max_angle=0.0, max_shift=0.0, scale_range=(1.0, 1.0), flip=False,
                 brightness_range=(1.0, 1.0)):
        (self.max_angle, self.max_shift, self.scale_range,
         self.brightness_range) = check_augmenter_args(max_angle, max_shift, scale_range, brightness_range)
        self.flip = bool(flip)
        self.rng = np.random.default_rng(seed)
        self.last_params = None

    def draw(self, n):
        """The parameters for a batch of n samples (advances the generator)."""
        return draw_params(self.rng, n, self.max_angle, self.max_shift, self.scale_range, self.flip,
                           self.brightness_range)

    def apply(self, x, params):
        """hflip (where params['flip']), affine, brightness: the draw ``params`` applied to ``x``.

        Brightness (which clips to [0, 1]) is skipped when ``brightness_range`` is (1, 1).
        """
        x = hflip(x, params["flip"])
        x = affine(x, params["angle"], params["translate"], params["scale"])
        if self.brightness_range == (1.0, 1.0):  # off: no clipping of images outside [0, 1]
            return x
        return brightness(x, params["brightness"])

    def __call__(self, x):
        n = check_images(np.shape(x), np.asarray(x).dtype, "Augmenter")[0]
        self.last_params = self.draw(n)
        return self.apply(x, self.last_params)
