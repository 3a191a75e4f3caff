"""Dropout (6.4.3), with PyTorch's operators: ``F.dropout``'s arithmetic, a mask you can see.

``F.dropout`` on the CPU (ATen ``_dropout_impl``) draws
``noise = empty_like(x).bernoulli_(1 - p)``, divides it in place,
``noise.div_(1 - p)``, and returns ``x * noise``. It cannot take a mask or a
generator, so this layer performs exactly those tensor operations itself:
with the same generator state its output equals ``F.dropout``'s bit for bit,
and a mask given to ``forward`` is used in place of the draw.

    training:  y = x * (mask / (1 - p)),   test: y = x

Gradients come from autograd.
"""
import torch
import torch.nn.functional as F

from scratch.checks import check_dout, check_forward_done, check_mask, check_ratio

from ._tensor import backprop, track

__all__ = ["Dropout"]


class Dropout:
    """Dropout layer (6.4.3), ``F.dropout``.

    The mask (True = keep, probability 1 - p) is drawn with ``bernoulli_``
    from the layer's own ``torch.Generator`` seeded with ``seed``, unless
    ``forward`` is given one (``mask=``, used in training only). p = 1
    gives x * 0 whatever the mask, like ``F.dropout``; the test pass is
    ``F.dropout(x, p, training=False)``, the identity.
    """

    def __init__(self, dropout_ratio=0.5, seed=None):
        self.dropout_ratio = check_ratio(dropout_ratio)
        self.generator = torch.Generator()
        if seed is None:
            self.generator.seed()
        else:
            self.generator.manual_seed(seed)
        self.mask = None
        self.x = None
        self.out = None

    def forward(self, x, train_flg=True, mask=None):
        self.x = track(x)
        mask = check_mask(mask, self.x.shape)
        p = self.dropout_ratio
        if not train_flg:
            self.mask = None
            self.out = F.dropout(self.x, p, training=False)
            return self.out
        if mask is None:
            self.mask = torch.empty_like(self.x).bernoulli_(1 - p, generator=self.generator).bool()
        else:
            self.mask = torch.from_numpy(mask)
        noise = self.mask.to(self.x.dtype)  # F.dropout: noise.div_(1 - p), then x * noise; p = 1 gives x * 0
        self.out = self.x * (noise.div_(1 - p) if p < 1 else torch.zeros((), dtype=self.x.dtype))
        return self.out

    def backward(self, dout):
        check_forward_done(self.out, "Dropout")
        check_dout(dout, self.out.shape, "Dropout")
        (dx,) = backprop(self.out, (self.x,), dout)
        return dx
