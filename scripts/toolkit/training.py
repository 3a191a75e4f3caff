"""train.py's loop and what it needs: divergence checks, the learning-rate schedule, augmentation,
the network's initial weights, the curves and the history.

Each iteration draws a random minibatch, computes the gradients by
backpropagation, ``network.gradient(x, t)``, and lets the optimizer update
the parameters; once per epoch it measures train and test accuracy. Either
backend runs the same loop on the same minibatches from the same initial
weights, so the two can be compared run against run.
"""
import math
import os
import time

import numpy as np

from . import backends, data, figures, models, paths, progress, weights

__all__ = ["LOSS_LIMIT", "WEIGHT_LIMIT", "AUGMENT_DEFAULTS", "RULE", "check_augment_options", "make_augmenter",
           "augment_summary", "check_run_outputs", "lr_schedule", "plot_curves", "check_loss", "largest_weight",
           "check_weights", "build_network", "train", "load_training_data"]

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


def check_augment_options(parser, args, spec):
    """--augment only for networks taking images; its options only with it; fill in their defaults."""
    given = [f"--{key.replace('_', '-')}" for key in AUGMENT_DEFAULTS if getattr(args, key) is not None]
    if not args.augment:
        if given:
            parser.error(f"{given[0]} needs --augment")
        return
    if spec.flatten:
        convnets = ", ".join(name for name, other in models.MODELS.items() if other.trainable and not other.flatten)
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
    """{iteration: learning rate from then on}: --warmup's linear rise, lr * (i + 1) / W over the first W
    iterations (where the script has --warmup), then --lr-decay-at's step decay, the rate times --lr-decay at
    each listed epoch (``torch.optim.lr_scheduler.MultiStepLR`` counted in epochs)."""
    warmup = getattr(args, "warmup", 0)
    schedule, lr = {i: args.lr * (i + 1) / warmup for i in range(warmup)}, args.lr
    for epoch in args.lr_decay_at:
        lr *= args.lr_decay
        step = math.ceil(round(epoch * iter_per_epoch, 9))  # round: 1.1 * 100 is 110.00000000000001
        if step < warmup:
            raise ValueError(f"--lr-decay-at {epoch:g} (iteration {step}) falls inside the --warmup of {warmup} "
                             f"iterations; decay later or warm up for fewer")
        schedule[step] = lr
    return schedule


def check_run_outputs(parser, args):
    """The train command of caption.py, segment.py and detect.py: --history and --plot default to the --save
    path with .json and .png (none with --no-plot), all three writable; --lr-decay below 1 and every
    --lr-decay-at epoch before --epochs (sorted). A problem is a usage error now, before any data loads."""
    args.history = args.history or os.path.splitext(args.save)[0] + ".json"
    paths.check_output("--save", args.save)
    paths.check_output("--history", args.history)
    args.plot = None if args.no_plot else args.plot or os.path.splitext(args.save)[0] + ".png"
    if args.plot is not None:
        paths.check_output("--plot", args.plot)
        figures.require_matplotlib(parser, "drawing the curves", ", or pass --no-plot")
    if args.lr_decay >= 1:
        parser.error(f"--lr-decay multiplies the learning rate and must be below 1, got {args.lr_decay:g}")
    late = [epoch for epoch in args.lr_decay_at if epoch >= args.epochs]
    if late:
        parser.error(f"--lr-decay-at {late[0]:g} is at or past the end of training (--epochs {args.epochs})")
    args.lr_decay_at = tuple(sorted(args.lr_decay_at))


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
    figures.save_png(fig, path)


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
        value = backends.to_numpy(value)
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


def build_network(args, config, backend):
    """The network ``config`` (a ``models.ModelConfig``) with its initial weights: the seed's (the NumPy
    backend's draw), or --init-weights."""
    network = config.build(backend)
    if args.backend == "torch" and not args.native_init:
        import scratch  # the same initial weights in both backends for a seed
        network.load_params(config.build(scratch).params)
    if args.init_weights is not None:
        weights.load_weights(network, args.init_weights)
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
    with progress.progress_bar(iters_num, not args.no_progress) as bar, np.errstate(over="ignore", invalid="ignore"):
        for i in range(iters_num):
            if i in schedule:
                optimizer.lr = schedule[i]
                progress.say(f"{i / iter_per_epoch:7.2f} {i:7d}  learning rate now {optimizer.lr:g}")
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
            progress.advance(bar, loss)
            if i % iter_per_epoch == 0 or i == iters_num - 1:  # the book's test, plus the final weights
                n = None if i == iters_num - 1 else args.eval_samples
                row = [(i + 1) / iter_per_epoch, network.accuracy(x_train[:n], t_train[:n]),
                       network.accuracy(x_test[:n], t_test[:n]), time.perf_counter() - start]
                for curve, value in zip(curves[1:], row):
                    curve.append(value)
                progress.say(f"{row[0]:7.2f} {i + 1:7d} {loss:9.4f} {row[1]:10.4f} {row[2]:9.4f} {row[3]:10.1f}")
    return curves


def load_training_data(args, config):
    """MNIST for the model (``config``, a ``models.ModelConfig``), the training images cut to --train-limit."""
    (x_train, t_train), test = data.load_data(args, config.spec.flatten)
    if args.train_limit is not None:
        if args.train_limit > len(x_train):
            raise ValueError(f"--train-limit {args.train_limit} exceeds the {len(x_train)} training images")
        x_train, t_train = x_train[:args.train_limit], t_train[:args.train_limit]
    return (x_train, t_train), test
