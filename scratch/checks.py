"""Input checks shared by both backends: clear errors instead of silent broadcasts.

Public, so that ``reference`` (the PyTorch mirror) raises the same errors with
the same words: a layer's ``forward`` starts with one call to a check from here
and then computes.
"""
import math
import numbers
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


# --- layers, normalization and joins
# Each takes NumPy arrays or torch tensors alike (it reads only ``shape`` and ``dtype``), so that
# ``scratch`` and ``reference`` raise the same error with the same words.

def dtype_name(dtype):
    """'float32' for np.float32, np.dtype('float32') and torch.float32 alike."""
    return str(np.dtype(dtype) if isinstance(dtype, type) else dtype).removeprefix("torch.")


def is_floating(dtype):
    """True for a real floating dtype, NumPy's or PyTorch's."""
    return dtype_name(dtype).startswith(("float", "bfloat"))


def check_floating(x, who):
    """Floating-point input (no integers, booleans or complex numbers)."""
    if not is_floating(x.dtype):
        raise TypeError(f"{who} expects floating-point input, got dtype {dtype_name(x.dtype)}")


def check_param_dtype(x, param, who, name="input"):
    """``x`` in the dtype of the layer's parameter ``param``: float32 and float64 are never mixed."""
    if dtype_name(x.dtype) != dtype_name(param.dtype):
        raise TypeError(f"{who}: {name} dtype {dtype_name(x.dtype)} does not match parameter dtype "
                        f"{dtype_name(param.dtype)}; convert it to {dtype_name(param.dtype)}")


def check_recurrent_params(weight_ih, weight_hh, bias_ih, bias_hh, gates, who):
    """A recurrent layer's parameters in ``nn.RNN``'s / ``nn.LSTM``'s layout, ``gates`` blocks of H rows each
    (1 for RNN, 4 for LSTM): weight_ih (gates*H, D), weight_hh (gates*H, H), bias_ih and bias_hh (gates*H,),
    of one floating dtype. Returns (D, H)."""
    params = (weight_ih, weight_hh, bias_ih, bias_hh)
    shapes = [tuple(p.shape) for p in params]
    H = shapes[1][1] if len(shapes[1]) == 2 else 0
    G = gates * H
    if len(shapes[0]) != 2 or H < 1 or shapes[0][0] != G or shapes[1] != (G, H) or shapes[2:] != [(G,), (G,)]:
        g = "" if gates == 1 else gates
        raise ValueError(f"{who} needs weight_ih ({g}H, D), weight_hh ({g}H, H), bias_ih ({g}H,) and bias_hh "
                         f"({g}H,), got {shapes[0]}, {shapes[1]}, {shapes[2]} and {shapes[3]}")
    check_floating(weight_ih, who)
    names = [dtype_name(p.dtype) for p in params]
    if len(set(names)) > 1:
        raise TypeError(f"{who}: parameters of different dtypes {names} (weight_ih, weight_hh, bias_ih, bias_hh); "
                        f"convert them to one dtype")
    return shapes[0][1], H


def check_same_shape(a, b, a_name, b_name):
    """Two operands of one shape, never broadcast."""
    if tuple(a.shape) != tuple(b.shape):
        raise ValueError(f"{a_name} has shape {tuple(a.shape)} but {b_name} has shape {tuple(b.shape)}")


def check_affine_params(W, b):
    """W of shape (out, in) (``nn.Linear``'s layout) and b of shape (out,), of one dtype."""
    if len(W.shape) != 2 or tuple(b.shape) != tuple(W.shape[:1]):
        raise ValueError(f"Affine needs W of shape (out, in) and b of shape (out,), "
                         f"got W {tuple(W.shape)} and b {tuple(b.shape)}")
    if dtype_name(W.dtype) != dtype_name(b.dtype):
        raise TypeError(f"Affine: W is {dtype_name(W.dtype)} but b is {dtype_name(b.dtype)}")


def check_affine_input(x, W):
    """A batch (N, ...) of W's dtype with in_features = W.shape[1] values per sample."""
    check_param_dtype(x, W, "Affine")
    check_batch(x.shape, "Affine")
    if math.prod(x.shape[1:]) != W.shape[1]:
        raise ValueError(f"Affine expects {W.shape[1]} input features per sample, "
                         f"got input of shape {tuple(x.shape)}")


def check_scores(x, t, who="SoftmaxWithLoss"):
    """Scores (N, classes) of a non-empty batch and their labels; returns the labels as int64 class indices.

    ``t`` holds integer labels (N,) or one-hot rows (N, classes), a NumPy array or a tensor.
    """
    if len(x.shape) != 2:
        raise ValueError(f"{who} expects scores of shape (N, classes), got {tuple(x.shape)}")
    check_batch(x.shape, who)
    return class_indices(t, x.shape[1], tuple(x.shape[:1]))


