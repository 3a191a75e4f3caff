"""Initial weights on MNIST (6.2.4, the book's ch06/weight_init_compare.py).

MultiLayerNet(784, [100, 100, 100, 100], 10) with ReLU, its initial weights
drawn with std 0.01, Xavier's sqrt(1/n) or He's sqrt(2/n) (n: the inputs of
each neuron), trained by SGD (lr 0.01) on the same minibatches (2000
iterations of 128 images). With std 0.01 the signal vanishes and nothing is
learnt; He learns fastest (figure 6-15).

    python scripts/ch06_weight_init_compare.py --backend torch --threads 2
"""
import toolkit  # noqa: F401 - first: a Python without the project's packages gets one line, exit 2
from toolkit import cli
from toolkit import experiments as ex

DESCRIPTION = """Compare initial weights std 0.01, Xavier and He for MultiLayerNet(784,
[100]*4, 10) with ReLU trained by SGD (lr 0.01) on MNIST, as the book's
ch06/weight_init_compare.py (6.2.4): same minibatches, the loss printed every
100 iterations and compared with the book's at iteration 1900; smoothed loss
curves saved as a PNG."""

# The book's weight_init_types: the name shown -> MultiLayerNet's weight_init_std.
WEIGHT_INIT_TYPES = {"std=0.01": 0.01, "Xavier": "sigmoid", "He": "relu"}

# The book's script: the loss printed at iteration 1900.
BOOK_LOSS_1900 = {"std=0.01": "2.30", "Xavier": "0.22", "He": "0.16"}


def parse_args(argv=None):
    parser = ex.make_parser(__file__, DESCRIPTION)
    ex.add_race_arguments(parser)
    parser.add_argument("--lr", type=cli.positive_float, default=0.01,
                        help="SGD learning rate (default 0.01, as in the book)")
    ex.add_mnist_arguments(parser)
    return ex.parse(parser, argv)


def main(argv=None):
    args = parse_args(argv)
    backend = ex.load_backend(args)
    (x_train, t_train), _ = ex.load_mnist(args)

    networks = {name: backend.MultiLayerNet(784, [100, 100, 100, 100], 10, weight_init_std=std,
                                            dtype=args.dtype, seed=args.seed)
                for name, std in WEIGHT_INIT_TYPES.items()}
    optimizers = {name: backend.SGD(lr=args.lr) for name in networks}
    print(f"weight-init comparison ({ex.label(args)}, {args.dtype}): MultiLayerNet(784, [100]*4, 10), "
          f"ReLU, SGD lr {args.lr}, {args.iters} iterations, batch {args.batch_size}, seed {args.seed}; "
          "std=0.01: 0.01, Xavier: sqrt(1/n), He: sqrt(2/n)")
    ex.run_race(args, networks, optimizers, x_train, t_train, BOOK_LOSS_1900,
                f"initial weights on MNIST ({ex.label(args)})", ylim=(0, 2.5))


if __name__ == "__main__":
    cli.run_main(main)
