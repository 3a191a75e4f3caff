"""Convolution and pooling layers (7.4.3, 7.4.4, 8.1), built on im2col.

Both follow the book's common/layers.py: ``forward(x)`` on (N, C, H, W) data,
``backward(dout)`` returning dx, and the convolution's parameter gradients in
``dW`` and ``db``. How they differ from the book:

* ``Convolution`` keeps the book's col transposed: col has one row per
  (c, fy, fx) and one column per filter region (n, y, x) of figure 7-18,
  shape (C*FH*FW, N*OH*OW), and W_col = W.reshape(FN, C*FH*FW) is not
  transposed. Each pass is then one large matrix product over the whole
  batch: out = W_col col, dW = dout_2d col^T (a sum over all N*OH*OW regions
  in one product), dcol = W_col^T dout_2d, with dout_2d the (FN, N*OH*OW)
  form of dout; a BLAS library runs one large product faster than N small
  ones. For stride 1 backward gets dx as a convolution of dout (see
  ``Convolution``) rather than with col2im. The next forward pass refills
  the array of col (and backward its own unfolded dout) instead of
  allocating a new one: a fresh array of tens of megabytes costs its page
  faults again on every step. ``need_dx = False`` skips dx (a network's first
  layer needs none).
* ``Pooling`` pads with -infinity, as PyTorch's ``max_pool2d`` does (the book
  pads with 0, which can beat negative inputs, and its backward fails for
  pad > 0), and accepts only pad <= pool/2, PyTorch's rule. Among equal
  maxima the gradient goes to the first one in row-major window order, a NaN
  window sends it to its last NaN: exactly the choice of PyTorch's CPU kernel.
* Chapter 8's architectures add ``AvgPooling`` (``F.avg_pool2d``, zero
  padding counted in the average), ``GlobalAvgPooling`` (GoogLeNet's and
  ResNet's last pooling) and LeNet-5's trained ``Subsampling``.
"""
import numpy as np

from .checks import check_batch, check_dout, check_dtype_matches, check_forward_done, check_size, dtype_of
from .util import _count, _fold_unfolded, _output_shape, _unfold

__all__ = ["Convolution", "Pooling", "AvgPooling", "GlobalAvgPooling", "Subsampling"]


def _check_float_input(x, who):
    """``x`` as a floating NumPy array; its shape is checked by ``_output_shape``."""
    x = np.asarray(x)
    if x.dtype.kind != "f":
        raise TypeError(f"{who} expects floating-point input, got dtype {x.dtype}")
    return x


def _check_dout(dout, out_shape, who):
    """``dout`` as an array of the forward output's shape, never broadcast."""
    return check_dout(np.asarray(dout), out_shape, who)


CHUNK_BYTES = 8 * 2**20  # a part of col this large stays in the cache between its copy and its product


