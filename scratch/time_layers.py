"""Layers over time (8.4, Deep Learning from Scratch 2, chapters 4-6): word embedding, the output
affine layer and softmax loss applied at every time step, and gradient clipping.

Data over time is (N, T, ...): N sequences of T steps, batch first (``batch_first=True`` in
PyTorch). Parameters follow PyTorch's layouts: ``Embedding.W`` (V, D) is ``nn.Embedding``'s
``weight``, ``TimeAffine.W`` (out, in) is ``nn.Linear``'s (the transpose of the sequel's).
The checks at the top of each ``forward`` are shared with ``reference.time_layers`` (same errors,
same words): they read only ``shape`` and ``dtype`` of arrays or tensors, and the values of the
integer indices and labels.
"""
import operator

import numpy as np

from .checks import (check_backward, check_batch, check_dout, check_floating, check_forward_done,
                     check_non_negative, check_param_dtype, dtype_name)

__all__ = ["Embedding", "TimeEmbedding", "TimeAffine", "TimeSoftmaxWithLoss", "clip_grads"]


# --- checks (shared with reference.time_layers)

def check_embedding_weight(W, who="Embedding"):
    """A floating weight matrix (V, D): one row of D values for each of V words."""
    if len(W.shape) != 2:
        raise ValueError(f"{who} needs W of shape (V, D) (one row per word), got {tuple(W.shape)}")
    check_floating(W, who)


def check_indices(idx, vocab_size, who="Embedding", ndim=None):
    """Integer word indices in [0, V), as a NumPy array; (N, T) when ``ndim`` is 2.

    Booleans are refused: W[mask] would pick rows by a mask, not by index.
    """
    idx = np.asarray(idx)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{who} expects integer word indices, got dtype {idx.dtype}")
    if ndim is not None and idx.ndim != ndim:
        raise ValueError(f"{who} expects indices of shape (N, T), got {idx.shape}")
    if idx.size and (idx.min() < 0 or idx.max() >= vocab_size):
        outside = int(np.count_nonzero((idx < 0) | (idx >= vocab_size)))
        raise ValueError(f"{who}: word indices must lie in [0, {vocab_size}), got range "
                         f"[{idx.min()}, {idx.max()}] ({outside} of {idx.size} outside)")
    return idx


def check_sequences(shape, who):
    """A non-empty batch of sequences (N, T, ...), N >= 1 and T >= 1; returns (N, T)."""
    shape = tuple(shape)
    if len(shape) != 3:
        raise ValueError(f"{who} expects data of shape (N, T, features), got {shape}")
    check_batch(shape, who)
    if shape[1] == 0:
        raise ValueError(f"{who}: sequences of length T = 0 (input of shape {shape}); T must be >= 1")
    return shape[:2]


def check_time_affine_params(W, b, who="TimeAffine"):
    """W (out, in), ``nn.Linear``'s layout, and b (out,), of one floating dtype."""
    if len(W.shape) != 2 or tuple(b.shape) != tuple(W.shape[:1]):
        raise ValueError(f"{who} needs W of shape (out, in) and b of shape (out,), "
                         f"got W {tuple(W.shape)} and b {tuple(b.shape)}")
    check_floating(W, who)
    if dtype_name(W.dtype) != dtype_name(b.dtype):
        raise TypeError(f"{who}: W is {dtype_name(W.dtype)} but b is {dtype_name(b.dtype)}")


def check_time_affine_input(x, W, who="TimeAffine"):
    """(N, T, in) of W's dtype, in = W.shape[1]."""
    check_sequences(x.shape, who)
    check_param_dtype(x, W, who)
    if x.shape[2] != W.shape[1]:
        raise ValueError(f"{who} expects {W.shape[1]} features per step, got input of shape {tuple(x.shape)}")


def check_ignore_index(ignore_index, who="TimeSoftmaxWithLoss"):
    """``ignore_index`` as a Python int (any value; -100 by default, as in PyTorch)."""
    try:
        return operator.index(ignore_index)
    except TypeError:
        raise TypeError(f"{who}: ignore_index must be an integer, got {ignore_index!r}") from None


