"""Fast convolution and max pooling: the readable layers' numbers, computed faster.

``Convolution`` and ``Pooling`` here are subclasses of ``scratch.Convolution``
and ``scratch.Pooling`` with the same constructor and attributes, the same
checks (``scratch.checks``) and the same numbers (``parity_tests/
test_fast_convolution.py``: float64 to 1e-12, the same tie choices). Each
trick below says what it buys, as measured with ``scripts/profile_step.py`` on
a 2-core machine (README, "What made the NumPy side faster").

One attribute differs in layout: ``Convolution.col`` holds im2col(x)
transposed, (C*FH*FW, N*OH*OW), one row per (c, fy, fx) and one column per
region (n, y, x). Each pass is then one large matrix product over the whole
batch, W_col col, which a BLAS library runs faster than N small ones, and
each filter position (fy, fx) fills one block of rows with one strided copy
(``_unfold``, the book's loop over (fy, fx) in this layout).
"""
import numpy as np

from .. import convolution
from ..checks import check_backward, check_convolution_input, check_images, output_shape
from ..convolution import _window_slices

__all__ = ["Convolution", "Pooling"]


def _unfold(x, filter_h, filter_w, stride, pad, out=None):
    """The transpose of im2col, as (C, filter_h, filter_w, N, out_h, out_w).

    col[c, fy, fx, n, y, x] = padded_input[n, c, y*stride + fy, x*stride + fx]:
    reshaped to (C*filter_h*filter_w, N*out_h*out_w) it is ``im2col(x).T``.
    The padded input is built channel-major, (C, N, H + 2*pad, W + 2*pad), so
    that each filter position is one strided slice copied into its rows. ``out``,
    an array of the right shape and dtype (say, the col of the previous step),
    is filled instead of allocating a new one.
    """
    N, C, H, W, out_h, out_w = output_shape(x.shape, filter_h, filter_w, stride, pad, "im2col")
    padded = np.zeros((C, N, H + 2 * pad, W + 2 * pad), dtype=x.dtype)
    padded[:, :, pad:pad + H, pad:pad + W] = x.transpose(1, 0, 2, 3)
    shape = (C, filter_h, filter_w, N, out_h, out_w)
    col = out if out is not None and out.shape == shape and out.dtype == x.dtype else np.empty(shape, x.dtype)
    for fy in range(filter_h):
        y_max = fy + stride * (out_h - 1) + 1
        for fx in range(filter_w):
            x_max = fx + stride * (out_w - 1) + 1
            col[:, fy, fx] = padded[:, :, fy:y_max:stride, fx:x_max:stride]
    return col


def _fold_unfolded(cols, input_shape, filter_h, filter_w, stride, pad):
    """col2im for ``_unfold``'s layout: (C, filter_h, filter_w, N, out_h, out_w) -> ``input_shape``.

    The sums are formed in a channel-major (C, N, H + 2*pad, W + 2*pad) image,
    where each filter position adds one block of rows of ``cols`` with one
    strided addition; the result is a (N, C, H, W) view of it.
    """
    N, C, H, W, out_h, out_w = output_shape(input_shape, filter_h, filter_w, stride, pad, "col2im")
    img = np.zeros((C, N, H + 2 * pad, W + 2 * pad), dtype=cols.dtype)
    for fy in range(filter_h):
        y_max = fy + stride * (out_h - 1) + 1
        for fx in range(filter_w):
            x_max = fx + stride * (out_w - 1) + 1
            img[:, :, fy:y_max:stride, fx:x_max:stride] += cols[:, fy, fx]
    return img[:, :, pad:H + pad, pad:W + pad].transpose(1, 0, 2, 3)


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


