"""Chapter 7's practice tasks: im2col, col2im, the Convolution and Pooling layers (7.4.3, 7.4.4).

The inputs are chosen so that the classic mistakes show: several channels
(C > 1), filters that are not square (3x2), images that are not square
(5x6), overlapping windows (stride 1 with a filter of 2 or more), stride 2
and a padding of 1, batches of 1 and of several, float64 and float32.
"""
from itertools import permutations

import numpy as np

from ..grader import first_match
from ..task import Mistake, Task

# ---------------------------------------------------------------------------
# Helpers shared by the four tasks
# ---------------------------------------------------------------------------


def out_size(size, filter_size, stride, pad):
    """(size + 2*pad - filter_size) // stride + 1 (equation 7.1, in integers)."""
    return (size + 2 * pad - filter_size) // stride + 1


def equal(received, candidate, rtol=1e-6):
    """True when ``received`` has ``candidate``'s shape and values (within ``rtol`` of its largest entry)."""
    received = np.asarray(received, dtype=np.float64)
    candidate = np.asarray(candidate, dtype=np.float64)
    if received.shape != candidate.shape:
        return False
    scale = max(float(np.max(np.abs(candidate))) if candidate.size else 0.0, 1e-300)
    return bool(np.all(np.abs(received - candidate) <= rtol * scale))


ROW_AXES, COLUMN_AXES = ("n", "y", "x"), ("c", "fy", "fx")


def arrangements():
    """(row order, column order, axes) for each way of ordering col's rows and columns other than the book's.

    Rows are ordered by (n, y, x) in some order, columns by (c, fy, fx) in
    some order; ``axes`` is the transpose that takes the book's (N, OH, OW, C,
    FH, FW) to that order. The book's own ((n, y, x), (c, fy, fx)) is left out.
    """
    for rows in permutations(range(3)):
        for columns in permutations(range(3, 6)):
            if rows == (0, 1, 2) and columns == (3, 4, 5):
                continue
            names = (tuple(ROW_AXES[i] for i in rows), tuple(COLUMN_AXES[i - 3] for i in columns))
            yield names[0], names[1], rows + columns


def torch_double(array, grad=False):
    import torch

    return torch.tensor(np.asarray(array, dtype=np.float64), requires_grad=grad)


def case_input(grader, stream, shape, dtype=np.float64):
    """A standard normal input of ``shape``: distinct values, negatives included."""
    return grader.rng(7, *stream).standard_normal(shape).astype(dtype)


# ---------------------------------------------------------------------------
# im2col (7.4.3)
# ---------------------------------------------------------------------------

IM2COL_SKELETON = '''"""im2col (7.4.3): lay out each region a filter sees as one row of a matrix.

    input_data (N, C, H, W);  out_h = (H + 2*pad - filter_h) // stride + 1, out_w likewise
    img = input_data padded with `pad` zeros around H and W (not around N or C)
    col (N*out_h*out_w, C*filter_h*filter_w): rows ordered (n, y, x), columns ordered (c, fy, fx):

        col[(n*out_h + y)*out_w + x, (c*filter_h + fy)*filter_w + fx] = img[n, c, y*stride + fy, x*stride + fx]

The book fills an array (N, C, filter_h, filter_w, out_h, out_w), one
strided slice of img per filter position (fy, fx):
    col[:, :, fy, fx, :, :] = img[:, :, fy:fy + stride*out_h:stride, fx:fx + stride*out_w:stride]
then transposes it to (N, out_h, out_w, C, filter_h, filter_w) and reshapes it.

Check it: python scripts/practice.py check im2col
"""
import numpy as np


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    raise NotImplementedError("pad H and W, copy one strided slice per filter position, transpose, reshape")
'''

IM2COL_LINE = "im2col: col = col.transpose(0, 4, 5, 1, 2, 3).reshape(N*out_h*out_w, -1)"
IM2COL_PAD_LINE = "im2col: img = np.pad(input_data, [(0,0), (0,0), (pad, pad), (pad, pad)], 'constant')"

# (N, C, H, W, filter_h, filter_w, stride, pad): one image and channel first, then several channels with a
# 3x2 filter on a 5x6 image (overlapping rows and columns), stride 2 with padding, a batch of 3 with a 2x3 filter
IM2COL_CASES = (
    (1, 1, 4, 6, 2, 2, 2, 0),
    (1, 3, 5, 6, 3, 2, 1, 0),
    (2, 3, 5, 6, 3, 2, 2, 1),
    (3, 2, 6, 5, 2, 3, 1, 1),
)


def im2col_case(grader, case, dtype=np.float64):
    N, C, H, W, fh, fw, stride, pad = case
    return case_input(grader, (1, *case), (N, C, H, W), dtype), fh, fw, stride, pad


