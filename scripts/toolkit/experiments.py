"""What the chapter-6 experiment scripts (``scripts/ch06_*.py``) share.

Their common options (``--backend``, ``--seed``, ``--plot``, ...), MNIST
subsets, small tables, the book's ``smooth_curve`` and the "race" of 6.1.8
and 6.2.4: several networks learning from the same minibatches, side by side.

NumPy is the only import at module level: ``--help`` and
bad arguments answer at once, torch and matplotlib load only when used.
"""
import math
import os

import numpy as np

from scratch.book.util import smooth_curve  # noqa: F401 - the book's, for the loss curves

from . import backends
from .cli import ArgumentParser, non_negative_int, positive_int
from .data import add_data_arguments, dataset_suffix, load_data
from .figures import new_figure, require_matplotlib, save_figure
from .paths import check_output
from .progress import add_progress_argument, advance, progress_bar, say

__all__ = ["make_parser", "add_mnist_arguments", "parse", "backend_name", "load_backend", "label", "load_mnist",
           "minibatch_seed", "iterations_per_epoch", "check_finite", "smooth_curve", "print_table", "add_race_arguments", "race",
           "print_race_summary", "plot_race", "run_race"]

MINIBATCH_STREAM = 1  # minibatches come from the generator seeded [seed, 1]: apart from the weights' [seed]


# ---------------------------------------------------------------------------
# Options
# ---------------------------------------------------------------------------

def make_parser(script_file, description):
    """An ``ArgumentParser`` with the options every chapter-6 experiment takes.

    The default ``--plot`` is ``runs/<script name>-<backend>.png`` (``-<backend>-book.png``
    with ``--semantics book``), so that no run overwrites another's figure.
    """
    name = os.path.splitext(os.path.basename(script_file))[0]
    parser = ArgumentParser(prog=f"{name}.py", description=description)
    backends.add_backend_argument(parser)
    parser.add_argument("--semantics", choices=["pytorch", "book"], default="pytorch",
                        help="pytorch: the project's layers and optimizers (PyTorch's semantics); book: "
                             "scratch.book's (per-element batch norm with eps 1e-6 and a biased running "
                             "variance, non-inverted dropout, the book's optimizers, cross-entropy + 1e-7, "
                             "float64), from the same initial weights and minibatches. Default: pytorch")
    parser.add_argument("--seed", type=non_negative_int, default=0,
                        help="seeds the initial weights, the minibatches and any random draw; "
                             "the same seed gives the same numbers (default 0)")
    parser.add_argument("--plot", metavar="PATH", default=None,
                        help=f"where to save the figure (default runs/{name}-<backend>.png, "
                             f"runs/{name}-scratch-book.png with --semantics book)")
    parser.set_defaults(plot_name=name)
    parser.add_argument("--no-plot", action="store_true", help="do not draw the figure")
    backends.add_threads_argument(parser)
    add_progress_argument(parser)
    return parser


def add_mnist_arguments(parser):
    """--dtype and the MNIST location options."""
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32",
                        help="parameter and image dtype (default float32)")
    add_data_arguments(parser)


def parse(parser, argv=None):
    """Parse; a --plot that cannot be written, or drawing without matplotlib, is an error.

    ``--semantics book`` needs the NumPy backend, computes in float64 (the
    book's dtype) and seeds NumPy's global generator with ``--seed`` (the
    book's dropout masks come from it).
    """
    args = parser.parse_args(argv)
    if args.semantics == "book":
        if args.backend != "scratch":
            parser.error("--semantics book runs the book's NumPy code (scratch.book); PyTorch has no per-element "
                         "batch norm, non-inverted dropout or the book's optimizers, so use --backend scratch")
        if getattr(args, "dtype", "float64") != "float64":
            print(f"note: --semantics book computes in float64, the book's dtype (not {args.dtype})")
        args.dtype = "float64"
        np.random.seed(args.seed)
    if args.plot is None:
        suffix = "-book" if args.semantics == "book" else ""
        suffix += dataset_suffix(args)  # -fashion_mnist: no overwriting the MNIST figure
        args.plot = os.path.join("runs", f"{args.plot_name}-{args.backend}{suffix}.png")
    if not args.no_plot:
        require_matplotlib(parser, "drawing the figure", ", or pass --no-plot")
        check_output("--plot", args.plot)
    return args


def label(args):
    """'scratch backend', or 'scratch backend, book semantics', for titles and headers."""
    return f"{args.backend} backend" + (", book semantics" if args.semantics == "book" else "")


def backend_name(args):
    """The registry's name of what computes: ``--backend``, or book for ``--semantics book``."""
    return "book" if args.semantics == "book" else args.backend


def load_backend(args):
    """The package for ``--backend`` (``--threads`` applied), or the book backend for ``--semantics book``."""
    return backends.load_backend(backend_name(args), args.threads)


# ---------------------------------------------------------------------------
# Data and values
# ---------------------------------------------------------------------------

def load_mnist(args, train_size=None):
    """MNIST as ``(x_train, t_train), (x_test, t_test)``, flattened; the first ``train_size`` training images."""
    (x_train, t_train), (x_test, t_test) = load_data(args, flatten=True)
    if train_size is not None:
        if train_size > len(x_train):
            raise ValueError(f"--train-size {train_size} exceeds the {len(x_train)} training images")
        x_train, t_train = x_train[:train_size], t_train[:train_size]
    return (x_train, t_train), (x_test, t_test)


