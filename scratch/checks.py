"""Input checks shared by both backends: clear errors instead of silent broadcasts.

Public, so that ``reference`` (the PyTorch mirror) raises the same errors with
the same words: a layer's ``forward`` starts with one call to a check from here
and then computes.
"""
import operator

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


# --- convolution and pooling
# Shape arithmetic and input checks of im2col/col2im and the convolution and pooling layers,
# shared by scratch and reference (they work on NumPy arrays and torch tensors alike: only
# ``.shape`` and ``.dtype`` are read), so that both backends raise the same errors, word for word.

def check_count(value, name, minimum):
    """``value`` as a Python int >= ``minimum`` (a stride, a pad, a size), or a clear error."""
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {value!r}") from None
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def output_size(input_size, filter_size, stride=1, pad=0):
    """(input_size + 2*pad - filter_size) // stride + 1 (7.2.4, equation 7.1).

    The book divides with ``/`` and hopes for an integer; here positions that
    do not fit a whole filter are dropped, as PyTorch does, and a filter
    larger than the padded input is an error.
    """
    input_size = check_count(input_size, "input size", 0)
    filter_size = check_count(filter_size, "filter size", 1)
    stride = check_count(stride, "stride", 1)
    pad = check_count(pad, "pad", 0)
    if filter_size > input_size + 2 * pad:
        raise ValueError(f"filter of size {filter_size} does not fit an input of size {input_size} "
                         f"with padding {pad} (padded size {input_size + 2 * pad})")
    return (input_size + 2 * pad - filter_size) // stride + 1


def output_shape(input_shape, filter_h, filter_w, stride, pad, who):
    """(N, C, H, W, out_h, out_w) for a 4-D input shape, with clear errors."""
    input_shape = tuple(input_shape)
    if len(input_shape) != 4:
        raise ValueError(f"{who} expects 4-D data (N, C, H, W), got shape {input_shape}")
    N, C, H, W = (check_count(s, "input dimension", 0) for s in input_shape)
    try:
        out_h = output_size(H, filter_h, stride, pad)
        out_w = output_size(W, filter_w, stride, pad)
    except ValueError as err:
        raise ValueError(f"{who}: window {filter_h}x{filter_w} (stride {stride}, pad {pad}) "
                         f"on input of shape {input_shape}: {err}") from None
    return N, C, H, W, out_h, out_w


def check_pool(pool_h, pool_w, stride, pad, who="Pooling"):
    """Validated (pool_h, pool_w, stride, pad); PyTorch's rule pad <= pool // 2."""
    pool_h, pool_w = check_count(pool_h, "pool_h", 1), check_count(pool_w, "pool_w", 1)
    stride, pad = check_count(stride, "stride", 1), check_count(pad, "pad", 0)
    if pad > pool_h // 2 or pad > pool_w // 2:
        raise ValueError(f"{who}: pad should be at most half of the pool size (PyTorch's rule), "
                         f"got pad={pad} for a {pool_h}x{pool_w} pool")
    return pool_h, pool_w, stride, pad


def _dtype_name(dtype):
    """'float32' for np.float32 and torch.float32 alike."""
    return str(dtype).replace("torch.", "")


def _is_floating(dtype):
    """True for a floating NumPy dtype or torch dtype."""
    return dtype.is_floating_point if hasattr(dtype, "is_floating_point") else np.dtype(dtype).kind == "f"


def _check_same_dtype(x, param, who, name):
    if x.dtype != param.dtype:
        raise TypeError(f"{who}: {name} dtype {_dtype_name(x.dtype)} does not match parameter dtype "
                        f"{_dtype_name(param.dtype)}; convert the {name} to {_dtype_name(param.dtype)}")


def check_images(x, filter_h, filter_w, stride, pad, who):
    """A batch of floating (N, C, H, W) images a filter_h x filter_w window fits; returns output_shape's tuple."""
    if not _is_floating(x.dtype):
        raise TypeError(f"{who} expects floating-point input, got dtype {_dtype_name(x.dtype)}")
    shape = output_shape(x.shape, filter_h, filter_w, stride, pad, who)
    check_batch(x.shape, who)
    return shape


def check_convolution_input(x, W, stride, pad, who="Convolution"):
    """``check_images`` for the filters ``W`` (FN, C, FH, FW), plus C input channels in W's dtype."""
    FN, C, FH, FW = W.shape
    shape = check_images(x, FH, FW, stride, pad, who)
    if x.shape[1] != C:
        raise ValueError(f"{who}: filters expect {C} input channels, got input of shape {tuple(x.shape)}")
    _check_same_dtype(x, W, who, "input")
    return shape


def check_convolution_parameters(W, b, who="Convolution"):
    """Filters W (FN, C, FH, FW) and biases b (FN,) of one dtype."""
    if W.ndim != 4 or tuple(b.shape) != (W.shape[0],):
        raise ValueError(f"{who} needs W of shape (FN, C, FH, FW) and b of shape (FN,), "
                         f"got W {tuple(W.shape)} and b {tuple(b.shape)}")
    if W.dtype != b.dtype:
        raise TypeError(f"{who}: W is {_dtype_name(W.dtype)} but b is {_dtype_name(b.dtype)}")


def check_backward(dout, out, who, param=None):
    """What every ``backward`` checks first: forward was called (``out``, the forward output or
    its shape, is not None), dout has exactly that shape, and, for a layer with parameters,
    their dtype. Returns dout."""
    check_forward_done(out, who)
    check_dout(dout, getattr(out, "shape", out), who)
    if param is not None:
        _check_same_dtype(dout, param, who, "dout")
    return dout


def check_subsampling_input(x, channels, pool, W, who="Subsampling"):
    """``check_images`` for non-overlapping pool x pool windows, plus ``channels`` channels in W's dtype."""
    shape = check_images(x, pool, pool, pool, 0, who)
    if x.shape[1] != channels:
        raise ValueError(f"{who} expects {channels} channels, got input of shape {tuple(x.shape)}")
    _check_same_dtype(x, W, who, "input")
    return shape
