"""The book's ``common/util.py``: im2col/col2im, conv_output_size, smooth_curve, shuffle_dataset.

``im2col`` and ``col2im`` are ``scratch``'s readable ones, the book's loop over
the filter's (y, x) positions; ``im2col`` here returns float64 whatever the
input, as the book's (which fills ``np.zeros``).
"""
import numpy as np

from ..util import col2im
from ..util import im2col as _im2col

__all__ = ["smooth_curve", "shuffle_dataset", "conv_output_size", "im2col", "col2im"]

SMOOTH_WINDOW = 11  # the Kaiser window's length
SMOOTH_BETA = 2     # and its shape parameter


def smooth_curve(x):
    """A loss curve smoothed for plotting: a moving average weighted by a Kaiser window.

    y[i] = sum_k w[k] x[i + k - 5], w = kaiser(11, 2) / sum(kaiser(11, 2)).
    Beyond the ends the curve is mirrored as the book mirrors it: on the left
    x[10], ..., x[1] (the first point not repeated), on the right x[-1],
    ..., x[-10] (the last point repeated). The result has len(x) points.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1 or len(x) < SMOOTH_WINDOW:
        raise ValueError(f"smooth_curve needs a 1-D curve of at least {SMOOTH_WINDOW} points, "
                         f"got shape {x.shape}")
    pad = SMOOTH_WINDOW - 1
    w = np.kaiser(SMOOTH_WINDOW, SMOOTH_BETA)
    mirrored = np.concatenate([x[pad:0:-1], x, x[::-1][:pad]])
    smoothed = np.convolve(w / w.sum(), mirrored, mode="valid")  # len(x) + pad points
    half = pad // 2
    return smoothed[half:len(smoothed) - half]


def shuffle_dataset(x, t):
    """x and t in one random order, drawn with ``np.random.permutation`` (the book's global generator)."""
    if len(x) != len(t):
        raise ValueError(f"{len(x)} samples but {len(t)} labels")
    permutation = np.random.permutation(x.shape[0])
    return x[permutation], t[permutation]


def conv_output_size(input_size, filter_size, stride=1, pad=0):
    """(input_size + 2*pad - filter_size) / stride + 1 (equation 7.1), a float as in the book."""
    return (input_size + 2 * pad - filter_size) / stride + 1


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    """``scratch.im2col`` in float64: (N, C, H, W) -> (N*out_h*out_w, C*filter_h*filter_w)."""
    return _im2col(np.asarray(input_data, dtype=np.float64), filter_h, filter_w, stride, pad)
