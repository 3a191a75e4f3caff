"""Input checks shared by both backends: clear errors instead of silent broadcasts.

Public, so that ``reference`` (the PyTorch mirror) raises the same errors with
the same words: a layer's ``forward`` starts with one call to a check from here
and then computes.
"""
import numpy as np


def as_float_array(x, name="x"):
    """Return ``x`` as a floating NumPy array; integers and lists become float64."""
    x = np.asarray(x)
    if x.dtype.kind in "biu":
        return x.astype(np.float64)
    if x.dtype.kind != "f":
        raise TypeError(f"{name} must be numeric, got dtype {x.dtype}")
    return x


def check_dtype_matches(x, param, layer, name="input"):
    """Refuse to mix float32 and float64: NumPy would silently upcast."""
    if x.dtype != param.dtype:
        raise TypeError(
            f"{layer}: {name} dtype {x.dtype} does not match parameter dtype {param.dtype}; "
            f"convert with x.astype(np.{param.dtype})")


def check_finite(value, what):
    """Raise FloatingPointError when ``value`` holds NaN or infinity."""
    if not np.all(np.isfinite(value)):
        raise FloatingPointError(f"{what} is not finite (NaN or inf); lower the learning rate or check the input")


def class_indices(t, n_classes, batch_shape):
    """Turn integer labels or one-hot rows into an int64 index array of ``batch_shape``.

    The book accepts both (``if t.size == y.size: t = t.argmax(axis=1)``); so does
    PyTorch's ``F.cross_entropy``. Labels are checked, never broadcast.
    """
    t = np.asarray(t)
    if t.shape == batch_shape + (n_classes,):
        if not np.all((t == 0) | (t == 1)) or not np.all(t.sum(axis=-1) == 1):
            raise ValueError("one-hot labels must hold exactly one 1 per row and 0 elsewhere")
        return t.argmax(axis=-1)
    if t.shape != batch_shape:
        raise ValueError(
            f"labels of shape {t.shape} fit neither integer labels {batch_shape} "
            f"nor one-hot labels {batch_shape + (n_classes,)}")
    if not np.issubdtype(t.dtype, np.integer):
        if np.issubdtype(t.dtype, np.floating) and np.all(t == np.round(t)):
            t = t.astype(np.int64)
        else:
            raise TypeError(f"integer labels expected, got dtype {t.dtype}")
    if t.size and (t.min() < 0 or t.max() >= n_classes):
        outside = int(np.count_nonzero((t < 0) | (t >= n_classes)))
        raise ValueError(f"labels must lie in [0, {n_classes}), got range [{t.min()}, {t.max()}] "
                         f"({outside} of {t.size} outside)")
    return t.astype(np.int64, copy=False)


def dtype_of(dtype):
    """Normalise a dtype given as a string, NumPy dtype or ``torch.float32``-like name."""
    if str(dtype).startswith("torch."):  # torch.float32 or the string "torch.float32"
        dtype = str(dtype)[len("torch."):]
    dt = np.dtype(dtype)  # np.float32 (a class), np.dtype('float32') or 'float32'
    if not np.issubdtype(dt, np.floating):
        raise TypeError(f"parameters must be floating point, got {dt}")
    return dt


def check_batch(shape, who):
    """A batch of at least one sample, (N, ...) with N >= 1; returns N."""
    shape = tuple(shape)
    if not shape:
        raise ValueError(f"{who} expects a batch (N, ...), got a 0-d input")
    if shape[0] == 0:
        raise ValueError(f"{who}: empty batch (input of shape {shape}); it needs at least one sample")
    return shape[0]


def check_forward_done(state, who):
    """``backward`` needs what ``forward`` kept: a RuntimeError instead of a NoneType error."""
    if state is None:
        raise RuntimeError(f"{who}.backward called before {who}.forward")


def check_dout(dout, out_shape, who):
    """``dout`` of exactly the forward output's shape, never broadcast; returns it unchanged."""
    dout_shape, out_shape = tuple(np.shape(dout)), tuple(out_shape)
    if dout_shape != out_shape:
        raise ValueError(f"{who}.backward: dout of shape {dout_shape} does not match "
                         f"the forward output shape {out_shape}")
    return dout


def check_size(value, name, who, minimum=1):
    """A network size (hidden units, filters, ...): an integer >= ``minimum``, else a ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{who}: {name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def nonfinite_samples(x):
    """How many samples (rows along axis 0) of the array ``x`` hold NaN or infinity."""
    if x.dtype.kind not in "fc":
        return 0
    return int(np.count_nonzero(~np.isfinite(x.reshape(len(x), -1)).all(axis=1)))


def check_non_negative(value, name):
    """A real number >= 0 (lr, eps, weight decay); NaN is refused."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    if not value >= 0:
        raise ValueError(f"{name} must be >= 0, got {value}")


def check_fraction(value, name, positive=False):
    """momentum, decay_rate, beta1, beta2: a number in [0, 1), or (0, 1) if ``positive``."""
    check_non_negative(value, name)
    if not value < 1 or (positive and value == 0):
        raise ValueError(f"{name} must lie in {'(0, 1)' if positive else '[0, 1)'}, got {value}")
