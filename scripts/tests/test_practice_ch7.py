"""Chapter 7's practice tasks: im2col, col2im, Convolution, Pooling.

For each task: the project's own solution passes (both semantics), a correct implementation written in the
book's style passes, a fresh skeleton fails with "not written yet", and each classic mistake is named.
"""
import textwrap

import pytest

from toolkit.practice.tasks import find_task
from .practice_support import failure_of, grade_source, mistake_named, passes, solution_source
from .script_support import run_script, succeeded

TASK_NAMES = ("im2col", "col2im", "convolution", "pooling")

GOOD_IM2COL = """
    import numpy as np

    def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
        N, C, H, W = input_data.shape
        out_h = (H + 2 * pad - filter_h) // stride + 1
        out_w = (W + 2 * pad - filter_w) // stride + 1
        img = np.pad(input_data, [(0, 0), (0, 0), (pad, pad), (pad, pad)])
        col = np.zeros((N, C, filter_h, filter_w, out_h, out_w))
        for fy in range(filter_h):
            for fx in range(filter_w):
                col[:, :, fy, fx] = img[:, :, fy:fy + stride * out_h:stride, fx:fx + stride * out_w:stride]
        return col.transpose(0, 4, 5, 1, 2, 3).reshape(N * out_h * out_w, -1)
"""

# one region at a time, as a learner who has not seen the book's trick writes it
GOOD_IM2COL_BY_REGION = """
    import numpy as np

    def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
        N, C, H, W = input_data.shape
        out_h = (H + 2 * pad - filter_h) // stride + 1
        out_w = (W + 2 * pad - filter_w) // stride + 1
        img = np.pad(input_data, [(0, 0), (0, 0), (pad, pad), (pad, pad)])
        rows = []
        for n in range(N):
            for y in range(out_h):
                for x in range(out_w):
                    region = img[n, :, y * stride:y * stride + filter_h, x * stride:x * stride + filter_w]
                    rows.append(region.ravel())
        return np.array(rows)
"""

GOOD_COL2IM = """
    import numpy as np

    def col2im(col, input_shape, filter_h, filter_w, stride=1, pad=0):
        N, C, H, W = input_shape
        out_h = (H + 2 * pad - filter_h) // stride + 1
        out_w = (W + 2 * pad - filter_w) // stride + 1
        col = col.reshape(N, out_h, out_w, C, filter_h, filter_w).transpose(0, 3, 4, 5, 1, 2)
        img = np.zeros((N, C, H + 2 * pad, W + 2 * pad))
        for fy in range(filter_h):
            for fx in range(filter_w):
                img[:, :, fy:fy + stride * out_h:stride, fx:fx + stride * out_w:stride] += col[:, :, fy, fx]
        return img[:, :, pad:H + pad, pad:W + pad]
"""

GOOD_CONVOLUTION = """
    import numpy as np

    from scratch.book import col2im, im2col

    class Convolution:
        def __init__(self, W, b, stride=1, pad=0):
            self.W, self.b, self.stride, self.pad = W, b, stride, pad

        def forward(self, x):
            FN, C, FH, FW = self.W.shape
            N, _, H, W = x.shape
            out_h = (H + 2 * self.pad - FH) // self.stride + 1
            out_w = (W + 2 * self.pad - FW) // self.stride + 1
            self.x = x
            self.col = im2col(x, FH, FW, self.stride, self.pad)
            self.col_W = self.W.reshape(FN, -1).T
            out = np.dot(self.col, self.col_W) + self.b
            return out.reshape(N, out_h, out_w, -1).transpose(0, 3, 1, 2)

        def backward(self, dout):
            FN, C, FH, FW = self.W.shape
            dout = dout.transpose(0, 2, 3, 1).reshape(-1, FN)
            self.db = np.sum(dout, axis=0)
            self.dW = np.dot(self.col.T, dout).transpose(1, 0).reshape(FN, C, FH, FW)
            dcol = np.dot(dout, self.col_W.T)
            return col2im(dcol, self.x.shape, FH, FW, self.stride, self.pad)
"""

