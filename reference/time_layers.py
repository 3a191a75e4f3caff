"""Layers over time (8.4, Deep Learning from Scratch 2, chapters 4-6), with PyTorch's operators:
``F.embedding``, ``F.linear``, ``F.cross_entropy(ignore_index=...)`` and
``torch.nn.utils.clip_grad_norm_``; the backward passes ask autograd (``torch.autograd.grad``).

Data over time is (N, T, ...), batch first. The same checks as ``scratch.time_layers`` (the same
errors, word for word) run at the top of each ``forward``.
"""
import numpy as np
import torch
import torch.nn.functional as F

from scratch.checks import check_backward, check_dout, check_forward_done
from scratch.time_layers import (check_clip_args, check_embedding_weight, check_ignore_index, check_indices,
                                 check_time_affine_input, check_time_affine_params, check_time_scores)

from ._tensor import as_param, as_tensor, backprop, to_numpy, track

__all__ = ["Embedding", "TimeEmbedding", "TimeAffine", "TimeSoftmaxWithLoss", "clip_grads"]


class Embedding:
    """Word embedding (DLFS2 4.1): out = W[idx], as ``F.embedding(idx, W)`` (``nn.Embedding``'s
    forward). W (V, D); indices of any shape; dW from autograd, which accumulates repeated words.
    ``backward`` returns None (no gradient with respect to indices)."""

    ndim = None  # any shape of indices

    def __init__(self, W):
        check_embedding_weight(as_tensor(W), type(self).__name__)
        self.W = as_param(W)
        self.out = None
        self.dW = None

    def forward(self, idx):
        idx = check_indices(to_numpy(idx), self.W.shape[0], type(self).__name__, self.ndim)
        self.out = F.embedding(torch.from_numpy(idx.astype(np.int64)), self.W)
        return self.out

    def backward(self, dout):
        dout = check_backward(as_tensor(dout), self.out, type(self).__name__, self.W)
        (self.dW,) = backprop(self.out, (self.W,), dout)
        return None


class TimeEmbedding(Embedding):
    """Embedding of T steps at once (DLFS2 5.3.1): indices (N, T) -> vectors (N, T, D), one ``F.embedding``."""

    ndim = 2


class TimeAffine:
    """Affine layer at every time step (DLFS2 5.3.1): ``F.linear(x, W, b)`` on (N, T, in), which
    treats the N*T steps as rows of one matrix product. W (out, in), ``nn.Linear``'s layout."""

    def __init__(self, W, b):
        check_time_affine_params(as_tensor(W), as_tensor(b))
        self.W, self.b = as_param(W), as_param(b)
        self.x = None
        self.out = None
        self.dW = None
        self.db = None

    def forward(self, x):
        x = as_tensor(x)
        check_time_affine_input(x, self.W)
        self.x = track(x)
        self.out = F.linear(self.x, self.W, self.b)
        return self.out

    def backward(self, dout):
        dout = check_backward(as_tensor(dout), self.out, "TimeAffine", self.W)
        dx, self.dW, self.db = backprop(self.out, (self.x, self.W, self.b), dout)
        return dx


class TimeSoftmaxWithLoss:
    """Softmax cross-entropy at every time step (DLFS2 5.3.1), as
    ``F.cross_entropy(xs.reshape(-1, V), ts.reshape(-1), ignore_index=ignore_index)``: the mean over
    the positions whose label is not ``ignore_index`` (-100 by default); NaN if every one is."""

    def __init__(self, ignore_index=-100):
        self.ignore_index = check_ignore_index(ignore_index)
        self.xs = None
        self.loss = None
        self.y = None
        self.ts = None

    def forward(self, xs, ts):
        xs = as_tensor(xs)
        self.ts = torch.from_numpy(check_time_scores(xs, to_numpy(ts), self.ignore_index))
        self.xs = track(xs)
        V = xs.shape[2]
        self.loss = F.cross_entropy(self.xs.reshape(-1, V), self.ts.reshape(-1), ignore_index=self.ignore_index)
        self.y = F.softmax(self.xs.detach(), dim=2)
        return self.loss

    def backward(self, dout=1):
        check_forward_done(self.loss, "TimeSoftmaxWithLoss")
        check_dout(dout, (), "TimeSoftmaxWithLoss")
        (dxs,) = backprop(self.loss, (self.xs,), dout)
        return dxs


def clip_grads(grads, max_norm):
    """Gradient clipping by global norm (DLFS2 5.5.3): ``torch.nn.utils.clip_grad_norm_`` over one
    stand-in parameter per gradient, its ``.grad`` set to that gradient. The gradients (tensors or
    NumPy arrays) are scaled in place; returns the total norm before clipping, as PyTorch does."""
    check_clip_args(grads, max_norm)
    stand_ins = {}
    for key, g in grads.items():
        if g is not None:
            stand_ins[key] = torch.empty_like(as_tensor(g))
            stand_ins[key].grad = as_tensor(g)
    total_norm = torch.nn.utils.clip_grad_norm_(list(stand_ins.values()), max_norm)
    for key, p in stand_ins.items():
        if not isinstance(grads[key], torch.Tensor):  # as_tensor may have copied a NumPy array
            np.copyto(grads[key], p.grad.numpy())
    return total_norm
