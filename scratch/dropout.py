"""Dropout (6.4.3), PyTorch's inverted dropout by default, the book's on request.

Training drops each element with probability p = ``dropout_ratio``:

    inverted (``F.dropout``):  y = x * (mask / (1 - p)),   test: y = x
    book (``inverted=False``): y = x * mask,               test: y = x * (1 - p)

``mask`` holds True where the element is kept (probability 1 - p). The
scaling follows PyTorch's CPU kernel bit for bit: it divides the 0/1 mask by
(1 - p) in the input's dtype first, then multiplies the input by it
(``noise.div_(1 - p); input * noise``); (x * mask) / (1 - p) or
x * mask * (1 / (1 - p)) can differ from it in the last bit.
"""
import numpy as np

from .checks import as_float_array, check_dout, check_forward_done

__all__ = ["Dropout"]


def check_ratio(dropout_ratio):
    """``dropout_ratio`` as a float in [0, 1], else a ValueError (like ``F.dropout``)."""
    if not 0 <= dropout_ratio <= 1:
        raise ValueError(f"dropout_ratio must lie in [0, 1], got {dropout_ratio}")
    return float(dropout_ratio)


def check_mask(mask, shape):
    """A supplied keep-mask as booleans of ``shape``; 0/1 numbers are accepted."""
    mask = np.asarray(mask)
    if mask.shape != tuple(shape):
        raise ValueError(f"Dropout: mask of shape {mask.shape} does not match input of shape {tuple(shape)}")
    if mask.dtype != bool:
        if mask.dtype.kind not in "biuf" or not np.all((mask == 0) | (mask == 1)):
            raise ValueError(f"Dropout: mask must hold booleans (or 0/1), got dtype {mask.dtype}")
        mask = mask.astype(bool)
    return mask


class Dropout:
    """Dropout layer (6.4.3).

    ``inverted=True`` (default) is PyTorch's ``F.dropout``: survivors are
    scaled by 1 / (1 - p) in training and the test pass is the identity. The
    book's version (``inverted=False``) does not scale in training and
    multiplies by (1 - p) at test time; both have the same expected output.
    p = 1 (inverted) gives x * 0 whatever the mask, like ``F.dropout``.

    The mask is drawn from the layer's own ``np.random.default_rng(seed)``
    (the book: ``np.random.rand(*x.shape) > dropout_ratio``) unless
    ``forward`` is given one (``mask=``, True = keep; training only). ``backward`` applies
    the same factor as the last forward pass.
    """

    def __init__(self, dropout_ratio=0.5, inverted=True, seed=None):
        self.dropout_ratio = check_ratio(dropout_ratio)
        self.inverted = inverted
        self.rng = np.random.default_rng(seed)
        self.mask = None
        self.scale = None  # dy/dx of the last forward pass, elementwise (None: identity)
        self.out_shape = None

    def forward(self, x, train_flg=True, mask=None):
        x = as_float_array(x)
        p = self.dropout_ratio
        if train_flg:
            if mask is None:
                mask = self.rng.random(x.shape) >= p  # keep with probability 1 - p
            self.mask = check_mask(mask, x.shape)
            scale = self.mask.astype(x.dtype)
            if self.inverted:
                scale = np.zeros_like(x) if p == 1 else scale / x.dtype.type(1 - p)
        else:
            self.mask = None
            scale = None if self.inverted else x.dtype.type(1 - p)
        self.scale, self.out_shape = scale, x.shape
        return x * 1 if scale is None else x * scale

    def backward(self, dout):
        check_forward_done(self.out_shape, "Dropout")
        check_dout(dout, self.out_shape, "Dropout")
        return dout * 1 if self.scale is None else dout * self.scale
