"""Attention (Deep Learning from Scratch 2, chapter 8): at every decoder step, a weighted sum of
the encoder's vectors, weighted by how well each matches the decoder's state.

    hs (N, T, H)   the decoder's states (the queries), one per step
    ks (N, S, H)   the encoder's S vectors (the keys, and the values summed)

    a[n, t, s] = softmax over s of  hs[n, t] . ks[n, s] / sqrt(H)      (N, T, S)
    c[n, t]    = sum over s of      a[n, t, s] ks[n, s]                (N, T, H)

exactly ``F.scaled_dot_product_attention(hs, ks, ks)``, PyTorch's operator. The sequel's
``Attention`` (``AttentionWeight`` then ``WeightSum``, one step at a time) scores hs . ks without
the 1 / sqrt(H); PyTorch's scale keeps the scores of wide vectors from saturating the softmax.
"""
import math

from .checks import check_backward, check_floating, check_forward_done, dtype_name
from .functions import softmax
from .time_layers import check_sequences

__all__ = ["TimeAttention"]


def check_attention_inputs(hs, ks, who="TimeAttention"):
    """Queries (N, T, H) and keys (N, S, H): the same N and H, one floating dtype."""
    check_sequences(hs.shape, who)
    check_sequences(ks.shape, who)
    if hs.shape[0] != ks.shape[0] or hs.shape[2] != ks.shape[2]:
        raise ValueError(f"{who} expects queries (N, T, H) and keys (N, S, H) with the same N and H, got "
                         f"{tuple(hs.shape)} and {tuple(ks.shape)}")
    check_floating(hs, who)
    if dtype_name(hs.dtype) != dtype_name(ks.dtype):
        raise TypeError(f"{who}: queries are {dtype_name(hs.dtype)} but keys are {dtype_name(ks.dtype)}; "
                        f"give both one dtype")


class TimeAttention:
    """Scaled dot-product attention of T decoder steps over S encoder vectors (module docstring).

    Backward, from dc (N, T, H):
        da  = dc ks^T                          (the weighted sum)
        dks = a^T dc
        ds  = a * (da - sum over s of a da) / sqrt(H)      (softmax's Jacobian, then the scale)
        dhs = ds ks,   dks += ds^T hs          (the scores)
    """

    def __init__(self):
        self.hs = None
        self.ks = None
        self.a = None

    def forward(self, hs, ks):
        check_attention_inputs(hs, ks)
        self.hs, self.ks = hs, ks
        self.scale = 1 / math.sqrt(hs.shape[2])
        self.a = softmax(hs @ ks.transpose(0, 2, 1) * self.scale)  # softmax over the last axis, s
        return self.a @ ks

    def backward(self, dc):
        check_forward_done(self.a, "TimeAttention")
        check_backward(dc, self.hs.shape, "TimeAttention", self.hs)
        a, hs, ks = self.a, self.hs, self.ks
        da = dc @ ks.transpose(0, 2, 1)
        dks = a.transpose(0, 2, 1) @ dc
        ds = a * (da - (a * da).sum(axis=2, keepdims=True)) * self.scale
        dhs = ds @ ks
        dks += ds.transpose(0, 2, 1) @ hs
        return dhs, dks
