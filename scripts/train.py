"""Train a network on MNIST (or Fashion-MNIST, --dataset fashion_mnist), the book's loop (ch04/ch05 train_neuralnet.py, ch07 train_convnet.py).

Each iteration draws a random minibatch, computes the gradients by
backpropagation, ``network.gradient(x, t)``, and lets the optimizer update
the parameters; once per epoch it measures train and test accuracy. Either
backend runs the same loop on the same minibatches from the same initial
weights, so the two can be compared run against run.

    python scripts/train.py --backend scratch --model two_layer --iters 10000
"""
import json
import math
import os
import time

import numpy as np

import _common
from scratch import serialization

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

OPTIMIZERS = {"sgd": "SGD", "momentum": "Momentum", "nesterov": "Nesterov", "adagrad": "AdaGrad",
              "rmsprop": "RMSprop", "adam": "Adam"}
# Divergence (see check_loss, check_weights): a network guessing among the 10 classes has loss
# ln 10 = 2.3 and training only lowers it; initial weights are below 1 in magnitude and trained
# ones stay within tens. Far beyond these, the run has blown up.
LOSS_LIMIT = 1e3
WEIGHT_LIMIT = 1e4
# --augment's defaults: small enough that a digit stays the same digit
AUGMENT_DEFAULTS = {"augment_angle": 10.0, "augment_shift": 2.0, "augment_scale": (0.9, 1.1),
                    "augment_flip": False}
AUGMENT_STREAM = 1  # the augmentation draws come from default_rng([seed, AUGMENT_STREAM]), apart from the minibatches'
RULE = f"a loss above {LOSS_LIMIT:g}, a weight above {WEIGHT_LIMIT:g} in magnitude, or NaN/inf stops a run"