class Convolution(convolution.Convolution):
    """``scratch.Convolution``'s numbers, faster. With col = im2col(x)^T, (C*FH*FW, N*OH*OW),
    and dout_2d the (FN, N*OH*OW) form of dout:

    * forward: out = W_col col + b, turned from (FN, N, OH, OW) to (N, FN, OH, OW);
    * backward: db = sum of dout over n, y, x; dW = dout_2d col^T;
      dx = col2im(W_col^T dout_2d). For stride 1 (and square filters with
      pad <= FH - 1, where the unfolded dout is no larger than W_col^T dout_2d),
      dx is computed as a convolution instead: dout padded
      by FH - 1 - pad, filters rotated by 180 degrees with C and FN swapped
      (the "transposed convolution"), one more unfold and product, no col2im.
    """

    def __init__(self, W, b, stride=1, pad=0):
        super().__init__(W, b, stride, pad)
        self._col_buffer = None  # the array of col, refilled by the next forward pass
        self._dout_col = None  # backward's unfolded dout, refilled by the next backward

    def forward(self, x):
        x = np.asarray(x)
        N, _, _, _, out_h, out_w = check_convolution_input(x, self.W, self.stride, self.pad)
        FN, C, FH, FW = self.W.shape
        self.x = x
        self.col_W = self.W.reshape(FN, -1)  # (FN, C*FH*FW)
        if self._pointwise():
            # Speed: a 1x1 convolution (GoogLeNet's) is one product over the channels, and its
            # col is x itself as (C, N*H*W): a view, no copy, when x is channel-major in memory
            # as a convolution leaves it (GoogLeNet's two 16-filter 1x1 layers on 32 channels,
            # forward and backward: 5.2 -> 3.4 ms)
            self.col = x.transpose(1, 0, 2, 3).reshape(C, N * out_h * out_w)
            out = self.col_W @ self.col + self.b[:, None]
            out = out.reshape(FN, N, out_h, out_w).transpose(1, 0, 2, 3)
            self.out_shape = out.shape
            return out
        # Speed: col is written into the previous pass's array when it has that size (backward
        # only ever needs the col of the latest forward pass): a fresh 45 MB array pays its
        # page faults again on every step
        shape = (C, FH, FW, N, out_h, out_w)
        col = _reusable(self._col_buffer, shape, x.dtype)
        col = np.empty(shape, x.dtype) if col is None else col
        self._col_buffer = col
        self.col = col.reshape(C * FH * FW, N * out_h * out_w)
        out = np.empty((FN, N * out_h * out_w), dtype=x.dtype)
        # Plain form: col = im2col(x)^T for the whole batch, then out = W_col col. Speed: the
        # same, a few images at a time, so that each part of col is multiplied while it is
        # still in the cache (a col of tens of megabytes would go to memory and back):
        # 16 channels at 28x28, 10.0 -> 6.6 ms
        for n, columns in _image_chunks(N, out_h * out_w, C * FH * FW * x.itemsize):
            _unfold(x[n], FH, FW, self.stride, self.pad, out=col[:, :, :, n])
            np.matmul(self.col_W, self.col[:, columns], out=out[:, columns])
        out += self.b[:, None]
        # (N, FN, OH, OW) as a view: the data stay filter-major, which is the layout the
        # next layer's unfold and this layer's backward want, so no copy is made here
        out = out.reshape(FN, N, out_h, out_w).transpose(1, 0, 2, 3)
        # Speed: only the output's shape is kept (for backward's check), not the array: a layer that
        # holds its output keeps megabytes alive that the allocator would otherwise reuse in the
        # next step (SimpleConvNet's step: 22.6 -> 20.0 ms)
        self.out_shape = out.shape
        return out

    def _pointwise(self):
        """A 1x1 filter at stride 1 without padding: each output pixel sees one input pixel."""
        return self.W.shape[2:] == (1, 1) and self.stride == 1 and self.pad == 0

    def backward(self, dout):
        dout = check_backward(np.asarray(dout), self.out_shape, "Convolution", self.W)
        FN, C, FH, FW = self.W.shape
        N, _, H, W = self.x.shape
        out_h, out_w = dout.shape[2:]
        self.db = dout.sum(axis=(0, 2, 3))
        dout = np.ascontiguousarray(dout.transpose(1, 0, 2, 3))  # (FN, N, OH, OW)
        dout_2d = dout.reshape(FN, N * out_h * out_w)
        # Speed: dW = dout_2d col^T, computed as (col dout_2d^T)^T: the same sums, but OpenBLAS
        # splits the long product over its threads better with the larger matrix on the left
        self.dW = (self.col @ dout_2d.T).T.reshape(self.W.shape)
        if not self.need_dx:
            return None
        if self._pointwise():  # dx[n, c] = sum_f W[f, c] dout[n, f]: one product, nothing to fold
            return (self.col_W.T @ dout_2d).reshape(C, N, H, W).transpose(1, 0, 2, 3)
        margin = FH - 1 - self.pad
        # Speed: the transposed convolution unfolds dout, FN*FH*FW values per input pixel;
        # col2im's dcol holds C*FH*FW per output pixel: take col2im where its dcol is the
        # smaller of the two (LeNet's 16-filter conv on 6 channels, backward 9.8 -> 3.8 ms),
        # the transposed convolution otherwise
        smaller = FN * H * W <= C * out_h * out_w
        if self.stride == 1 and FH == FW and margin >= 0 and smaller:
            # dx[n, c] = sum_f dout[n, f] (full convolution) W[f, c] rotated by 180 degrees,
            # in chunks of the batch with a reused buffer, as in forward
            W_rot = self.W[:, :, ::-1, ::-1].transpose(1, 0, 2, 3).reshape(C, FN * FH * FW)
            dx = np.empty((C, N * H * W), dtype=dout.dtype)
            images = dout.transpose(1, 0, 2, 3)
            for n, columns in _image_chunks(N, H * W, FN * FH * FW * dout.itemsize):
                size = (FN, FH, FW, n.stop - n.start, H, W)
                dout_col = _unfold(images[n], FH, FW, 1, margin, out=_reusable(self._dout_col, size, dout.dtype))
                self._dout_col = dout_col  # (FN, FH, FW, images, H, W), refilled by the next chunk
                np.matmul(W_rot, dout_col.reshape(FN * FH * FW, -1), out=dx[:, columns])
            return dx.reshape(C, N, H, W).transpose(1, 0, 2, 3)
        dcol = (self.col_W.T @ dout_2d).reshape(C, FH, FW, N, out_h, out_w)
        return _fold_unfolded(dcol, self.x.shape, FH, FW, self.stride, self.pad)


