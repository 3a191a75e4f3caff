"""im2col: the numbered input's col, the coverage count, col2im's sum, naive convolution against im2col.

The question runs once per backend (--quick); the tests rebuild col and the
coverage count independently (index arithmetic, a closed form per axis) and
compare them with the recorded numbers.
"""
import numpy as np
import pytest

from .question_support import run_question
from .script_support import assert_png

BACKENDS = ["scratch", "torch"]
SIZE, FILTER, PADDING = 4, 2, -1
TOLERANCE = 1e-12


@pytest.fixture(scope="module", params=BACKENDS)
def run(request, tmp_path_factory):
    return run_question("im2col", tmp_path_factory.mktemp(f"im2col-{request.param}"), backend=request.param)


def steps(result):
    return {(s["channels"], s["stride"], s["pad"]): s for s in result["measured"]["steps"]}


def expected_col(channels, stride, pad):
    """Row (y, x), column (c, fy, fx): the number of the element at padded (y*stride + fy, x*stride + fx)."""
    out = (SIZE + 2 * pad - FILTER) // stride + 1
    rows = []
    for y in range(out):
        for x in range(out):
            row = []
            for c in range(channels):
                for fy in range(FILTER):
                    for fx in range(FILTER):
                        i, j = y * stride + fy - pad, x * stride + fx - pad
                        inside = 0 <= i < SIZE and 0 <= j < SIZE
                        row.append(c * SIZE * SIZE + i * SIZE + j if inside else PADDING)
            rows.append(row)
    return np.array(rows)


def coverage_closed_form(stride, pad):
    """Per axis, the window starts s in {0, stride, ...} with s <= i + pad < s + FILTER; a pixel's count is the product."""
    out = (SIZE + 2 * pad - FILTER) // stride + 1
    starts = np.arange(out) * stride
    per_axis = np.array([np.sum((starts <= i + pad) & (i + pad < starts + FILTER)) for i in range(SIZE)])
    return np.outer(per_axis, per_axis)


def test_the_first_step_puts_each_window_in_a_row(run):
    _, result = run
    col = np.array(steps(result)[(1, 1, 0)]["col"])
    assert col.tolist() == [[0, 1, 4, 5], [1, 2, 5, 6], [2, 3, 6, 7], [4, 5, 8, 9], [5, 6, 9, 10],
                            [6, 7, 10, 11], [8, 9, 12, 13], [9, 10, 13, 14], [10, 11, 14, 15]]
    positions = steps(result)[(1, 1, 0)]["positions"]
    assert positions["5"] == [[0, 3], [1, 2], [3, 1], [4, 0]]  # the centre pixel: four windows, four corners
    assert positions["0"] == [[0, 0]]


def test_every_steps_col_is_the_formulas(run):
    _, result = run
    assert len(steps(result)) == 5
    for (channels, stride, pad), step in steps(result).items():
        np.testing.assert_array_equal(step["col"], expected_col(channels, stride, pad), err_msg=step["name"])
        assert step["col_equals_formula"]


def test_the_coverage_is_an_independent_count_and_col2im_multiplies_by_it(run):
    _, result = run
    for (channels, stride, pad), step in steps(result).items():
        coverage = np.array(step["coverage"])[0]
        for c in range(channels):
            np.testing.assert_array_equal(coverage[c], coverage_closed_form(stride, pad), err_msg=step["name"])
        x = np.array(step["input"])
        np.testing.assert_array_equal(step["col2im_of_im2col"], (x * coverage)[None])
        counts = np.array([len(step["positions"][str(int(e))]) for e in x.ravel()]).reshape(x.shape)
        np.testing.assert_array_equal(counts, coverage)
    assert np.array(steps(result)[(1, 1, 0)]["coverage"]).max() == 4
    assert np.array(steps(result)[(1, 2, 0)]["coverage"]).max() == 1


def test_the_convolution_gradient_is_the_coverage_and_assignment_misses_it(run):
    _, result = run
    for (_, stride, _), step in steps(result).items():
        np.testing.assert_array_equal(step["gradient_of_sum_with_ones"], step["coverage"])
        if stride < FILTER:
            assert step["assignment_max_abs_error"] == np.max(step["coverage"]) - 1 > 0
        else:
            assert step["assignment_max_abs_error"] == 0


def test_the_naive_convolution_equals_im2col_and_is_slower(run):
    _, result = run
    runs = result["measured"]["convolution"]["runs"]
    assert len(runs) >= 2
    for measured in runs:
        assert measured["max_abs_diff_naive_vs_im2col"] <= TOLERANCE
        assert measured["max_abs_diff_naive_vs_layer"] <= TOLERANCE
        assert measured["naive_s"] > measured["im2col_s"]


def test_every_conclusion_holds_and_the_figure_is_a_png(run):
    stdout, result = run
    assert set(result["conclusions"]) == {"layout", "col2im_adds", "naive_equals_im2col"}
    assert all(conclusion["holds"] for conclusion in result["conclusions"].values()), result["conclusions"]
    assert "contrary" not in stdout
    assert_png(result["plot"])


def test_the_same_seed_gives_the_same_numbers(run, tmp_path):
    _, result = run
    _, again = run_question("im2col", tmp_path, "--no-plot", backend=result["backend"])
    assert again["measured"]["steps"] == result["measured"]["steps"]
    for first, second in zip(result["measured"]["convolution"]["runs"], again["measured"]["convolution"]["runs"]):
        assert first["max_abs_diff_naive_vs_im2col"] == second["max_abs_diff_naive_vs_im2col"]
