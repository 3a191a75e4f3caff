"""Train a network on MNIST (or Fashion-MNIST, --dataset fashion_mnist), the book's loop (ch04/ch05 train_neuralnet.py, ch07 train_convnet.py).

Each iteration draws a random minibatch, computes the gradients by
backpropagation, ``network.gradient(x, t)``, and lets the optimizer update
the parameters; once per epoch it measures train and test accuracy. Either
backend runs the same loop on the same minibatches from the same initial
weights, so the two can be compared run against run.

    python scripts/train.py --backend scratch --model two_layer --iters 10000
"""
import toolkit  # noqa: F401 - first: a Python without the project's packages gets one line, exit 2
import math
import os
import time

from scratch import serialization
from toolkit import backends, cli, data, figures, history, models, paths, progress, training, weights
from toolkit.models import OPTIMIZERS, ModelConfig
from toolkit.training import AUGMENT_DEFAULTS

DESCRIPTION = """Train a network on MNIST (or Fashion-MNIST), as in the book's ch04/ch05
train_neuralnet.py and ch07 train_convnet.py: random minibatches (the same
indices for both backends with the same --seed), gradients by
backpropagation, one table row per epoch with train and test accuracy.
Both backends start from the same initial weights for a seed (drawn by the
NumPy backend) unless --native-init. With --augment (the convnets) each
training minibatch is rotated, shifted and scaled at random (8.1.1), the same
draws in both backends for a seed; accuracies are measured on the unchanged
images. Saves the final weights (.npz, with the
network's configuration for evaluate.py) and the curves (.png) and ends with
the line 'test accuracy: 0.xxxx'. A run that diverges (a loss above 1000 or a
weight above 10000 in magnitude, or NaN/inf) stops with an error and saves
nothing."""


