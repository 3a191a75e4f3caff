"""Batch normalization against none, over 16 weight scales (6.3.2, the book's ch06/batch_norm_test.py).

MultiLayerNetExtend(784, [100]*5, 10) with ReLU, with and without batch
norm, both from the same initial weights N(0, w^2) for each w of
logspace(0, -4, 16), trained side by side by SGD (lr 0.01) on the same
minibatches of 100 of the first 1000 training images for 20 epochs; train
accuracy after each epoch (figure 6-19).
"""
import toolkit  # noqa: F401 - first: a Python without the project's packages gets one line, exit 2
import numpy as np

from toolkit import cli, figures, progress
from toolkit import experiments as ex

DESCRIPTION = """Train MultiLayerNetExtend(784, [100]*5, 10) with and without batch
normalization on 1000 MNIST images, for each initial weight scale of
logspace(0, -4, 16), as the book's ch06/batch_norm_test.py (6.3.2): SGD lr 0.01,
batch 100, 20 epochs; prints the final train accuracy of both per scale and
saves the 4x4 grid of accuracy curves as a PNG."""

BOOK = ("figure 6-19: with batch norm learning is faster at almost every scale; "
        "without it, at some scales nothing is learnt")


def parse_args(argv=None):
    parser = ex.make_parser(__file__, DESCRIPTION)
    parser.add_argument("--scales", type=cli.positive_int, default=16,
                        help="how many weight scales, logspace(0, -4, N) (default 16, as in the book)")
    parser.add_argument("--epochs", type=cli.positive_int, default=20,
                        help="epochs per scale (default 20, as in the book)")
    parser.add_argument("--train-size", type=cli.positive_int, default=1000,
                        help="train on the first N training images (default 1000, as in the book)")
    parser.add_argument("--batch-size", type=cli.positive_int, default=100,
                        help="minibatch size (default 100)")
    parser.add_argument("--lr", type=cli.positive_float, default=0.01,
                        help="SGD learning rate (default 0.01)")
    ex.add_mnist_arguments(parser)
    return ex.parse(parser, argv)


def train_pair(args, backend, weight_init_std, x_train, t_train, rng, bar):
    """The book's __train: both networks on the same minibatches; train accuracy once per epoch.

    A network whose loss overflows is left to go on, as in the book (its
    accuracy then stays near chance): that is one of the results. Returns
    {name: [train accuracy per epoch]} and the names whose loss became NaN or
    infinite; ``bar`` shows the minibatch loss of the batch-norm network.
    """
    def network(use_batchnorm):
        return backend.MultiLayerNetExtend(784, [100, 100, 100, 100, 100], 10, weight_init_std=weight_init_std,
                                           use_batchnorm=use_batchnorm, dtype=args.dtype, seed=args.seed)

    networks = {"batch norm": network(True), "normal": network(False)}
    optimizers = {name: backend.SGD(lr=args.lr) for name in networks}
    accuracy = {name: [] for name in networks}
    diverged = set()
    iter_per_epoch = ex.iterations_per_epoch(len(x_train), args.batch_size)
    for i in range((args.epochs - 1) * iter_per_epoch + 1):
        batch_mask = rng.choice(len(x_train), args.batch_size)
        x_batch, t_batch = x_train[batch_mask], t_train[batch_mask]
        for name, net in networks.items():
            grads = net.gradient(x_batch, t_batch)
            optimizers[name].update(net.params, grads)
            if not np.isfinite(float(net.last_loss)):
                diverged.add(name)
        if i % iter_per_epoch == 0:
            for name, net in networks.items():
                accuracy[name].append(net.accuracy(x_train, t_train))
        progress.advance(bar, float(networks["batch norm"].last_loss))
    return accuracy, diverged


def grid_figure(scales, results, title):
    """One panel per weight scale: train accuracy with (solid) and without (dashed) batch norm."""
    from matplotlib.ticker import FixedLocator, MaxNLocator  # ticks at whole epochs

    cols = min(4, len(scales))
    rows = -(-len(scales) // cols)
    fig = figures.new_figure(figsize=(3 * cols, 2.4 * rows))
    axes = np.array(fig.subplots(rows, cols, squeeze=False, sharex=True, sharey=True))
    for k, (w, accuracy) in enumerate(zip(scales, results)):
        ax = axes.flat[k]
        epochs = np.arange(len(accuracy["batch norm"]))
        marker = figures.marker_for(epochs)
        ax.plot(epochs, accuracy["batch norm"], marker=marker, label="Batch Normalization")
        ax.plot(epochs, accuracy["normal"], linestyle="--", marker=marker, label="Normal (without BatchNorm)")
        ax.set_title(f"W: {w:.4g}", fontsize=9)
        ax.set_ylim(0, 1.0)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True) if len(epochs) > 1 else FixedLocator([0]))
    for ax in axes.flat[len(scales):]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("accuracy")
    for ax in axes[-1, :]:
        ax.set_xlabel("epochs")
    # one legend for the whole grid, under it, where it hides no curve
    fig.legend(*axes.flat[0].get_legend_handles_labels(), loc="outside lower center", ncols=2, fontsize=8)
    figures.suptitle(fig, title)
    return fig


def plot_grid(path, scales, results, title):
    """Draw ``grid_figure`` and save it to ``path``."""
    figures.save_figure(grid_figure(scales, results, title), path)


def main(argv=None):
    args = parse_args(argv)
    backend = ex.load_backend(args)
    (x_train, t_train), _ = ex.load_mnist(args, args.train_size)
    scales = np.logspace(0, -4, num=args.scales)
    iter_per_epoch = ex.iterations_per_epoch(len(x_train), args.batch_size)
    iters = (args.epochs - 1) * iter_per_epoch + 1
    print(f"batch norm comparison ({ex.label(args)}, {args.dtype}): MultiLayerNetExtend(784, [100]*5, 10), "
          f"SGD lr {args.lr}, {len(x_train)} images, batch {args.batch_size}, {args.epochs} epochs "
          f"({iters} iterations) per scale, {args.scales} scales, seed {args.seed}")
    rng = np.random.default_rng(ex.minibatch_seed(args.seed))
    results, rows = [], []
    with progress.progress_bar(iters * len(scales), not args.no_progress) as bar:
        for k, w in enumerate(scales):
            with np.errstate(over="ignore", invalid="ignore"):  # an overflowing network is a result, not an error
                accuracy, diverged = train_pair(args, backend, float(w), x_train, t_train, rng, bar)
            results.append(accuracy)
            final = {name: f"{acc[-1]:.3f}" + (" (diverged)" if name in diverged else "")
                     for name, acc in accuracy.items()}
            rows.append([f"{k + 1}/{len(scales)}", f"{w:.4g}", final["normal"], final["batch norm"]])
            progress.say(f"scale {w:.4g}: train acc without BN {final['normal']}, with BN {final['batch norm']}")
    print()
    ex.print_table(["", "weight scale", "train acc without BN", "train acc with BN"], rows)
    print(f"book: {BOOK}")
    if not args.no_plot:
        plot_grid(args.plot, scales, results,
                  f"train accuracy with and without batch norm ({ex.label(args)})")


if __name__ == "__main__":
    cli.run_main(main)
