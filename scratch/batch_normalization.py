"""Batch Normalization (6.3), like PyTorch's ``F.batch_norm`` / ``nn.BatchNorm1d`` / ``nn.BatchNorm2d``.

Training (6.3.1), per channel over the batch (and over H, W for images):

    mu = mean(x),  xc = x - mu,  var = mean(xc^2)      (biased variance)
    std = sqrt(var + eps),  xn = xc / std,  out = gamma * xn + beta

and the running statistics used at test time move towards the batch's:

    running_mean = momentum * running_mean + (1 - momentum) * mu
    running_var  = momentum * running_var  + (1 - momentum) * var * n / (n - 1)

Backward walks the book's computational graph (6.3.2, figure 6-17; Frederik
Kratzert's derivation) node by node, from out back to x. This is the readable
layer; ``scratch.fast.batch_normalization`` computes the same numbers faster
(channel-major memory, the graph collapsed into one closed form).
"""
import numpy as np

from .checks import check_batch_norm_input, check_batch_norm_params, check_dout, check_forward_done, \
    check_running_statistic

__all__ = ["BatchNormalization"]


class BatchNormalization:
    """Batch Normalization layer (6.3); PyTorch's semantics where the book differs.

    ``gamma`` and ``beta`` have shape (C,) and are shared with the network
    (not copied). Input is (N, C) or (N, C, H, W) (any (N, C, ...) works):
    statistics are taken per channel over every other axis, like
    ``BatchNorm1d`` / ``BatchNorm2d``. How the book differs
    (``scratch.book.BatchNormalization`` is the book's):

    * 4-D input: the book reshapes (N, C, H, W) to (N, C*H*W) and normalises
      every element position separately (gamma of shape C*H*W); here, as in
      ``BatchNorm2d``, one mean/variance and one gamma/beta per channel: the
      input is laid out as (N*H*W, C), one column per channel, and the book's
      2-D algorithm runs on those columns.
    * ``eps``: the book writes ``np.sqrt(var + 10e-7)`` (1e-6); PyTorch's
      default, used here, is 1e-5.
    * ``momentum``: same meaning as the book (weight of the old value, 0.9);
      PyTorch's ``momentum`` is the weight of the batch value, 1 - momentum.
    * running variance: PyTorch (and this layer) moves it towards the
      unbiased batch variance var * n / (n - 1), n = values per channel; the
      book uses the biased var. The output is normalised with the biased var
      in both. PyTorch (and this layer) refuse to train on one value per
      channel; the book allows it.
    * initial statistics: ``None`` gives running_mean = 0 and running_var = 1
      like PyTorch; the book starts running_var at 0 too. Given arrays are
      copied; read the current values from ``layer.running_mean`` and
      ``layer.running_var``.

    ``forward(x, train_flg=False)`` normalises with the running statistics
    and leaves them alone; ``backward`` then gives the gradients of that
    affine map. After ``backward``, ``dgamma`` and ``dbeta`` hold the
    parameter gradients.
    """

    def __init__(self, gamma, beta, momentum=0.9, running_mean=None, running_var=None, eps=1e-5):
        if not isinstance(gamma, np.ndarray) or not isinstance(beta, np.ndarray):
            raise TypeError("BatchNormalization needs gamma and beta as NumPy arrays (shared with the network)")
        check_batch_norm_params(gamma, beta, momentum, eps)
        self.gamma, self.beta = gamma, beta
        self.momentum, self.eps = float(momentum), float(eps)  # Python floats: float32 stays float32
        self.running_mean = self._statistic(running_mean, np.zeros, "running_mean")
        self.running_var = self._statistic(running_var, np.ones, "running_var")

        # kept by forward for backward, as in the book
        self.input_shape = None
        self.batch_size = None  # values per channel in the last training batch; None after an eval pass
        self.xc = None  # x - mu, one column per channel
        self.xn = None  # xc / std
        self.std = None  # (C,)
        self.dgamma = None
        self.dbeta = None

    def _statistic(self, value, default, name):
        if value is None:
            return default(self.gamma.shape, dtype=self.gamma.dtype)
        value = np.asarray(value)
        check_running_statistic(value, self.gamma, name)
        return value.copy()

    def forward(self, x, train_flg=True):
        check_batch_norm_input(x, self.gamma, train_flg)
        self.input_shape = x.shape
        return self._input_layout(self._forward(self._columns(x), train_flg))

    def _forward(self, x, train_flg):
        """The book's forward pass on x of shape (n, C), one column per channel."""
        if train_flg:
            mu = x.mean(axis=0)
            xc = x - mu
            var = np.mean(xc ** 2, axis=0)
            std = np.sqrt(var + self.eps)
            self.batch_size = x.shape[0]
            self._update_running_statistics(mu, var, self.batch_size)
        else:  # mu and var are the running statistics, constants
            xc = x - self.running_mean
            std = np.sqrt(self.running_var + self.eps)
            self.batch_size = None
        xn = xc / std
        self.xc, self.xn, self.std = xc, xn, std
        return self.gamma * xn + self.beta

    def _update_running_statistics(self, mu, var, n):
        """Towards the batch's mean and its unbiased variance var * n / (n - 1), as PyTorch does."""
        m = self.momentum
        self.running_mean[...] = m * self.running_mean + (1 - m) * mu
        self.running_var[...] = m * self.running_var + (1 - m) * var * n / (n - 1)

    def backward(self, dout):
        check_forward_done(self.input_shape, "BatchNormalization")
        check_dout(dout, self.input_shape, "BatchNormalization")
        return self._input_layout(self._backward(self._columns(dout)))

    def _backward(self, dout):
        """The book's graph (figure 6-17) backwards, node by node, on columns of (n, C).

        out = gamma xn + beta:     dbeta = sum(dout),  dgamma = sum(dout xn),  dxn = gamma dout
        xn = xc / std:             dxc = dxn / std,    dstd = -sum(dxn xc / std^2)
        std = sqrt(var + eps):     dvar = dstd / (2 std)
        var = mean(xc^2):          dxc += 2 xc dvar / n
        xc = x - mu, mu = mean(x): dmu = -sum(dxc),    dx = dxc + dmu / n
        """
        self.dbeta = dout.sum(axis=0)
        self.dgamma = np.sum(dout * self.xn, axis=0)
        dxn = self.gamma * dout
        dxc = dxn / self.std
        if self.batch_size is None:  # eval: mu and std are constants, out = gamma (x - mu) / std + beta
            return dxc
        n = self.batch_size
        dstd = -np.sum(dxn * self.xc / (self.std * self.std), axis=0)
        dvar = 0.5 * dstd / self.std
        dxc = dxc + (2.0 / n) * self.xc * dvar
        dmu = -np.sum(dxc, axis=0)
        return dxc + dmu / n

    def _columns(self, x):
        """(N, C, H, W) as (N*H*W, C): one column per channel, one row per sample and pixel.

        (N, C) input is already in this layout. The book reshapes to (N, C*H*W)
        instead: one column per element position.
        """
        return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])

    def _input_layout(self, columns):
        """(N*H*W, C) back to the input's shape (N, C, H, W)."""
        N, C = self.input_shape[:2]
        return np.moveaxis(columns.reshape((N,) + self.input_shape[2:] + (C,)), -1, 1)