def im2col_mistakes(x, fh, fw, stride, pad, expected):
    """The mistakes an im2col of ``x`` can show, given the right ``expected`` col."""
    N, C, H, W = x.shape
    oh, ow = out_size(H, fh, stride, pad), out_size(W, fw, stride, pad)
    book = expected.reshape(N, oh, ow, C, fh, fw)
    unpadded = out_size(H, fh, stride, 0) * out_size(W, fw, stride, 0)
    mistakes = [
        Mistake("rows and columns swapped", f"col has one row per region: shape (N*out_h*out_w, C*filter_h*filter_w) "
                f"= {expected.shape}, not its transpose", IM2COL_LINE,
                lambda col: equal(col, expected.T)),
        Mistake("padding on the batch and channel axes too",
                "np.pad(x, pad) pads every axis; only H and W are padded: [(0,0), (0,0), (pad,pad), (pad,pad)]",
                IM2COL_PAD_LINE,
                lambda col: pad > 0 and tuple(np.shape(col)) == ((N + 2 * pad) * oh * ow, (C + 2 * pad) * fh * fw)),
        Mistake("out_h and out_w without the padding", f"out_h = (H + 2*pad - filter_h) // stride + 1 = {oh}",
                "im2col: out_h = (H + 2*pad - filter_h)//stride + 1",
                lambda col: pad > 0 and np.shape(col)[0] == N * unpadded),
    ]
    untransposed = book.transpose(0, 3, 4, 5, 1, 2).reshape(expected.shape)
    mistakes.append(Mistake("col not transposed before the reshape",
                            "the array filled per filter position is (N, C, filter_h, filter_w, out_h, out_w): "
                            "transpose(0, 4, 5, 1, 2, 3) to (N, out_h, out_w, C, filter_h, filter_w), then reshape",
                            IM2COL_LINE, lambda col: equal(col, untransposed)))
    for rows, columns, axes in arrangements():
        candidate = book.transpose(axes).reshape(expected.shape)
        if columns != COLUMN_AXES:
            name, why = "im2col with the wrong column order", (
                f"your columns are ordered ({', '.join(columns)}); the book's are (c, fy, fx), "
                "the order of W.reshape(FN, -1)'s columns: transpose to (N, out_h, out_w, C, filter_h, filter_w)")
        else:
            name, why = "rows in the wrong order", (
                f"your rows are ordered ({', '.join(rows)}); the book's are (n, y, x): image after image, "
                "each region left to right, then down")
        mistakes.append(Mistake(name, why, IM2COL_LINE, lambda col, c=candidate: equal(col, c)))
    return tuple(mistakes)


def im2col_call_mistakes(x, pad):
    """Mistakes that show as an exception: the padded batch and channel axes do not fit col."""
    N, C = x.shape[:2]
    padded = f"({N + 2 * pad},{C + 2 * pad},"
    return (Mistake("padding on the batch and channel axes too",
                    "np.pad(x, pad) pads every axis; only H and W are padded: [(0,0), (0,0), (pad,pad), (pad,pad)]",
                    IM2COL_PAD_LINE,
                    lambda err: pad > 0 and isinstance(err, ValueError) and padded in str(err).replace(" ", "")),)


def im2col_learner(grader, x, fh, fw, stride, pad):
    return grader.call(f"im2col(x of shape {x.shape}, {fh}, {fw}, stride={stride}, pad={pad})",
                       grader.learner, x.copy(), fh, fw, stride, pad, mistakes=im2col_call_mistakes(x, pad))


def check_im2col_book(grader):
    """col equals the book's im2col (1 and several images and channels, a 3x2 filter, stride 1 and 2, pad 0 and 1)"""
    for case in IM2COL_CASES:
        x, fh, fw, stride, pad = im2col_case(grader, case)
        expected = grader.expected.im2col(x, fh, fw, stride, pad)
        col = im2col_learner(grader, x, fh, fw, stride, pad)
        grader.compare(f"col of x {x.shape}, filter {fh}x{fw}, stride {stride}, pad {pad}", col, expected,
                im2col_mistakes(x, fh, fw, stride, pad, expected), IM2COL_LINE)


def check_im2col_torch(grader):
    """col equals F.unfold's, transposed to one row per region (PyTorch)"""
    import torch.nn.functional as F

    for case in IM2COL_CASES[1:]:
        x, fh, fw, stride, pad = im2col_case(grader, case)
        C = x.shape[1]
        # F.unfold: (N, C*fh*fw, L), columns (c, fy, fx), L the regions (y, x); one row per region
        expected = F.unfold(torch_double(x), (fh, fw), stride=stride, padding=pad)
        expected = expected.transpose(1, 2).reshape(-1, C * fh * fw).numpy()
        col = im2col_learner(grader, x, fh, fw, stride, pad)
        grader.compare(f"col against F.unfold, x {x.shape}, filter {fh}x{fw}, stride {stride}, pad {pad}", col,
                expected, im2col_mistakes(x, fh, fw, stride, pad, expected), IM2COL_LINE)


def check_im2col_float32(grader):
    """float32 input: the same numbers"""
    x, fh, fw, stride, pad = im2col_case(grader, IM2COL_CASES[2], np.float32)
    expected = grader.expected.im2col(x, fh, fw, stride, pad)
    col = im2col_learner(grader, x, fh, fw, stride, pad)
    grader.compare("col of a float32 input", col, expected, im2col_mistakes(x, fh, fw, stride, pad, expected),
            IM2COL_LINE, rtol=1e-6)


IM2COL = Task("im2col", 7, "7.4.3", "im2col", IM2COL_SKELETON,
              (check_im2col_book, check_im2col_torch, check_im2col_float32))

# ---------------------------------------------------------------------------
# col2im (7.4.3)
# ---------------------------------------------------------------------------