def parse_args(argv=None):
    parser = cli.ArgumentParser(prog="train.py", description=DESCRIPTION)
    backends.add_backend_argument(parser)
    models.add_model_arguments(parser, trainable_only=True)
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--iters", type=cli.positive_int, default=None,
                        help="number of SGD updates (default 10000, as in the book)")
    length.add_argument("--epochs", type=cli.positive_int, default=None,
                        help="number of epochs instead: epochs * train_size / batch_size updates")
    parser.add_argument("--batch-size", type=cli.positive_int, default=100,
                        help="minibatch size (default 100)")
    parser.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default=None,
                        help="default: the book's choice for the model (sgd for two_layer, adam for the convnets)")
    parser.add_argument("--lr", type=cli.positive_float, default=None,
                        help="learning rate (default: 0.1 for two_layer, 0.001 for the convnets)")
    parser.add_argument("--weight-init-std", type=cli.positive_float, default=0.01,
                        help="two_layer: initial weights are this times N(0, 1) draws (default 0.01)")
    parser.add_argument("--eval-samples", type=cli.positive_int, default=None, metavar="N",
                        help="per-epoch accuracies on the first N train and test images (default: all "
                             "for two_layer, 1000 for the convnets, as the book); the last row uses all")
    parser.add_argument("--init-weights", metavar="PATH", default=None,
                        help="start from these weights (a .npz saved by train.py, or the book's .npz or "
                             ".pkl), e.g. to continue training with a smaller --lr; the optimizer state "
                             "starts afresh")
    parser.add_argument("--native-init", action="store_true",
                        help="torch backend: draw the initial weights with torch's own generator instead "
                             "of starting from the NumPy backend's weights for the seed")
    parser.add_argument("--readable", action="store_true",
                        help="scratch backend, convnets: train on the readable layers (im2col, one product, "
                             "col2im; batch norm node by node) instead of the fast plug-ins of scratch.fast: "
                             "the same numbers, more slowly")
    parser.add_argument("--seed", type=cli.non_negative_int, default=0,
                        help="seeds the weight initialisation and the minibatch draws (default 0)")
    parser.add_argument("--augment", action="store_true",
                        help="convnets: data augmentation (8.1.1), each training minibatch rotated, shifted "
                             "and scaled at random (a fresh draw per batch, seeded by --seed); the accuracies "
                             "are measured on the original images")
    parser.add_argument("--augment-angle", type=cli.non_negative_float, default=None, metavar="DEGREES",
                        help=f"--augment: rotate by up to this many degrees either way "
                             f"(default {AUGMENT_DEFAULTS['augment_angle']:g})")
    parser.add_argument("--augment-shift", type=cli.non_negative_float, default=None, metavar="PIXELS",
                        help=f"--augment: shift by up to this many pixels in each direction "
                             f"(default {AUGMENT_DEFAULTS['augment_shift']:g})")
    parser.add_argument("--augment-scale", type=cli.positive_float, nargs=2, default=None,
                        metavar=("LOW", "HIGH"),
                        help="--augment: scale by a factor drawn from [LOW, HIGH] (default %g %g)"
                             % AUGMENT_DEFAULTS["augment_scale"])
    parser.add_argument("--augment-flip", action="store_const", const=True, default=None,
                        help="--augment: also mirror half the images left-right (for Fashion-MNIST's "
                             "clothes; a mirrored digit is no longer the digit)")
    parser.add_argument("--lr-decay-at", type=cli.positive_float, nargs="+", default=(), metavar="EPOCH",
                        help="step decay: multiply the learning rate by --lr-decay when these epochs are "
                             "reached, e.g. --epochs 12 --lr-decay-at 8 11 (default: a constant rate)")
    parser.add_argument("--lr-decay", type=cli.positive_float, default=None, metavar="FACTOR",
                        help="--lr-decay-at: the factor (default 0.1)")
    parser.add_argument("--train-limit", type=cli.positive_int, default=None, metavar="N",
                        help="train on the first N training images only (quick runs)")
    data.add_data_arguments(parser)
    parser.add_argument("--save", metavar="PATH", default=None,
                        help="where to save the final weights (default runs/<model>-<backend>.npz, "
                             "runs/<model>-<backend>-fashion_mnist.npz with --dataset fashion_mnist)")
    parser.add_argument("--plot", metavar="PATH", default=None,
                        help="where to save the loss and accuracy curves "
                             "(default: the --save path with .png)")
    parser.add_argument("--no-plot", action="store_true", help="do not draw the curves")
    parser.add_argument("--history", metavar="PATH", default=None,
                        help="where to save the curves' numbers as JSON: the loss of every iteration, the "
                             "accuracies and elapsed seconds of every row, the options "
                             "(default: the --save path with .json)")
    backends.add_threads_argument(parser)
    progress.add_progress_argument(parser)
    args = parser.parse_args(argv)

    spec = models.MODELS[args.model]
    models.check_model_options(parser, args)
    training.check_augment_options(parser, args, spec)
    if args.readable and args.backend != "scratch":
        parser.error("--readable chooses among the NumPy layers: it needs --backend scratch")
    if args.readable and spec.flatten:
        parser.error(f"--readable: --model {args.model} has no convolution, pooling or batch norm to choose")
    args.optimizer = args.optimizer or spec.optimizer
    args.lr = args.lr or spec.lr
    args.eval_samples = args.eval_samples or spec.eval_samples
    if args.save is None:
        args.save = os.path.join("runs", f"{args.model}-{args.backend}{data.dataset_suffix(args)}.npz")
    if args.plot is None:
        args.plot = os.path.splitext(args.save)[0] + ".png"
    if args.history is None:
        args.history = os.path.splitext(args.save)[0] + ".json"
    if args.lr_decay is not None and not args.lr_decay_at:
        parser.error("--lr-decay needs --lr-decay-at")
    if args.lr_decay is None:
        args.lr_decay = 0.1
    if args.lr_decay >= 1:
        parser.error(f"--lr-decay multiplies the learning rate and must be below 1, got {args.lr_decay:g}")
    args.lr_decay_at = tuple(sorted(args.lr_decay_at))
    if args.init_weights is not None and not os.path.isfile(args.init_weights):
        parser.error(f"no weights file at {args.init_weights}")
    outputs = {"--save": args.save, "--history": args.history, **({} if args.no_plot else {"--plot": args.plot})}
    seen = {}
    for option, path in outputs.items():
        other = seen.setdefault(os.path.abspath(path), option)
        if other != option:
            parser.error(f"{other} and {option} name the same file {path}: one would overwrite the other")
    paths.check_output("--save", args.save)
    paths.check_output("--history", args.history)
    if not args.no_plot:
        paths.check_output("--plot", args.plot)
    if args.init_weights is not None:
        # the network's shape must match; the data set need not (training on from another's weights is allowed)
        shape = {key: value for key, value in weights.model_config(args).items()
                 if key not in ("dataset", *weights.TRAINING_ONLY)}
        weights.check_weights_config(args.init_weights, shape)
    if not args.no_plot:
        figures.require_matplotlib(parser, "drawing the curves", ", or pass --no-plot")
    return args


