"""Random search for the learning rate and weight decay (6.5.3, the book's ch06/hyperparameter_optimization.py).

The first 500 training images are shuffled and split: 20% validation data,
80% training data (6.5.1; the test data stay untouched). Each trial draws
weight decay = 10^U(-8, -4) and lr = 10^U(-6, -2) (on a log scale, 6.5.2),
trains MultiLayerNet(784, [100]*6, 10) by SGD (batch 100) for 50 epochs with
the book's ``Trainer`` and keeps the validation accuracy after each epoch.
The best trials are printed as the book prints them and drawn in a grid
(figure 6-24). Every trial starts from the same initial weights and sees the
same minibatches (the book draws both anew), so that trials differ only in
their hyperparameters.
"""
import toolkit  # noqa: F401 - first: a Python without the project's packages gets one line, exit 2
import numpy as np

from toolkit import cli, figures, progress
from toolkit import experiments as ex

DESCRIPTION = """Random search of the learning rate, 10^U(-6, -2), and the weight decay,
10^U(-8, -4), for MultiLayerNet(784, [100]*6, 10) on 500 MNIST images (20% of them
for validation), 50 epochs per trial, as the book's
ch06/hyperparameter_optimization.py (6.5.3); prints every trial and the best
ones like the book, next to the book's best five, and draws the best curves."""

# The book's result (6.5.3): its five best trials.
BOOK_BEST = [(0.83, 0.0092, 3.86e-07), (0.78, 0.00956, 6.04e-07), (0.77, 0.00571, 1.27e-06),
             (0.74, 0.00626, 1.43e-05), (0.73, 0.0052, 8.97e-06)]


def parse_args(argv=None):
    parser = ex.make_parser(__file__, DESCRIPTION)
    parser.add_argument("--trials", type=cli.positive_int, default=100,
                        help="random trials (default 100, as in the book)")
    parser.add_argument("--epochs", type=cli.positive_int, default=50,
                        help="epochs per trial (default 50, as in the book)")
    parser.add_argument("--train-size", type=cli.positive_int, default=500,
                        help="use the first N training images, validation included (default 500)")
    parser.add_argument("--validation-rate", type=float, default=0.2,
                        help="the share of them held out for validation (default 0.2)")
    parser.add_argument("--batch-size", type=cli.positive_int, default=100,
                        help="minibatch size (default 100)")
    parser.add_argument("--top", type=cli.positive_int, default=20,
                        help="print and draw the N best trials (default 20, as in the book)")
    ex.add_mnist_arguments(parser)
    args = ex.parse(parser, argv)
    if not 0 < args.validation_rate < 1:
        parser.error(f"argument --validation-rate: expected a number in (0, 1), got {args.validation_rate}")
    return args


def split_validation(x, t, rate, rng):
    """Shuffle (the book's shuffle_dataset) and hold out the first ``rate`` of the samples."""
    validation_num = int(x.shape[0] * rate)
    if not 0 < validation_num < x.shape[0]:
        raise ValueError(f"--validation-rate {rate} of {x.shape[0]} images leaves no validation or no training data")
    permutation = rng.permutation(x.shape[0])
    x, t = x[permutation], t[permutation]
    return (x[validation_num:], t[validation_num:]), (x[:validation_num], t[:validation_num])


def train_trial(args, backend, lr, weight_decay, train, validation, bar):
    """The book's __train: the validation and train accuracy after each epoch (``bar`` advanced per iteration)."""
    network = backend.MultiLayerNet(784, [100] * 6, 10, weight_decay_lambda=weight_decay,
                                    dtype=args.dtype, seed=args.seed)
    trainer = backend.Trainer(network, *train, *validation, epochs=args.epochs, mini_batch_size=args.batch_size,
                              optimizer="SGD", optimizer_param={"lr": lr}, verbose=False,
                              seed=ex.minibatch_seed(args.seed))
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging trial is a result, not an error
        for _ in range(trainer.max_iter):
            trainer.train_step()
            progress.advance(bar, trainer.train_loss_list[-1])
    return trainer.test_acc_list, trainer.train_acc_list