def _image_chunks(N, pixels, bytes_per_pixel):
    """(images, columns) slices splitting a batch into equal parts of at most CHUNK_BYTES of col.

    ``pixels`` output pixels per image, each a column of ``bytes_per_pixel``
    bytes; ``columns`` is a part's range of columns of the (rows, N*pixels) col.
    """
    per_image = max(1, pixels * bytes_per_pixel)
    parts = min(N, -(-N * per_image // CHUNK_BYTES))  # ceil
    bounds = [N * i // parts for i in range(parts + 1)]
    for a, b in zip(bounds, bounds[1:]):
        yield slice(a, b), slice(a * pixels, b * pixels)


def _reusable(array, shape, dtype):
    """The first elements of the contiguous ``array`` viewed with ``shape``, if it holds enough of ``dtype``."""
    size = int(np.prod(shape))
    if array is None or array.dtype != dtype or array.size < size or not array.flags.c_contiguous:
        return None
    return array.reshape(-1)[:size].reshape(shape)


def _in_layout_of(like, values):
    """A copy of ``values`` laid out in memory like the array ``like`` (same shape)."""
    copy = np.empty_like(like, dtype=values.dtype)
    copy[...] = values
    return copy


def _check_pool(pool_h, pool_w, stride, pad, who="Pooling"):
    """Validated (pool_h, pool_w, stride, pad); PyTorch's rule pad <= pool // 2."""
    pool_h, pool_w = _count(pool_h, "pool_h", 1), _count(pool_w, "pool_w", 1)
    stride, pad = _count(stride, "stride", 1), _count(pad, "pad", 0)
    if pad > pool_h // 2 or pad > pool_w // 2:
        raise ValueError(f"{who}: pad should be at most half of the pool size (PyTorch's rule), "
                         f"got pad={pad} for a {pool_h}x{pool_w} pool")
    return pool_h, pool_w, stride, pad


class Convolution:
    """Convolution layer (7.4.3): out[n, f] = sum_c W[f, c] * x[n, c] + b[f].

    ``W`` has shape (FN, C, FH, FW) and ``b`` shape (FN,), as in the book and
    ``F.conv2d``. With col = im2col(x)^T, (C*FH*FW, N*OH*OW), and dout_2d
    the (FN, N*OH*OW) form of dout:

    * forward: out = W_col col + b, turned from (FN, N, OH, OW) to (N, FN, OH, OW);
    * backward: db = sum of dout over n, y, x; dW = dout_2d col^T;
      dx = col2im(W_col^T dout_2d). For stride 1 (and square filters with
      pad <= FH - 1, where the unfolded dout is no larger than W_col^T dout_2d),
      dx is computed as a convolution instead: dout padded
      by FH - 1 - pad, filters rotated by 180 degrees with C and FN swapped
      (the "transposed convolution"), one more im2col and product, no col2im.
    """

    def __init__(self, W, b, stride=1, pad=0):
        if W.ndim != 4 or b.shape != (W.shape[0],):
            raise ValueError(f"Convolution needs W of shape (FN, C, FH, FW) and b of shape (FN,), "
                             f"got W {W.shape} and b {b.shape}")
        if W.dtype != b.dtype:
            raise TypeError(f"Convolution: W is {W.dtype} but b is {b.dtype}")
        self.W, self.b = W, b
        self.stride = _count(stride, "stride", 1)
        self.pad = _count(pad, "pad", 0)
        self.need_dx = True
        self.x = None
        self.col = None
        self.col_W = None
        self.dW = None
        self.db = None
        self._col_buffer = None  # the array of col, refilled by the next forward pass
        self._dout_col = None  # backward's unfolded dout, refilled by the next backward

    def forward(self, x):
        x = _check_float_input(x, "Convolution")
        FN, C, FH, FW = self.W.shape
        N, _, _, _, out_h, out_w = _output_shape(x.shape, FH, FW, self.stride, self.pad, "Convolution")
        check_batch(x.shape, "Convolution")
        if x.shape[1] != C:
            raise ValueError(f"Convolution: filters expect {C} input channels, got input of shape {x.shape}")
        check_dtype_matches(x, self.W, "Convolution")
        self.x = x
        self.col_W = self.W.reshape(FN, -1)  # (FN, C*FH*FW)
        if self._pointwise():
            # Speed: a 1x1 convolution (GoogLeNet's) is one product over the channels, and its
            # col is x itself as (C, N*H*W): a view, no copy, when x is channel-major in memory
            # as a convolution leaves it
            self.col = x.transpose(1, 0, 2, 3).reshape(C, N * out_h * out_w)
            out = self.col_W @ self.col + self.b[:, None]
            return out.reshape(FN, N, out_h, out_w).transpose(1, 0, 2, 3)
        # (C, FH, FW, N, OH, OW), written into the previous pass's col when it has that size
        # (backward only ever needs the col of the latest forward pass)
        shape = (C, FH, FW, N, out_h, out_w)
        col = _reusable(self._col_buffer, shape, x.dtype)
        col = np.empty(shape, x.dtype) if col is None else col
        self._col_buffer = col
        self.col = col.reshape(C * FH * FW, N * out_h * out_w)
        out = np.empty((FN, N * out_h * out_w), dtype=x.dtype)
        # Plain form: col = im2col(x)^T for the whole batch, then out = W_col col. Speed: the
        # same, a few images at a time, so that each part of col is multiplied while it is
        # still in the cache (a col of tens of megabytes would go to memory and back)
        for n, columns in _image_chunks(N, out_h * out_w, C * FH * FW * x.itemsize):
            _unfold(x[n], FH, FW, self.stride, self.pad, out=col[:, :, :, n])
            np.matmul(self.col_W, self.col[:, columns], out=out[:, columns])
        out += self.b[:, None]
        # (N, FN, OH, OW) as a view: the data stay filter-major, which is the layout the
        # next layer's im2col and this layer's backward want, so no copy is made here
        return out.reshape(FN, N, out_h, out_w).transpose(1, 0, 2, 3)

    def _pointwise(self):
        """A 1x1 filter at stride 1 without padding: each output pixel sees one input pixel."""
        return self.W.shape[2:] == (1, 1) and self.stride == 1 and self.pad == 0

    def backward(self, dout):
        check_forward_done(self.x, "Convolution")
        FN, C, FH, FW = self.W.shape
        N, _, H, W = self.x.shape
        out_h, out_w = _output_shape(self.x.shape, FH, FW, self.stride, self.pad, "Convolution")[4:]
        dout = _check_dout(dout, (N, FN, out_h, out_w), "Convolution")
        check_dtype_matches(dout, self.W, "Convolution", "dout")
        self.db = dout.sum(axis=(0, 2, 3))
        dout = np.ascontiguousarray(dout.transpose(1, 0, 2, 3))  # (FN, N, OH, OW)
        dout_2d = dout.reshape(FN, N * out_h * out_w)
        # dW = dout_2d col^T, computed as (col dout_2d^T)^T: the same sums, but a BLAS library
        # splits the long product over its threads better with the larger matrix on the left
        self.dW = (self.col @ dout_2d.T).T.reshape(self.W.shape)
        if not self.need_dx:
            return None
        if self._pointwise():  # dx[n, c] = sum_f W[f, c] dout[n, f]: one product, nothing to fold
            return (self.col_W.T @ dout_2d).reshape(C, N, H, W).transpose(1, 0, 2, 3)
        margin = FH - 1 - self.pad
        # the transposed convolution unfolds dout, FN*FH*FW values per input pixel; col2im's
        # dcol holds C*FH*FW per output pixel: take it where it is the smaller of the two
        # (LeNet's 16-filter conv on 6 channels), the transposed convolution otherwise
        smaller = FN * H * W <= C * out_h * out_w
        if self.stride == 1 and FH == FW and margin >= 0 and smaller:
            # dx[n, c] = sum_f dout[n, f] (full convolution) W[f, c] rotated by 180 degrees
            W_rot = self.W[:, :, ::-1, ::-1].transpose(1, 0, 2, 3).reshape(C, FN * FH * FW)
            dx = np.empty((C, N * H * W), dtype=dout.dtype)
            images = dout.transpose(1, 0, 2, 3)
            for n, columns in _image_chunks(N, H * W, FN * FH * FW * dout.itemsize):  # as in forward
                size = (FN, FH, FW, n.stop - n.start, H, W)
                dout_col = _unfold(images[n], FH, FW, 1, margin, out=_reusable(self._dout_col, size, dout.dtype))
                self._dout_col = dout_col  # (FN, FH, FW, images, H, W), refilled by the next chunk
                np.matmul(W_rot, dout_col.reshape(FN * FH * FW, -1), out=dx[:, columns])
            return dx.reshape(C, N, H, W).transpose(1, 0, 2, 3)
        dcol = (self.col_W.T @ dout_2d).reshape(C, FH, FW, N, out_h, out_w)
        return _fold_unfolded(dcol, self.x.shape, FH, FW, self.stride, self.pad)


class Pooling:
    """Max pooling (7.4.4): the maximum of each pool_h x pool_w window, like ``F.max_pool2d``.

    Forward takes the elementwise maximum of the pool_h*pool_w strided views
    of the (-inf padded) input, one per window offset: no im2col copy.
    Backward sends dout[n, c, y, x] to the position of the window's maximum;
    windows that overlap (stride < pool) add up. Ties go to the first maximum
    in row-major window order (zeros after ReLU are common ties), a window
    holding NaN sends its gradient to its last NaN, and a window of -inf only
    to its first real (unpadded) position: PyTorch's CPU kernel keeps the
    first position with ``val > maxval || isnan(val)`` starting from -inf.

    Speed: for windows larger than 2x2 both passes go in two steps. A
    window's maximum is the maximum of its rows' maxima, so forward takes the
    maximum along each window row (pool_w views), then over the window's rows
    (pool_h views): pool_h + pool_w passes instead of pool_h * pool_w, 6
    instead of 9 for GoogLeNet's 3x3 pools, which take half the time. Backward
    retraces them: dout goes to the first window row holding the maximum,
    then within that row to its first maximum, which is the first maximum in
    row-major order.
    """

    def __init__(self, pool_h, pool_w, stride=2, pad=0):
        self.pool_h, self.pool_w, self.stride, self.pad = _check_pool(pool_h, pool_w, stride, pad)
        self._by_rows = self.pool_h + self.pool_w < self.pool_h * self.pool_w  # fewer passes in two steps
        self.x = None
        self.out = None
        self._padded = None
        self._row_max = None

    def _offsets(self, out_h, out_w):
        """(k, slices) for each window offset (i, j) in row-major order, k = i*pool_w + j."""
        for k, sl in enumerate(_window_slices(self.pool_h, self.pool_w, self.stride, out_h, out_w)):
            yield k, sl

    def _steps(self, pool, out_size, axis):
        """The slices seen by window offsets 0..pool-1 along one ``axis`` (2: rows, 3: columns)."""
        s = self.stride
        for i in range(pool):
            sl = [slice(None)] * 4
            sl[axis] = slice(i, i + s * (out_size - 1) + 1, s)
            yield tuple(sl)

    def forward(self, x):
        x = _check_float_input(x, "Pooling")
        out_h, out_w = _output_shape(x.shape, self.pool_h, self.pool_w, self.stride, self.pad, "Pooling")[4:]
        check_batch(x.shape, "Pooling")
        p = self.pad
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=-np.inf) if p else x
        row_max = None
        if self._by_rows:  # the maximum of each window row (N, C, H + 2p, out_w), then over the rows
            row_max = _maximum_of([xp[sl] for sl in self._steps(self.pool_w, out_w, axis=3)])
            out = _maximum_of([row_max[sl] for sl in self._steps(self.pool_h, out_h, axis=2)])
        else:
            out = _maximum_of([xp[sl] for _, sl in self._offsets(out_h, out_w)])
        self.x, self._padded, self._row_max, self.out = x, xp, row_max, out
        return out

    def backward(self, dout):
        check_forward_done(self.out, "Pooling")
        xp, row_max, out = self._padded, self._row_max, self.out
        ph, pw, s, p = self.pool_h, self.pool_w, self.stride, self.pad
        dout = _check_dout(dout, out.shape, "Pooling")
        out_h, out_w = out.shape[2:]
        # Speed: the gradients are laid out in memory like x (channel-major after a convolution)
        # and dout is copied once into the layout of out, so every operation below walks its
        # arrays in the same order; mixed layouts make each pass about twice as slow.
        if dout.strides != out.strides:
            dout = _in_layout_of(out, dout)
        fills_h, fills_w = xp.shape[2] == s * out_h, xp.shape[3] == s * out_w  # no rows/columns left over
        if self._by_rows:  # the first window row holding the maximum, then that row's first maximum
            d_row_max = _route_to_first_maximum(row_max, out, dout, self._steps(ph, out_h, axis=2),
                                                overlap=s < ph, covered=s == ph and fills_h)
            dxp = _route_to_first_maximum(xp, row_max, d_row_max, self._steps(pw, out_w, axis=3),
                                          overlap=s < pw, covered=s == pw and fills_w)
        else:
            dxp = _route_to_first_maximum(xp, out, dout, (sl for _, sl in self._offsets(out_h, out_w)),
                                          overlap=s < ph or s < pw,
                                          covered=s == ph == pw and fills_h and fills_w)
        self._nan_windows(dxp, dout)
        self._all_minus_inf_windows(dxp, dout)
        H, W = self.x.shape[2:]
        return dxp[:, :, p:H + p, p:W + p] if p else dxp

    def _nan_windows(self, dxp, dout):
        """A window holding NaN sends its gradient to its last NaN (NaN == NaN is False above)."""
        nan = np.isnan(self.out)
        if not nan.any():
            return
        out_h, out_w = self.out.shape[2:]
        for k, sl in reversed(list(self._offsets(out_h, out_w))):
            hit = np.isnan(self._padded[sl]) & nan
            nan ^= hit
            dxp[sl] += np.where(hit, dout, 0)

    def _all_minus_inf_windows(self, dxp, dout):
        """A window of -inf only: PyTorch picks its first unpadded position, not the padding."""
        if not self.pad:
            return
        lost = np.isneginf(self.out)
        if not lost.any():
            return
        # the loop in backward gave these windows' gradient to offset 0 (dropped if padding);
        # the first unpadded offset of window (y, x) is (max(0, pad - y*s), max(0, pad - x*s))
        out_h, out_w = self.out.shape[2:]
        first_i = np.maximum(0, self.pad - self.stride * np.arange(out_h))[:, None]
        first_j = np.maximum(0, self.pad - self.stride * np.arange(out_w))[None, :]
        first = first_i * self.pool_w + first_j  # (out_h, out_w)
        for k, sl in self._offsets(out_h, out_w):
            if k > 0 and np.any(first == k):
                hit = lost & (first == k)
                dxp[sl] += np.where(hit, dout, 0)


def _maximum_of(views):
    """The elementwise maximum of equally shaped views (NaN propagates, as in PyTorch)."""
    if len(views) == 1:
        return views[0].copy()
    out = np.maximum(views[0], views[1])
    for v in views[2:]:
        np.maximum(out, v, out=out)
    return out


def _route_to_first_maximum(source, maximum, dmaximum, steps, overlap, covered):
    """The gradient of source from that of ``maximum`` = the maximum of ``source[step]`` over ``steps``.

    Each entry of dmaximum goes to the first step whose value equals the
    maximum; where steps overlap (stride < pool) the gradients add up. A NaN
    maximum equals nothing and sends nothing (``Pooling._nan_windows`` does).
    ``covered``: the steps together cover every entry of source exactly once.
    """
    # Speed: dmaximum * hit is dmaximum or 0 in one fast pass (np.where and masked ufuncs
    # branch on every element and take about ten times as long), but only when dmaximum is
    # finite (inf * 0 is NaN); a covered source needs no zeros first.
    finite = np.isfinite(dmaximum).all()
    dsource = (np.empty_like if covered else np.zeros_like)(source)
    free = None  # entries of maximum not claimed by an earlier step
    steps = list(steps)
    for k, sl in enumerate(steps):
        hit = source[sl] == maximum
        if free is None:
            free = ~hit
        else:
            hit &= free
            if k < len(steps) - 1:
                free ^= hit
        if overlap:
            dsource[sl] += dmaximum * hit if finite else np.where(hit, dmaximum, 0)
        elif finite:
            np.multiply(dmaximum, hit, out=dsource[sl])
        else:
            dsource[sl] = np.where(hit, dmaximum, 0)
    return dsource


def _window_slices(pool_h, pool_w, stride, out_h, out_w):
    """The slices of the padded input seen by window offset (i, j), one per offset."""
    for i in range(pool_h):
        for j in range(pool_w):
            yield (slice(None), slice(None),
                   slice(i, i + stride * (out_h - 1) + 1, stride),
                   slice(j, j + stride * (out_w - 1) + 1, stride))


class AvgPooling:
    """Average pooling: the mean of each pool_h x pool_w window, like ``F.avg_pool2d``.

    out[n, c, y, x] = 1/(pool_h*pool_w) sum_{i, j} xp[n, c, y*stride + i, x*stride + j]
    with xp the input padded by ``pad`` zeros, which count in the average
    (PyTorch's default ``count_include_pad=True``: a window always divides by
    pool_h*pool_w). pad <= pool/2 as in PyTorch.

    Backward: every position of a window receives dout / (pool_h*pool_w);
    overlapping windows (stride < pool) add up, pixels in no window get 0.
    Both passes add one strided view per window offset: no im2col copy.
    """

    def __init__(self, pool_h, pool_w, stride=2, pad=0):
        self.pool_h, self.pool_w, self.stride, self.pad = _check_pool(pool_h, pool_w, stride, pad, "AvgPooling")
        self.x_shape = None
        self.out_shape = None

    def forward(self, x):
        x = _check_float_input(x, "AvgPooling")
        out_h, out_w = _output_shape(x.shape, self.pool_h, self.pool_w, self.stride, self.pad, "AvgPooling")[4:]
        check_batch(x.shape, "AvgPooling")
        p = self.pad
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p))) if p else x
        out = None
        for sl in _window_slices(self.pool_h, self.pool_w, self.stride, out_h, out_w):
            if out is None:
                out = xp[sl].copy()
            else:
                out += xp[sl]
        out /= self.pool_h * self.pool_w  # in place: float32 stays float32
        self.x_shape, self.out_shape = x.shape, out.shape
        return out

    def backward(self, dout):
        check_forward_done(self.out_shape, "AvgPooling")
        dout = _check_dout(dout, self.out_shape, "AvgPooling")
        N, C, H, W = self.x_shape
        p = self.pad
        out_h, out_w = self.out_shape[2:]
        share = dout / np.asarray(self.pool_h * self.pool_w, dtype=dout.dtype)
        dxp = np.zeros((N, C, H + 2 * p, W + 2 * p), dtype=share.dtype)
        for sl in _window_slices(self.pool_h, self.pool_w, self.stride, out_h, out_w):
            dxp[sl] += share
        return dxp[:, :, p:H + p, p:W + p] if p else dxp


