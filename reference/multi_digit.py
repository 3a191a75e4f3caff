"""Multi-digit pictures (8.4) for the PyTorch reference: the same generator as ``scratch.multi_digit``.

The pictures are data, not arithmetic to compare, so (like ``reference.mnist``
and the shared ``draw_params`` of ``reference.augment``) this module
re-exports the NumPy generator and its pieces instead of re-deriving them:
both backends train and test on exactly the same arrays for a seed. They are
NumPy arrays; torch code converts them itself (``torch.from_numpy(x)``).
Read ``scratch/multi_digit.py`` for the canvas, the draws and the box
conventions.
"""

from scratch.multi_digit import (CANVAS_SHAPE, MAX_DIGITS, PAD, SCALE_RANGE, MultiDigitPictures, check_digit_set,
                                 crop_to_ink, load_multi_digit, make_multi_digit, paste_max, render,
                                 resize_bilinear, row_layout, scale_digit)

# What the packages re-export (``from scratch import make_multi_digit``); the pieces a scene generator
# reuses (crop_to_ink, resize_bilinear, scale_digit, paste_max, render, row_layout, check_digit_set) are
# called through the module: ``scratch.multi_digit.render``.
__all__ = ["CANVAS_SHAPE", "MAX_DIGITS", "PAD", "SCALE_RANGE", "MultiDigitPictures", "make_multi_digit",
           "load_multi_digit"]
