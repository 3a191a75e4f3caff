"""The book's ``common/layers.py`` (and ch05's ``layer_naive.py``), with the book's semantics.

Reused from ``scratch`` unchanged, because the math is the same:
``MulLayer``, ``AddLayer``, ``Relu``, ``Sigmoid``.

The book's own, where it differs from ``scratch`` (= PyTorch):

* ``Affine``: W stored (in, out) and out = x W + b (``scratch``: (out, in), x W^T + b);
* ``SoftmaxWithLoss``: the loss adds 1e-7 inside the log;
* ``Dropout``: not inverted (y = x * mask when training, x * (1 - p) at test
  time), mask drawn from the global ``np.random.rand``;
* ``BatchNormalization``: per element (4-D input is flattened to (N, C*H*W)),
  eps 1e-6, running variance biased and starting at 0, a batch of 1 allowed;
* ``Convolution``: ``scratch``'s readable layer (im2col, one product, col2im),
  computing in the weights' dtype (the book's im2col turns everything into
  float64) and taking a scalar bias;
* ``Pooling``: ``scratch``'s readable layer (im2col, max/argmax per window
  row, col2im), padded with 0 as the book's im2col pads (``scratch`` pads with -inf).

Inputs of a lower precision than the weights are promoted, as NumPy does in
the book's ``np.dot(x, W)``: float32 MNIST images meet float64 weights.
"""
import numpy as np

from .. import batch_normalization, convolution, dropout
from ..checks import as_float_array, check_batch, check_dout, check_forward_done
from ..layers import AddLayer, MulLayer, Relu, Sigmoid
from .functions import class_labels, cross_entropy_error, softmax

__all__ = ["MulLayer", "AddLayer", "Relu", "Sigmoid", "Affine", "SoftmaxWithLoss", "Dropout",
           "BatchNormalization", "Convolution", "Pooling", "BOOK_BATCH_NORM_EPS"]

BOOK_BATCH_NORM_EPS = 10e-7  # the book writes np.sqrt(var + 10e-7): 1e-6


def promoted(x, param):
    """``x`` in the dtype NumPy gives x combined with ``param`` (float32 images, float64 weights: float64)."""
    x = as_float_array(x)
    return x.astype(np.result_type(x.dtype, param.dtype), copy=False)


class Affine:
    """Fully connected layer as the book stores it (5.6.2): out = x W + b, W of shape (in, out).

    Backward: dx = dout W^T, dW = x^T dout, db = sum_n dout. Input of any
    shape (N, ...) is flattened to (N, in). ``scratch.Affine`` stores the
    transpose, (out, in), like ``nn.Linear``.
    """

    def __init__(self, W, b):
        W, b = np.asarray(W), np.asarray(b)
        if W.ndim != 2 or b.shape != (W.shape[1],):
            raise ValueError(f"Affine needs W of shape (in, out) and b of shape (out,), "
                             f"got W {W.shape} and b {b.shape}")
        self.W, self.b = W, b
        self.x = None
        self.original_x_shape = None
        self.dW = None
        self.db = None

    def forward(self, x):
        x = np.asarray(x)
        check_batch(x.shape, "Affine")
        self.original_x_shape = x.shape
        x = x.reshape(x.shape[0], -1)
        if x.shape[1] != self.W.shape[0]:
            raise ValueError(f"Affine expects {self.W.shape[0]} input features per sample, "
                             f"got input of shape {self.original_x_shape}")
        self.x = x
        return np.dot(x, self.W) + self.b

    def backward(self, dout):
        check_forward_done(self.x, "Affine")
        check_dout(dout, (self.x.shape[0], self.W.shape[1]), "Affine")
        dx = np.dot(dout, self.W.T)
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return dx.reshape(self.original_x_shape)


class SoftmaxWithLoss:
    """Softmax and the book's cross-entropy error (5.6.3): L = -1/N sum_n log(y[n, t_n] + 1e-7).

    Backward: dx = (y - t) / N, t one-hot (the 1e-7 is left out of the
    derivative, as in the book). ``t`` holds labels (N,) or (N, 1), or one-hot rows.
    """

    def __init__(self):
        self.loss = None
        self.y = None
        self.t = None

    def forward(self, x, t):
        x = as_float_array(x)
        if x.ndim != 2:
            raise ValueError(f"SoftmaxWithLoss expects scores of shape (N, classes), got {x.shape}")
        check_batch(x.shape, "SoftmaxWithLoss")
        self.t = class_labels(t, x)
        self.y = softmax(x)
        self.loss = cross_entropy_error(self.y, self.t)
        return self.loss

    def backward(self, dout=1):
        check_forward_done(self.y, "SoftmaxWithLoss")
        check_dout(dout, (), "SoftmaxWithLoss")
        batch_size = self.y.shape[0]
        dx = self.y.copy()
        dx[np.arange(batch_size), self.t] -= 1
        return dx * dout / batch_size  # divided by N as the book does (scratch multiplies by dout / N)


