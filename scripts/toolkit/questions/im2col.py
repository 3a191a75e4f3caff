"""im2col: what im2col and col2im do, element by element, and why col2im adds.

im2col (7.4.3) turns a convolution into one matrix product: every region a
filter covers becomes one row of ``col``. With out_h = (H + 2 pad - FH) //
stride + 1 (likewise out_w), ``col`` is (N out_h out_w, C FH FW), rows ordered
(n, y, x) and columns (c, fy, fx):

    col[(n out_h + y) out_w + x, (c FH + fy) FW + fx] = padded[n, c, y stride + fy, x stride + fx]

The step-through feeds im2col a numbered input, 0..15 in one 4x4 channel
(then 0..31 in two), with a 2x2 filter at stride 1 and 2, without and with
one pixel of padding, and prints col: each number says which input element
landed in that row and column (the padding is printed ·, im2col filled it
with -1 to tell it from element 0). Every entry is checked against the
formula above, written as plain loops.

col2im sends each column entry back to its pixel and adds (``+=``): where
regions overlap (stride < filter), im2col copied one pixel into several
rows, and in backward each copy brings its own share of the gradient. So
col2im(im2col(x)) = x * coverage, coverage[p] = the number of regions that
contain pixel p, counted here twice more, from the windows (loops over
every region) and from col (how often each number appears in it). The
convolution's backward with all-ones weights and upstream gradient is
exactly that count (the backend's ``Convolution.backward``; autograd of
``F.conv2d`` on the torch backend); a col2im that assigned (``=``) instead
would give 1 everywhere, the wrong gradient.

Last, a convolution written loop by loop (out[n, f, y, x] = b[f] +
sum_c sum_fy sum_fx W[f, c, fy, fx] padded[n, c, y stride + fy, x stride + fx],
seven nested loops) against the backend's im2col and one matrix product and
the backend's ``Convolution.forward`` (im2col in ``scratch``, ``F.conv2d``
in ``reference``): equal to 1e-12 in float64, and timed.
"""
import time

import numpy as np

SIZE = 4  # the numbered input is SIZE x SIZE per channel
FILTER = 2  # a FILTER x FILTER filter
STEPS = ((1, 1, 0), (2, 1, 0), (1, 2, 0), (1, 1, 1), (1, 2, 1))  # (channels, stride, pad), in the step-through
PADDING = -1  # what im2col fills the padding with here, so that it cannot be mistaken for element 0
TOLERANCE = 1e-12
CONV_CHANNELS, CONV_SIZE, CONV_FILTERS, CONV_FILTER, CONV_STRIDE, CONV_PAD = 3, 28, 8, 5, 1, 0


def numbered_input(channels):
    """(1, channels, SIZE, SIZE) holding 0, 1, 2, ... in reading order, channel after channel (float64)."""
    return np.arange(channels * SIZE * SIZE, dtype=np.float64).reshape(1, channels, SIZE, SIZE)


def output_size(size, filter_size, stride, pad):
    return (size + 2 * pad - filter_size) // stride + 1


def col_by_the_formula(x, filter_h, filter_w, stride, pad, fill):
    """col built entry by entry from the formula: one row per region, one column per (c, fy, fx)."""
    N, C, H, W = x.shape
    out_h, out_w = output_size(H, filter_h, stride, pad), output_size(W, filter_w, stride, pad)
    padded = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)], constant_values=fill)
    col = np.empty((N * out_h * out_w, C * filter_h * filter_w))
    for n in range(N):
        for y in range(out_h):
            for x_ in range(out_w):
                for c in range(C):
                    for fy in range(filter_h):
                        for fx in range(filter_w):
                            row, column = (n * out_h + y) * out_w + x_, (c * filter_h + fy) * filter_w + fx
                            col[row, column] = padded[n, c, y * stride + fy, x_ * stride + fx]
    return col


def coverage_by_windows(shape, filter_h, filter_w, stride, pad):
    """How many filter regions contain each pixel of an input of ``shape``: every region walked, its pixels counted."""
    N, C, H, W = shape
    count = np.zeros(shape, dtype=np.int64)
    for y in range(output_size(H, filter_h, stride, pad)):
        for x in range(output_size(W, filter_w, stride, pad)):
            for fy in range(filter_h):
                for fx in range(filter_w):
                    i, j = y * stride + fy - pad, x * stride + fx - pad  # in the unpadded image
                    if 0 <= i < H and 0 <= j < W:
                        count[:, :, i, j] += 1
    return count


