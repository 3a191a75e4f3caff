"""Optimizers on MNIST (6.1.8, the book's ch06/optimizer_compare_mnist.py).

MultiLayerNet(784, [100, 100, 100, 100], 10) with ReLU and He's initial
weights, trained by SGD, Momentum, AdaGrad and Adam from the same initial
weights on the same minibatches (2000 iterations of 128 images). The loss
of the current minibatch is printed every 100 iterations, as in the book;
the figure shows the smoothed loss curves (figure 6-9).

    python scripts/ch06_optimizer_compare.py --backend torch --threads 2
"""
import toolkit  # noqa: F401 - first: a Python without the project's packages gets one line, exit 2
from toolkit import cli
from toolkit import experiments as ex

DESCRIPTION = """Compare SGD (lr 0.01), Momentum (lr 0.01), AdaGrad (lr 0.01) and Adam
(lr 0.001) training MultiLayerNet(784, [100]*4, 10) on MNIST, as the book's
ch06/optimizer_compare_mnist.py (6.1.8): same initial weights, same minibatches,
the loss printed every 100 iterations and compared with the book's at iteration
1900; smoothed loss curves saved as a PNG."""

# The optimizers of the book's script and their learning rates (the classes' defaults there).
OPTIMIZERS = {"SGD": {"lr": 0.01}, "Momentum": {"lr": 0.01}, "AdaGrad": {"lr": 0.01}, "Adam": {"lr": 0.001}}

# The book's script: the loss printed at iteration 1900.
BOOK_LOSS_1900 = {"SGD": "0.161", "Momentum": "0.027", "AdaGrad": "0.018", "Adam": "0.027"}


def parse_args(argv=None):
    parser = ex.make_parser(__file__, DESCRIPTION)
    ex.add_race_arguments(parser)
    ex.add_mnist_arguments(parser)
    return ex.parse(parser, argv)


def main(argv=None):
    args = parse_args(argv)
    backend = ex.load_backend(args)
    (x_train, t_train), _ = ex.load_mnist(args)

    networks = {name: backend.MultiLayerNet(784, [100, 100, 100, 100], 10, dtype=args.dtype, seed=args.seed)
                for name in OPTIMIZERS}
    optimizers = {name: getattr(backend, name)(**hyper) for name, hyper in OPTIMIZERS.items()}
    print(f"optimizer comparison ({ex.label(args)}, {args.dtype}): MultiLayerNet(784, [100]*4, 10), "
          f"{args.iters} iterations, batch {args.batch_size}, seed {args.seed}; "
          + ", ".join(f"{name} lr {hyper['lr']}" for name, hyper in OPTIMIZERS.items()))
    ex.run_race(args, networks, optimizers, x_train, t_train, BOOK_LOSS_1900,
                f"optimizers on MNIST ({ex.label(args)})", ylim=(0, 1))


if __name__ == "__main__":
    cli.run_main(main)