def parse_args(argv=None):
    parser = _common.ArgumentParser(prog="train.py", description=DESCRIPTION)
    _common.add_backend_argument(parser)
    _common.add_model_arguments(parser, trainable_only=True)
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--iters", type=_common.positive_int, default=None,
                        help="number of SGD updates (default 10000, as in the book)")
    length.add_argument("--epochs", type=_common.positive_int, default=None,
                        help="number of epochs instead: epochs * train_size / batch_size updates")
    parser.add_argument("--batch-size", type=_common.positive_int, default=100,
                        help="minibatch size (default 100)")
    parser.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default=None,
                        help="default: the book's choice for the model (sgd for two_layer, adam for the convnets)")
    parser.add_argument("--lr", type=_common.positive_float, default=None,
                        help="learning rate (default: 0.1 for two_layer, 0.001 for the convnets)")
    parser.add_argument("--weight-init-std", type=_common.positive_float, default=0.01,
                        help="two_layer: initial weights are this times N(0, 1) draws (default 0.01)")
    parser.add_argument("--eval-samples", type=_common.positive_int, default=None, metavar="N",
                        help="per-epoch accuracies on the first N train and test images (default: all "
                             "for two_layer, 1000 for the convnets, as the book); the last row uses all")
    parser.add_argument("--init-weights", metavar="PATH", default=None,
                        help="start from these weights (a .npz saved by train.py, or the book's .npz or "
                             ".pkl), e.g. to continue training with a smaller --lr; the optimizer state "
                             "starts afresh")
    parser.add_argument("--native-init", action="store_true",
                        help="torch backend: draw the initial weights with torch's own generator instead "
                             "of starting from the NumPy backend's weights for the seed")
    parser.add_argument("--seed", type=_common.non_negative_int, default=0,
                        help="seeds the weight initialisation and the minibatch draws (default 0)")
    parser.add_argument("--augment", action="store_true",
                        help="convnets: data augmentation (8.1.1), each training minibatch rotated, shifted "
                             "and scaled at random (a fresh draw per batch, seeded by --seed); the accuracies "
                             "are measured on the original images")
    parser.add_argument("--augment-angle", type=_common.non_negative_float, default=None, metavar="DEGREES",
                        help=f"--augment: rotate by up to this many degrees either way "
                             f"(default {AUGMENT_DEFAULTS['augment_angle']:g})")
    parser.add_argument("--augment-shift", type=_common.non_negative_float, default=None, metavar="PIXELS",
                        help=f"--augment: shift by up to this many pixels in each direction "
                             f"(default {AUGMENT_DEFAULTS['augment_shift']:g})")
    parser.add_argument("--augment-scale", type=_common.positive_float, nargs=2, default=None,
                        metavar=("LOW", "HIGH"),
                        help="--augment: scale by a factor drawn from [LOW, HIGH] (default %g %g)"
                             % AUGMENT_DEFAULTS["augment_scale"])
    parser.add_argument("--augment-flip", action="store_const", const=True, default=None,
                        help="--augment: also mirror half the images left-right (for Fashion-MNIST's "
                             "clothes; a mirrored digit is no longer the digit)")
    parser.add_argument("--lr-decay-at", type=_common.positive_float, nargs="+", default=(), metavar="EPOCH",
                        help="step decay: multiply the learning rate by --lr-decay when these epochs are "
                             "reached, e.g. --epochs 12 --lr-decay-at 8 11 (default: a constant rate)")
    parser.add_argument("--lr-decay", type=_common.positive_float, default=None, metavar="FACTOR",
                        help="--lr-decay-at: the factor (default 0.1)")
    parser.add_argument("--train-limit", type=_common.positive_int, default=None, metavar="N",
                        help="train on the first N training images only (quick runs)")
    _common.add_data_arguments(parser)
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
    parser.add_argument("--threads", type=_common.positive_int, default=None,
                        help="torch backend: torch.set_num_threads(N) (default: torch's own choice)")
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress bar on stderr (none is drawn without a terminal either)")
    args = parser.parse_args(argv)

    spec = _common.MODELS[args.model]
    _common.check_model_options(parser, args)
    check_augment_options(parser, args, spec)
    args.optimizer = args.optimizer or spec.optimizer
    args.lr = args.lr or spec.lr
    args.eval_samples = args.eval_samples or spec.eval_samples
    if args.save is None:
        args.save = os.path.join("runs", f"{args.model}-{args.backend}{_common.dataset_suffix(args)}.npz")
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
    _common.check_output("--save", args.save)
    _common.check_output("--history", args.history)
    if not args.no_plot:
        _common.check_output("--plot", args.plot)
    if args.init_weights is not None:
        # the network's shape must match; the data set need not (training on from another's weights is allowed)
        shape = {key: value for key, value in _common.model_config(args).items()
                 if key not in ("dataset", *_common.TRAINING_ONLY)}
        _common.check_weights_config(args.init_weights, shape)
    if not args.no_plot:
        import importlib.util
        if importlib.util.find_spec("matplotlib") is None:
            parser.error("drawing the curves needs matplotlib (pip install matplotlib), or pass --no-plot")
    return args


def check_augment_options(parser, args, spec):
    """--augment only for networks taking images; its options only with it; fill in their defaults."""
    given = [f"--{key.replace('_', '-')}" for key in AUGMENT_DEFAULTS if getattr(args, key) is not None]
    if not args.augment:
        if given:
            parser.error(f"{given[0]} needs --augment")
        return
    if spec.flatten:
        convnets = ", ".join(name for name, other in _common.MODELS.items() if other.trainable and not other.flatten)
        parser.error(f"--augment rotates and shifts images, but {args.model} takes flat vectors of 784 pixels; "
                     f"use a convnet ({convnets})")
    for key, default in AUGMENT_DEFAULTS.items():
        if getattr(args, key) is None:
            setattr(args, key, default)
    args.augment_scale = tuple(args.augment_scale)
    if args.augment_scale[0] > args.augment_scale[1]:
        parser.error(f"--augment-scale LOW HIGH needs LOW <= HIGH, got {args.augment_scale[0]:g} "
                     f"{args.augment_scale[1]:g}")