COL2IM_SKELETON = '''"""col2im (7.4.3): send each entry of col back to its pixel, adding where regions overlap.

    col (N*out_h*out_w, C*filter_h*filter_w), rows ordered (n, y, x), columns (c, fy, fx), as im2col makes it
    input_shape (N, C, H, W);  out_h = (H + 2*pad - filter_h) // stride + 1, out_w likewise

        img[n, c, y*stride + fy, x*stride + fx] += col[(n*out_h + y)*out_w + x, (c*filter_h + fy)*filter_w + fx]

    on an img of zeros of the padded shape (N, C, H + 2*pad, W + 2*pad); return img without its padding,
    (N, C, H, W). A pixel that several regions saw receives the sum of their entries: col2im is im2col's
    transpose (what backward needs), not its inverse.

The book reshapes col to (N, out_h, out_w, C, filter_h, filter_w), transposes it to
(N, C, filter_h, filter_w, out_h, out_w), and adds one slice per filter position (fy, fx):
    img[:, :, fy:fy + stride*out_h:stride, fx:fx + stride*out_w:stride] += col[:, :, fy, fx, :, :]

Check it: python scripts/practice.py check col2im
"""
import numpy as np


def col2im(col, input_shape, filter_h, filter_w, stride=1, pad=0):
    raise NotImplementedError("reshape and transpose col, add one strided slice per filter position, cut the padding")
'''

COL2IM_LINE = "col2im: img[:, :, y:y_max:stride, x:x_max:stride] += col[:, :, y, x, :, :]"
COL2IM_CROP_LINE = "col2im: return img[:, :, pad:H + pad, pad:W + pad]"
COL2IM_READ_LINE = "col2im: col = col.reshape(N, out_h, out_w, C, filter_h, filter_w).transpose(0, 3, 4, 5, 1, 2)"

# (N, C, H, W, filter_h, filter_w, stride, pad): windows that do not overlap first (= and += agree there),
# then overlapping ones (a 3x2 filter, stride 1), stride 2 with padding, a batch of 3 with a 2x3 filter
COL2IM_CASES = IM2COL_CASES


def col2im_case(grader, case, dtype=np.float64):
    """(col, input_shape, filter_h, filter_w, stride, pad): a standard normal col of the case's shape."""
    N, C, H, W, fh, fw, stride, pad = case
    rows = N * out_size(H, fh, stride, pad) * out_size(W, fw, stride, pad)
    return case_input(grader, (2, *case), (rows, C * fh * fw), dtype), (N, C, H, W), fh, fw, stride, pad


def col2im_assigned(col, input_shape, fh, fw, stride, pad, filter_rows_first=True):
    """col2im with ``=`` instead of ``+=``: where regions overlap, the last one written wins."""
    N, C, H, W = input_shape
    oh, ow = out_size(H, fh, stride, pad), out_size(W, fw, stride, pad)
    col = np.asarray(col).reshape(N, oh, ow, C, fh, fw).transpose(0, 3, 4, 5, 1, 2)
    img = np.zeros((N, C, H + 2 * pad, W + 2 * pad))
    positions = [(y, x) for y in range(fh) for x in range(fw)] if filter_rows_first else \
        [(y, x) for x in range(fw) for y in range(fh)]
    for y, x in positions:
        img[:, :, y:y + stride * oh:stride, x:x + stride * ow:stride] = col[:, :, y, x, :, :]
    return img[:, :, pad:H + pad, pad:W + pad]


def col2im_mistakes(grader, col, input_shape, fh, fw, stride, pad):
    """The mistakes a col2im of ``col`` can show."""
    N, C, H, W = input_shape
    oh, ow = out_size(H, fh, stride, pad), out_size(W, fw, stride, pad)
    padded_shapes = {(N, C, H + 2 * pad, W + 2 * pad), (N, C, H + 2 * pad + stride - 1, W + 2 * pad + stride - 1)}
    assigned = [col2im_assigned(col, input_shape, fh, fw, stride, pad, order) for order in (True, False)]
    mistakes = [
        Mistake("col2im with `=` instead of `+=`",
                "where regions overlap (stride < filter) a pixel was copied into several rows of col, and each "
                "copy brings its own gradient: they must be added up, or all but the last one are lost",
                COL2IM_LINE, lambda img: any(equal(img, a) for a in assigned)),
        Mistake("the padding not cut off", f"img is padded while the entries are added; return its inner "
                f"(N, C, H, W) = {tuple(input_shape)}", COL2IM_CROP_LINE,
                lambda img: pad > 0 and tuple(np.shape(img)) in padded_shapes),
    ]
    # col reshaped straight to (N, C, filter_h, filter_w, out_h, out_w), without the transpose
    straight = np.asarray(col).reshape(N, C, fh, fw, oh, ow).transpose(0, 4, 5, 1, 2, 3).reshape(np.shape(col))
    untransposed = grader.expected.col2im(straight, input_shape, fh, fw, stride, pad)
    mistakes.append(Mistake("col read in the wrong order",
                            "col is (N*out_h*out_w, C*filter_h*filter_w): reshape it to (N, out_h, out_w, C, "
                            "filter_h, filter_w), then transpose(0, 3, 4, 5, 1, 2); a straight reshape to "
                            "(N, C, filter_h, filter_w, out_h, out_w) mixes regions and channels",
                            COL2IM_READ_LINE, lambda img: equal(img, untransposed)))
    book = np.asarray(col).reshape(N, oh, ow, C, fh, fw)
    for rows, columns, axes in arrangements():
        # the learner reads col as if its axes were in this order: the book's col2im of col re-laid out so
        inverse = np.argsort(axes)
        sizes = book.transpose(axes).shape
        relaid = np.asarray(col).reshape(sizes).transpose(inverse).reshape(np.shape(col))
        candidate = grader.expected.col2im(relaid, input_shape, fh, fw, stride, pad)
        mistakes.append(Mistake(
            "col read in the wrong order",
            f"you read col's rows as ({', '.join(rows)}) and its columns as ({', '.join(columns)}); im2col lays them "
            "out (n, y, x) and (c, fy, fx): reshape to (N, out_h, out_w, C, filter_h, filter_w) first",
            COL2IM_READ_LINE, lambda img, c=candidate: equal(img, c)))
    return tuple(mistakes)


