"""Local response normalization (AlexNet, chapter 8), like ``F.local_response_norm``.

Each activation is divided by a power of the mean square of its neighbours
across channels (axis 1) at the same position. Input (N, C, ...) of three or
more dimensions; an empty batch is refused. The backward pass is derived by
hand below.
"""
import numpy as np

from .checks import check_dout, check_forward_done, check_lrn_args, check_lrn_input

__all__ = ["LocalResponseNorm"]


def _channel_window_sum(a, before, after):
    """s[:, c] = sum of a[:, j] over channels c - before <= j <= c + after (zeros outside)."""
    C = a.shape[1]
    padded = np.zeros((a.shape[0], C + before + after) + a.shape[2:], dtype=a.dtype)
    padded[:, before:before + C] = a
    s = padded[:, :C].copy()
    for o in range(1, before + after + 1):
        s += padded[:, o:o + C]
    return s


class LocalResponseNorm:
    """Local response normalization across channels, exactly ``F.local_response_norm``:

    d[n, c] = k + alpha/size * sum_{j = c - size//2}^{c + (size-1)//2} x[n, j]^2
    y[n, c] = x[n, c] / d[n, c]^beta

    PyTorch divides alpha by ``size`` (the sum is an average over the window,
    computed with ``avg_pool3d``) and centres the window with zero padding:
    size//2 channels before c and (size-1)//2 after (AlexNet's paper writes
    alpha without the 1/size).

    Backward, with u[n, c] = dout[n, c] * y[n, c] / d[n, c]:
    dx[n, i] = dout[n, i] / d[n, i]^beta
               - 2 alpha beta / size * x[n, i] * sum_{c = i - (size-1)//2}^{i + size//2} u[n, c]
    (channel i lies in the window of c exactly when c runs over that
    mirrored range).
    """

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        self.size, self.alpha, self.beta, self.k = check_lrn_args(size, alpha, beta, k)
        self.x = None
        self.d = None
        self.d_beta = None
        self.out = None

    def forward(self, x):
        x = np.asarray(x)
        check_lrn_input(x)
        n = self.size
        mean_sq = _channel_window_sum(x * x, n // 2, (n - 1) // 2) / np.asarray(n, dtype=x.dtype)
        self.d = mean_sq * np.asarray(self.alpha, dtype=x.dtype) + np.asarray(self.k, dtype=x.dtype)
        self.d_beta = self.d ** np.asarray(self.beta, dtype=x.dtype)
        self.x = x
        self.out = x / self.d_beta
        return self.out

    def backward(self, dout):
        check_forward_done(self.out, "LocalResponseNorm")
        dout = check_dout(np.asarray(dout), self.out.shape, "LocalResponseNorm")
        n, dtype = self.size, self.out.dtype
        u = dout * self.out / self.d
        back = _channel_window_sum(u, (n - 1) // 2, n // 2)
        scale = np.asarray(2 * self.alpha * self.beta / n, dtype=dtype)
        return dout / self.d_beta - scale * self.x * back
