"""Dropout (6.4.3), PyTorch's inverted dropout.

Training drops each element with probability p = ``dropout_ratio`` and scales
the survivors so that the expected output is x:

    training:  y = x * (mask / (1 - p)),   test: y = x

(the book does not scale in training and multiplies by (1 - p) at test time:
``scratch.book.Dropout``).

``mask`` holds True where the element is kept (probability 1 - p). The
scaling follows PyTorch's CPU kernel bit for bit: it divides the 0/1 mask by
(1 - p) in the input's dtype first, then multiplies the input by it
(``noise.div_(1 - p); input * noise``); (x * mask) / (1 - p) or
x * mask * (1 / (1 - p)) can differ from it in the last bit.
Backward multiplies dout by the same factor: dx = dout * (mask / (1 - p)).
"""
import numpy as np

from .checks import as_float_array, check_dout, check_forward_done, check_mask, check_ratio

__all__ = ["Dropout"]


class Dropout:
    """Dropout layer (6.4.3), PyTorch's ``F.dropout``: survivors scaled by 1 / (1 - p) in training,
    the test pass the identity. The book's version (``scratch.book.Dropout``) does not scale in
    training and multiplies by (1 - p) at test time; both have the same expected output.
    p = 1 gives x * 0 whatever the mask, like ``F.dropout``.

    The mask is drawn from the layer's own ``np.random.default_rng(seed)``
    (the book: ``np.random.rand(*x.shape) > dropout_ratio``) unless
    ``forward`` is given one (``mask=``, True = keep; used in training only).
    ``backward`` applies the same factor as the last forward pass.
    """

    def __init__(self, dropout_ratio=0.5, seed=None):
        self.dropout_ratio = check_ratio(dropout_ratio)
        self.rng = np.random.default_rng(seed)
        self.mask = None
        self.scale = None  # dy/dx of the last forward pass, elementwise (None: identity)
        self.out_shape = None

    def forward(self, x, train_flg=True, mask=None):
        x = as_float_array(x)
        mask = check_mask(mask, x.shape)
        p = self.dropout_ratio
        if train_flg:
            self.mask = self.rng.random(x.shape) >= p if mask is None else mask  # keep with probability 1 - p
            # PyTorch's order: the 0/1 mask divided by (1 - p), then x times it
            self.scale = np.zeros_like(x) if p == 1 else self.mask.astype(x.dtype) / x.dtype.type(1 - p)
        else:
            self.mask, self.scale = None, None
        self.out_shape = x.shape
        return x * 1 if self.scale is None else x * self.scale

    def backward(self, dout):
        check_forward_done(self.out_shape, "Dropout")
        check_dout(dout, self.out_shape, "Dropout")
        return dout * 1 if self.scale is None else dout * self.scale