def col2im_learner(grader, col, input_shape, fh, fw, stride, pad):
    return grader.call(f"col2im(col of shape {col.shape}, {input_shape}, {fh}, {fw}, stride={stride}, pad={pad})",
                       grader.learner, col.copy(), input_shape, fh, fw, stride, pad)


def check_col2im_book(grader):
    """img equals the book's col2im (windows apart and overlapping, stride 1 and 2, pad 0 and 1, N 1 and 3)"""
    for case in COL2IM_CASES:
        col, shape, fh, fw, stride, pad = col2im_case(grader, case)
        expected = grader.expected.col2im(col, shape, fh, fw, stride, pad)
        img = col2im_learner(grader, col, shape, fh, fw, stride, pad)
        grader.compare(f"img of shape {shape}, filter {fh}x{fw}, stride {stride}, pad {pad}", img, expected,
                col2im_mistakes(grader, col, shape, fh, fw, stride, pad), COL2IM_LINE)


def check_col2im_torch(grader):
    """img equals F.fold's (PyTorch)"""
    import torch.nn.functional as F

    for case in COL2IM_CASES[1:]:
        col, shape, fh, fw, stride, pad = col2im_case(grader, case)
        N, C, H, W = shape
        # F.fold takes (N, C*fh*fw, L): col's rows of one image as its columns
        blocks = torch_double(col).reshape(N, -1, C * fh * fw).transpose(1, 2)
        expected = F.fold(blocks, (H, W), (fh, fw), stride=stride, padding=pad).numpy()
        img = col2im_learner(grader, col, shape, fh, fw, stride, pad)
        grader.compare(f"img against F.fold, shape {shape}, filter {fh}x{fw}, stride {stride}, pad {pad}", img,
                expected, col2im_mistakes(grader, col, shape, fh, fw, stride, pad), COL2IM_LINE)


def check_col2im_transpose(grader):
    """col2im is im2col's transpose: sum(im2col(x) * col) == sum(x * col2im(col))"""
    case = COL2IM_CASES[3]
    col, shape, fh, fw, stride, pad = col2im_case(grader, case)
    x = case_input(grader, (3, *case), shape)
    img = col2im_learner(grader, col, shape, fh, fw, stride, pad)
    mistake = first_match(col2im_mistakes(grader, col, shape, fh, fw, stride, pad), img)
    grader.require(img is not None and np.shape(img) == shape, f"img has shape {np.shape(img)}, expected {shape}",
                   mistake, COL2IM_CROP_LINE)
    expected = float(np.sum(grader.expected.im2col(x, fh, fw, stride, pad) * col))
    received = float(np.sum(x * np.asarray(img, dtype=np.float64)))
    grader.require(abs(received - expected) <= 1e-10 * max(abs(expected), 1.0),
                   f"sum(x * col2im(col)) = {received:.12g} but sum(im2col(x) * col) = {expected:.12g}: "
                   "backward through im2col must be col2im", mistake, COL2IM_LINE)


def check_col2im_float32(grader):
    """float32 col: the same numbers to 1e-5"""
    col, shape, fh, fw, stride, pad = col2im_case(grader, COL2IM_CASES[2], np.float32)
    expected = grader.expected.col2im(col, shape, fh, fw, stride, pad)
    img = col2im_learner(grader, col, shape, fh, fw, stride, pad)
    grader.compare("img of a float32 col", img, expected, col2im_mistakes(grader, col, shape, fh, fw, stride, pad),
            COL2IM_LINE, rtol=1e-5)


COL2IM = Task("col2im", 7, "7.4.3", "col2im", COL2IM_SKELETON,
              (check_col2im_book, check_col2im_torch, check_col2im_transpose, check_col2im_float32))

# ---------------------------------------------------------------------------
# Convolution (7.4.3)
# ---------------------------------------------------------------------------

CONVOLUTION_SKELETON = '''"""Convolution, the convolution layer (7.4.3): forward and backward with im2col and col2im.

    W (FN, C, FH, FW), b (FN,), x (N, C, H, W);  OH = (H + 2*pad - FH) // stride + 1, OW likewise
    forward:   col = im2col(x, FH, FW, stride, pad)        (N*OH*OW, C*FH*FW), one row per region
               col_W = W.reshape(FN, -1).T                  (C*FH*FW, FN), one column per filter
               out = col col_W + b                          (N*OH*OW, FN)
               reshaped to (N, OH, OW, FN), transposed to   (N, FN, OH, OW)
    backward:  dout (N, FN, OH, OW) transposed to (N, OH, OW, FN), reshaped to (N*OH*OW, FN): rows as col's
               db = sum of dout's rows                      (FN,)
               dW = col^T dout                              (C*FH*FW, FN), transposed, reshaped to (FN, C, FH, FW)
               dcol = dout col_W^T                          (N*OH*OW, C*FH*FW)
               dx = col2im(dcol, x.shape, FH, FW, stride, pad)   (N, C, H, W)

Check it: python scripts/practice.py check convolution
"""
import numpy as np

from scratch.book import col2im, im2col  # or your own: from im2col import im2col; from col2im import col2im


class Convolution:
    def __init__(self, W, b, stride=1, pad=0):
        self.W = W
        self.b = b
        self.stride = stride
        self.pad = pad
        self.x = None  # what backward needs
        self.col = None
        self.col_W = None
        self.dW = None  # the gradients backward computes
        self.db = None

    def forward(self, x):
        raise NotImplementedError("im2col, one product with the filters as columns, reshape and transpose")

    def backward(self, dout):
        raise NotImplementedError("set self.dW (W's shape) and self.db, return dx through col2im")
'''