class GlobalAvgPooling:
    """Global average pooling: the mean of each channel, (N, C, H, W) -> (N, C).

    out[n, c] = 1/(H*W) sum_{y, x} x[n, c, y, x], i.e.
    ``F.adaptive_avg_pool2d(x, 1)`` flattened to (N, C) (the pooling before
    the classifier in GoogLeNet and ResNet). Backward: dx[n, c, y, x] =
    dout[n, c] / (H*W).
    """

    def __init__(self):
        self.x_shape = None

    def forward(self, x):
        x = _check_float_input(x, "GlobalAvgPooling")
        _output_shape(x.shape, 1, 1, 1, 0, "GlobalAvgPooling")
        check_batch(x.shape, "GlobalAvgPooling")
        self.x_shape = x.shape
        return x.mean(axis=(2, 3))

    def backward(self, dout):
        check_forward_done(self.x_shape, "GlobalAvgPooling")
        dout = _check_dout(dout, self.x_shape[:2], "GlobalAvgPooling")
        H, W = self.x_shape[2:]
        dx = np.empty(self.x_shape, dtype=dout.dtype)
        dx[...] = (dout / np.asarray(H * W, dtype=dout.dtype))[:, :, None, None]
        return dx


class Subsampling:
    """LeNet-5's subsampling layer (LeCun et al. 1998), per channel c:

    out[n, c, y, x] = W[c] * mean(x[n, c, pool*y:pool*(y+1), pool*x:pool*(x+1)]) + b[c]

    Is LeNet's subsampling random? No: nothing is sampled. Each output is the
    average of a non-overlapping pool x pool window (the paper adds the four
    inputs and multiplies by the coefficient, the same thing up to a factor),
    times a trained coefficient ``W`` (C,) plus a trained bias ``b`` (C,);
    the paper then passes it through a sigmoid-like squashing function
    (a scaled tanh), left here to a separate activation layer. Rows and
    columns that fill no whole window are dropped, as ``F.avg_pool2d`` does.
    ``W`` starts at 1 and ``b`` at 0 (a plain average), in ``dtype``.

    With a = avg_pool(x): db[c] = sum_{n, y, x} dout, dW[c] = sum_{n, y, x} dout * a,
    dx = the average pooling's backward of dout * W[c] (each window position
    gets dout * W[c] / pool^2).
    """

    def __init__(self, channels, pool=2, dtype=np.float64):
        self.channels = check_size(channels, "channels", "Subsampling")
        self.pool = _count(pool, "pool", 1)
        dtype = dtype_of(dtype)
        self.W = np.ones(self.channels, dtype=dtype)
        self.b = np.zeros(self.channels, dtype=dtype)
        self._avg = AvgPooling(self.pool, self.pool, stride=self.pool)
        self.a = None
        self.dW = None
        self.db = None

    def forward(self, x):
        x = _check_float_input(x, "Subsampling")
        _output_shape(x.shape, self.pool, self.pool, self.pool, 0, "Subsampling")
        check_batch(x.shape, "Subsampling")
        if x.shape[1] != self.channels:
            raise ValueError(f"Subsampling expects {self.channels} channels, got input of shape {x.shape}")
        check_dtype_matches(x, self.W, "Subsampling")
        self.a = self._avg.forward(x)
        return self.a * self.W[:, None, None] + self.b[:, None, None]

    def backward(self, dout):
        check_forward_done(self.a, "Subsampling")
        dout = _check_dout(dout, self.a.shape, "Subsampling")
        check_dtype_matches(dout, self.W, "Subsampling", "dout")
        self.db = dout.sum(axis=(0, 2, 3))
        self.dW = (dout * self.a).sum(axis=(0, 2, 3))
        return self._avg.backward(dout * self.W[:, None, None])