def make_augmenter(args, backend):
    """The backend's Augmenter for --augment (None without): both backends draw the same parameters."""
    if not args.augment:
        return None
    return backend.Augmenter(seed=[args.seed, AUGMENT_STREAM], max_angle=args.augment_angle,
                             max_shift=args.augment_shift, scale_range=args.augment_scale,
                             flip=args.augment_flip)


def augment_summary(args):
    """', augmented (angle 10, shift 2, scale 0.9-1.1)' with --augment, else ''."""
    if not args.augment:
        return ""
    low, high = args.augment_scale
    flip = ", flip" if args.augment_flip else ""
    return (f", augmented (angle {args.augment_angle:g}, shift {args.augment_shift:g}, "
            f"scale {low:g}-{high:g}{flip})")


def lr_schedule(args, iter_per_epoch):
    """{iteration: learning rate from then on} for --lr-decay-at: step decay, the rate times
    --lr-decay at each listed epoch (``torch.optim.lr_scheduler.MultiStepLR`` counted in epochs)."""
    schedule, lr = {}, args.lr
    for epoch in args.lr_decay_at:
        lr *= args.lr_decay
        schedule[math.ceil(round(epoch * iter_per_epoch, 9))] = lr  # round: 1.1 * 100 is 110.00000000000001
    return schedule


def plot_curves(path, losses, epochs, train_acc, test_acc, title):
    """Loss per iteration (left) and accuracy per epoch (right), like the book's figures 4-11 and 4-12."""
    from matplotlib.figure import Figure  # lazily: only when drawing; a bare Figure renders with Agg

    fig = Figure(figsize=(10, 4), layout="tight")
    ax_loss, ax_acc = fig.subplots(1, 2)
    ax_loss.plot(np.arange(1, len(losses) + 1), losses, linewidth=0.6)
    ax_loss.set_xlabel("iteration")
    ax_loss.set_ylabel("loss")
    ax_loss.set_title("training loss (minibatch)")
    ax_acc.plot(epochs, train_acc, marker="o", label="train acc")
    ax_acc.plot(epochs, test_acc, marker="s", linestyle="--", label="test acc")
    ax_acc.set_xlabel("epochs")
    ax_acc.set_ylabel("accuracy")
    ax_acc.set_ylim(0, 1.0)
    ax_acc.legend(loc="lower right")
    fig.suptitle(title)
    _common.save_png(fig, path)


def save_history(args, iters_num, losses, epochs, train_acc, test_acc, seconds, elapsed):
    """The run's numbers as JSON (atomically), for figures and for comparing two runs
    (``scripts/compare_runs.py``): every option, the loss per iteration, one entry per table row."""
    history = {"options": {key: value for key, value in vars(args).items()},
               "config": _common.model_config(args), "iterations": iters_num,
               "loss": losses, "epoch": epochs, "train_acc": train_acc, "test_acc": test_acc,
               "elapsed_s": seconds, "training_time_s": elapsed,
               "versions": _common.versions(args.backend)}
    _common.write_atomically(args.history, lambda f: json.dump(history, f, indent=1), binary=False)


def initial_weights_source(args):
    """The option that chose the initial weights, for a message that blames them."""
    if args.init_weights is not None:
        return f"--init-weights {args.init_weights}"
    if args.model == "two_layer":
        return f"--weight-init-std {args.weight_init_std:g}"
    return f"--seed {args.seed}"


def bad_start(args, what):
    """The error for initial weights that are unusable before any update: not the learning rate's fault."""
    return ValueError(f"the initial weights are unusable: {what} before any update ({RULE}); the learning "
                      f"rate is not the cause, check {initial_weights_source(args)}")


def diverged(args, iteration, what):
    """The error for a run that blew up after some updates: lower the learning rate."""
    return FloatingPointError(f"training diverged at iteration {iteration}: {what} ({RULE}); lower --lr "
                              f"(this run: {args.lr:g}). Nothing was saved: {args.save} was not written")