CONV_FORWARD_LINE = "Convolution.forward: out = out.reshape(N, out_h, out_w, -1).transpose(0, 3, 1, 2)"
CONV_DW_LINE = "Convolution.backward: self.dW = self.dW.transpose(1, 0).reshape(FN, C, FH, FW)"
CONV_DOUT_LINE = "Convolution.backward: dout = dout.transpose(0,2,3,1).reshape(-1, FN)"

# (N, C, H, W, FN, FH, FW, stride, pad): one image first, then a batch with stride 2 and padding
CONV_CASES = (
    (1, 3, 5, 6, 2, 3, 2, 1, 0),
    (2, 3, 6, 5, 4, 2, 3, 2, 1),
)


def conv_case(grader, case, dtype=np.float64):
    """(W, b, x, dout, stride, pad) for ``case``."""
    N, C, H, W, FN, FH, FW, stride, pad = case
    rng = grader.rng(7, 3, *case)
    weights = rng.standard_normal((FN, C, FH, FW)).astype(dtype)
    b = rng.standard_normal(FN).astype(dtype)
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    dout = rng.standard_normal((N, FN, out_size(H, FH, stride, pad), out_size(W, FW, stride, pad))).astype(dtype)
    return weights, b, x, dout, stride, pad


def conv_pass(grader, W, b, x, dout, stride, pad):
    """forward then backward of the learner's Convolution(W, b, stride, pad): (out, dx, dW, db)."""
    layer = grader.call(f"Convolution(W of shape {W.shape}, b, stride={stride}, pad={pad})", grader.learner,
                        W.copy(), b.copy(), stride, pad)
    out = grader.call("forward", layer.forward, x.copy(), mistakes=CONV_CALL_MISTAKES)
    dx = grader.call("backward", layer.backward, dout.copy())
    return out, dx, layer.dW, layer.db


def conv_reference(grader, W, b, x, dout, stride, pad):
    """The expected package's Convolution: (out, dx, dW, db)."""
    layer = grader.expected.Convolution(W, b, stride, pad)
    out = layer.forward(x)
    dx = layer.backward(dout)
    return out, dx, layer.dW, layer.db


CONV_CALL_MISTAKES = (
    Mistake("W_col not transposed", "col (N*OH*OW, C*FH*FW) meets the filters as columns: "
            "col_W = W.reshape(FN, -1).T, (C*FH*FW, FN)", "Convolution.forward: col_W = self.W.reshape(FN, -1).T",
            lambda err: isinstance(err, ValueError) and ("align" in str(err) or "mismatch" in str(err))),
)


def conv_mistakes(grader, W, b, x, dout, stride, pad):
    """The mistakes of Convolution, by what they concern: 'out', 'dW', 'db', 'dx'."""
    FN, C, FH, FW = W.shape
    N = x.shape[0]
    oh, ow = dout.shape[2:]
    out, _, dW, _ = conv_reference(grader, W, b, x, dout, stride, pad)
    # dout reshaped to (N*OH*OW, FN) without the transpose: as if dout had been this one
    scrambled = dout.reshape(N, oh, ow, FN).transpose(0, 3, 1, 2)
    _, dx_s, dW_s, db_s = conv_reference(grader, W, b, x, scrambled, stride, pad)
    unreshaped = {(C * FH * FW, FN), (FN, C * FH * FW)}

    def dout_mistake(expected):
        return Mistake("dout reshaped without the transpose",
                       "dout (N, FN, OH, OW) must be transposed to (N, OH, OW, FN) before the reshape to "
                       "(N*OH*OW, FN), so that its rows are col's regions", CONV_DOUT_LINE,
                       lambda received: equal(received, expected))

    return {
        "out": (Mistake("out not transposed to (N, FN, OH, OW)",
                        "the product has one row per region, (N*OH*OW, FN): reshape it to (N, OH, OW, FN), "
                        "then transpose(0, 3, 1, 2)", CONV_FORWARD_LINE,
                        lambda o: tuple(np.shape(o)) == (N, oh, ow, FN) or equal(
                            o, out.transpose(0, 2, 3, 1).reshape(N, FN, oh, ow))),),
        "dW": (Mistake("dW not reshaped to W's shape", f"dW must have W's shape {W.shape}: (col^T dout)^T reshaped "
                       "to (FN, C, FH, FW)", CONV_DW_LINE, lambda d: tuple(np.shape(d)) in unreshaped),
               Mistake("dW reshaped without the transpose", "col^T dout is (C*FH*FW, FN): transpose it to "
                       "(FN, C*FH*FW) before reshaping to (FN, C, FH, FW), or the numbers land on the wrong weights",
                       CONV_DW_LINE, lambda d: equal(d, dW.reshape(FN, -1).T.reshape(W.shape))),
               dout_mistake(dW_s)),
        "db": (Mistake("db not summed over the batch and the positions", f"db must have b's shape ({FN},): every "
                       "region of every image adds its dout", "Convolution.backward: self.db = np.sum(dout, axis=0)",
                       lambda d: tuple(np.shape(d)) in {(N * oh * ow, FN), (N, FN), (FN, oh, ow), (N, FN, oh, ow)}),
               dout_mistake(db_s)),
        "dx": (dout_mistake(dx_s),),
    }


