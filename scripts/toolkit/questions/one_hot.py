"""Why one-hot encoding? (chapter 3)

Two parts.

1. One-hot targets against label indices give the same loss and gradient.
   With t one-hot (t_k = 1 for the true class c, 0 elsewhere) and
   y = softmax(x), the cross-entropy error (4.2.2) is

       E = -1/N sum_n sum_k t_nk log y_nk = -1/N sum_n log y_n,c_n,

   because every term with t_nk = 0 vanishes; and its gradient (5.6.3) is

       dE/dx_nk = (y_nk - t_nk) / N,

   which is y everywhere except y - 1 at the true class: what the label
   form computes by subtracting 1 at index c_n. So one-hot rows are only a
   way of writing the label; the experiment measures the largest difference
   between the written-out one-hot formula (NumPy, or PyTorch's
   ``F.cross_entropy`` with class probabilities as the target, through
   autograd) and the backend's ``SoftmaxWithLoss`` with class indices, in
   float64 and float32, on a trained classifier's scores for the test images.
   The backend's ``SoftmaxWithLoss`` and ``cross_entropy_error`` accept both
   forms (they turn one-hot rows into indices, as the book's
   ``cross_entropy_error`` does with argmax), so those agree exactly.

2. Why not regress the digit as one number? The same hidden layers
   (784 -> 100 -> 100, ReLU, He) end either in 10 scores with softmax and
   cross-entropy (classification, one output per class: the one-hot
   target), or in 1 output trained with squared error (4.2.1),
   E = 1/N sum_n 1/2 (y_n - t_n)^2 with t_n the digit 0..9, whose prediction
   is y rounded to the nearest digit and clipped to 0..9. Both learn from the
   same minibatches with SGD for the same iterations; the regression's
   learning rate is 0.01, the classifier's 0.1, because at 0.1 the squared
   error of targets up to 9 diverges (inf within ten iterations). Measured: test
   accuracy, both confusion matrices, and the share of errors that land on
   a numeric neighbour (|predicted - true| = 1). A single number imposes an
   order, 3 between 2 and 4, that digits' shapes do not have: a 4 that looks
   like a 9 must pass through 5..8, so the regression's errors pile up next
   to the diagonal while the classifier's follow shape (4 with 9, 3 with 5).
"""
import numpy as np

from ..experiments import race

HIDDEN = [100, 100]
LEARNING_RATE = {"classification": 0.1, "regression": 0.01}
BATCH_SIZE = 100
DIGITS = 10


# ---------------------------------------------------------------------------
# Part 1: the two forms of the cross-entropy error
# ---------------------------------------------------------------------------

def one_hot(labels, dtype):
    """(N, 10) rows with a 1 at each label."""
    rows = np.zeros((len(labels), DIGITS), dtype=dtype)
    rows[np.arange(len(labels)), labels] = 1
    return rows


def from_indices(session, scores, labels):
    """The backend's ``SoftmaxWithLoss`` given class indices: (loss, dE/dx) as float64 NumPy."""
    layer = session.backend.SoftmaxWithLoss()
    loss = layer.forward(scores, labels)
    return float(session.to_numpy(loss)), session.to_numpy(layer.backward(1)).astype(np.float64)


def from_one_hot_written_out(session, scores, t):
    """E = -1/N sum t log y and dE/dx = (y - t)/N, the one-hot formula itself.

    NumPy: log y by log-softmax (x - max x - log sum exp(x - max x)), as ``SoftmaxWithLoss`` computes it.
    PyTorch: ``F.cross_entropy`` with class probabilities as the target (its own kernel for soft
    targets, -sum t log_softmax(x) / N), the gradient by autograd.
    """
    if session.torch:
        import torch
        import torch.nn.functional as F

        x = torch.from_numpy(scores).requires_grad_(True)
        loss = F.cross_entropy(x, torch.from_numpy(t))
        (grad,) = torch.autograd.grad(loss, x)
        return float(loss.detach()), grad.numpy().astype(np.float64)
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_y = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = len(scores)
    loss = -np.sum(t * log_y) / n
    return float(loss), ((np.exp(log_y) - t) / n).astype(np.float64)


