"""Data augmentation (8.1.1) with PyTorch's operators: ``F.affine_grid`` + ``F.grid_sample``, ``torch.flip``,
``F.pad``, ``clamp``.

Same functions, parameters and conventions as ``scratch.augment`` (read its
docstring): ``affine(x, angle, translate, scale)`` rotates ``angle`` degrees
counter-clockwise about the centre ((W - 1) / 2, (H - 1) / 2) in pixel
indices, scales, then shifts by (tx, ty) pixels (right, down), bilinear, fill
0; it equals ``torchvision.transforms.v2.functional.affine(img, -angle,
translate, scale, shear=0, interpolation=BILINEAR)``.

How the grid is built: torchvision's inverse matrix M (pixel units, relative
to the centre; computed here in float64 with torch's own cos/sin) is
rewritten for normalised coordinates, where x_n = x_pixel / (W / 2) and
y_n = y_pixel / (H / 2):

    theta = [[M00,             M01 * H / W, M02 / (W / 2)],
             [M10 * W / H,     M11,         M12 / (H / 2)]]

``F.affine_grid(theta, size, align_corners=False)`` puts output pixel j at
x_n = (2 j + 1) / W - 1 = (j - (W - 1) / 2) / (W / 2), i.e. the pixel centre
relative to the image centre, and ``F.grid_sample(..., align_corners=False,
padding_mode="zeros")`` maps x_n back to the pixel index (x_n + 1) W / 2 - 1/2
-- the same convention torchvision's ``_affine_grid`` + ``grid_sample(...,
align_corners=False)`` uses. With ``align_corners=True`` the corner pixels'
centres would sit at +-1 instead and every non-trivial transform would be
off by a fraction of a pixel.

Inputs may be NumPy arrays or tensors; results are tensors. Parameter checks
are ``scratch.augment``'s own, so both backends raise the same errors.
"""
import numpy as np
import torch
import torch.nn.functional as F

from scratch.augment import (check_affine_params, check_augmenter_args, check_brightness, check_crop_params,
                             check_flags, check_images, draw_params, per_sample)

from ._tensor import as_tensor

__all__ = ["affine", "rotate", "translate", "scale", "crop", "hflip", "brightness", "Augmenter", "draw_params"]


def _images(x, who):
    """``x`` as a tensor after the shared (N, C, H, W) / float32-float64 check; also returns N."""
    x = as_tensor(x)
    n = check_images(tuple(x.shape), x.dtype, who)[0]
    return x, n


def affine(x, angle, translate=(0.0, 0.0), scale=1.0):
    """Rotate ``angle`` degrees counter-clockwise, scale, shift (tx, ty): affine_grid + grid_sample."""
    x, n = _images(x, "affine")
    angle, translate, scale = (torch.from_numpy(a) for a in check_affine_params(angle, translate, scale, n))
    height, width = x.shape[-2:]
    rot = torch.deg2rad(-angle)  # torchvision's clockwise angle
    cos, sin = torch.cos(rot) / scale, torch.sin(rot) / scale
    # torchvision's _get_inverse_affine_matrix with centre 0 and shear 0
    m = torch.stack([torch.stack([cos, sin], dim=1), torch.stack([-sin, cos], dim=1)], dim=1)  # (N, 2, 2)
    offset = -(m @ translate.unsqueeze(-1)).squeeze(-1)  # (N, 2)
    half = torch.tensor([width / 2, height / 2], dtype=torch.float64)
    theta = torch.empty(n, 2, 3, dtype=torch.float64)
    theta[:, :, :2] = m * half.view(1, 1, 2) / half.view(1, 2, 1)
    theta[:, :, 2] = offset / half
    grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def rotate(x, angle):
    """Rotate ``angle`` degrees counter-clockwise about the centre (torchvision's ``rotate``)."""
    return affine(x, angle, (0.0, 0.0), 1.0)


def translate(x, tx, ty):
    """Shift by ``tx`` pixels right and ``ty`` down, fill 0."""
    x, n = _images(x, "translate")
    t = np.stack([per_sample(tx, n, "tx", "translate"), per_sample(ty, n, "ty", "translate")], axis=1)
    return affine(x, 0.0, t, 1.0)


def scale(x, factor):
    """Zoom by ``factor`` about the centre, fill 0."""
    return affine(x, 0.0, (0.0, 0.0), factor)


def crop(x, top, left, size, pad=0):
    """``F.pad`` with zeros, then the (h, w) window at (top, left) of every sample (one gather)."""
    x, n = _images(x, "crop")
    top, left, h, w, pad = check_crop_params(top, left, size, pad, tuple(x.shape))
    padded = F.pad(x, (pad, pad, pad, pad))
    rows = torch.from_numpy(top)[:, None] + torch.arange(h)
    cols = torch.from_numpy(left)[:, None] + torch.arange(w)
    batch = torch.arange(n)[:, None, None, None]
    chan = torch.arange(x.shape[1])[None, :, None, None]
    return padded[batch, chan, rows[:, None, :, None], cols[:, None, None, :]]


def hflip(x, which=None):
    """``torch.flip(x, dims=(-1,))``; ``which`` (N booleans) flips only those samples."""
    x, n = _images(x, "hflip")
    which = torch.from_numpy(check_flags(which, n))
    return torch.where(which.view(-1, 1, 1, 1), torch.flip(x, dims=(-1,)), x)


def brightness(x, factor):
    """``(x * factor).clamp(0, 1)``: torchvision's ``adjust_brightness`` on float images."""
    x, n = _images(x, "brightness")
    factor = torch.from_numpy(check_brightness(factor, n)).to(x.dtype)
    return (x * factor.view(-1, 1, 1, 1)).clamp(0, 1)


class Augmenter:
    """Random augmentation (8.1.1), ``scratch.augment.Augmenter`` with torch operators.

    The parameters come from the same ``np.random.default_rng(seed)`` stream
    (``scratch.augment.draw_params``), so the same seed gives the same draw,
    and the same augmented batch up to float rounding.
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
        """hflip (where params['flip']), affine, brightness (skipped when ``brightness_range`` is (1, 1))."""
        x = hflip(x, params["flip"])
        x = affine(x, params["angle"], params["translate"], params["scale"])
        if self.brightness_range == (1.0, 1.0):  # off: no clipping of images outside [0, 1]
            return x
        return brightness(x, params["brightness"])

    def __call__(self, x):
        x, n = _images(x, "Augmenter")
        self.last_params = self.draw(n)
        return self.apply(x, self.last_params)