def check_convolution_forward(grader):
    """forward equals the book's Convolution (batches of 1 and 2, C = 3, a 3x2 filter, stride 1 and 2, pad 0 and 1)"""
    for case in CONV_CASES:
        W, b, x, dout, stride, pad = conv_case(grader, case)
        out, *_ = conv_pass(grader, W, b, x, dout, stride, pad)
        expected = grader.expected.Convolution(W, b, stride, pad).forward(x)
        grader.compare(f"forward, x {x.shape}, W {W.shape}, stride {stride}, pad {pad}", out, expected,
                conv_mistakes(grader, W, b, x, dout, stride, pad)["out"], CONV_FORWARD_LINE)


def check_convolution_backward(grader):
    """backward: db, dW and dx equal the book's (the same cases)"""
    for case in CONV_CASES:
        W, b, x, dout, stride, pad = conv_case(grader, case)
        _, dx, dW, db = conv_pass(grader, W, b, x, dout, stride, pad)
        _, expected_dx, expected_dW, expected_db = conv_reference(grader, W, b, x, dout, stride, pad)
        mistakes = conv_mistakes(grader, W, b, x, dout, stride, pad)
        where = f"x {x.shape}, W {W.shape}, stride {stride}, pad {pad}"
        grader.compare(f"db, {where}", db, expected_db, mistakes["db"])
        grader.compare(f"dW, {where}", dW, expected_dW, mistakes["dW"])
        grader.compare(f"dx, {where}", dx, expected_dx, mistakes["dx"])


def check_convolution_torch(grader):
    """forward equals F.conv2d and dx, dW, db equal autograd's (PyTorch)"""
    import torch
    import torch.nn.functional as F

    for case in CONV_CASES:
        W, b, x, dout, stride, pad = conv_case(grader, case)
        out, dx, dW, db = conv_pass(grader, W, b, x, dout, stride, pad)
        weight, bias, inputs = torch_double(W, True), torch_double(b, True), torch_double(x, True)
        expected = F.conv2d(inputs, weight, bias, stride=stride, padding=pad)
        expected.backward(torch.tensor(dout))
        mistakes = conv_mistakes(grader, W, b, x, dout, stride, pad)
        where = f"stride {stride}, pad {pad}"
        grader.compare(f"forward against F.conv2d, {where}", out, expected.detach().numpy(), mistakes["out"])
        grader.compare(f"db against autograd, {where}", db, bias.grad.numpy(), mistakes["db"])
        grader.compare(f"dW against autograd, {where}", dW, weight.grad.numpy(), mistakes["dW"])
        grader.compare(f"dx against autograd, {where}", dx, inputs.grad.numpy(), mistakes["dx"])


def check_convolution_numerical(grader):
    """dW equals a numerical gradient of sum(forward(x) * dout) (stride 2, pad 1)"""
    W, b, x, dout, stride, pad = conv_case(grader, CONV_CASES[1])
    _, _, dW, _ = conv_pass(grader, W, b, x, dout, stride, pad)

    def loss(weights):
        return float(np.sum(grader.expected.Convolution(weights, b, stride, pad).forward(x) * dout))

    grader.compare("dW against central differences", dW, grader.numerical_gradient(loss, W),
            conv_mistakes(grader, W, b, x, dout, stride, pad)["dW"], CONV_DW_LINE, rtol=1e-7)


def check_convolution_float32(grader):
    """float32 filters and input: the book's numbers to 1e-5"""
    W, b, x, dout, stride, pad = conv_case(grader, CONV_CASES[1], np.float32)
    out, dx, dW, db = conv_pass(grader, W, b, x, dout, stride, pad)
    expected_out, expected_dx, expected_dW, expected_db = conv_reference(grader, W, b, x, dout, stride, pad)
    grader.compare("forward, float32", out, expected_out, rtol=1e-5)
    grader.compare("db, float32", db, expected_db, rtol=1e-5)
    grader.compare("dW, float32", dW, expected_dW, rtol=1e-5)
    grader.compare("dx, float32", dx, expected_dx, rtol=1e-5)


CONVOLUTION = Task("convolution", 7, "7.4.3", "Convolution", CONVOLUTION_SKELETON,
                   (check_convolution_forward, check_convolution_backward, check_convolution_torch,
                    check_convolution_numerical, check_convolution_float32))

# ---------------------------------------------------------------------------
# Pooling (7.4.4)
# ---------------------------------------------------------------------------

POOLING_SKELETON = '''"""Pooling, max pooling (7.4.4): write forward and backward with im2col and col2im.

    x (N, C, H, W);  OH = (H + 2*pad - pool_h) // stride + 1, OW likewise
    forward:   col = im2col(x, pool_h, pool_w, stride, pad)   (N*OH*OW, C*pool_h*pool_w)
               reshaped to one window per row                   (N*OH*OW*C, pool_h*pool_w), rows (n, y, x, c)
               out = the maximum of each row; keep arg_max, its position in the row
               reshaped to (N, OH, OW, C), transposed to        (N, C, OH, OW)
    backward:  dout (N, C, OH, OW) transposed to (N, OH, OW, C): one number per window row
               dmax = zeros (N*OH*OW*C, pool_h*pool_w); each row gets its dout at arg_max only
               reshaped to (N*OH*OW, C*pool_h*pool_w), dx = col2im(dmax, x.shape, pool_h, pool_w, stride, pad)

The padding: the book's im2col pads with 0 (a 0 of padding can be the maximum of negative inputs);
with --semantics pytorch it is -inf, as F.max_pool2d's, so that padding never wins:
scratch.util's im2col(x, pool_h, pool_w, stride, pad, fill=-np.inf).

Check it: python scripts/practice.py check pooling
"""
import numpy as np

from scratch.book import col2im, im2col  # or your own: from im2col import im2col; from col2im import col2im


class Pooling:
    def __init__(self, pool_h, pool_w, stride=2, pad=0):
        self.pool_h = pool_h
        self.pool_w = pool_w
        self.stride = stride
        self.pad = pad
        self.x = None  # what backward needs
        self.arg_max = None

    def forward(self, x):
        raise NotImplementedError("im2col, one window per row, its max and argmax, reshape and transpose")

    def backward(self, dout):
        raise NotImplementedError("each window's dout to its argmax only, then col2im")
'''