def col2im_by_assignment(col, shape, filter_h, filter_w, stride, pad):
    """col2im with ``=`` where the book writes ``+=``: each pixel keeps only the last copy written to it."""
    N, C, H, W = shape
    out_h, out_w = output_size(H, filter_h, stride, pad), output_size(W, filter_w, stride, pad)
    img = np.zeros((N, C, H + 2 * pad, W + 2 * pad))
    for n in range(N):
        for y in range(out_h):
            for x in range(out_w):
                for c in range(C):
                    for fy in range(filter_h):
                        for fx in range(filter_w):
                            row, column = (n * out_h + y) * out_w + x, (c * filter_h + fy) * filter_w + fx
                            img[n, c, y * stride + fy, x * stride + fx] = col[row, column]
    return img[:, :, pad:H + pad, pad:W + pad]


def naive_convolution(x, W, b, stride, pad):
    """The convolution loop by loop: each output is b[f] plus a filter-sized dot product (7.2.3)."""
    N, C, H, W_ = x.shape
    FN, _, FH, FW = W.shape
    out_h, out_w = output_size(H, FH, stride, pad), output_size(W_, FW, stride, pad)
    padded = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)])
    out = np.zeros((N, FN, out_h, out_w))
    for n in range(N):
        for f in range(FN):
            for y in range(out_h):
                for x_ in range(out_w):
                    total = b[f]
                    for c in range(C):
                        for fy in range(FH):
                            for fx in range(FW):
                                total += W[f, c, fy, fx] * padded[n, c, y * stride + fy, x_ * stride + fx]
                    out[n, f, y, x_] = total
    return out


# -- the experiment --------------------------------------------------------------------------------------


def run(session):
    steps = [step_through(session, *step) for step in STEPS]
    session.record("steps", steps)
    layout_ok = all(step["col_equals_formula"] for step in steps)
    session.conclude("layout", layout_ok,
                     f"im2col puts padded[n, c, y*stride + fy, x*stride + fx] at row (n*out_h + y)*out_w + x, "
                     f"column (c*FH + fy)*FW + fx: the backend's col equals the formula, entry for entry, in all "
                     f"{len(steps)} steps",
                     "the backend's col differs from the formula in steps "
                     + ", ".join(step["name"] for step in steps if not step["col_equals_formula"]))
    coverage_table(session, steps)
    adds = all(step["roundtrip_max_abs_diff_vs_x_times_coverage"] == 0 and step["coverage_from_col_agrees"]
               and step["gradient_equals_coverage"] for step in steps)
    overlapping = [step for step in steps if step["stride"] < FILTER]
    apart = [step for step in steps if step["stride"] >= FILTER]
    session.conclude("col2im_adds", adds and all(step["assignment_max_abs_error"] > 0 for step in overlapping),
                     f"col2im adds: col2im(im2col(x)) = x * coverage exactly in all {len(steps)} steps, coverage "
                     f"up to {max(max(map(max, s['coverage'][0][0])) for s in steps)} where windows overlap "
                     f"(stride {overlapping[0]['stride']} < filter {FILTER}) and "
                     f"{max(max(map(max, s['coverage'][0][0])) for s in apart)} where they do not (stride "
                     f"{apart[0]['stride']}); the convolution's gradient for all-ones W and dout is that count, and a col2im "
                     f"that assigns instead misses it by up to "
                     f"{max(step['assignment_max_abs_error'] for step in overlapping):g}",
                     "col2im(im2col(x)) is not x times the coverage count in every step (see the table)")
    convolution_race(session)
    session.figure(lambda fig: draw(fig, steps), figsize=(16, 15))


