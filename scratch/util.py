"""im2col and col2im (7.4.3), the book's common/util.py: convolution as one matrix product.

im2col lays the input out the way a filter sees it: each region the filter
is applied to (a block of C x filter_h x filter_w values) becomes one row,
the regions taken from the top left, left to right and then down, image
after image (figure 7-18). With out_h = (H + 2*pad - filter_h) // stride + 1
(likewise out_w) the result has shape (N*out_h*out_w, C*filter_h*filter_w):
rows ordered (n, y, x), columns ordered (c, fy, fx), and

    col[(n*out_h + y)*out_w + x, (c*filter_h + fy)*filter_w + fx]
        = padded_input[n, c, y*stride + fy, x*stride + fx].

Building it region by region would be a loop over N*out_h*out_w regions.
The book loops over the filter's positions (fy, fx) instead, only
filter_h*filter_w of them: for one position, the pixels it meets in all the
regions at once form a strided slice of the padded input,
padded_input[:, :, fy::stride, fx::stride] cut to out_h x out_w, copied in
one vectorised step. PyTorch's ``F.unfold`` (``reference.util``) gives the
same numbers.

``scratch.fast.convolution`` keeps col transposed and fills it with the same
loop (``_unfold``), for speed.
"""
import numpy as np

from .checks import output_shape

__all__ = ["im2col", "col2im"]



def im2col(input_data, filter_h, filter_w, stride=1, pad=0, fill=0):
    """Expand (N, C, H, W) data into the matrix (N*out_h*out_w, C*filter_h*filter_w), one row per region.

    ``pad`` rows and columns of ``fill`` surround each image (0 for a
    convolution, -inf for max pooling, so that padding never wins). The dtype
    of the input is kept (float32 stays float32).
    """
    img = np.asarray(input_data)
    N, C, H, W, out_h, out_w = output_shape(img.shape, filter_h, filter_w, stride, pad, "im2col")
    img = np.pad(img, [(0, 0), (0, 0), (pad, pad), (pad, pad)], constant_values=fill)
    col = np.empty((N, C, filter_h, filter_w, out_h, out_w), dtype=img.dtype)
    for y in range(filter_h):  # the filter's row fy = y meets rows y, y + stride, ... of the padded image
        y_max = y + stride * out_h
        for x in range(filter_w):
            x_max = x + stride * out_w
            col[:, :, y, x, :, :] = img[:, :, y:y_max:stride, x:x_max:stride]
    # (N, C, FH, FW, OH, OW) -> rows (n, y, x), columns (c, fy, fx)
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(N * out_h * out_w, C * filter_h * filter_w)


def col2im(col, input_shape, filter_h, filter_w, stride=1, pad=0):
    """Send each entry of col (N*out_h*out_w, C*filter_h*filter_w) back to its pixel of ``input_shape``.

    The same loop as ``im2col``, with ``+=`` where im2col copies. Why ``+=``:
    where regions overlap (stride < filter), im2col copied one pixel into
    several rows, and in backward each copy brings its own gradient; the
    pixel's gradient is their sum. Why col2im is not im2col's inverse: it
    adds the copies up instead of picking one, so col2im(im2col(x)) is x
    times the number of regions that saw each pixel (x itself only when the
    regions do not overlap). It is im2col's transpose, which is what
    backward needs. The padding is cut off at the end.
    """
    col = np.asarray(col)
    N, C, H, W, out_h, out_w = output_shape(input_shape, filter_h, filter_w, stride, pad, "col2im")
    expected = (N * out_h * out_w, C * filter_h * filter_w)
    if col.shape != expected:
        raise ValueError(f"col2im: col of shape {col.shape} does not match input shape {(N, C, H, W)} "
                         f"with a {filter_h}x{filter_w} filter, stride {stride}, pad {pad}: "
                         f"expected {expected}")
    col = col.reshape(N, out_h, out_w, C, filter_h, filter_w).transpose(0, 3, 4, 5, 1, 2)
    img = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=col.dtype)
    for y in range(filter_h):
        y_max = y + stride * out_h
        for x in range(filter_w):
            x_max = x + stride * out_w
            img[:, :, y:y_max:stride, x:x_max:stride] += col[:, :, y, x, :, :]
    return img[:, :, pad:H + pad, pad:W + pad]