def best_figure(best, title):
    """The best trials in a grid, 5 per row: validation (solid) and train (dashed) accuracy."""
    cols = min(5, len(best))
    rows = -(-len(best) // cols)
    fig = figures.new_figure(figsize=(2.6 * cols, 2.2 * rows))
    axes = np.array(fig.subplots(rows, cols, squeeze=False, sharey=True))
    for k, trial in enumerate(best):
        ax = axes.flat[k]
        epochs = np.arange(len(trial["val"]))
        marker = figures.marker_for(epochs)
        ax.plot(epochs, trial["val"], marker=marker, label="validation")
        ax.plot(epochs, trial["train"], "--", marker=marker, label="train")
        ax.set_title(f"Best-{k + 1}: lr {trial['lr']:.2g}, wd {trial['weight_decay']:.2g}", fontsize=8)
        ax.set_ylim(0.0, 1.0)
        ax.set_xticks([])
    for ax in axes.flat[len(best):]:
        ax.set_visible(False)
    axes.flat[0].legend(loc="lower right", fontsize=7)
    figures.suptitle(fig, title)
    return fig


def plot_best(path, best, title):
    """Draw ``best_figure`` and save it to ``path``."""
    figures.save_figure(best_figure(best, title), path)


def main(argv=None):
    args = parse_args(argv)
    backend = ex.load_backend(args)
    (x, t), _ = ex.load_mnist(args, args.train_size)
    rng = np.random.default_rng(args.seed)
    train, validation = split_validation(x, t, args.validation_rate, rng)
    iters = int(args.epochs * max(len(train[0]) / args.batch_size, 1))  # Trainer's max_iter
    print(f"hyperparameter search ({ex.label(args)}, {args.dtype}): MultiLayerNet(784, [100]*6, 10), "
          f"{len(train[0])} training and {len(validation[0])} validation images, {args.epochs} epochs, "
          f"batch {args.batch_size}, {args.trials} trials, seed {args.seed}")
    trials = []
    with progress.progress_bar(args.trials * iters, not args.no_progress) as bar:
        for _ in range(args.trials):
            weight_decay = float(10 ** rng.uniform(-8, -4))  # Python floats: float32 stays float32
            lr = float(10 ** rng.uniform(-6, -2))
            val_acc_list, train_acc_list = train_trial(args, backend, lr, weight_decay, train, validation, bar)
            trials.append({"lr": lr, "weight_decay": weight_decay, "val": val_acc_list, "train": train_acc_list})
            progress.say(f"val acc:{val_acc_list[-1]} | lr:{lr}, weight decay:{weight_decay}")

    best = sorted(trials, key=lambda trial: trial["val"][-1], reverse=True)[:args.top]
    print("=========== Hyper-Parameter Optimization Result ===========")
    for k, trial in enumerate(best):
        print(f"Best-{k + 1}(val acc:{trial['val'][-1]}) | lr:{trial['lr']}, weight decay:{trial['weight_decay']}")
    print()
    rows = []
    for k in range(min(len(best), len(BOOK_BEST))):
        book_acc, book_lr, book_wd = BOOK_BEST[k]
        rows.append([f"Best-{k + 1}", f"{best[k]['val'][-1]:.2f}", f"{best[k]['lr']:.3g}",
                     f"{best[k]['weight_decay']:.3g}", f"{book_acc:.2f}", f"{book_lr:.3g}", f"{book_wd:.3g}"])
    ex.print_table(["", "val acc", "lr", "weight decay", "book val acc", "book lr", "book weight decay"], rows)
    print("book: learning goes well for lr 0.001 to 0.01 and weight decay 1e-8 to 1e-6")
    if not args.no_plot:
        plot_best(args.plot, best, f"best {len(best)} of {args.trials} trials ({ex.label(args)})")


if __name__ == "__main__":
    cli.run_main(main)