def step_through(session, channels, stride, pad):
    """One step of the walk: the numbered input through im2col and back through col2im."""
    backend = session.backend
    x = numbered_input(channels)
    name = f"C={channels}, stride {stride}, pad {pad}"
    col = session.to_numpy(backend.im2col(x, FILTER, FILTER, stride, pad, fill=PADDING))
    out_h = out_w = output_size(SIZE, FILTER, stride, pad)
    print_col(session, name, col, channels, out_h, out_w)
    expected = col_by_the_formula(x, FILTER, FILTER, stride, pad, PADDING)

    positions = {int(e): np.argwhere(col == e).tolist() for e in x.ravel()}  # where each element landed
    coverage_from_col = np.array([len(positions[int(e)]) for e in x.ravel()]).reshape(x.shape)
    coverage = coverage_by_windows(x.shape, FILTER, FILTER, stride, pad)
    roundtrip = session.to_numpy(backend.col2im(backend.im2col(x, FILTER, FILTER, stride, pad),
                                                x.shape, FILTER, FILTER, stride, pad))
    gradient = convolution_gradient_of_ones(session, channels, stride, pad)
    ones = np.ones_like(col)
    by_assignment = col2im_by_assignment(ones, x.shape, FILTER, FILTER, stride, pad)
    return {"name": name, "channels": channels, "stride": stride, "pad": pad, "filter": FILTER,
            "out_h": out_h, "out_w": out_w, "input": x[0], "col": col, "padding_mark": PADDING,
            "col_equals_formula": bool(np.array_equal(col, expected)),
            "positions": positions,
            "coverage": coverage, "coverage_from_col_agrees": bool(np.array_equal(coverage_from_col, coverage)),
            "col2im_of_im2col": roundtrip,
            "roundtrip_max_abs_diff_vs_x_times_coverage": float(np.max(np.abs(roundtrip - x * coverage))),
            "gradient_of_sum_with_ones": gradient,
            "gradient_equals_coverage": bool(np.array_equal(gradient, coverage)),
            "col2im_by_assignment_of_ones": by_assignment,
            "assignment_max_abs_error": float(np.max(np.abs(by_assignment - coverage)))}


def convolution_gradient_of_ones(session, channels, stride, pad):
    """dL/dx of L = sum of a convolution with one all-ones FILTER x FILTER filter: the backend's backward."""
    layer = session.backend.Convolution(np.ones((1, channels, FILTER, FILTER)), np.zeros(1), stride, pad)
    out = layer.forward(np.zeros((1, channels, SIZE, SIZE)))
    return session.to_numpy(layer.backward(np.ones(tuple(out.shape))))


def print_col(session, name, col, channels, out_h, out_w):
    """col as a table: one row per region (n, y, x), one column per (c, fy, fx); padding printed ·."""
    header = ["row", "region (n,y,x)"] + [f"c{c} ({fy},{fx})" for c in range(channels)
                                           for fy in range(FILTER) for fx in range(FILTER)]
    rows = []
    for index, values in enumerate(col):
        n, rest = divmod(index, out_h * out_w)
        rows.append([index, f"({n},{rest // out_w},{rest % out_w})"]
                    + ["·" if v == PADDING else f"{v:.0f}" for v in values])
    session.table(f"im2col, {name}, {FILTER}x{FILTER} filter: col {col.shape[0]}x{col.shape[1]} "
                  f"(which input element sits where)", header, rows)


def coverage_table(session, steps):
    rows = []
    for step in steps:
        coverage = np.asarray(step["coverage"])[0, 0]
        rows.append([step["name"], f"{step['out_h']}x{step['out_w']}",
                     " / ".join(" ".join(str(v) for v in line) for line in coverage),
                     "yes" if step["coverage_from_col_agrees"] else "NO",
                     f"{step['roundtrip_max_abs_diff_vs_x_times_coverage']:g}",
                     "yes" if step["gradient_equals_coverage"] else "NO",
                     f"{step['assignment_max_abs_error']:g}"])
    session.table("How many windows cover each pixel (channel 0, rows separated by /), and col2im(im2col(x))",
                  ["step", "regions", "coverage", "= count in col", "col2im(im2col(x)) - x*coverage, largest abs.",
                   "= dL/dx, W and dout all ones", "max error of col2im with ="], rows)


