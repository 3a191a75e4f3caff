"""gradient-check-gap: why the notes' gradient check (5.7.3) printed numbers a thousand times the book's.

The book's ch05/gradient_check.py builds TwoLayerNet(784, 50, 10) (float64,
weights from the unseeded global generator), takes the first 3 training
images and prints, per parameter, mean |grad_backprop - grad_numerical|:

    grad_numerical[i] = (L(w + h e_i) - L(w - h e_i)) / 2h,     h = 1e-4       (4.4)
    L = -1/N sum_n log(y[n, t_n] + delta),                       delta = 1e-7   (4.2.4)
    grad_backprop: SoftmaxWithLoss.backward gives dL/da = (y - t) / N           (5.6.3)

Backpropagation differentiates the loss *without* delta; the central
difference differentiates the loss the network really computes, *with* it.
The exact gradient of the loss with delta is backprop's, each sample scaled by
y_t / (y_t + delta), so even with perfect arithmetic the two differ; for b2:

    gap(b2)_k = | 1/N sum_n (y_nk - t_nk) delta / (y[n, t_n] + delta) |

With the book's small weights y_t ~ 0.1, so delta / y_t ~ 1e-6 and
mean_k gap(b2) ~ 1e-7: the notes' b2 1.4e-7.

The experiment runs the book's code path (``scratch.book``: its TwoLayerNet,
numerical_gradient, SoftmaxWithLoss and cross_entropy_error) and switches off
one factor at a time:

* the 1e-7: ``scratch.book.functions.cross_entropy_error`` reads the module
  constant ``CROSS_ENTROPY_DELTA`` at every call, so ``cross_entropy_delta(0)``
  below sets it to 0 for the duration of a ``with`` block and restores it
  (nothing in ``scratch/`` is edited; the book's SoftmaxWithLoss calls that
  function, so the network's loss changes with it);
* the step h, swept from 1e-1 to 1e-10: truncation error (~h^2) above the
  book's 1e-4, rounding error (~eps/h) below it;
* float32 against float64: images loaded as float64 instead of the book's
  float32 (the network casts them to its float64 anyway), and a network whose
  parameters and arithmetic are float32 (``Float32TwoLayerNet``, the book's
  network with its weights rounded to float32);
* which samples and which weights: the first 3 images against random ones,
  1, 10 or 100 images, other seeds of the global generator.

The numerical gradient of W1 (39200 of the 39760 parameters) takes most of
the time: --quick checks W1 only in the reproduction, the other tables check
b1, W2 and b2. Book's code only: ``--backend scratch``.
"""
import contextlib
import time
import warnings

import numpy as np

PARAMS = ("W1", "b1", "W2", "b2")
NOTES = {"W1": 4.8e-10, "b1": 2.9e-9, "W2": 5.1e-9, "b2": 1.4e-7}  # what the learner's run printed
BOOK = {"W1": 2.2e-13, "b1": 9.7e-13, "W2": 8.4e-13, "b2": 1.2e-10}  # what the book prints in 5.7.3
BOOK_DELTA = 1e-7
BOOK_H = 1e-4
STEPS = tuple(10.0 ** -k for k in range(1, 11))  # h from 1e-1 to 1e-10


@contextlib.contextmanager
def cross_entropy_delta(book, delta):
    """The book's cross_entropy_error with ``delta`` in place of its 1e-7 inside the block (then restored)."""
    saved = book.functions.CROSS_ENTROPY_DELTA
    book.functions.CROSS_ENTROPY_DELTA = delta
    try:
        yield
    finally:
        book.functions.CROSS_ENTROPY_DELTA = saved


def book_network(book, seed, float32=False):
    """TwoLayerNet(784, 50, 10) with the weights of ``np.random.seed(seed)``, as the book draws them."""
    np.random.seed(seed)
    if not float32:
        return book.TwoLayerNet(input_size=784, hidden_size=50, output_size=10)
    return float32_network_class(book)(input_size=784, hidden_size=50, output_size=10)