def minibatch_seed(seed):
    """The seed of the minibatch generator: ``np.random.default_rng(minibatch_seed(seed))``.

    A stream of its own, so the minibatches do not reuse the draws of the
    scratch weights (``default_rng(seed)``).
    """
    return [seed, MINIBATCH_STREAM]


def iterations_per_epoch(train_size, batch_size):
    """The book's ``max(train_size / batch_size, 1)``, rounded up to whole iterations."""
    return max(math.ceil(train_size / batch_size), 1)

def check_finite(loss, where):
    """Stop with a one-line error when a loss became NaN or infinite."""
    if not math.isfinite(loss):
        raise FloatingPointError(f"the loss became {loss} {where}; lower the learning rate")


def print_table(header, rows):
    """Print ``rows`` (lists of strings) under ``header``, each column right-aligned."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    line = lambda cells: "  ".join(f"{str(c):>{w}}" for c, w in zip(cells, widths))  # noqa: E731
    print(line(header))
    print("-" * len(line(header)))
    for row in rows:
        print(line(row))
    print(flush=True)


# ---------------------------------------------------------------------------
# The race of 6.1.8 and 6.2.4: networks side by side on the same minibatches
# ---------------------------------------------------------------------------

def add_race_arguments(parser):
    """--iters, --batch-size and --report-every of the book's races (2000 iterations of 128 images)."""
    parser.add_argument("--iters", type=positive_int, default=2000,
                        help="iterations (default 2000, as in the book)")
    parser.add_argument("--batch-size", type=positive_int, default=128,
                        help="minibatch size (default 128, as in the book)")
    parser.add_argument("--report-every", type=positive_int, default=100,
                        help="print the losses every N iterations (default 100)")


def run_race(args, networks, optimizers, x_train, t_train, book, title, ylim):
    """``race`` with the race options, the summary against the book's losses at iteration 1900 (``book``:
    {name: the loss the book prints}), and unless --no-plot the figure; returns the losses."""
    losses = race(args, networks, optimizers, x_train, t_train, args.iters, args.batch_size, args.report_every)
    print_race_summary(losses, book, 1900, args.report_every)
    if not args.no_plot:
        plot_race(args.plot, losses, title, ylim)
    return losses


def race(args, networks, optimizers, x_train, t_train, iters, batch_size, report_every):
    """The loop of the book's optimizer_compare_mnist.py and weight_init_compare.py.

    Each iteration draws one minibatch; every network computes its gradients
    on it and its optimizer updates it; the loss recorded is that of the same
    minibatch after the update (as the book records it). A table row every
    ``report_every`` iterations (0, 100, ... like the book's prints).
    Returns {name: [loss per iteration]}.
    """
    rng = np.random.default_rng(minibatch_seed(args.seed))
    train_size = len(x_train)
    losses = {name: [] for name in networks}
    header = ["iteration", *networks]
    widths = [max(len(h), 9) for h in header]
    row = lambda cells: "  ".join(f"{c:>{w}}" for c, w in zip(cells, widths))  # noqa: E731
    print(row(header))
    print("-" * len(row(header)), flush=True)
    with progress_bar(iters, not args.no_progress) as bar:
        for i in range(iters):
            batch_mask = rng.choice(train_size, batch_size)
            x_batch, t_batch = x_train[batch_mask], t_train[batch_mask]
            for name, network in networks.items():
                grads = network.gradient(x_batch, t_batch)
                optimizers[name].update(network.params, grads)
                with backends.no_grad(args.backend):
                    loss = float(network.loss(x_batch, t_batch))
                check_finite(loss, f"for {name} at iteration {i}")
                losses[name].append(loss)
            advance(bar, loss)
            if i % report_every == 0:
                say(row([str(i), *(f"{losses[name][-1]:.4f}" for name in networks)]))
    print()
    return losses


def print_race_summary(losses, book, book_iteration, report_every):
    """A table per network: the loss at the book's iteration (else the last report), the book's, and steadier numbers.

    ``book``: {name: the book's loss as the book prints it (a string)}.
    """
    iters = len(next(iter(losses.values())))
    at = book_iteration if book_iteration < iters else (iters - 1) // report_every * report_every
    last = min(100, iters)
    header = ["network", f"loss it {at}", f"book it {book_iteration}", f"mean last {last}", "final loss"]
    rows = [[name, f"{curve[at]:.4f}", book[name], f"{np.mean(curve[-last:]):.4f}",
             f"{curve[-1]:.4f}"] for name, curve in losses.items()]
    print_table(header, rows)
    if at != book_iteration:
        print(f"note: only {iters} iterations ran; the book's numbers are at iteration {book_iteration}")
    print("(the loss at one iteration is that of one minibatch, as the book prints it; "
          f"the mean of the last {last} is steadier)")


def plot_race(path, losses, title, ylim):
    """Smoothed loss curves (the book's ``smooth_curve``), one marker every 100 iterations."""
    fig = new_figure(figsize=(7, 5))
    ax = fig.subplots()
    markers = "oxsD^v"
    for k, (name, curve) in enumerate(losses.items()):
        x = np.arange(len(curve))
        ax.plot(x, smooth_curve(curve) if len(curve) >= 11 else curve, marker=markers[k % len(markers)], markevery=100, label=name)
    ax.set_xlabel("iterations")
    ax.set_ylabel("loss")
    ax.set_ylim(*ylim)
    ax.set_title(title)
    ax.legend()
    save_figure(fig, path)