def compare_forms(session, scores, labels):
    """Per dtype: the loss both ways and the largest differences, in absolute terms and in units of eps."""
    rows = {}
    for dtype in ("float64", "float32"):
        x = scores.astype(dtype)
        t = one_hot(labels, dtype)
        loss_i, grad_i = from_indices(session, x, labels)
        loss_w, grad_w = from_one_hot_written_out(session, x, t)
        loss_l, grad_l = from_indices(session, x, t)  # the layer given one-hot rows
        probabilities = session.backend.softmax(x)
        cee_i = float(session.to_numpy(session.backend.cross_entropy_error(probabilities, labels)))
        cee_o = float(session.to_numpy(session.backend.cross_entropy_error(probabilities, t)))
        eps = float(np.finfo(dtype).eps)
        rows[dtype] = {
            "loss_indices": loss_i, "loss_one_hot_written_out": loss_w,
            "written_out_loss_difference": abs(loss_w - loss_i),
            "written_out_loss_difference_eps": abs(loss_w - loss_i) / (eps * abs(loss_i)),
            "written_out_gradient_max_difference": float(np.max(np.abs(grad_w - grad_i))),
            "written_out_gradient_max_difference_eps":
                float(np.max(np.abs(grad_w - grad_i)) / (eps * np.max(np.abs(grad_i)))),
            "layer_one_hot_loss_difference": abs(loss_l - loss_i),
            "layer_one_hot_gradient_max_difference": float(np.max(np.abs(grad_l - grad_i))),
            "cross_entropy_error_difference": abs(cee_o - cee_i),
            "gradient_max": float(np.max(np.abs(grad_i))),
        }
    return rows


# ---------------------------------------------------------------------------
# Part 2: regressing the digit as one number
# ---------------------------------------------------------------------------

class SquaredErrorLoss:
    """The last layer of the regression: E = 1/N sum_n 1/2 (y_n - t_n)^2 (4.2.1's sum of squared errors per sample).

    ``t`` holds the labels, read as numbers. Backward (NumPy): dE/dy = (y - t) / N; with PyTorch,
    autograd differentiates ``sum_squared_error``.
    """

    def __init__(self, backend, torch):
        self.backend, self.torch = backend, torch
        self.y = self.t = None

    def forward(self, y, labels):
        self.y, self.t = y, np.asarray(labels).reshape(-1, 1).astype(np.float64 if str(y.dtype).endswith("64")
                                                                       else np.float32)
        return self.backend.sum_squared_error(y, self.t) / len(self.t)

    def backward(self, dout=1):
        return (self.y - self.t) * (dout / len(self.t))


def make_classifier(session, seed):
    return session.backend.MultiLayerNet(784, HIDDEN, DIGITS, activation="relu", weight_init_std="he", seed=seed)


def make_regressor(session, seed):
    network = session.backend.MultiLayerNet(784, HIDDEN, 1, activation="relu", weight_init_std="he", seed=seed)
    network.last_layer = SquaredErrorLoss(session.backend, session.torch)
    return network


def predicted_digits(session, network, x, regression):
    """argmax of the 10 scores, or the one output rounded to the nearest digit and clipped to 0..9."""
    with session.no_grad():
        y = session.to_numpy(network.predict(x))
    if regression:
        return np.clip(np.rint(y[:, 0]), 0, DIGITS - 1).astype(np.int64)
    return np.argmax(y, axis=1)


def confusion_matrix(true, predicted):
    """counts[i, j]: test images of digit i predicted as j."""
    counts = np.zeros((DIGITS, DIGITS), dtype=np.int64)
    np.add.at(counts, (true, predicted), 1)
    return counts


def error_summary(counts):
    """Accuracy, the errors, the share of them one digit away, and their mean distance."""
    i, j = np.indices(counts.shape)
    errors = counts[i != j].sum()
    neighbours = counts[np.abs(i - j) == 1].sum()
    return {
        "accuracy": float(np.trace(counts) / counts.sum()),
        "errors": int(errors),
        "neighbour_errors": int(neighbours),
        "neighbour_share_of_errors": float(neighbours / errors) if errors else 0.0,
        "mean_error_distance": float((np.abs(i - j) * counts)[i != j].sum() / errors) if errors else 0.0,
        "errors_above_true": int(counts[j > i].sum()),  # predicted a larger digit than the true one
        "mean_signed_error": float(((j - i) * counts).sum() / counts.sum()),
    }