POOL_FORWARD_LINE = "Pooling.forward: out = out.reshape(N, out_h, out_w, C).transpose(0, 3, 1, 2)"
POOL_BACKWARD_LINE = ("Pooling.backward: dmax[np.arange(self.arg_max.size), self.arg_max.flatten()] "
                      "= dout.flatten()")
POOL_DOUT_LINE = "Pooling.backward: dout = dout.transpose(0, 2, 3, 1)"
POOL_OUT_H_LINE = "Pooling.forward: out_h = int(1 + (H - self.pool_h) / self.stride)  (the book's: add 2*self.pad)"

# (N, C, H, W, pool_h, pool_w, stride, pad): one image and channel first, then windows 3x2 that overlap
# (stride 1) over several channels, then 2x2 windows with stride 2
POOL_CASES = (
    (1, 1, 4, 4, 2, 2, 2, 0),
    (2, 3, 5, 6, 3, 2, 1, 0),
    (3, 2, 6, 5, 2, 2, 2, 0),
)
# with a padding of 1 (pad <= pool / 2, PyTorch's rule)
POOL_PAD_CASES = (
    (2, 3, 5, 6, 2, 2, 2, 1),
    (2, 2, 5, 5, 3, 2, 1, 1),
)


def pool_case(grader, case, dtype=np.float64):
    """(x, dout, pool_h, pool_w, stride, pad) for ``case``."""
    N, C, H, W, ph, pw, stride, pad = case
    rng = grader.rng(7, 4, *case)
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    dout = rng.standard_normal((N, C, out_size(H, ph, stride, pad), out_size(W, pw, stride, pad))).astype(dtype)
    return x, dout, ph, pw, stride, pad


def pool_pass(grader, x, dout, ph, pw, stride, pad):
    """forward then backward of the learner's Pooling(pool_h, pool_w, stride, pad): (out, dx)."""
    layer = grader.call(f"Pooling({ph}, {pw}, stride={stride}, pad={pad})", grader.learner, ph, pw, stride, pad)
    out = grader.call(f"forward of x {x.shape}", layer.forward, x.copy(), mistakes=pool_call_mistakes(pad))
    dx = grader.call("backward", layer.backward, dout.copy())
    return out, dx


def pool_reference(package, x, dout, ph, pw, stride, pad):
    """``package``'s Pooling: (out, dx)."""
    layer = package.Pooling(ph, pw, stride, pad)
    out = layer.forward(x)
    return out, layer.backward(dout)


def pool_call_mistakes(pad):
    return (Mistake("out_h and out_w without the padding",
                    "out_h = (H + 2*pad - pool_h) // stride + 1: the book's own Pooling.forward leaves out 2*pad "
                    "(its networks never pad a pooling), so its reshape fails as soon as pad > 0",
                    POOL_OUT_H_LINE,
                    lambda err: pad > 0 and isinstance(err, ValueError) and "reshape" in str(err)),)


def pool_mistakes(grader, x, dout, ph, pw, stride, pad):
    """The mistakes of Pooling, by what they concern: 'out', 'dx'."""
    import scratch
    import scratch.book

    N, C = x.shape[:2]
    oh, ow = dout.shape[2:]
    out, _ = pool_reference(grader.expected, x, dout, ph, pw, stride, pad)
    col2im = grader.expected.col2im
    per_window = dout.transpose(0, 2, 3, 1).reshape(-1, 1)
    everywhere = col2im(np.repeat(per_window, ph * pw, axis=1).reshape(N * oh * ow, -1), x.shape, ph, pw, stride, pad)
    _, dx_scrambled = pool_reference(grader.expected, x, dout.reshape(N, oh, ow, C).transpose(0, 3, 1, 2),
                                     ph, pw, stride, pad)
    if grader.semantics == "book":
        other, padding = pool_reference(scratch, x, dout, ph, pw, stride, pad)[0], (
            "padded with -inf where the book pads with 0",
            "your padding never wins, as in PyTorch's F.max_pool2d; the book's im2col pads with zeros, so a 0 of "
            "padding is the maximum of a window of negative numbers (grade PyTorch's way: --semantics pytorch)",
            "im2col: img = np.pad(input_data, [(0,0), (0,0), (pad, pad), (pad, pad)], 'constant')")
    else:
        other, padding = pool_reference(scratch.book, x, dout, ph, pw, stride, pad)[0], (
            "padded with 0 where PyTorch pads with -inf",
            "your code follows the book, whose im2col pads with zeros, so a 0 of padding beats a window of negative "
            "numbers; F.max_pool2d pads with -inf (scratch.util's im2col(..., fill=-np.inf))",
            "scratch.util.im2col: img = np.pad(img, [(0, 0), (0, 0), (pad, pad), (pad, pad)], "
            "constant_values=fill)  (fill=-np.inf for max pooling)")
    return {
        "out": (Mistake("out not transposed to (N, C, OH, OW)",
                        "the window rows are ordered (n, y, x, c): reshape the maxima to (N, OH, OW, C), then "
                        "transpose(0, 3, 1, 2)", POOL_FORWARD_LINE,
                        lambda o: tuple(np.shape(o)) == (N, oh, ow, C) or equal(
                            o, out.transpose(0, 2, 3, 1).reshape(N, C, oh, ow))),
                Mistake(*padding, lambda o: pad > 0 and equal(o, other))),
        "dx": (Mistake("gradient sent to every element of the window",
                       "only the window's maximum reached out, so only it gets the window's dout "
                       "(the others get 0): dmax[row, arg_max[row]] = dout", POOL_BACKWARD_LINE,
                       lambda d: equal(d, everywhere)),
               Mistake("average pooling's backward", "max pooling sends each window's dout, whole, to the maximum "
                       "only: dmax[row, arg_max[row]] = dout (dividing among the window is average pooling's)",
                       POOL_BACKWARD_LINE, lambda d: equal(d, everywhere / (ph * pw))),
               Mistake("dout not transposed to the windows' order",
                       "the window rows are ordered (n, y, x, c): transpose dout to (N, OH, OW, C) before "
                       "flattening it", POOL_DOUT_LINE, lambda d: equal(d, dx_scrambled))),
    }


