"""Train and evaluate the FCN (8.4: semantic segmentation) on 64x64 scenes of 1 to 4 MNIST digits.

    python scripts/segment.py train --backend scratch --fresh
    python scripts/segment.py evaluate --weights runs/fcn-scratch.npz
    python scripts/segment.py show --weights runs/fcn-scratch.npz [--count 6]

``train`` draws --train-size scenes from MNIST's training images and
--test-size from its test images (``scratch.scenes``), trains the FCN-8s
style network (``scratch.fcn``) with Adam on minibatches, saves the weights
with the network's configuration and a history JSON (the loss of every step;
the mean IoU on --eval-samples train and test scenes after each epoch, saved
as "train_acc" and "test_acc" so that compare_runs.py reads it as it reads
train.py's), and ends with the pixel accuracy, mean IoU and per-class IoU on
every test scene. ``evaluate`` measures those for saved weights. ``show``
draws test scenes: the scene, the true and the predicted mask coloured by
class, and the wrong pixels.
"""
import toolkit  # noqa: F401 - first: a Python without the project's packages gets one line, exit 2
import argparse
import json
import os
import time

from toolkit import backends, captioning, cli, data, figures, paths, progress, segmentation, training

DEFAULTS = {"input_dim": [1, 64, 64], "channels": [16, 32, 64], "num_classes": 11}


