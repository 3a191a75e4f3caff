"""Attention (Deep Learning from Scratch 2, chapter 8), with PyTorch's operator:
``F.scaled_dot_product_attention(hs, ks, ks)``, softmax(hs ks^T / sqrt(H)) ks; the backward
pass asks autograd. The same checks as ``scratch.attention`` run first.
"""
import torch.nn.functional as F

from scratch.attention import check_attention_inputs
from scratch.checks import check_backward, check_forward_done

from ._tensor import as_tensor, backprop, track

__all__ = ["TimeAttention"]


class TimeAttention:
    """Scaled dot-product attention of T decoder steps (N, T, H) over S encoder vectors (N, S, H),
    the encoder's vectors serving as keys and values: ``F.scaled_dot_product_attention``."""

    def __init__(self):
        self.hs = None
        self.ks = None
        self.out = None

    def forward(self, hs, ks):
        hs, ks = as_tensor(hs), as_tensor(ks)
        check_attention_inputs(hs, ks)
        self.hs, self.ks = track(hs), track(ks)
        self.out = F.scaled_dot_product_attention(self.hs, self.ks, self.ks)
        return self.out

    def backward(self, dc):
        check_forward_done(self.out, "TimeAttention")
        dc = check_backward(as_tensor(dc), self.out, "TimeAttention", self.hs)
        return backprop(self.out, (self.hs, self.ks), dc)