class Dropout(dropout.Dropout):
    """The book's dropout (6.4.3), not inverted: y = x * mask when training, x * (1 - p) at test time.

    mask = np.random.rand(*x.shape) > p, from NumPy's global generator, so
    ``np.random.seed`` fixes it. ``scratch.Dropout`` is PyTorch's inverted
    dropout (survivors scaled by 1 / (1 - p), identity at test time). Backward
    (``scratch.Dropout``'s): dout times the same factor, the mask or (1 - p).
    """

    def __init__(self, dropout_ratio=0.5):
        super().__init__(dropout_ratio)

    def forward(self, x, train_flg=True):
        x = as_float_array(x)
        if train_flg:
            self.mask = np.random.rand(*x.shape) > self.dropout_ratio
            self.scale = self.mask.astype(x.dtype)
        else:
            self.mask, self.scale = None, x.dtype.type(1 - self.dropout_ratio)
        self.out_shape = x.shape
        return x * self.scale


class BatchNormalization(batch_normalization.BatchNormalization):
    """The book's batch normalization (6.3): ``scratch``'s graph on the book's columns.

        mu = mean_n x,  var = mean_n (x - mu)^2,  out = gamma (x - mu) / sqrt(var + 1e-6) + beta
        running_mean = m running_mean + (1 - m) mu,  running_var = m running_var + (1 - m) var

    Forward and backward are ``scratch.BatchNormalization``'s, the book's
    graph node by node; what differs from it (= PyTorch's):

    * 4-D input (N, C, H, W) is flattened to (N, C*H*W): every element
      position is a column with its own mean, variance, gamma and beta
      (``BatchNorm2d`` shares them per channel);
    * eps is 1e-6 (the book's 10e-7), not 1e-5;
    * the running variance moves towards the biased batch variance and starts
      at 0, not at 1 (a network evaluated before training divides by
      sqrt(1e-6));
    * a batch of one sample may be trained on (var = 0: the output is beta).
    """

    def __init__(self, gamma, beta, momentum=0.9, running_mean=None, running_var=None):
        gamma, beta = np.asarray(gamma), np.asarray(beta)
        if running_var is None:
            running_var = np.zeros_like(gamma)
        super().__init__(gamma, beta, momentum, running_mean, running_var, eps=BOOK_BATCH_NORM_EPS)

    def forward(self, x, train_flg=True):
        x = promoted(x, self.gamma)
        check_book_batch_norm_input(x, self.gamma)
        self.input_shape = x.shape
        return self._input_layout(self._forward(self._columns(x), train_flg))

    def _update_running_statistics(self, mu, var, n):
        """The book moves running_var towards the biased batch variance."""
        m = self.momentum
        self.running_mean[...] = m * self.running_mean + (1 - m) * mu
        self.running_var[...] = m * self.running_var + (1 - m) * var

    def _columns(self, x):
        """(N, C, H, W) as (N, C*H*W), as the book reshapes it: one column per element position."""
        return x.reshape(x.shape[0], -1)

    def _input_layout(self, columns):
        return columns.reshape(self.input_shape)


def check_book_batch_norm_input(x, gamma):
    """A batch (N, ...) with gamma.size values per sample (any N >= 1 trains, as in the book)."""
    check_batch(x.shape, "BatchNormalization")
    if x[0].size != gamma.shape[0]:
        raise ValueError(f"BatchNormalization: gamma has {gamma.shape[0]} elements, so the input "
                         f"must have that many values per sample, got {x.shape}")


class Convolution(convolution.Convolution):
    """``scratch.Convolution`` (7.4.3) as the book uses it.

    Input is promoted to the weights' dtype (the book's im2col makes
    float64, so float32 or float16 images meet float64 filters), and a scalar
    bias ``b`` is one bias per filter (ch07/apply_filter.py passes 0).
    """

    def __init__(self, W, b, stride=1, pad=0):
        W = np.asarray(W)
        if np.ndim(b) == 0:
            b = np.full(W.shape[0] if W.ndim else 0, b, dtype=W.dtype)
        super().__init__(W, np.asarray(b), stride, pad)

    def forward(self, x):
        return super().forward(promoted(x, self.W))


class Pooling(convolution.Pooling):
    """``scratch.Pooling`` (7.4.4) as the book writes it: im2col, the maximum of each window row,
    backward through the window rows' argmax and col2im, with the padding filled with 0 (the
    book's im2col pads with zeros, so a 0 of padding can beat negative inputs; ``scratch``
    pads with -inf, as PyTorch). Without padding, as the book's networks pool, the two agree.
    """

    padding_value = 0.0