GOOD_POOLING = """
    import numpy as np

    from scratch.book import col2im, im2col

    class Pooling:
        def __init__(self, pool_h, pool_w, stride=2, pad=0):
            self.pool_h, self.pool_w, self.stride, self.pad = pool_h, pool_w, stride, pad

        def forward(self, x):
            N, C, H, W = x.shape
            out_h = (H + 2 * self.pad - self.pool_h) // self.stride + 1
            out_w = (W + 2 * self.pad - self.pool_w) // self.stride + 1
            col = im2col(x, self.pool_h, self.pool_w, self.stride, self.pad)
            col = col.reshape(-1, self.pool_h * self.pool_w)
            self.x = x
            self.arg_max = np.argmax(col, axis=1)
            out = np.max(col, axis=1)
            return out.reshape(N, out_h, out_w, C).transpose(0, 3, 1, 2)

        def backward(self, dout):
            dout = dout.transpose(0, 2, 3, 1)
            dmax = np.zeros((dout.size, self.pool_h * self.pool_w))
            dmax[np.arange(dout.size), self.arg_max] = dout.flatten()
            dcol = dmax.reshape(dout.shape[0] * dout.shape[1] * dout.shape[2], -1)
            return col2im(dcol, self.x.shape, self.pool_h, self.pool_w, self.stride, self.pad)
"""

# PyTorch's semantics: the padding is -inf, so that it never wins a maximum
GOOD_POOLING_PYTORCH = GOOD_POOLING.replace(
    "from scratch.book import col2im, im2col", "from scratch.util import col2im, im2col").replace(
    "im2col(x, self.pool_h, self.pool_w, self.stride, self.pad)",
    "im2col(x, self.pool_h, self.pool_w, self.stride, self.pad, fill=-np.inf)")

GOOD = {"im2col": GOOD_IM2COL, "col2im": GOOD_COL2IM, "convolution": GOOD_CONVOLUTION, "pooling": GOOD_POOLING}


def wrong(source, right, mistaken):
    """``source`` with ``right`` replaced by ``mistaken`` (which must occur)."""
    assert right in source, right
    return source.replace(right, mistaken)


@pytest.mark.parametrize("semantics", ["book", "pytorch"])
@pytest.mark.parametrize("name", TASK_NAMES)
def test_the_projects_own_solution_passes(tmp_path, name, semantics):
    assert passes(grade_source(name, solution_source(name, semantics), tmp_path, semantics), name)


@pytest.mark.parametrize("name", TASK_NAMES)
def test_a_correct_implementation_in_the_books_style_passes(tmp_path, name):
    verdicts = grade_source(name, GOOD[name], tmp_path)
    assert passes(verdicts, name), [(v.check, v.failure.message) for v in verdicts if not v.ok]


@pytest.mark.parametrize("semantics", ["book", "pytorch"])
@pytest.mark.parametrize("name", ["im2col", "col2im", "convolution"])
def test_the_same_code_passes_both_semantics_where_they_agree(tmp_path, name, semantics):
    assert passes(grade_source(name, GOOD[name], tmp_path, semantics), name)


def test_im2col_written_one_region_at_a_time_passes(tmp_path):
    assert passes(grade_source("im2col", GOOD_IM2COL_BY_REGION, tmp_path), "im2col")


def test_pooling_padded_with_minus_infinity_passes_pytorchs_semantics(tmp_path):
    assert passes(grade_source("pooling", GOOD_POOLING_PYTORCH, tmp_path, "pytorch"), "pooling")


@pytest.mark.parametrize("name", TASK_NAMES)
def test_a_fresh_skeleton_fails_with_not_written_yet(tmp_path, name):
    task = find_task(name)
    assert f"python scripts/practice.py check {name}" in task.skeleton
    verdicts = grade_source(name, task.skeleton, tmp_path)
    assert "not written yet" in failure_of(verdicts).message