def check_time_scores(xs, ts, ignore_index, who="TimeSoftmaxWithLoss"):
    """Floating scores (N, T, V) and integer labels (N, T), each in [0, V) or ``ignore_index``;
    returns the labels as an int64 NumPy array."""
    check_floating(xs, who)
    N, T = check_sequences(xs.shape, who)
    V = xs.shape[2]
    ts = np.asarray(ts)
    if ts.shape != (N, T):
        raise ValueError(f"{who}: labels of shape {ts.shape} do not match scores of shape "
                         f"{tuple(xs.shape)}; labels (N, T) = {(N, T)} expected")
    if ts.dtype.kind not in "iu":
        raise TypeError(f"{who} expects integer labels, got dtype {ts.dtype}")
    bad = (ts != ignore_index) & ((ts < 0) | (ts >= V))
    if np.any(bad):
        raise ValueError(f"{who}: labels must lie in [0, {V}) or equal ignore_index={ignore_index}, "
                         f"got {ts[bad][0]} ({int(np.count_nonzero(bad))} of {ts.size} outside)")
    return ts.astype(np.int64, copy=False)


def check_clip_args(grads, max_norm, who="clip_grads"):
    """A dict of floating gradients of one dtype (None values are skipped, like a parameter without
    ``.grad`` in PyTorch) and max_norm >= 0; returns the gradients that are not None."""
    if not isinstance(grads, dict):
        raise TypeError(f"{who} expects the gradient dict {{name: array}}, got {type(grads).__name__}")
    check_non_negative(max_norm, "max_norm")
    present = [g for g in grads.values() if g is not None]
    for key, g in grads.items():
        if g is not None:
            check_floating(g, f"{who}: gradient {key!r}")
    names = sorted({dtype_name(g.dtype) for g in present})
    if len(names) > 1:
        raise TypeError(f"{who}: gradients of different dtypes {names}; convert them to one dtype")
    return present


# --- layers

class Embedding:
    """Word embedding (DLFS2 4.1): out = W[idx], like ``F.embedding(idx, W)`` / ``nn.Embedding``.

    ``W`` (V, D) holds one row per word; ``idx`` is an integer array of any shape and ``out`` has
    shape idx.shape + (D,). Backward adds each row of dout into the row of dW it was read from:
    dW[idx[k]] += dout[k] for every k, with ``np.add.at``. A word that occurs twice must get both
    gradients; the assignment ``dW[idx] = dout`` keeps only the last, and even ``dW[idx] += dout``
    is a buffered read-modify-write that adds only once per distinct index:

        idx = [0, 2, 0], dout = [[1], [2], [3]]
        dW[idx] = dout          -> dW[0] = 3        (the first gradient, 1, is lost)
        np.add.at(dW, idx, dout) -> dW[0] = 1 + 3 = 4

    ``backward`` returns None: there is no gradient with respect to integer indices.
    """

    ndim = None  # any shape of indices

    def __init__(self, W):
        check_embedding_weight(W, type(self).__name__)
        self.W = W
        self.idx = None
        self.dW = None

    def forward(self, idx):
        self.idx = check_indices(idx, self.W.shape[0], type(self).__name__, self.ndim)
        return self.W[self.idx]

    def backward(self, dout):
        check_backward(dout, None if self.idx is None else self.idx.shape + self.W.shape[1:],
                       type(self).__name__, self.W)
        self.dW = np.zeros_like(self.W)
        np.add.at(self.dW, self.idx, dout)
        return None


class TimeEmbedding(Embedding):
    """Embedding of T steps at once (DLFS2 5.3.1): indices (N, T) -> vectors (N, T, D).

    The sequel loops over t with one Embedding per step; one lookup of all N*T indices gives the
    same rows, and ``np.add.at`` the same accumulated dW (a word repeated across steps included).
    """

    ndim = 2


class TimeAffine:
    """Affine layer at every time step (DLFS2 5.3.1): out[n, t] = x[n, t] W^T + b, like ``F.linear``.

    ``W`` (out, in) has ``nn.Linear``'s layout, as ``scratch.Affine`` (the sequel stores the
    transpose). The N*T steps are rows of one (N*T, in) matrix, so forward and backward are each one
    matrix product: dx = dout W, dW = dout^T x, db = sum over the N*T rows of dout.
    """

    def __init__(self, W, b):
        check_time_affine_params(W, b)
        self.W, self.b = W, b
        self.x = None
        self.dW = None
        self.db = None

    def forward(self, x):
        check_time_affine_input(x, self.W)
        self.x = x
        N, T, D = x.shape
        return (x.reshape(N * T, D) @ self.W.T + self.b).reshape(N, T, -1)

    def backward(self, dout):
        check_backward(dout, None if self.x is None else self.x.shape[:2] + self.W.shape[:1], "TimeAffine",
                       self.W)
        N, T, D = self.x.shape
        rows = dout.reshape(N * T, -1)
        self.dW = rows.T @ self.x.reshape(N * T, D)
        self.db = rows.sum(axis=0)
        return (rows @ self.W).reshape(N, T, D)