def float32_network_class(book):
    """The book's TwoLayerNet with float32 parameters (its float64 weights rounded): float32 arithmetic."""
    from scratch.two_layer_net import TwoLayerNet as ScratchTwoLayerNet

    class Float32TwoLayerNet(book.TwoLayerNet):
        def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
            ScratchTwoLayerNet.__init__(self, input_size, hidden_size, output_size, weight_init_std,
                                        activation="relu", dtype=np.float32)

        def _init_weight(self, shape, weight_init_std, rng):
            return super()._init_weight(shape, weight_init_std, rng).astype(np.float32)

    return Float32TwoLayerNet


def gradient_gaps(book, network, x, t, params, delta=BOOK_DELTA, h=BOOK_H):
    """{param: mean |backprop - numerical|} with the loss's ``delta`` and the step ``h`` (the book's code)."""
    loss_W = lambda W: network.loss(x, t)  # noqa: E731 - the book's form
    with cross_entropy_delta(book, delta), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # float32's LowPrecisionGradientWarning: measured here on purpose
        backprop = network.gradient(x, t)
        return {name: float(np.mean(np.abs(backprop[name] - book.numerical_gradient(loss_W, network.params[name], h))))
                for name in params}


def predicted_b2_gap(book, network, x, t, delta=BOOK_DELTA):
    """mean_k |1/N sum_n (y_nk - t_nk) delta / (y[n, t_n] + delta)|: the b2 gap with exact arithmetic."""
    y = book.softmax(network.predict(x))
    n = len(y)
    one_hot = np.zeros_like(y)
    one_hot[np.arange(n), t] = 1
    y_label = y[np.arange(n), t]
    return float(np.mean(np.abs(np.sum((y - one_hot) * (delta / (y_label + delta))[:, None], axis=0) / n)))


def smallest_preactivation(network, x):
    """min |x W1 + b1| over the batch: a ReLU kink closer than h makes the central difference wrong."""
    return float(np.min(np.abs(network._as_input(x) @ network.params["W1"] + network.params["b1"])))


def fmt(value):
    return "-" if value is None else f"{value:.2e}"


def gap_row(label, with_delta, without_delta, params=PARAMS):
    return [label, *(fmt(with_delta.get(p)) for p in params), *(fmt(without_delta.get(p)) for p in params)]