def check_probabilities(y, t):
    """cross_entropy_error's y (N, classes), N >= 1, after a single vector became a batch of one;
    returns the labels ``t`` as int64 class indices."""
    if len(y.shape) != 2:
        raise ValueError(f"y must be a vector or a batch of rows, got shape {tuple(y.shape)}")
    check_batch(y.shape, "cross_entropy_error")
    return class_indices(t, y.shape[1], tuple(y.shape[:1]))


def check_ratio(dropout_ratio):
    """``dropout_ratio`` as a float in [0, 1], else a ValueError (like ``F.dropout``)."""
    if not 0 <= dropout_ratio <= 1:
        raise ValueError(f"dropout_ratio must lie in [0, 1], got {dropout_ratio}")
    return float(dropout_ratio)


def as_booleans(a, what):
    """The NumPy array ``a`` as booleans: booleans as they are, numbers only if each is 0 or 1.
    ``what`` names it in the error ('Dropout: mask')."""
    if a.dtype == bool:
        return a
    if a.dtype.kind not in "biuf" or not np.all((a == 0) | (a == 1)):
        raise ValueError(f"{what} must hold booleans (or 0/1), got dtype {a.dtype}")
    return a.astype(bool)


def check_mask(mask, shape):
    """Dropout's keep-mask as a NumPy boolean array of ``shape`` (0/1 numbers are accepted); None stays None."""
    if mask is None:
        return None
    mask = np.asarray(mask)
    if mask.shape != tuple(shape):
        raise ValueError(f"Dropout: mask of shape {mask.shape} does not match input of shape {tuple(shape)}")
    return as_booleans(mask, "Dropout: mask")


def check_batch_norm_params(gamma, beta, momentum, eps):
    """gamma and beta of shape (C,) and one floating dtype; momentum in [0, 1]; eps >= 0."""
    if len(gamma.shape) != 1 or tuple(beta.shape) != tuple(gamma.shape):
        raise ValueError(f"BatchNormalization needs gamma and beta of shape (C,), "
                         f"got gamma {tuple(gamma.shape)} and beta {tuple(beta.shape)}")
    if not is_floating(gamma.dtype) or dtype_name(beta.dtype) != dtype_name(gamma.dtype):
        raise TypeError(f"BatchNormalization needs floating gamma and beta of one dtype, "
                        f"got gamma {dtype_name(gamma.dtype)} and beta {dtype_name(beta.dtype)}")
    if not 0 <= momentum <= 1:
        raise ValueError(f"momentum must lie in [0, 1], got {momentum}")
    if not eps >= 0:
        raise ValueError(f"eps must be >= 0, got {eps}")


def check_running_statistic(value, gamma, name):
    """A given running_mean or running_var: shape (C,) and gamma's dtype."""
    if tuple(value.shape) != tuple(gamma.shape):
        raise ValueError(f"BatchNormalization: {name} must have shape {tuple(gamma.shape)}, got {tuple(value.shape)}")
    check_param_dtype(value, gamma, "BatchNormalization", name)


def check_batch_norm_input(x, gamma, train_flg):
    """(N, C) or (N, C, H, W) input of gamma's dtype; training needs more than one value per channel.

    PyTorch refuses one value per channel when training (its variance is 0); the book allows it.
    """
    shape, channels = tuple(x.shape), gamma.shape[0]
    check_batch(shape, "BatchNormalization")
    if len(shape) < 2 or shape[1] != channels:
        raise ValueError(f"BatchNormalization expects input of shape (N, {channels}) or "
                         f"(N, {channels}, H, W), got {shape}")
    check_param_dtype(x, gamma, "BatchNormalization")
    if train_flg and math.prod(shape[:1] + shape[2:]) < 2:
        raise ValueError(f"BatchNormalization needs more than 1 value per channel when training, "
                         f"got input of shape {shape}")


def check_lrn_args(size, alpha, beta, k):
    """Validated (size, alpha, beta, k) of LocalResponseNorm: size an integer >= 1, the others real numbers."""
    size = check_size(size, "size", "LocalResponseNorm")
    for name, value in (("alpha", alpha), ("beta", beta), ("k", k)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"LocalResponseNorm: {name} must be a real number, got {value!r}")
    return size, float(alpha), float(beta), float(k)


def check_lrn_input(x, who="LocalResponseNorm"):
    """Floating input (N, C, ...) with at least three dimensions, as ``F.local_response_norm`` demands."""
    check_floating(x, who)
    shape = tuple(x.shape)
    if len(shape) < 3:
        raise ValueError(f"{who} expects input (N, C, ...) of 3 or more dimensions, got shape {shape}")
    check_batch(shape, who)