def check_loss(args, loss, iteration):
    """Stop if the minibatch loss of ``iteration`` (1-based) is NaN, infinite or above LOSS_LIMIT.

    The loss of iteration 1 is that of the initial weights (no update yet):
    a bad one blames them, any later one the learning rate.
    """
    if not loss <= LOSS_LIMIT:  # True for NaN too
        what = f"the minibatch loss is {loss:.4g}"
        raise bad_start(args, what) if iteration == 1 else diverged(args, iteration, what)


def largest_weight(params):
    """(name, value) of the parameter holding the entry of largest magnitude; NaN counts as largest."""
    name, largest = "", 0.0
    for key, value in params.items():
        value = _common.to_numpy(value)
        magnitude = max(float(value.max()), -float(value.min()))  # no copy; both are NaN if any entry is
        if math.isnan(magnitude):
            return key, magnitude
        if magnitude > largest:
            name, largest = key, magnitude
    return name, largest


def check_weights(args, params, iteration):
    """Stop if any weight is NaN, infinite or above WEIGHT_LIMIT in magnitude after ``iteration`` updates."""
    name, largest = largest_weight(params)
    if not largest <= WEIGHT_LIMIT:
        what = f"{name} holds a weight of magnitude {largest:.4g}"
        raise bad_start(args, what) if iteration == 0 else diverged(args, iteration, what)


def build_network(args, spec, backend):
    """The network with its initial weights: the seed's (the NumPy backend's draw), or --init-weights."""
    network = spec.build(backend, args)
    if args.backend == "torch" and not args.native_init:
        import scratch  # the same initial weights in both backends for a seed
        network.load_params(spec.build(scratch, args).params)
    if args.init_weights is not None:
        _common.load_weights(network, args.init_weights)
        print(f"starting from {args.init_weights}")
    check_weights(args, network.params, 0)
    return network


def train(args, network, optimizer, data, iters_num, iter_per_epoch, augmenter=None):
    """The book's loop with a divergence check per iteration; returns (losses, epochs, train acc,
    test acc, elapsed seconds), the last four one entry per table row.

    ``augmenter`` (--augment) transforms each training minibatch before the gradient; the
    accuracies are measured on the original images. --lr-decay-at lowers ``optimizer.lr``
    at the iterations of ``lr_schedule`` (both backends read it before every step).

    Overflows inside NumPy are not warned about: they end up as NaN or inf in
    the loss or the weights, which the checks report as divergence.
    """
    (x_train, t_train), (x_test, t_test) = data
    train_size = x_train.shape[0]
    rng = np.random.default_rng(args.seed)  # minibatch draws: the same for both backends
    curves = [], [], [], [], []  # loss per iteration; epoch, train and test accuracy, elapsed s per row
    schedule = lr_schedule(args, iter_per_epoch)
    start = time.perf_counter()
    with _common.progress_bar(iters_num, not args.no_progress) as bar, np.errstate(over="ignore", invalid="ignore"):
        for i in range(iters_num):
            if i in schedule:
                optimizer.lr = schedule[i]
                _common.say(f"{i / iter_per_epoch:7.2f} {i:7d}  learning rate now {optimizer.lr:g}")
            batch_mask = rng.choice(train_size, args.batch_size)
            x_batch = x_train[batch_mask]
            if augmenter is not None:
                x_batch = augmenter(x_batch)  # a fresh random rotation, shift and scale per image
            grads = network.gradient(x_batch, t_train[batch_mask])  # backpropagation
            loss = float(network.last_loss)  # the loss of the forward pass above (the book runs one more)
            check_loss(args, loss, i + 1)
            optimizer.update(network.params, grads)
            check_weights(args, network.params, i + 1)
            curves[0].append(loss)
            _common.advance(bar, loss)
            if i % iter_per_epoch == 0 or i == iters_num - 1:  # the book's test, plus the final weights
                n = None if i == iters_num - 1 else args.eval_samples
                row = [(i + 1) / iter_per_epoch, network.accuracy(x_train[:n], t_train[:n]),
                       network.accuracy(x_test[:n], t_test[:n]), time.perf_counter() - start]
                for curve, value in zip(curves[1:], row):
                    curve.append(value)
                _common.say(f"{row[0]:7.2f} {i + 1:7d} {loss:9.4f} {row[1]:10.4f} {row[2]:9.4f} {row[3]:10.1f}")
    return curves


