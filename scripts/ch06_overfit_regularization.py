"""Overfitting and two cures (6.4, the book's ch06/overfit_weight_decay.py and overfit_dropout.py).

MultiLayerNet(784, [100]*6, 10) learns the first 300 training images by SGD
(lr 0.01, batch 100) three times, from the same initial weights on the same
minibatches:

* without regularization, 201 epochs: train accuracy reaches 1.0, test
  accuracy stays far below (figure 6-20);
* with weight decay lambda = 0.1 (6.4.2), 201 epochs: a smaller gap (figure 6-21);
* with dropout, ratio 0.2 (6.4.3, MultiLayerNetExtend), trained by
  ``Trainer`` for 301 epochs as the book does: a smaller gap (figure 6-23).

Train and test accuracy (all 10000 test images) are measured once per epoch.
"""
import toolkit  # noqa: F401 - first: a Python without the project's packages gets one line, exit 2
import numpy as np

from toolkit import cli, figures, progress
from toolkit import experiments as ex

DESCRIPTION = """Overfit MultiLayerNet(784, [100]*6, 10) on 300 MNIST images (SGD lr 0.01,
batch 100), then regularize it with weight decay (lambda 0.1) and with dropout
(ratio 0.2), as the book's ch06/overfit_weight_decay.py and overfit_dropout.py
(6.4): prints the final train and test accuracy of the three runs and saves
their accuracy curves as a PNG."""

BOOK = {
    "none": "fig 6-20: train 1.0, test far below",
    "weight decay": "fig 6-21: train < 1.0, smaller gap",
    "dropout": "fig 6-23: train < 1.0, smaller gap",
}


def parse_args(argv=None):
    parser = ex.make_parser(__file__, DESCRIPTION)
    parser.add_argument("--train-size", type=cli.positive_int, default=300,
                        help="train on the first N training images (default 300, as in the book)")
    parser.add_argument("--epochs", type=cli.positive_int, default=201,
                        help="epochs without regularization and with weight decay (default 201, as in the book)")
    parser.add_argument("--dropout-epochs", type=cli.positive_int, default=301,
                        help="epochs with dropout (default 301, as in the book)")
    parser.add_argument("--weight-decay", type=cli.positive_float, default=0.1,
                        help="weight decay lambda (default 0.1, as in the book)")
    parser.add_argument("--dropout-ratio", type=float, default=0.2,
                        help="dropout ratio (default 0.2, as in the book)")
    parser.add_argument("--batch-size", type=cli.positive_int, default=100,
                        help="minibatch size (default 100)")
    parser.add_argument("--lr", type=cli.positive_float, default=0.01,
                        help="SGD learning rate (default 0.01)")
    ex.add_mnist_arguments(parser)
    args = ex.parse(parser, argv)
    if not 0 <= args.dropout_ratio < 1:
        parser.error(f"argument --dropout-ratio: expected a number in [0, 1), got {args.dropout_ratio}")
    return args


def train_by_hand(args, backend, network, data, epochs):
    """The loop of overfit_weight_decay.py: accuracy after the update of iterations 0, ipe, 2 ipe, ..."""
    (x_train, t_train), (x_test, t_test) = data
    optimizer = backend.SGD(lr=args.lr)
    rng = np.random.default_rng(ex.minibatch_seed(args.seed))
    iter_per_epoch = ex.iterations_per_epoch(len(x_train), args.batch_size)
    iters = (epochs - 1) * iter_per_epoch + 1
    train_acc_list, test_acc_list = [], []
    with progress.progress_bar(iters, not args.no_progress) as bar:
        for i in range(iters):
            batch_mask = rng.choice(len(x_train), args.batch_size)
            grads = network.gradient(x_train[batch_mask], t_train[batch_mask])
            optimizer.update(network.params, grads)
            loss = float(network.last_loss)
            ex.check_finite(loss, f"at iteration {i}")
            if i % iter_per_epoch == 0:
                train_acc_list.append(network.accuracy(x_train, t_train))
                test_acc_list.append(network.accuracy(x_test, t_test))
            progress.advance(bar, loss)
    return train_acc_list, test_acc_list