class TimeSoftmaxWithLoss:
    """Softmax cross-entropy at every time step (DLFS2 5.3.1), exactly
    ``F.cross_entropy(xs.reshape(-1, V), ts.reshape(-1), ignore_index=ignore_index)``.

    Forward: L = -1/M sum over the M positions (n, t) with ts[n, t] != ignore_index of
    log softmax(xs[n, t])[ts[n, t]], the log-softmax shifted by the maximum as in
    ``SoftmaxWithLoss``. Padding positions (label ``ignore_index``, -100 by default as in PyTorch)
    count neither in the sum nor in M, so padding does not dilute the loss.
    Backward: dxs[n, t] = (y[n, t] - onehot(ts[n, t])) / M * dout, and 0 at ignored positions.
    When every position is ignored, M = 0: the loss is NaN (0/0), as PyTorch's mean reduction
    gives, and dxs is all zeros, as PyTorch's gradient is.
    """

    def __init__(self, ignore_index=-100):
        self.ignore_index = check_ignore_index(ignore_index)
        self.loss = None
        self.y = None
        self.ts = None
        self.mask = None

    def forward(self, xs, ts):
        self.ts = check_time_scores(xs, ts, self.ignore_index)
        self.mask = self.ts != self.ignore_index
        shifted = xs - xs.max(axis=2, keepdims=True)
        log_y = shifted - np.log(np.exp(shifted).sum(axis=2, keepdims=True))
        self.y = np.exp(log_y)
        picked = np.take_along_axis(log_y, np.where(self.mask, self.ts, 0)[..., None], axis=2)[..., 0]
        count = int(np.count_nonzero(self.mask))
        total = -np.sum(picked, where=self.mask)
        self.loss = total / count if count else np.full((), np.nan, dtype=xs.dtype)[()]
        return self.loss

    def backward(self, dout=1):
        check_forward_done(self.y, "TimeSoftmaxWithLoss")
        check_dout(dout, (), "TimeSoftmaxWithLoss")
        dxs = self.y.copy()
        n, t = np.nonzero(self.mask)
        dxs[n, t, self.ts[n, t]] -= 1
        dxs *= self.mask[..., None]
        dxs *= dout / max(int(np.count_nonzero(self.mask)), 1)  # in place: keeps float32 float32
        return dxs


def clip_grads(grads, max_norm):
    """Gradient clipping by global norm (DLFS2 5.5.3), exactly ``torch.nn.utils.clip_grad_norm_``.

    total_norm = sqrt(sum over the gradients g of ||g||^2), the 2-norm of all of them as one vector
    (computed as PyTorch does: the norm of the per-gradient norms). Every gradient is multiplied in
    place by min(max_norm / (total_norm + 1e-6), 1): scaled down when the norm exceeds max_norm,
    unchanged (times 1) otherwise. The sequel writes ``if rate < 1: grad *= rate``; multiplying by
    the clamped rate, as PyTorch does, is the same except for a NaN norm, which then spreads to
    every gradient in both. Returns total_norm before clipping, in the gradients' dtype
    (float32 0.0 for a dict with no gradients, as PyTorch returns).
    """
    present = check_clip_args(grads, max_norm)
    if not present:
        return np.float32(0.0)
    dtype = present[0].dtype
    total_norm = np.linalg.norm(np.array([np.linalg.norm(g.reshape(-1)) for g in present], dtype=dtype))
    rate = np.minimum(dtype.type(max_norm) / (total_norm + dtype.type(1e-6)), dtype.type(1))
    with np.errstate(invalid="ignore"):  # an infinite gradient times rate 0 is NaN, silently as in PyTorch
        for g in present:
            g *= rate
    return total_norm