def test_the_command_grades_a_learners_convolution_that_uses_their_own_im2col_and_col2im(tmp_path):
    """As a learner works: start im2col and col2im, write them, then Convolution importing them; check says so."""
    ws = tmp_path / "ws"
    for name in ("im2col", "col2im", "convolution"):
        succeeded(run_script("practice.py", "start", name, "--dir", ws))
    (ws / "im2col.py").write_text(textwrap.dedent(GOOD_IM2COL))
    (ws / "col2im.py").write_text(textwrap.dedent(GOOD_COL2IM))
    own = GOOD_CONVOLUTION.replace("from scratch.book import col2im, im2col",
                                   "from col2im import col2im\n    from im2col import im2col")
    (ws / "convolution.py").write_text(textwrap.dedent(own))
    stdout = succeeded(run_script("practice.py", "check", "convolution", "--dir", ws))
    assert f"all {len(find_task('convolution').checks)} checks pass" in stdout
    result = run_script("practice.py", "check", "pooling", "--dir", ws)
    assert result.returncode == 1 and "does not exist" in result.stdout


# ----- im2col -----

@pytest.mark.parametrize("mistake, right, mistaken", [
    ("im2col with the wrong column order", "col.transpose(0, 4, 5, 1, 2, 3)", "col.transpose(0, 4, 5, 2, 3, 1)"),
    ("im2col with the wrong column order", "col.transpose(0, 4, 5, 1, 2, 3)", "col.transpose(0, 4, 5, 1, 3, 2)"),
    ("rows in the wrong order", "col.transpose(0, 4, 5, 1, 2, 3)", "col.transpose(0, 5, 4, 1, 2, 3)"),
    ("rows and columns swapped", "reshape(N * out_h * out_w, -1)", "reshape(N * out_h * out_w, -1).T"),
    ("col not transposed before the reshape", "col.transpose(0, 4, 5, 1, 2, 3).reshape", "col.reshape"),
    ("padding on the batch and channel axes too", "[(0, 0), (0, 0), (pad, pad), (pad, pad)]", "pad"),
    ("out_h and out_w without the padding", "+ 2 * pad -", "-"),
])
def test_each_im2col_mistake_is_named(tmp_path, mistake, right, mistaken):
    assert mistake_named(grade_source("im2col", wrong(GOOD_IM2COL, right, mistaken), tmp_path)) == mistake


def test_im2col_region_by_region_with_channels_last_is_the_wrong_column_order(tmp_path):
    source = wrong(GOOD_IM2COL_BY_REGION, "region.ravel()", "region.transpose(1, 2, 0).ravel()")
    failure = failure_of(grade_source("im2col", source, tmp_path))
    assert failure.mistake.name == "im2col with the wrong column order"
    assert "(fy, fx, c)" in failure.mistake.why


# ----- col2im -----

@pytest.mark.parametrize("mistake, right, mistaken", [
    ("col2im with `=` instead of `+=`", "] += col[", "] = col["),
    ("the padding not cut off", "return img[:, :, pad:H + pad, pad:W + pad]", "return img"),
    ("col read in the wrong order", "col.reshape(N, out_h, out_w, C, filter_h, filter_w).transpose(0, 3, 4, 5, 1, 2)",
     "col.reshape(N, C, filter_h, filter_w, out_h, out_w)"),
    ("col read in the wrong order", "col.reshape(N, out_h, out_w, C, filter_h, filter_w).transpose(0, 3, 4, 5, 1, 2)",
     "col.reshape(N, out_h, out_w, filter_h, filter_w, C).transpose(0, 5, 3, 4, 1, 2)"),
])
def test_each_col2im_mistake_is_named(tmp_path, mistake, right, mistaken):
    assert mistake_named(grade_source("col2im", wrong(GOOD_COL2IM, right, mistaken), tmp_path)) == mistake


def test_col2im_with_assignment_passes_windows_apart_and_fails_where_they_overlap(tmp_path):
    verdicts = grade_source("col2im", wrong(GOOD_COL2IM, "] += col[", "] = col["), tmp_path)
    failure = failure_of(verdicts)
    assert "filter 3x2, stride 1" in failure.message  # the first case, 2x2 windows with stride 2, passed
    assert "+=" in failure.book_line


# ----- Convolution -----

