"""Accuracy of saved weights on the 10000 MNIST (or Fashion-MNIST) test images (the book's ch03/neuralnet_mnist.py).

    python scripts/evaluate.py --backend torch --model three_layer --weights ch03_sample_weight.npz
    accuracy: 0.9352
"""
import toolkit  # noqa: F401 - first: a Python without the project's packages gets one line, exit 2
import os

from toolkit import backends, cli, data, models, weights

DESCRIPTION = """Load weights into a network and print its accuracy on the 10000 MNIST
test images as 'accuracy: 0.xxxx'. Takes the book's published weights, as
.npz (e.g. ch03_sample_weight.npz with --model three_layer) or as the book's
own pickles (ch03/sample_weight.pkl, ch07/params.pkl, ch08/deep_convnet_params.pkl;
read safely: nothing in them is run), and the .npz files train.py saves: these
record --model, --hidden-size, --activation, --channels and --dataset (mnist, or
fashion_mnist for Fashion-MNIST's 10000 test images), which are then taken
from the file (an option that contradicts the file is an error)."""


def parse_args(argv=None):
    parser = cli.ArgumentParser(prog="evaluate.py", description=DESCRIPTION)
    backends.add_backend_argument(parser)
    models.add_model_arguments(parser, trainable_only=False, from_weights=True)
    parser.add_argument("--weights", metavar="PATH", required=True,
                        help="the parameter file: an .npz, or one of the book's .pkl files (read safely)")
    data.add_data_arguments(parser, from_weights=True)
    parser.set_defaults(weight_init_std=0.01, seed=0)  # the initial weights are overwritten by --weights
    args = parser.parse_args(argv)
    if not os.path.isfile(args.weights):
        parser.error(f"no weights file at {args.weights}")
    args = weights.model_from_weights(args)
    models.check_model_options(parser, args)
    return args


def main(argv=None):
    args = parse_args(argv)
    config = models.ModelConfig.from_options(args)
    backend = backends.load_backend(args.backend)
    network = config.build(backend)
    if not config.spec.takes_weight_file:
        weights.load_weights(network, args.weights)
    _, (x_test, t_test) = data.load_data(args, config.spec.flatten)
    print(f"accuracy: {network.accuracy(x_test, t_test):.4f}")


if __name__ == "__main__":
    cli.run_main(main)