def main(argv=None):
    args = parse_args(argv)
    config = ModelConfig.from_options(args)
    backend = backends.load_backend(args.backend, args.threads)
    network = training.build_network(args, config, backend)  # a bad --init-weights is found before MNIST loads
    images = training.load_training_data(args, config)
    optimizer = getattr(backend, OPTIMIZERS[args.optimizer])(lr=args.lr)

    train_size = len(images[0][0])
    iter_per_epoch = max(train_size / args.batch_size, 1)
    if args.epochs is not None:
        iters_num = math.ceil(args.epochs * iter_per_epoch)
    else:
        iters_num = 10000 if args.iters is None else args.iters

    late = [epoch for epoch in args.lr_decay_at if math.ceil(round(epoch * iter_per_epoch, 9)) >= iters_num]
    if late:
        raise ValueError(f"--lr-decay-at {late[0]:g} is at or past the end of training "
                         f"({iters_num / iter_per_epoch:g} epochs): the rate would never change there")
    print(f"{args.model} ({args.backend} backend{', readable layers' if args.readable else ''}, {args.dtype}{data.dataset_suffix(args).replace('-', ', ')}): "
          f"{iters_num} iterations, "
          f"batch {args.batch_size}, {OPTIMIZERS[args.optimizer]} lr {args.lr}, {train_size} training images, "
          f"{iter_per_epoch:g} iterations per epoch, seed {args.seed}{training.augment_summary(args)}")
    header = f"{'epoch':>7} {'iter':>7} {'loss':>9} {'train acc':>10} {'test acc':>9} {'elapsed s':>10}"
    print(header)
    print("-" * len(header), flush=True)

    start = time.perf_counter()
    losses, epochs, train_acc, test_acc, seconds = training.train(args, network, optimizer, images, iters_num,
                                                                  iter_per_epoch, training.make_augmenter(args, backend))
    elapsed = time.perf_counter() - start

    arrays = {name: backends.to_numpy(p) for name, p in network.params.items()}
    arrays.update(weights.network_state(network))  # batch norms' running statistics (ResNet)
    serialization.save_params(args.save, arrays, config=weights.model_config(args))
    print(f"saved weights: {args.save}")
    if not args.no_plot:
        training.plot_curves(args.plot, losses, epochs, train_acc, test_acc,
                    f"{args.model}{data.dataset_suffix(args).replace('-', ', ')}, {args.backend} backend, "
                    f"{OPTIMIZERS[args.optimizer]} lr {args.lr}, "
                    f"batch {args.batch_size}{', augmented' if args.augment else ''}")
        print(f"saved curves: {args.plot}")
    history.save_history(args, iters_num, losses, epochs, train_acc, test_acc, seconds, elapsed)
    print(f"saved history: {args.history}")
    print(f"training time: {elapsed:.1f} s")
    print(f"test accuracy: {test_acc[-1]:.4f}")


if __name__ == "__main__":
    cli.run_main(main)