def check_concat_axis(axis):
    """Concat's axis as a Python int (negative counts from the end)."""
    try:
        return operator.index(axis)
    except TypeError:
        raise TypeError(f"Concat: axis must be an integer, got {axis!r}") from None


def check_concat(xs, axis):
    """``axis`` made non-negative, after checking that the floating inputs can be concatenated along it."""
    if not xs:
        raise ValueError("Concat.forward needs at least one input")
    for x in xs:
        check_floating(x, "Concat")
    shapes = [tuple(x.shape) for x in xs]
    ndim = len(shapes[0])
    if ndim == 0:
        raise ValueError("Concat cannot join 0-d inputs")
    for i, shape in enumerate(shapes[1:], 1):
        if len(shape) != ndim:
            raise ValueError(f"Concat: input {i} of shape {shape} has {len(shape)} dimensions, "
                             f"input 0 of shape {shapes[0]} has {ndim}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"Concat: axis {axis} is out of range for inputs of {ndim} dimensions")
    axis %= ndim
    for i, shape in enumerate(shapes[1:], 1):
        if shape[:axis] + shape[axis + 1:] != shapes[0][:axis] + shapes[0][axis + 1:]:
            raise ValueError(f"Concat: input {i} of shape {shape} does not match input 0 of shape "
                             f"{shapes[0]} except along axis {axis}")
    names = [dtype_name(x.dtype) for x in xs]
    if len(set(names)) > 1:
        raise TypeError(f"Concat: inputs of different dtypes {names}; convert them to one dtype")
    return axis


def check_residual(x, shortcut):
    """Residual's x and shortcut: floating, of one shape (no broadcasting) and one dtype."""
    check_floating(x, "Residual")
    check_floating(shortcut, "Residual")
    if tuple(x.shape) != tuple(shortcut.shape):
        raise ValueError(f"Residual: x of shape {tuple(x.shape)} and shortcut of shape {tuple(shortcut.shape)} "
                         f"differ; project the shortcut (a 1x1 convolution) to the block's output shape")
    if dtype_name(x.dtype) != dtype_name(shortcut.dtype):
        raise TypeError(f"Residual: x is {dtype_name(x.dtype)} but shortcut is {dtype_name(shortcut.dtype)}")


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


def check_images(x, filter_h, filter_w, stride, pad, who):
    """A batch of floating (N, C, H, W) images a filter_h x filter_w window fits; returns output_shape's tuple."""
    check_floating(x, who)
    shape = output_shape(x.shape, filter_h, filter_w, stride, pad, who)
    check_batch(x.shape, who)
    return shape


def check_convolution_input(x, W, stride, pad, who="Convolution"):
    """``check_images`` for the filters ``W`` (FN, C, FH, FW), plus C input channels in W's dtype."""
    FN, C, FH, FW = W.shape
    shape = check_images(x, FH, FW, stride, pad, who)
    if x.shape[1] != C:
        raise ValueError(f"{who}: filters expect {C} input channels, got input of shape {tuple(x.shape)}")
    check_param_dtype(x, W, who, "input")
    return shape


def check_convolution_parameters(W, b, who="Convolution"):
    """Filters W (FN, C, FH, FW) and biases b (FN,) of one dtype."""
    if W.ndim != 4 or tuple(b.shape) != (W.shape[0],):
        raise ValueError(f"{who} needs W of shape (FN, C, FH, FW) and b of shape (FN,), "
                         f"got W {tuple(W.shape)} and b {tuple(b.shape)}")
    if W.dtype != b.dtype:
        raise TypeError(f"{who}: W is {dtype_name(W.dtype)} but b is {dtype_name(b.dtype)}")


def check_backward(dout, out, who, param=None):
    """What every ``backward`` checks first: forward was called (``out``, the forward output or
    its shape, is not None), dout has exactly that shape, and, for a layer with parameters,
    their dtype. Returns dout."""
    check_forward_done(out, who)
    check_dout(dout, getattr(out, "shape", out), who)
    if param is not None:
        check_param_dtype(dout, param, who, "dout")
    return dout


def check_subsampling_input(x, channels, pool, W, who="Subsampling"):
    """``check_images`` for non-overlapping pool x pool windows, plus ``channels`` channels in W's dtype."""
    shape = check_images(x, pool, pool, pool, 0, who)
    if x.shape[1] != channels:
        raise ValueError(f"{who} expects {channels} channels, got input of shape {tuple(x.shape)}")
    check_param_dtype(x, W, who, "input")
    return shape