@pytest.mark.parametrize("mistake, right, mistaken", [
    ("W_col not transposed", "self.W.reshape(FN, -1).T", "self.W.reshape(FN, -1)"),
    ("out not transposed to (N, FN, OH, OW)", "out.reshape(N, out_h, out_w, -1).transpose(0, 3, 1, 2)",
     "out.reshape(N, out_h, out_w, -1)"),
    ("out not transposed to (N, FN, OH, OW)", "out.reshape(N, out_h, out_w, -1).transpose(0, 3, 1, 2)",
     "out.reshape(N, FN, out_h, out_w)"),
    ("dW not reshaped to W's shape", "np.dot(self.col.T, dout).transpose(1, 0).reshape(FN, C, FH, FW)",
     "np.dot(self.col.T, dout)"),
    ("dW reshaped without the transpose", "np.dot(self.col.T, dout).transpose(1, 0).reshape",
     "np.dot(self.col.T, dout).reshape"),
    ("db not summed over the batch and the positions", "self.db = np.sum(dout, axis=0)", "self.db = dout"),
    ("dout reshaped without the transpose", "dout.transpose(0, 2, 3, 1).reshape(-1, FN)", "dout.reshape(-1, FN)"),
])
def test_each_convolution_mistake_is_named(tmp_path, mistake, right, mistaken):
    source = wrong(GOOD_CONVOLUTION, right, mistaken)
    assert mistake_named(grade_source("convolution", source, tmp_path)) == mistake


# ----- Pooling -----

BACKWARD_LINE = "dmax[np.arange(dout.size), self.arg_max] = dout.flatten()"


@pytest.mark.parametrize("mistake, right, mistaken", [
    ("gradient sent to every element of the window", BACKWARD_LINE, "dmax[:, :] = dout.reshape(-1, 1)"),
    ("average pooling's backward", BACKWARD_LINE, "dmax[:, :] = dout.reshape(-1, 1) / dmax.shape[1]"),
    ("dout not transposed to the windows' order", BACKWARD_LINE,
     "dmax[np.arange(dout.size), self.arg_max] = dout.transpose(0, 3, 1, 2).flatten()"),
    ("out not transposed to (N, C, OH, OW)", "out.reshape(N, out_h, out_w, C).transpose(0, 3, 1, 2)",
     "out.reshape(N, out_h, out_w, C)"),
    ("out not transposed to (N, C, OH, OW)", "out.reshape(N, out_h, out_w, C).transpose(0, 3, 1, 2)",
     "out.reshape(N, C, out_h, out_w)"),
    # the book's own forward: out_h = int(1 + (H - self.pool_h) / self.stride)
    ("out_h and out_w without the padding", "(H + 2 * self.pad - self.pool_h)", "(H - self.pool_h)"),
])
def test_each_pooling_mistake_is_named(tmp_path, mistake, right, mistaken):
    assert mistake_named(grade_source("pooling", wrong(GOOD_POOLING, right, mistaken), tmp_path)) == mistake


def test_pooling_padding_with_the_other_semantics_is_named_by_semantics(tmp_path):
    book_way = failure_of(grade_source("pooling", GOOD_POOLING, tmp_path, "pytorch"))
    assert book_way.mistake.name == "padded with 0 where PyTorch pads with -inf"
    assert "pad" in book_way.message
    pytorch_way = failure_of(grade_source("pooling", GOOD_POOLING_PYTORCH, tmp_path, "book"))
    assert pytorch_way.mistake.name == "padded with -inf where the book pads with 0"


def test_the_padding_check_is_pooling_s_last(tmp_path):
    """The book's Pooling never pads: code that ignores pad passes every other check, then is told why."""
    verdicts = grade_source("pooling", wrong(GOOD_POOLING, "(H + 2 * self.pad - self.pool_h)", "(H - self.pool_h)"),
                            tmp_path)
    assert [v.ok for v in verdicts] == [True] * (len(find_task("pooling").checks) - 1) + [False]


def test_the_skeletons_name_the_books_signatures():
    skeletons = {name: textwrap.dedent(find_task(name).skeleton) for name in TASK_NAMES}
    assert "def im2col(input_data, filter_h, filter_w, stride=1, pad=0):" in skeletons["im2col"]
    assert "def col2im(col, input_shape, filter_h, filter_w, stride=1, pad=0):" in skeletons["col2im"]
    assert "def __init__(self, W, b, stride=1, pad=0):" in skeletons["convolution"]
    assert "def __init__(self, pool_h, pool_w, stride=2, pad=0):" in skeletons["pooling"]