def load_training_data(args, spec):
    """MNIST for the model, the training images cut to --train-limit."""
    (x_train, t_train), test = _common.load_data(args, spec.flatten)
    if args.train_limit is not None:
        if args.train_limit > len(x_train):
            raise ValueError(f"--train-limit {args.train_limit} exceeds the {len(x_train)} training images")
        x_train, t_train = x_train[:args.train_limit], t_train[:args.train_limit]
    return (x_train, t_train), test


def main(argv=None):
    args = parse_args(argv)
    spec = _common.MODELS[args.model]
    backend = _common.load_backend(args.backend, args.threads)
    network = build_network(args, spec, backend)  # a bad --init-weights is found before MNIST loads
    data = load_training_data(args, spec)
    optimizer = getattr(backend, OPTIMIZERS[args.optimizer])(lr=args.lr)

    train_size = len(data[0][0])
    iter_per_epoch = max(train_size / args.batch_size, 1)
    if args.epochs is not None:
        iters_num = math.ceil(args.epochs * iter_per_epoch)
    else:
        iters_num = 10000 if args.iters is None else args.iters

    late = [epoch for epoch in args.lr_decay_at if math.ceil(round(epoch * iter_per_epoch, 9)) >= iters_num]
    if late:
        raise ValueError(f"--lr-decay-at {late[0]:g} is at or past the end of training "
                         f"({iters_num / iter_per_epoch:g} epochs): the rate would never change there")
    print(f"{args.model} ({args.backend} backend, {args.dtype}{_common.dataset_suffix(args).replace('-', ', ')}): "
          f"{iters_num} iterations, "
          f"batch {args.batch_size}, {OPTIMIZERS[args.optimizer]} lr {args.lr}, {train_size} training images, "
          f"{iter_per_epoch:g} iterations per epoch, seed {args.seed}{augment_summary(args)}")
    header = f"{'epoch':>7} {'iter':>7} {'loss':>9} {'train acc':>10} {'test acc':>9} {'elapsed s':>10}"
    print(header)
    print("-" * len(header), flush=True)

    start = time.perf_counter()
    losses, epochs, train_acc, test_acc, seconds = train(args, network, optimizer, data, iters_num,
                                                         iter_per_epoch, make_augmenter(args, backend))
    elapsed = time.perf_counter() - start

    arrays = {name: _common.to_numpy(p) for name, p in network.params.items()}
    arrays.update(_common.network_state(network))  # batch norms' running statistics (ResNet)
    serialization.save_params(args.save, arrays, config=_common.model_config(args))
    print(f"saved weights: {args.save}")
    if not args.no_plot:
        plot_curves(args.plot, losses, epochs, train_acc, test_acc,
                    f"{args.model}{_common.dataset_suffix(args).replace('-', ', ')}, {args.backend} backend, "
                    f"{OPTIMIZERS[args.optimizer]} lr {args.lr}, "
                    f"batch {args.batch_size}{', augmented' if args.augment else ''}")
        print(f"saved curves: {args.plot}")
    save_history(args, iters_num, losses, epochs, train_acc, test_acc, seconds, elapsed)
    print(f"saved history: {args.history}")
    print(f"training time: {elapsed:.1f} s")
    print(f"test accuracy: {test_acc[-1]:.4f}")


if __name__ == "__main__":
    _common.run_main(main)