def convolution_race(session):
    """Naive loops against im2col + one product and the backend's Convolution: equal outputs, times."""
    backend = session.backend
    batches = session.size(quick=(1, 2), full=(2, 4, 8))
    repeats = session.size(quick=3, full=5)
    rng = session.rng(1)
    W = rng.normal(0.0, 0.1, (CONV_FILTERS, CONV_CHANNELS, CONV_FILTER, CONV_FILTER))
    b = rng.normal(0.0, 0.1, CONV_FILTERS)
    layer = backend.Convolution(W, b, CONV_STRIDE, CONV_PAD)
    rows, measured = [], []
    with session.progress(len(batches), "naive convolutions") as bar:
        for N in batches:
            x = rng.normal(0.0, 1.0, (N, CONV_CHANNELS, CONV_SIZE, CONV_SIZE))
            naive, naive_s = timed(lambda: naive_convolution(x, W, b, CONV_STRIDE, CONV_PAD), 1)
            with session.no_grad():
                by_im2col, im2col_s = timed(lambda: im2col_convolution(session, x, W, b), repeats)
                by_layer, layer_s = timed(lambda: session.to_numpy(layer.forward(x)), repeats)
            diff_im2col = float(np.max(np.abs(naive - by_im2col)))
            diff_layer = float(np.max(np.abs(naive - by_layer)))
            rows.append([N, f"{naive_s:.3f}", f"{im2col_s * 1e3:.2f}", f"{layer_s * 1e3:.2f}",
                         f"{naive_s / im2col_s:.0f}x", f"{diff_im2col:.1e}", f"{diff_layer:.1e}"])
            measured.append({"batch": N, "naive_s": naive_s, "im2col_s": im2col_s, "layer_s": layer_s,
                             "naive_over_im2col": naive_s / im2col_s,
                             "max_abs_diff_naive_vs_im2col": diff_im2col,
                             "max_abs_diff_naive_vs_layer": diff_layer})
            bar.update()
    layer_name = "F.conv2d" if session.torch else "im2col"
    session.table(f"A {CONV_FILTERS}-filter {CONV_FILTER}x{CONV_FILTER} convolution of N x {CONV_CHANNELS} x "
                  f"{CONV_SIZE} x {CONV_SIZE} inputs, float64 (fast ones: best of {repeats})",
                  ["N", "naive loops (s)", "im2col + product (ms)", f"Convolution.forward, {layer_name} (ms)",
                   "naive / im2col", "naive - im2col, largest abs.", "naive - Convolution, largest abs."], rows)
    session.record("convolution", {"channels": CONV_CHANNELS, "size": CONV_SIZE, "filters": CONV_FILTERS,
                                   "filter": CONV_FILTER, "stride": CONV_STRIDE, "pad": CONV_PAD,
                                   "repeats": repeats, "runs": measured})
    worst = max(max(m["max_abs_diff_naive_vs_im2col"], m["max_abs_diff_naive_vs_layer"]) for m in measured)
    slowest = min(m["naive_over_im2col"] for m in measured)
    session.conclude("naive_equals_im2col", worst <= TOLERANCE and slowest > 1,
                     f"the loop-by-loop convolution equals im2col's (and the backend's Convolution, "
                     f"{layer_name}) to {worst:.1e} in float64, and is {slowest:.0f} to "
                     f"{max(m['naive_over_im2col'] for m in measured):.0f} times slower than im2col + one product",
                     f"the loop-by-loop convolution differs from im2col's by {worst:.1e} (tolerance "
                     f"{TOLERANCE:.0e}) or is not slower (ratio {slowest:.2f})")


def im2col_convolution(session, x, W, b):
    """out = im2col(x) W_col^T + b, reshaped to (N, FN, out_h, out_w): the book's forward, written out."""
    N, _, H, W_ = x.shape
    FN, _, FH, FW = W.shape
    out_h, out_w = output_size(H, FH, CONV_STRIDE, CONV_PAD), output_size(W_, FW, CONV_STRIDE, CONV_PAD)
    col = session.backend.im2col(x, FH, FW, CONV_STRIDE, CONV_PAD)
    W_col, bias = W.reshape(FN, -1), b
    if session.torch:
        import torch
        W_col, bias = torch.from_numpy(W_col), torch.from_numpy(b)
    out = col @ W_col.T + bias
    return session.to_numpy(out).reshape(N, out_h, out_w, FN).transpose(0, 3, 1, 2)