def parse_args(argv=None):
    parser = cli.ArgumentParser(prog="segment.py", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train an FCN, save its weights and history")
    backends.add_backend_argument(train)
    train.add_argument("--epochs", type=cli.positive_int, default=20,
                       help="passes over the training scenes (default 20)")
    train.add_argument("--batch-size", type=cli.positive_int, default=16,
                       help="scenes per step (default 16: a step's time grows with the batch, and per scene seen "
                            "16 learnt faster than 32)")
    train.add_argument("--lr", type=cli.positive_float, default=0.01,
                       help="Adam's learning rate (default 0.01: faster than 0.003 and 0.001 over the first 500 steps)")
    train.add_argument("--lr-decay-at", type=cli.positive_float, nargs="+", default=(), metavar="EPOCH",
                       help="step decay: multiply the learning rate by --lr-decay when these epochs are reached "
                            "(default: a constant rate)")
    train.add_argument("--lr-decay", type=cli.positive_float, default=0.1, metavar="FACTOR",
                       help="--lr-decay-at's factor (default 0.1)")
    train.add_argument("--channels", type=cli.positive_int, nargs=3, default=DEFAULTS["channels"],
                       metavar=("C1", "C2", "C3"),
                       help="the encoder's channels: conv1 (pool1 feeds a skip), conv2 (pool2 feeds the other "
                            "skip), conv3 and conv4 (default 16 32 64)")
    train.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    train.add_argument("--train-size", type=cli.positive_int, default=10000,
                       help="training scenes (per epoch with --fresh; default 10000)")
    train.add_argument("--test-size", type=cli.positive_int, default=2000,
                       help="test scenes scored at the end (default 2000)")
    train.add_argument("--eval-samples", type=cli.positive_int, default=500,
                       help="per-epoch mean IoU on the first N train and test scenes (default 500)")
    train.add_argument("--fresh", action="store_true",
                       help="new training scenes every epoch (from MNIST's training images, seed 1000 + epoch; "
                            "epoch 1's are the usual ones): no scene is seen twice")
    train.add_argument("--seed", type=cli.non_negative_int, default=0,
                       help="seeds the initial weights and the minibatch order (default 0)")
    train.add_argument("--init-weights", metavar="PATH", default=None,
                       help="start from these weights (saved by segment.py, the same --channels), e.g. to train "
                            "on with a smaller --lr; Adam's state starts afresh")
    train.add_argument("--readable", action="store_true", help="scratch backend: the readable conv and pooling layers")
    train.add_argument("--save", metavar="PATH", default=None, help="the weights (default runs/fcn-<backend>.npz)")
    train.add_argument("--history", metavar="PATH", default=None, help="default: the --save path with .json")
    train.add_argument("--plot", metavar="PATH", default=None,
                       help="the loss and mean IoU curves (default: the --save path with .png)")
    train.add_argument("--no-plot", action="store_true", help="do not draw the curves")
    data.add_data_arguments(train, dataset=False)
    progress.add_progress_argument(train)
    evaluate = commands.add_parser("evaluate", help="pixel accuracy, mean IoU and per-class IoU of saved weights")
    backends.add_backend_argument(evaluate)
    evaluate.add_argument("--weights", metavar="PATH", required=True)
    evaluate.add_argument("--test-size", type=cli.positive_int, default=2000, help="test scenes (default 2000)")
    data.add_data_arguments(evaluate, dataset=False)
    show = commands.add_parser("show", help="a figure of test scenes with their true and predicted masks")
    backends.add_backend_argument(show)
    show.add_argument("--weights", metavar="PATH", required=True)
    show.add_argument("--count", type=cli.positive_int, default=6, help="scenes to draw (default 6)")
    show.add_argument("--out", metavar="PATH", default=None,
                      help="the figure (default runs/segmentation-<backend>.png)")
    data.add_data_arguments(show, dataset=False)
    args = parser.parse_args(argv)
    if args.command == "train":
        args.save = args.save or os.path.join("runs", f"fcn-{args.backend}.npz")
        training.check_run_outputs(parser, args)
        if args.batch_size > args.train_size:
            parser.error(f"--batch-size {args.batch_size} is larger than --train-size {args.train_size}: "
                         f"not one step per epoch")
    start = args.weights if args.command in ("evaluate", "show") else args.init_weights
    if start is not None and not os.path.isfile(start):
        parser.error(f"no weights file at {start}")
    if args.command == "show":
        figures.require_matplotlib(parser)
        args.out = args.out or os.path.join("runs", f"segmentation-{args.backend}.png")
        paths.check_output("--out", args.out)
    return args


def report(scores, n, seconds=None):
    """The evaluation's lines: pixel accuracy and mean IoU, then the per-class IoU table."""
    timing = f", {seconds:.1f} s" if seconds is not None else ""
    print(f"pixel accuracy: {scores['pixel_accuracy']:.4f}, mean IoU: {scores['mean_iou']:.4f} "
          f"({n} test scenes{timing})")
    print("\n".join(segmentation.iou_table(scores)))


def run_train(args):
    from scratch import serialization

    config = {"model": "fcn", "input_dim": DEFAULTS["input_dim"], "channels": list(args.channels),
              "num_classes": DEFAULTS["num_classes"], "dtype": args.dtype}
    network = segmentation.build_fcn(args.backend, config, args.seed, args.readable)
    if args.init_weights is not None:
        segmentation.check_saved_fcn(args.init_weights, config)
        network.load_params(args.init_weights)
    optimizer = segmentation.importlib.import_module(f"{backends.BACKENDS[args.backend].package}.optimizer")
    optimizer = optimizer.Adam(lr=args.lr)
    x_train, m_train = segmentation.load_scenes(args.train_size, 0, True, args.data_dir, args.download, args.dtype)
    x_test, m_test = segmentation.load_scenes(args.test_size, 1, False, args.data_dir, args.download, args.dtype)
    n = args.eval_samples
    losses, epochs, train_acc, test_acc, seconds = [], [], [], [], []
    start = time.perf_counter()

    def save(scores=None):
        """The weights and the history so far (atomic writes: an interrupted run keeps its last epoch)."""
        serialization.save_params(args.save, {k: backends.to_numpy(v) for k, v in network.params.items()}, config)
        final = {"test_pixel_accuracy": None, "test_mean_iou": None, "test_per_class_iou": None}
        if scores is not None:  # the end of training: every test scene (a class without pixels: null)
            final = {"test_pixel_accuracy": scores["pixel_accuracy"], "test_mean_iou": scores["mean_iou"],
                     "test_per_class_iou": [None if iou != iou else iou for iou in scores["per_class_iou"].tolist()]}
        history = {"options": vars(args) | {"model": "fcn"}, "config": config, "iterations": len(losses),
                   "loss": losses, "epoch": epochs, "train_acc": train_acc, "test_acc": test_acc,
                   "accuracy": "mean IoU", "elapsed_s": seconds, "training_time_s": seconds[-1] if seconds else 0.0,
                   **final, "versions": backends.versions(args.backend)}
        paths.write_text(args.history, json.dumps(history, indent=1))

    def on_epoch(epoch):
        epochs.append(epoch)
        train_acc.append(segmentation.evaluate(network, x_train[:n], m_train[:n])[0]["mean_iou"])
        test_acc.append(segmentation.evaluate(network, x_test[:n], m_test[:n])[0]["mean_iou"])
        seconds.append(time.perf_counter() - start)
        progress.say(f"epoch {epoch}: mean IoU train {train_acc[-1]:.4f} test {test_acc[-1]:.4f} "
                     f"({seconds[-1]:.0f} s)")
        save()

    def redraw(epoch):
        return segmentation.load_scenes(args.train_size, 1000 + epoch, True, args.data_dir, args.download, args.dtype)

    schedule = training.lr_schedule(args, len(x_train) // args.batch_size)
    captioning.train(network, optimizer, x_train, m_train, args.epochs, args.batch_size, args.seed,
                     not args.no_progress, on_epoch, redraw if args.fresh else None, schedule, losses)
    scores, _ = segmentation.evaluate(network, x_test, m_test)
    save(scores)
    print(f"saved weights: {args.save}")
    print(f"saved history: {args.history}")
    if args.plot is not None:
        segmentation.plot_curves(args.plot, losses, epochs, train_acc, test_acc,
                                 f"FCN ({args.backend}): mean IoU on {min(n, len(x_train))} training and "
                                 f"{min(n, len(x_test))} test scenes")
        print(f"saved plot: {args.plot}")
    print(f"training time: {seconds[-1]:.0f} s")
    report(scores, len(x_test))


def load_trained(args, test_size):
    """The saved FCN and the first ``test_size`` test scenes (images in the weights' dtype, masks)."""
    config = segmentation.check_saved_fcn(args.weights)
    network = segmentation.build_fcn(args.backend, config).load_params(args.weights)
    return network, *segmentation.load_scenes(test_size, 1, False, args.data_dir, args.download, config["dtype"])


def run_evaluate(args):
    network, x_test, m_test = load_trained(args, args.test_size)
    scores, seconds = segmentation.evaluate(network, x_test, m_test)
    report(scores, len(x_test), seconds)


def run_show(args):
    network, x_test, m_test = load_trained(args, args.count)
    predicted = segmentation.predict(network, x_test)
    wrong = (predicted != m_test).reshape(len(x_test), -1).sum(axis=1)
    title = (f"the first {len(x_test)} test scenes, segmented by the FCN ({args.backend}): "
             f"{int(wrong.sum())} wrong pixels of {predicted.size}")
    segmentation.draw_segmentations(args.out, x_test, m_test, predicted, range(len(x_test)), title)
    print(f"wrong pixels: {int(wrong.sum())} of {predicted.size} ({len(x_test)} test scenes)")
    print(f"saved {args.out}")


def main(argv=None):
    args = parse_args(argv)
    {"train": run_train, "evaluate": run_evaluate, "show": run_show}[args.command](args)


if __name__ == "__main__":
    cli.run_main(main)