def run(session):
    book = session.book
    seed = session.seed
    checked = session.size(quick=("b1", "W2", "b2"), full=PARAMS)  # the factor tables (W1 is 99% of the time)
    (x_train, t_train), _ = session.mnist(dtype="float32")  # bit for bit the book's load_mnist(normalize=True)
    x3, t3 = x_train[:3], t_train[:3]
    network = book_network(book, seed)
    session.say(f"TwoLayerNet(784, 50, 10), np.random.seed({seed}), the first 3 training images, h = {BOOK_H:g}")

    # -- 1. the book's check reproduced, with and without the 1e-7 --------------------------------
    started = time.perf_counter()
    with_delta = session.record("reproduction.with_1e-7", gradient_gaps(book, network, x3, t3, PARAMS))
    without_delta = session.record("reproduction.without_1e-7", gradient_gaps(book, network, x3, t3, PARAMS, 0.0))
    session.record("reproduction.seconds_per_check", (time.perf_counter() - started) / 2)
    shrink = session.record("reproduction.shrink_without_1e-7", {p: with_delta[p] / without_delta[p] for p in PARAMS})
    vs_notes = session.record("reproduction.with_1e-7_over_notes", {p: with_delta[p] / NOTES[p] for p in PARAMS})
    vs_book = session.record("reproduction.without_1e-7_over_book", {p: without_delta[p] / BOOK[p] for p in PARAMS})
    predicted = session.record("reproduction.b2_predicted_from_1e-7", predicted_b2_gap(book, network, x3, t3))
    session.record("reproduction.smallest_preactivation", smallest_preactivation(network, x3))
    session.table("The gradient check of 5.7.3: mean |backprop - numerical| (h = 1e-4, first 3 images)",
                  ["", *PARAMS],
                  [["the notes", *(fmt(NOTES[p]) for p in PARAMS)],
                   ["the book (5.7.3)", *(fmt(BOOK[p]) for p in PARAMS)],
                   ["scratch.book, loss with 1e-7 (the book's code)", *(fmt(with_delta[p]) for p in PARAMS)],
                   ["scratch.book, loss without 1e-7", *(fmt(without_delta[p]) for p in PARAMS)],
                   ["with / without 1e-7", *(f"{shrink[p]:.0f}x" for p in PARAMS)],
                   ["closed form of the 1e-7's gap", "", "", "", fmt(predicted)]])

    # -- 2. the step h --------------------------------------------------------------------------------
    sweep = {"with_1e-7": {p: [] for p in checked}, "without_1e-7": {p: [] for p in checked}}
    with session.progress(len(STEPS), "h sweep") as bar:
        for h in STEPS:
            for key, delta in (("with_1e-7", BOOK_DELTA), ("without_1e-7", 0.0)):
                for p, gap in gradient_gaps(book, network, x3, t3, checked, delta, h).items():
                    sweep[key][p].append(gap)
            bar.update()
    session.record("h_sweep.h", list(STEPS))
    session.record("h_sweep", sweep)
    session.table("The step h: mean |backprop - numerical| with 1e-7 | without 1e-7",
                  ["h", *(f"{p} (1e-7)" for p in checked), *(f"{p} (0)" for p in checked)],
                  [[f"{h:.0e}", *(fmt(sweep["with_1e-7"][p][i]) for p in checked),
                    *(fmt(sweep["without_1e-7"][p][i]) for p in checked)] for i, h in enumerate(STEPS)])

    # -- 3. float32 against float64 -------------------------------------------------------------------
    (x64, _), _ = session.mnist(dtype="float64")
    float32_network = book_network(book, seed, float32=True)
    precision = {}
    for label, net, x in (("float32 images (the book's), float64 network", network, x3),
                          ("float64 images, float64 network", network, x64[:3]),
                          ("float32 images, float32 network", float32_network, x3)):
        precision[label] = {"with_1e-7": gradient_gaps(book, net, x, t3, checked),
                            "without_1e-7": gradient_gaps(book, net, x, t3, checked, 0.0)}
    session.record("precision", precision)
    header = ["", *(f"{p} (1e-7)" for p in checked), *(f"{p} (0)" for p in checked)]
    session.table("float32 against float64 (h = 1e-4, first 3 images)", header,
                  [gap_row(label, gaps["with_1e-7"], gaps["without_1e-7"], checked)
                   for label, gaps in precision.items()])

    # -- 4. which samples, which weights ---------------------------------------------------------------
    draws = session.size(quick=3, full=5)
    choices = {"first 3 (the book's)": (np.arange(3), seed)}
    for i in range(draws):
        choices[f"random 3, draw {i + 1}"] = (session.rng(4, i).choice(len(x_train), 3, replace=False), seed)
    for n in session.size(quick=(1, 10), full=(1, 10, 100)):
        choices[f"first {n}"] = (np.arange(n), seed)
    for i in range(1, draws + 1):
        choices[f"first 3, weights of seed {seed + i}"] = (np.arange(3), seed + i)
    samples = {}
    with session.progress(len(choices), "samples") as bar:
        for label, (index, weight_seed) in choices.items():
            net = network if weight_seed == seed else book_network(book, weight_seed)
            x, t = x_train[index], t_train[index]
            samples[label] = {"with_1e-7": gradient_gaps(book, net, x, t, checked),
                              "without_1e-7": gradient_gaps(book, net, x, t, checked, 0.0),
                              "b2_predicted_from_1e-7": predicted_b2_gap(book, net, x, t),
                              "smallest_preactivation": smallest_preactivation(net, x)}
            bar.update()
    session.record("samples", samples)
    session.table("Which samples and which weights (h = 1e-4)", [*header, "b2 closed form", "min |x W1 + b1|"],
                  [gap_row(label, s["with_1e-7"], s["without_1e-7"], checked)
                   + [fmt(s["b2_predicted_from_1e-7"]), fmt(s["smallest_preactivation"])]
                   for label, s in samples.items()])

    conclude(session, with_delta, without_delta, shrink, vs_notes, vs_book, predicted, sweep, precision, samples,
             checked)
    session.figure(lambda fig: draw(fig, with_delta, without_delta, sweep, checked), figsize=(12, 4.8))