def timed(work, repeats):
    """(result, best wall time in seconds over ``repeats`` runs)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - start)
    return result, best


# -- the figure ------------------------------------------------------------------------------------------

WINDOW_COLOURS = ("tab:red", "tab:blue", "tab:green")
FIGURE_STEPS = ((1, 1, 0), (1, 2, 0), (1, 1, 1))  # (channels, stride, pad): one row of panels each


def draw(fig, steps):
    """Per step (C=1): the numbered input with its first windows, col coloured by source pixel, the coverage."""
    by_key = {(step["channels"], step["stride"], step["pad"]): step for step in steps}
    shown = [by_key[key] for key in FIGURE_STEPS]
    grid = fig.add_gridspec(len(shown), 3, width_ratios=(1.2, 1, 1))
    for row, step in enumerate(shown):
        draw_input(fig.add_subplot(grid[row, 0]), step)
        draw_col(fig.add_subplot(grid[row, 1]), step)
        draw_coverage(fig.add_subplot(grid[row, 2]), step)
    fig.suptitle("im2col and col2im on the numbered 4x4 input, 2x2 filter: the first windows (left) are the first "
                 "rows of col (middle);\ncol2im adds every copy back, so col2im(im2col(x)) = x × coverage (right)")


def _colours(values):
    """Each input element its own colour; padding light grey."""
    from matplotlib import colormaps

    cmap = colormaps["tab20"]
    values = np.asarray(values)
    rgba = cmap((values % 20) / 20 + 0.025)
    rgba[values == PADDING] = (0.9, 0.9, 0.9, 1.0)
    return rgba


def draw_input(ax, step):
    from matplotlib.patches import Rectangle

    pad, stride = step["pad"], step["stride"]
    image = np.pad(np.asarray(step["input"])[0], pad, constant_values=PADDING)
    ax.imshow(_colours(image), alpha=0.45)
    for (i, j), v in np.ndenumerate(image):
        ax.text(j, i, "·" if v == PADDING else f"{v:.0f}", ha="center", va="center", fontsize=11)
    for index, colour in enumerate(WINDOW_COLOURS):
        y, x = divmod(index, step["out_w"])
        ax.add_patch(Rectangle((x * stride - 0.5 + 0.06 * index, y * stride - 0.5 + 0.06 * index),
                               FILTER - 0.12 * index, FILTER - 0.12 * index, fill=False, lw=2.5, edgecolor=colour))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"input, stride {stride}, pad {pad}: windows of rows 0, 1, 2", fontsize=10)


def draw_col(ax, step):
    from matplotlib.patches import Rectangle

    col = np.asarray(step["col"])
    ax.imshow(_colours(col), aspect="auto", alpha=0.45)
    for (i, j), v in np.ndenumerate(col):
        ax.text(j, i, "·" if v == PADDING else f"{v:.0f}", ha="center", va="center", fontsize=8 if len(col) > 12 else 10)
    for index, colour in enumerate(WINDOW_COLOURS):
        ax.add_patch(Rectangle((-0.5, index - 0.5), col.shape[1], 1, fill=False, lw=2.5, edgecolor=colour))
    ax.set_xticks(range(col.shape[1]), [f"({fy},{fx})" for fy in range(FILTER) for fx in range(FILTER)], fontsize=8)
    ax.set_yticks(range(len(col)), [str(i) for i in range(len(col))], fontsize=7)
    ax.set_xlabel("column (fy, fx)")
    ax.set_ylabel("row = region")
    ax.set_title(f"col {col.shape[0]}x{col.shape[1]}, coloured by source pixel", fontsize=10)


def draw_coverage(ax, step):
    coverage = np.asarray(step["coverage"])[0, 0]
    ax.imshow(coverage, cmap="Blues", vmin=0, vmax=FILTER * FILTER)
    for (i, j), v in np.ndenumerate(coverage):
        ax.text(j, i, str(v), ha="center", va="center", fontsize=12,
                color="white" if v > FILTER * FILTER / 2 else "black")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title("coverage: windows per pixel; col2im(im2col(x)) = x × coverage", fontsize=10)