def compare_pooling(grader, where, out, dx, expected_out, expected_dx, mistakes, rtol=None):
    grader.compare(f"forward, {where}", out, expected_out, mistakes["out"], POOL_FORWARD_LINE, rtol)
    grader.compare(f"dx, {where}", dx, expected_dx, mistakes["dx"], POOL_BACKWARD_LINE, rtol)


def pool_where(x, ph, pw, stride, pad):
    return f"x {x.shape}, pool {ph}x{pw}, stride {stride}, pad {pad}"


def check_pooling_book(grader):
    """forward and backward equal the book's Pooling (N 1 and 3, C 1 to 3, windows apart and overlapping)"""
    for case in POOL_CASES:
        x, dout, ph, pw, stride, pad = pool_case(grader, case)
        out, dx = pool_pass(grader, x, dout, ph, pw, stride, pad)
        expected_out, expected_dx = pool_reference(grader.expected, x, dout, ph, pw, stride, pad)
        compare_pooling(grader, pool_where(x, ph, pw, stride, pad), out, dx, expected_out, expected_dx,
                        pool_mistakes(grader, x, dout, ph, pw, stride, pad))


def torch_pooling(x, dout, ph, pw, stride, pad, fill):
    """F.max_pool2d's output and autograd's dx, the input padded with ``fill`` (-inf: max_pool2d's own padding)."""
    import torch
    import torch.nn.functional as F

    inputs = torch_double(x, True)
    if fill == 0 and pad:
        out = F.max_pool2d(F.pad(inputs, (pad, pad, pad, pad)), (ph, pw), stride)
    else:
        out = F.max_pool2d(inputs, (ph, pw), stride, padding=pad)
    out.backward(torch.tensor(dout))
    return out.detach().numpy(), inputs.grad.numpy()


def check_pooling_torch(grader):
    """forward equals F.max_pool2d and dx autograd's (PyTorch)"""
    for case in POOL_CASES[1:]:
        x, dout, ph, pw, stride, pad = pool_case(grader, case)
        out, dx = pool_pass(grader, x, dout, ph, pw, stride, pad)
        expected_out, expected_dx = torch_pooling(x, dout, ph, pw, stride, pad, -np.inf)
        compare_pooling(grader, "against F.max_pool2d, " + pool_where(x, ph, pw, stride, pad), out, dx,
                        expected_out, expected_dx, pool_mistakes(grader, x, dout, ph, pw, stride, pad))


def check_pooling_float32(grader):
    """float32 input: the book's numbers to 1e-5"""
    x, dout, ph, pw, stride, pad = pool_case(grader, POOL_CASES[1], np.float32)
    out, dx = pool_pass(grader, x, dout, ph, pw, stride, pad)
    expected_out, expected_dx = pool_reference(grader.expected, x, dout, ph, pw, stride, pad)
    compare_pooling(grader, "float32", out, dx, expected_out, expected_dx,
                    pool_mistakes(grader, x, dout, ph, pw, stride, pad), rtol=1e-5)


def check_pooling_pad(grader):
    """pad 1: out_h counts the padding; padded with 0 (the book) or -inf (PyTorch), against F.max_pool2d too"""
    for case in POOL_PAD_CASES:
        x, dout, ph, pw, stride, pad = pool_case(grader, case)
        out, dx = pool_pass(grader, x, dout, ph, pw, stride, pad)
        mistakes = pool_mistakes(grader, x, dout, ph, pw, stride, pad)
        where = pool_where(x, ph, pw, stride, pad)
        expected_out, expected_dx = pool_reference(grader.expected, x, dout, ph, pw, stride, pad)
        compare_pooling(grader, where, out, dx, expected_out, expected_dx, mistakes)
        fill, how = (0, "F.pad with zeros, then F.max_pool2d") if grader.semantics == "book" else \
            (-np.inf, "F.max_pool2d(padding=pad)")
        torch_out, torch_dx = torch_pooling(x, dout, ph, pw, stride, pad, fill)
        compare_pooling(grader, f"against {how}, {where}", out, dx, torch_out, torch_dx, mistakes)


POOLING = Task("pooling", 7, "7.4.4", "Pooling", POOLING_SKELETON,
               (check_pooling_book, check_pooling_torch, check_pooling_float32, check_pooling_pad))

TASKS = (IM2COL, COL2IM, CONVOLUTION, POOLING)