def conclude(session, with_delta, without_delta, shrink, vs_notes, vs_book, predicted, sweep, precision, samples,
             checked):
    low, high = min(shrink.values()), max(shrink.values())
    numbers = (f"with the book's 1e-7 the check gives W1 {with_delta['W1']:.1e}, b1 {with_delta['b1']:.1e}, "
               f"W2 {with_delta['W2']:.1e}, b2 {with_delta['b2']:.1e} (the notes: 4.8e-10, 2.9e-9, 5.1e-9, 1.4e-7); "
               f"without it W1 {without_delta['W1']:.1e}, b1 {without_delta['b1']:.1e}, "
               f"W2 {without_delta['W2']:.1e}, b2 {without_delta['b2']:.1e} (the book: 2.2e-13, 9.7e-13, 8.4e-13, "
               f"1.2e-10)")
    session.conclude(
        "the_1e-7_accounts_for_the_gap",
        low >= 100 and all(1 / 3 <= r <= 3 for r in vs_notes.values()) and all(r <= 10 for r in vs_book.values()),
        f"The 1e-7 inside cross_entropy_error accounts for the gap: {numbers}. Removing it shrinks the gap "
        f"{low:.0f}x to {high:.0f}x (10^{np.log10(low):.1f} to 10^{np.log10(high):.1f}). Backpropagation "
        f"differentiates the loss without 1e-7, the central difference the loss with it: the closed form "
        f"mean_k |1/N sum_n (y_nk - t_nk) 1e-7 / (y_t + 1e-7)| predicts b2's {with_delta['b2']:.3e} as "
        f"{predicted:.3e}. The book's printed numbers match a loss without 1e-7.",
        f"Removing the 1e-7 changes the gap {low:.2g}x to {high:.2g}x only, or the sizes do not match: {numbers}.")

    b2_with = dict(zip(STEPS, sweep["with_1e-7"]["b2"]))
    b2_without = dict(zip(STEPS, sweep["without_1e-7"]["b2"]))
    plateau = [b2_with[h] for h in (1e-6, 1e-5, 1e-4)]
    best_h = min(STEPS, key=lambda h: max(sweep["without_1e-7"][p][STEPS.index(h)] for p in checked))
    session.record("h_sweep.best_h_without_1e-7", best_h)
    session.conclude(
        "the_step_h_does_not",
        max(plateau) / min(plateau) < 1.1 and b2_without[1e-4] < min(plateau) / 100,
        f"The step h does not account for it: with 1e-7, b2's gap stays at {min(plateau):.3e} to {max(plateau):.3e} "
        f"for h = 1e-6 to 1e-4 (a different loss, not an approximation error), while without 1e-7 it is "
        f"{b2_without[1e-4]:.1e} at h = 1e-4. Without it the error falls as h^2 from {b2_without[1e-1]:.1e} at "
        f"h = 0.1 (truncation) and rises as 1/h to {b2_without[1e-10]:.1e} at h = 1e-10 (rounding); the worst "
        f"parameter's error is smallest at h = {best_h:.0e}.",
        f"With 1e-7, b2's gap changes with h ({min(plateau):.2e} to {max(plateau):.2e} for h = 1e-6 to 1e-4; "
        f"without 1e-7 {b2_without[1e-4]:.1e} at h = 1e-4): the step matters here.")

    book_rows, float64_rows, float32_rows = precision.values()
    images_change = max(max(float64_rows[key][p], book_rows[key][p]) / min(float64_rows[key][p], book_rows[key][p])
                        for key in book_rows for p in checked)
    float32_row = float32_rows["with_1e-7"]
    float32_over_notes = min(float32_row[p] / NOTES[p] for p in checked)
    session.record("precision.float64_images_change", images_change)
    session.record("precision.float32_network_over_notes", float32_over_notes)
    session.conclude(
        "float32_does_not",
        images_change < 2 and float32_over_notes > 100,
        f"float32 against float64 does not account for it: float64 images change the gaps by {images_change:.2f}x at "
        f"most (the network casts the book's float32 images to float64), and a float32 network gives "
        f"b1 {float32_row['b1']:.1e}, W2 {float32_row['W2']:.1e}, b2 {float32_row['b2']:.1e}, at least "
        f"{float32_over_notes:.0f}x the notes' numbers: the notes' run was float64.",
        f"float64 images change the gaps by {images_change:.2f}x and a float32 network gives "
        f"{float32_over_notes:.2g}x the notes' numbers: precision matters here.")

    b2_with = [s["with_1e-7"]["b2"] for s in samples.values()]
    b2_without = [s["without_1e-7"]["b2"] for s in samples.values()]
    kinks = {label: s["smallest_preactivation"] for label, s in samples.items()
             if max(s["without_1e-7"][p] for p in checked) > 1e-9}
    session.record("samples.with_kink_outliers", kinks)
    kink_text = (f"; the rows whose gap without 1e-7 exceeds 1e-9 ({', '.join(kinks)}) put a hidden unit within "
                 f"h of ReLU's kink (min |x W1 + b1| {min(kinks.values()):.1e}), another effect"
                 if kinks else "")
    session.conclude(
        "the_samples_do_not",
        max(b2_with) / min(b2_with) < 10 and min(b2_with) > 100 * max(b2_without),
        f"Which samples and weights does not account for it: with 1e-7 b2's gap is {min(b2_with):.1e} to "
        f"{max(b2_with):.1e} for every choice, without it {min(b2_without):.1e} to {max(b2_without):.1e}"
        f"{kink_text}.",
        f"The samples matter: with 1e-7 b2's gap ranges {min(b2_with):.1e} to {max(b2_with):.1e}, without it "
        f"{min(b2_without):.1e} to {max(b2_without):.1e}{kink_text}.")