def train_with_trainer(args, backend, network, data, epochs):
    """overfit_dropout.py: the book's ``Trainer``, driven step by step for the progress bar."""
    (x_train, t_train), (x_test, t_test) = data
    trainer = backend.Trainer(network, x_train, t_train, x_test, t_test, epochs=epochs,
                              mini_batch_size=args.batch_size, optimizer="SGD", optimizer_param={"lr": args.lr},
                              verbose=False, seed=ex.minibatch_seed(args.seed))
    with progress.progress_bar(trainer.max_iter, not args.no_progress) as bar:
        for i in range(trainer.max_iter):
            trainer.train_step()
            loss = trainer.train_loss_list[-1]
            ex.check_finite(loss, f"at iteration {i}")
            progress.advance(bar, loss)
    return trainer.train_acc_list, trainer.test_acc_list


def plot_curves(path, results, labels, title):
    """One panel per run: train (solid) and test (dashed) accuracy per epoch, as figures 6-20 to 6-23."""
    fig = figures.new_figure(figsize=(4 * len(results), 3.6))
    axes = np.atleast_1d(fig.subplots(1, len(results), sharey=True))
    for ax, (name, (train_acc, test_acc)) in zip(axes, results.items()):
        epochs = np.arange(len(train_acc))
        ax.plot(epochs, train_acc, marker="o", markevery=10, markersize=3, label="train")
        ax.plot(epochs, test_acc, marker="s", markevery=10, markersize=3, linestyle="--", label="test")
        ax.set_title(labels[name])
        ax.set_xlabel("epochs")
        ax.set_ylim(0, 1.0)
        ax.legend(loc="lower right")
    axes[0].set_ylabel("accuracy")
    fig.suptitle(title)
    figures.save_figure(fig, path)


def main(argv=None):
    args = parse_args(argv)
    backend = ex.load_backend(args)
    data = ex.load_mnist(args, args.train_size)
    hidden = [100] * 6
    runs = {
        "none": (lambda: backend.MultiLayerNet(784, hidden, 10, dtype=args.dtype, seed=args.seed),
                 train_by_hand, args.epochs),
        "weight decay": (lambda: backend.MultiLayerNet(784, hidden, 10, weight_decay_lambda=args.weight_decay,
                                                       dtype=args.dtype, seed=args.seed),
                         train_by_hand, args.epochs),
        "dropout": (lambda: backend.MultiLayerNetExtend(784, hidden, 10, use_dropout=True,
                                                        dropout_ration=args.dropout_ratio, dtype=args.dtype,
                                                        seed=args.seed),
                    train_with_trainer, args.dropout_epochs),
    }
    print(f"overfitting ({ex.label(args)}, {args.dtype}): MultiLayerNet(784, [100]*6, 10), "
          f"{len(data[0][0])} training images, SGD lr {args.lr}, batch {args.batch_size}, seed {args.seed}; "
          f"none and weight decay {args.weight_decay}: {args.epochs} epochs; "
          f"dropout {args.dropout_ratio}: {args.dropout_epochs} epochs (Trainer)")
    results = {}
    for name, (build, train, epochs) in runs.items():
        results[name] = train(args, backend, build(), data, epochs)
        print(f"{name}: {epochs} epochs, train acc {results[name][0][-1]:.4f}, "
              f"test acc {results[name][1][-1]:.4f}", flush=True)
    print()
    rows = [[name, str(len(train_acc)), f"{train_acc[-1]:.4f}", f"{test_acc[-1]:.4f}",
             f"{train_acc[-1] - test_acc[-1]:.4f}", BOOK[name]]
            for name, (train_acc, test_acc) in results.items()]
    ex.print_table(["regularization", "epochs", "train acc", "test acc", "gap", "book"], rows)
    if not args.no_plot:
        labels = {"none": "no regularization", "weight decay": f"weight decay (lambda {args.weight_decay})",
                  "dropout": f"dropout (ratio {args.dropout_ratio})"}
        plot_curves(args.plot, results, labels,
                    f"overfitting {len(data[0][0])} training images ({ex.label(args)})")


if __name__ == "__main__":
    cli.run_main(main)
