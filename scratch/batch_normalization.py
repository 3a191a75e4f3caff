"""Batch Normalization (6.3), like PyTorch's ``F.batch_norm`` / ``nn.BatchNorm1d`` / ``nn.BatchNorm2d``.

Training (6.3.1), per channel c over the batch (and over H, W for images):

    mu = mean(x),  var = mean((x - mu)^2)          (biased variance)
    xn = (x - mu) / sqrt(var + eps),  out = gamma * xn + beta

and the running statistics used at test time move towards the batch's:

    running_mean = momentum * running_mean + (1 - momentum) * mu
    running_var  = momentum * running_var  + (1 - momentum) * var * n / (n - 1)

Backward is the book's computational graph (6.3.2, Frederik Kratzert's
derivation), reduced over every axis but the channel axis and collapsed into
its closed form (see ``BatchNormalization.backward``); ``scratch.book``'s
layer keeps the graph node by node.
"""
import numpy as np

from .checks import check_batch, check_dout, check_dtype_matches, check_forward_done

__all__ = ["BatchNormalization"]


class BatchNormalization:
    """Batch Normalization layer (6.3); PyTorch's semantics where the book differs.

    ``gamma`` and ``beta`` have shape (C,) and are shared with the network
    (not copied). Input is (N, C) or (N, C, H, W) (any (N, C, ...) works):
    statistics are taken per channel over every other axis, like
    ``BatchNorm1d`` / ``BatchNorm2d``. How the book differs:

    * 4-D input: the book reshapes (N, C, H, W) to (N, C*H*W) and normalises
      every element position separately (gamma of shape C*H*W); here, as in
      ``BatchNorm2d``, one mean/variance and one gamma/beta per channel.
    * ``eps``: the book writes ``np.sqrt(var + 10e-7)`` (1e-6); PyTorch's
      default, used here, is 1e-5.
    * ``momentum``: same meaning as the book (weight of the old value, 0.9);
      PyTorch's ``momentum`` is the weight of the batch value, 1 - momentum.
    * running variance: PyTorch (and this layer) moves it towards the
      unbiased batch variance var * n / (n - 1), n = values per channel; the
      book uses the biased var. ``book_running_var=True`` keeps the book's.
      The output is normalised with the biased var in both.
    * initial statistics: ``None`` gives running_mean = 0 and running_var = 1
      like PyTorch; the book starts running_var at 0 too. Given arrays are
      copied; read the current values from ``layer.running_mean`` and
      ``layer.running_var``.

    ``forward(x, train_flg=False)`` normalises with the running statistics
    and leaves them alone; ``backward`` then gives the gradients of that
    affine map. After ``backward``, ``dgamma`` and ``dbeta`` hold the
    parameter gradients.
    """

    def __init__(self, gamma, beta, momentum=0.9, running_mean=None, running_var=None,
                 eps=1e-5, book_running_var=False):
        if not isinstance(gamma, np.ndarray) or not isinstance(beta, np.ndarray):
            raise TypeError("BatchNormalization needs gamma and beta as NumPy arrays (shared with the network)")
        if gamma.ndim != 1 or beta.shape != gamma.shape:
            raise ValueError(f"BatchNormalization needs gamma and beta of shape (C,), "
                             f"got gamma {gamma.shape} and beta {beta.shape}")
        if gamma.dtype.kind != "f" or beta.dtype != gamma.dtype:
            raise TypeError(f"BatchNormalization needs floating gamma and beta of one dtype, "
                            f"got gamma {gamma.dtype} and beta {beta.dtype}")
        if not 0 <= momentum <= 1:
            raise ValueError(f"momentum must lie in [0, 1], got {momentum}")
        if not eps >= 0:
            raise ValueError(f"eps must be >= 0, got {eps}")
        self.gamma, self.beta = gamma, beta
        self.momentum, self.eps = float(momentum), float(eps)  # Python floats: float32 stays float32
        self.book_running_var = book_running_var
        channels = gamma.shape[0]
        self.running_mean = self._statistic(running_mean, np.zeros, channels, "running_mean")
        self.running_var = self._statistic(running_var, np.ones, channels, "running_var")

        # kept by forward for backward
        self.batch_size = None  # values per channel in the last training batch
        self.input_shape = None
        self.x = None  # channel-major input, (C, M), of an eval-mode forward
        self.xn = None  # channel-major normalised input, (C, M), of a training forward
        self.std = None  # (C,)
        self.dgamma = None
        self.dbeta = None

    def _statistic(self, value, default, channels, name):
        if value is None:
            return default(channels, dtype=self.gamma.dtype)
        value = np.asarray(value)
        if value.shape != (channels,):
            raise ValueError(f"BatchNormalization: {name} must have shape ({channels},), got {value.shape}")
        check_dtype_matches(value, self.gamma, "BatchNormalization", name)
        return value.copy()

    def _check_input(self, x):
        if x.ndim < 2 or x.shape[1] != self.gamma.shape[0]:
            raise ValueError(f"BatchNormalization expects input of shape (N, {self.gamma.shape[0]}) or "
                             f"(N, {self.gamma.shape[0]}, H, W), got {x.shape}")
        check_dtype_matches(x, self.gamma, "BatchNormalization")

    def _check_batch(self, x, n):
        """PyTorch refuses to train on one value per channel (its variance is 0); the book allows it."""
        if n < 2:
            raise ValueError(f"BatchNormalization needs more than 1 value per channel when training, "
                             f"got input of shape {x.shape}")

    @staticmethod
    def _channel_major(x):
        """(N, C, ...) as (C, M), one row of M = N*H*W values per channel.

        Speed: a convolution's output already lies channel-major in memory,
        so this is a view, not a copy, and every statistic below is a
        reduction along contiguous rows. (The plain form reduces x over the
        axes (0, 2, 3); the numbers are the same.)
        """
        return np.moveaxis(x, 1, 0).reshape(x.shape[1], -1)

    def _input_layout(self, cm):
        """A (C, M) result back in the input's shape (N, C, ...), as a view."""
        N, C = self.input_shape[:2]
        return np.moveaxis(cm.reshape((C, N) + self.input_shape[2:]), 0, 1)

    def forward(self, x, train_flg=True):
        check_batch(np.shape(x), "BatchNormalization")
        self._check_input(x)
        self.input_shape = x.shape
        x = self._channel_major(x)
        gamma, beta = self.gamma[:, None], self.beta[:, None]
        if train_flg:
            n = x.shape[1]
            self._check_batch(x, n)
            mu = x.mean(axis=1)
            xc = x - mu[:, None]
            var = np.square(xc).mean(axis=1)
            std = np.sqrt(var + self.eps)

            running_var = var if self.book_running_var else var * n / (n - 1)
            self.running_mean[...] = self.momentum * self.running_mean + (1 - self.momentum) * mu
            self.running_var[...] = self.momentum * self.running_var + (1 - self.momentum) * running_var
            xn = np.divide(xc, std[:, None], out=xc)  # xn = xc / std, in xc's memory (xc is not needed again)
            out = xn * gamma
            out += beta
            self.batch_size, self.xn, self.x = n, xn, None
        else:
            # out = gamma (x - running_mean) / std + beta = x * scale + shift, two passes over x;
            # backward recomputes xn from x if it is ever called after an eval-mode forward
            std = np.sqrt(self.running_var + self.eps)
            scale = gamma / std[:, None]
            out = x * scale
            out += beta - self.running_mean[:, None] * scale
            self.batch_size, self.xn, self.x = None, None, x  # eval: mu and std do not depend on x
        self.std = std
        return self._input_layout(out)

    def backward(self, dout):
        """dgamma = sum(dout * xn), dbeta = sum(dout) and, in training,

            dx = gamma / std * (dout - mean(dout) - xn * mean(dout * xn)),

        the book's graph (6.3.2) collapsed: its nodes give dxn = gamma dout,
        dvar = -sum(dxn xc) / (2 std^3), dmu = -sum(dxn) / std (the dvar term of
        dmu sums xc, which is 0), and dx = dxn / std + 2 xc dvar / n + dmu / n;
        with xc = std xn the three terms are the formula above. It is also what
        PyTorch's CPU kernel computes. In eval mode mu and std are constants:
        dx = gamma / std * dout.
        """
        check_forward_done(self.input_shape, "BatchNormalization")
        check_dout(dout, self.input_shape, "BatchNormalization")
        dout = self._channel_major(dout)
        xn = self.xn if self.batch_size is not None else \
            (self.x - self.running_mean[:, None]) / self.std[:, None]
        self.dbeta = dout.sum(axis=1)
        work = xn * dout
        self.dgamma = work.sum(axis=1)
        scale = (self.gamma / self.std)[:, None]
        if self.batch_size is None:
            return self._input_layout(np.multiply(dout, scale, out=work))
        n = self.batch_size
        dx = np.multiply(xn, (self.dgamma / n)[:, None], out=work)  # xn * mean(dout * xn)
        np.subtract(dout, dx, out=dx)
        dx -= (self.dbeta / n)[:, None]
        dx *= scale
        return self._input_layout(dx)