def draw(fig, with_delta, without_delta, sweep, checked):
    bars, steps = fig.subplots(1, 2, width_ratios=(1, 1.4))
    width = 0.2
    positions = np.arange(len(PARAMS))
    for i, (label, values) in enumerate((("the notes", NOTES), ("with 1e-7 (book's code)", with_delta),
                                         ("without 1e-7", without_delta), ("the book (5.7.3)", BOOK))):
        bars.bar(positions + (i - 1.5) * width, [values[p] for p in PARAMS], width, label=label)
    bars.set_yscale("log")
    bars.set_xticks(positions, PARAMS)
    bars.set_ylabel("mean |backprop - numerical|")
    bars.set_title("first 3 images, h = 1e-4")
    bars.legend(fontsize="small")
    for p, color in zip(checked, ("C0", "C1", "C2", "C3")):
        steps.loglog(STEPS, sweep["with_1e-7"][p], "-o", color=color, markersize=3, label=f"{p}, with 1e-7")
        steps.loglog(STEPS, sweep["without_1e-7"][p], "--", color=color, label=f"{p}, without 1e-7")
    steps.axvline(BOOK_H, color="gray", linewidth=0.8)
    steps.invert_xaxis()
    steps.set_xlabel("step h")
    steps.set_ylabel("mean |backprop - numerical|")
    steps.set_title("truncation (~h^2, left) against rounding (~1/h, right)")
    steps.legend(fontsize="x-small", ncol=2)