def top_confusions(counts, k=3):
    """The k most frequent (true, predicted, count) off the diagonal."""
    off = counts.copy()
    np.fill_diagonal(off, 0)
    order = np.argsort(off, axis=None)[::-1][:k]
    return [(int(a), int(b), int(off[a, b])) for a, b in zip(*np.unravel_index(order, off.shape))]


# ---------------------------------------------------------------------------
# The experiment
# ---------------------------------------------------------------------------

def run(session):
    train_size = session.size(quick=10000, full=60000)
    test_size = session.size(quick=2000, full=10000)
    iters = session.size(quick=800, full=5000)
    (x_train, t_train), (x_test, t_test) = session.mnist(train_size, test_size)
    seed = int(session.rng(21, 1).integers(2**31))
    session.say(f"784 -> {' -> '.join(map(str, HIDDEN))} -> 10 or 1, ReLU, SGD, {iters} iterations of {BATCH_SIZE} "
                f"on {train_size} training images, {test_size} test images")

    networks = {"classification": make_classifier(session, seed), "regression": make_regressor(session, seed)}
    optimizers = {name: session.backend.SGD(lr=LEARNING_RATE[name]) for name in networks}
    race(session.args, networks, optimizers, x_train, t_train, iters, BATCH_SIZE, report_every=max(iters // 5, 1))

    with session.no_grad():
        scores = session.to_numpy(networks["classification"].predict(x_test)).astype(np.float64)
    forms = compare_forms(session, scores, t_test)

    counts = {name: confusion_matrix(t_test, predicted_digits(session, network, x_test, name == "regression"))
              for name, network in networks.items()}
    summary = {name: error_summary(c) for name, c in counts.items()}
    report(session, forms, counts, summary, test_size)
    session.figure(lambda fig: draw(fig, counts, summary), figsize=(13, 5.5))


def report(session, forms, counts, summary, test_size):
    session.record("one_hot_against_indices", forms)
    session.record("confusion_matrices", {name: c for name, c in counts.items()})
    session.record("errors", summary)
    session.record("top_confusions", {name: top_confusions(c) for name, c in counts.items()})

    session.table(f"Cross-entropy with one-hot targets against label indices ({test_size} test images' scores)",
                  ["dtype", "loss (indices)", "loss (one-hot)", "loss difference", "largest gradient difference",
                   "in eps of the largest gradient entry", "layer given one-hot: loss, gradient differences"],
                  [[dtype, f"{r['loss_indices']:.17g}", f"{r['loss_one_hot_written_out']:.17g}",
                    f"{r['written_out_loss_difference']:.3g}", f"{r['written_out_gradient_max_difference']:.3g}",
                    f"{r['written_out_gradient_max_difference_eps']:.3g}",
                    f"{r['layer_one_hot_loss_difference']:g}, {r['layer_one_hot_gradient_max_difference']:g}"]
                   for dtype, r in forms.items()])
    session.table("Classification (10 outputs, cross-entropy) against regression (1 output, squared error)",
                  ["model", "test accuracy", "errors", "errors one digit away", "share of errors",
                   "mean distance of errors", "errors above / below the true digit", "mean pred - true",
                   "most frequent confusions (true->pred: count)"],
                  [[name, f"{s['accuracy']:.4f}", s["errors"], s["neighbour_errors"],
                    f"{s['neighbour_share_of_errors']:.3f}", f"{s['mean_error_distance']:.2f}",
                    f"{s['errors_above_true']} / {s['errors'] - s['errors_above_true']}",
                    f"{s['mean_signed_error']:+.3f}",
                    ", ".join(f"{a}->{b}: {n}" for a, b, n in top_confusions(counts[name]))]
                   for name, s in summary.items()])
    for name, c in counts.items():
        session.table(f"Confusion matrix, {name} (rows: true digit, columns: predicted)",
                      ["true \\ pred", *range(DIGITS)], [[digit, *row] for digit, row in enumerate(c)])

    # Part 1: identical up to rounding (a few eps of the largest gradient entry; the layer itself exactly).
    worst = max(r["written_out_gradient_max_difference_eps"] for r in forms.values())
    worst_loss = max(r["written_out_loss_difference_eps"] for r in forms.values())
    layer_exact = all(r["layer_one_hot_loss_difference"] == 0 and r["layer_one_hot_gradient_max_difference"] == 0
                      and r["cross_entropy_error_difference"] == 0 for r in forms.values())
    f64 = forms["float64"]
    session.conclude(
        "one_hot_and_indices_are_identical",
        worst <= 4 and worst_loss <= 4 and layer_exact,
        f"one-hot targets and label indices give the same loss and gradient: the written-out one-hot formula "
        f"differs from the index form by {f64['written_out_loss_difference']:.2g} in the loss and at most "
        f"{f64['written_out_gradient_max_difference']:.2g} in the gradient (float64; at most {worst:.2g} eps of "
        f"the largest gradient entry in either dtype, rounding), and SoftmaxWithLoss and cross_entropy_error "
        f"given one-hot rows return exactly the same numbers (difference 0): one-hot is a way of writing the label",
        f"the one-hot and index forms differ by up to {worst:.3g} eps in the gradient and {worst_loss:.3g} eps in "
        f"the loss (layer given one-hot rows exact: {layer_exact})")

    # Part 2: the regression is worse and its errors pile up on the numeric neighbours.
    c, r = summary["classification"], summary["regression"]
    session.conclude(
        "classification_beats_regression",
        c["accuracy"] > r["accuracy"],
        f"one output per class wins: classification {c['accuracy']:.4f} against regression's "
        f"{r['accuracy']:.4f} with the same hidden layers, minibatches and iterations",
        f"the regression ({r['accuracy']:.4f}) was not worse than classification ({c['accuracy']:.4f})")
    session.conclude(
        "regression_confuses_numeric_neighbours",
        r["neighbour_share_of_errors"] > 2 * c["neighbour_share_of_errors"],
        f"the regression's errors fall on numeric neighbours: {r['neighbour_share_of_errors']:.0%} of its "
        f"{r['errors']} errors are one digit away (mean distance {r['mean_error_distance']:.2f}) against "
        f"{c['neighbour_share_of_errors']:.0%} of the classifier's {c['errors']} (mean distance "
        f"{c['mean_error_distance']:.2f}), whose confusions follow shape instead "
        f"({', '.join(f'{a}->{b}' for a, b, _ in top_confusions(counts['classification']))})",
        f"{r['neighbour_share_of_errors']:.0%} of the regression's errors are one digit away against "
        f"{c['neighbour_share_of_errors']:.0%} of the classifier's: not twice as many")


def draw(fig, counts, summary):
    axes = fig.subplots(1, 3, width_ratios=[1, 1, 0.8])
    for ax, (name, c) in zip(axes, counts.items()):
        rates = c / np.maximum(c.sum(axis=1, keepdims=True), 1)
        ax.imshow(np.sqrt(rates), cmap="Blues", vmin=0, vmax=1)
        for (i, j), n in np.ndenumerate(c):
            if n:
                ax.text(j, i, n, ha="center", va="center", fontsize=7, color="white" if rates[i, j] > 0.5 else "black")
        ax.set_xticks(range(DIGITS))
        ax.set_yticks(range(DIGITS))
        ax.set(xlabel="predicted digit", ylabel="true digit",
               title=f"{name}: accuracy {summary[name]['accuracy']:.3f}\n(shade: share of the true digit's row)")
    ax = axes[2]
    distances = np.arange(1, DIGITS)
    width = 0.4
    for k, (name, c) in enumerate(counts.items()):
        i, j = np.indices(c.shape)
        per_distance = np.array([c[np.abs(i - j) == d].sum() for d in distances])
        share = per_distance / max(per_distance.sum(), 1)
        ax.bar(distances + (k - 0.5) * width, share, width, label=name)
    ax.set_xticks(distances)
    ax.set(xlabel="|predicted - true| of the errors", ylabel="share of the errors",
           title="How far off the errors are")
    ax.legend()