class Pooling(convolution.Pooling):
    """``scratch.Pooling``'s numbers, faster: no im2col copy.

    Forward takes the elementwise maximum of the pool_h*pool_w strided views
    of the (-inf padded) input, one per window position. Backward sends
    dout[n, c, y, x] to the position of the window's maximum; windows that
    overlap (stride < pool) add up. Ties go to the first maximum in row-major
    window order, a window holding NaN sends its gradient to its last NaN,
    and a window of -inf only to its first real (unpadded) position:
    PyTorch's CPU kernel keeps the first position with
    ``val > maxval || isnan(val)`` starting from -inf.

    Speed: for windows larger than 2x2 both passes go in two steps. A
    window's maximum is the maximum of its rows' maxima, so forward takes the
    maximum along each window row (pool_w views), then over the window's rows
    (pool_h views): pool_h + pool_w passes instead of pool_h * pool_w, 6
    instead of 9 for GoogLeNet's 3x3 pools (a (100, 32, 14, 14) input, one
    thread: forward 4.0 -> 2.3 ms, backward 11.9 -> 6.7 ms; GoogLeNet's four
    poolings 42 -> 33 ms per step). Backward retraces them: dout goes to the
    first window row holding the maximum, then within that row to its first
    maximum, which is the first maximum in row-major order.
    """

    def __init__(self, pool_h, pool_w, stride=2, pad=0):
        super().__init__(pool_h, pool_w, stride, pad)
        self._by_rows = self.pool_h + self.pool_w < self.pool_h * self.pool_w  # fewer passes in two steps
        self._padded = None
        self._row_max = None

    def _offsets(self, out_h, out_w):
        """(k, slices) for each window position (i, j) in row-major order, k = i*pool_w + j."""
        for k, sl in enumerate(_window_slices(self.pool_h, self.pool_w, self.stride, out_h, out_w)):
            yield k, sl

    def _steps(self, pool, out_size, axis):
        """The slices seen by window positions 0..pool-1 along one ``axis`` (2: rows, 3: columns)."""
        s = self.stride
        for i in range(pool):
            sl = [slice(None)] * 4
            sl[axis] = slice(i, i + s * (out_size - 1) + 1, s)
            yield tuple(sl)

    def forward(self, x):
        x = np.asarray(x)
        out_h, out_w = check_images(x, self.pool_h, self.pool_w, self.stride, self.pad, "Pooling")[4:]
        p = self.pad
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=self.padding_value) if p else x
        row_max = None
        if self._by_rows:  # the maximum of each window row (N, C, H + 2p, out_w), then over the rows
            row_max = _maximum_of([xp[sl] for sl in self._steps(self.pool_w, out_w, axis=3)])
            out = _maximum_of([row_max[sl] for sl in self._steps(self.pool_h, out_h, axis=2)])
        else:
            out = _maximum_of([xp[sl] for _, sl in self._offsets(out_h, out_w)])
        self.x, self._padded, self._row_max, self.out = x, xp, row_max, out
        return out

    def backward(self, dout):
        dout = check_backward(np.asarray(dout), self.out, "Pooling")
        xp, row_max, out = self._padded, self._row_max, self.out
        ph, pw, s, p = self.pool_h, self.pool_w, self.stride, self.pad
        out_h, out_w = out.shape[2:]
        # Speed: the gradients are laid out in memory like x (channel-major after a convolution)
        # and dout is copied once into the layout of out, so every operation below walks its
        # arrays in the same order; mixed layouts make each pass about twice as slow
        # (SimpleConvNet's pooling backward: 12.9 -> 5.2 ms)
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
