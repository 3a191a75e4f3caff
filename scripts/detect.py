"""Train and evaluate R-CNN and Fast R-CNN (8.4: object detection) on 64x64 scenes of 1 to 4 MNIST digits.

    python scripts/detect.py train --method fast_rcnn --backend scratch --fresh
    python scripts/detect.py evaluate --weights runs/fast_rcnn-scratch.npz
    python scripts/detect.py show --weights runs/fast_rcnn-scratch.npz [--count 6]

``train`` draws --train-size scenes from MNIST's training images and
--test-size from its test images (``scratch.scenes``), finds each training
scene's region proposals and labels them by IoU with the true boxes
(``scratch.proposals``, the true boxes added), and trains the method's
network (``scratch.rcnn.RCNN`` on proposals warped to 28x28, or
``scratch.fast_rcnn.FastRCNN`` on whole scenes and their proposals as RoIs)
with Adam on minibatches of proposals, a quarter of them digits. It saves
the weights with the network's configuration and a history JSON (the loss
of every step; the mAP@0.5 on --eval-samples train and test scenes after
each epoch, saved as "train_acc" and "test_acc" so that compare_runs.py
reads it as it reads train.py's), and ends with the mAP@0.5, mAP@0.5:0.95
and per-class AP on every test scene. ``evaluate`` measures those for saved
weights (of either method: the file says which) and the scenes per second
of detection: proposals, network and per-class NMS. ``show`` draws test
scenes with the detected boxes, their digit and score, the true boxes dashed.
"""
import toolkit  # noqa: F401 - first: a Python without the project's packages gets one line, exit 2
import argparse
import json
import os
import time

from toolkit import backends, cli, data, detection, figures, paths, progress, training

DEFAULTS = {
    "rcnn": {"input_dim": [1, 28, 28], "channels": [16, 32], "hidden_size": 256, "num_classes": 11,
             "batch_size": 128},
    "fast_rcnn": {"input_dim": [1, 64, 64], "channels": [16, 32, 64], "pooled_size": 4, "hidden_size": 256,
                  "num_classes": 11, "batch_size": 8},
}


def parse_args(argv=None):
    parser = cli.ArgumentParser(prog="detect.py", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train R-CNN or Fast R-CNN, save its weights and history")
    train.add_argument("--method", choices=detection.METHODS, default="fast_rcnn",
                       help="rcnn: a convnet per warped proposal; fast_rcnn: one conv map per scene, RoI pooling "
                            "(default fast_rcnn)")
    backends.add_backend_argument(train)
    train.add_argument("--epochs", type=cli.positive_int, default=10, help="passes over the training scenes "
                                                                          "(default 10)")
    train.add_argument("--batch-size", type=cli.positive_int, default=None,
                       help=f"fast_rcnn: scenes per step, {detection.ROIS_PER_SCENE} proposals of each (default "
                            f"{DEFAULTS['fast_rcnn']['batch_size']}); rcnn: proposals per step (default "
                            f"{DEFAULTS['rcnn']['batch_size']}); a quarter digits, the rest background")
    train.add_argument("--lr", type=cli.positive_float, default=0.001, help="Adam's learning rate (default 0.001)")
    train.add_argument("--lr-decay-at", type=cli.positive_float, nargs="+", default=(), metavar="EPOCH",
                       help="step decay: multiply the learning rate by --lr-decay when these epochs are reached "
                            "(default: a constant rate)")
    train.add_argument("--lr-decay", type=cli.positive_float, default=0.1, metavar="FACTOR",
                       help="--lr-decay-at's factor (default 0.1)")
    train.add_argument("--channels", type=cli.positive_int, nargs="+", default=None,
                       help="the conv layers' channels: 2 for rcnn (default 16 32), 3 for fast_rcnn "
                            "(default 16 32 64)")
    train.add_argument("--hidden-size", type=cli.positive_int, default=256,
                       help="the hidden layer before the two heads (default 256)")
    train.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    train.add_argument("--train-size", type=cli.positive_int, default=10000,
                       help="training scenes (per epoch with --fresh; default 10000)")
    train.add_argument("--test-size", type=cli.positive_int, default=2000,
                       help="test scenes scored at the end (default 2000)")
    train.add_argument("--eval-samples", type=cli.positive_int, default=500,
                       help="per-epoch mAP@0.5 on the first N train and test scenes (default 500)")
    train.add_argument("--fresh", action="store_true",
                       help="new training scenes every epoch (from MNIST's training images, seed 1000 + epoch; "
                            "epoch 1's are the usual ones): no scene is seen twice")
    train.add_argument("--seed", type=cli.non_negative_int, default=0,
                       help="seeds the initial weights and the minibatches (default 0)")
    train.add_argument("--init-weights", metavar="PATH", default=None,
                       help="start from these weights (saved by detect.py, the same --method, --channels and "
                            "--hidden-size), e.g. to train on with a smaller --lr; Adam's state starts afresh")
    train.add_argument("--readable", action="store_true",
                       help="scratch backend: the readable conv, pooling (and RoI pooling) layers")
    train.add_argument("--save", metavar="PATH", default=None, help="the weights (default runs/<method>-<backend>.npz)")
    train.add_argument("--history", metavar="PATH", default=None, help="default: the --save path with .json")
    train.add_argument("--plot", metavar="PATH", default=None,
                       help="the loss and mAP@0.5 curves (default: the --save path with .png)")
    train.add_argument("--no-plot", action="store_true", help="do not draw the curves")
    data.add_data_arguments(train, dataset=False)
    progress.add_progress_argument(train)
    evaluate = commands.add_parser("evaluate", help="mAP@0.5, mAP@0.5:0.95, per-class AP and speed of saved weights")
    backends.add_backend_argument(evaluate)
    evaluate.add_argument("--weights", metavar="PATH", required=True)
    evaluate.add_argument("--test-size", type=cli.positive_int, default=2000, help="test scenes (default 2000)")
    data.add_data_arguments(evaluate, dataset=False)
    show = commands.add_parser("show", help="a figure of test scenes with their detected boxes")
    backends.add_backend_argument(show)
    show.add_argument("--weights", metavar="PATH", required=True)
    show.add_argument("--count", type=cli.positive_int, default=9, help="scenes to draw (default 9)")
    show.add_argument("--min-score", type=float, default=0.5,
                      help="draw the detections scoring at least this (default 0.5)")
    show.add_argument("--out", metavar="PATH", default=None,
                      help="the figure (default runs/detection-<backend>.png)")
    data.add_data_arguments(show, dataset=False)
    args = parser.parse_args(argv)
    if args.command == "train":
        defaults = DEFAULTS[args.method]
        args.channels = list(args.channels or defaults["channels"])
        if len(args.channels) != len(defaults["channels"]):
            parser.error(f"--channels: {args.method} has {len(defaults['channels'])} conv layers, got "
                         f"{len(args.channels)} counts")
        args.batch_size = args.batch_size or defaults["batch_size"]
        args.save = args.save or os.path.join("runs", f"{args.method}-{args.backend}.npz")
        training.check_run_outputs(parser, args)
        if args.method == "fast_rcnn" and args.batch_size > args.train_size:
            parser.error(f"--batch-size {args.batch_size} is larger than --train-size {args.train_size}: "
                         f"not one step per epoch")
        if args.method == "rcnn" and args.batch_size > args.train_size * detection.ROIS_PER_SCENE:
            parser.error(f"--batch-size {args.batch_size} is larger than --train-size {args.train_size} times "
                         f"{detection.ROIS_PER_SCENE} proposals: not one step per epoch")
    if args.command == "show" and not 0 <= args.min_score <= 1:
        parser.error(f"--min-score must lie in [0, 1], got {args.min_score:g}")
    start = args.weights if args.command in ("evaluate", "show") else args.init_weights
    if start is not None and not os.path.isfile(start):
        parser.error(f"no weights file at {start}")
    if args.command == "show":
        figures.require_matplotlib(parser)
        args.out = args.out or os.path.join("runs", f"detection-{args.backend}.png")
        paths.check_output("--out", args.out)
    return args


def report(method, result, n, seconds=None):
    """The evaluation's lines: mAP@0.5 and mAP@0.5:0.95 (and the speed), then the per-class AP table."""
    timing = f", {seconds:.1f} s: {n / seconds:.1f} scenes/s" if seconds else ""
    print(f"mAP@0.5: {result['map50']:.4f}, mAP@0.5:0.95: {result['map50_95']:.4f} "
          f"({method}, {n} test scenes{timing})")
    print("\n".join(detection.ap_table(result)))


def run_train(args):
    from scratch import serialization

    method = args.method
    config = {"model": method, **{key: DEFAULTS[method][key] for key in detection.CONFIG_KEYS[method]
                                  if key != "dtype"}, "channels": args.channels, "hidden_size": args.hidden_size,
              "dtype": args.dtype}
    network = detection.build_network(method, args.backend, config, args.seed, args.readable)
    if args.init_weights is not None:
        detection.check_saved_network(args.init_weights, config)
        network.load_params(args.init_weights)
    optimizer = detection.importlib.import_module(f"{backends.BACKENDS[args.backend].package}.optimizer")
    optimizer = optimizer.Adam(lr=args.lr)
    train_scenes = detection.load_scenes(args.train_size, 0, True, args.data_dir, args.download)
    test_scenes = detection.load_scenes(args.test_size, 1, False, args.data_dir, args.download)
    data_set = detection.TrainingSet(method, train_scenes, args.batch_size, args.dtype)
    n = args.eval_samples
    losses, epochs, train_acc, test_acc, seconds = [], [], [], [], []
    start = time.perf_counter()

    def map50(scenes):
        first = scenes._replace(**{field: getattr(scenes, field)[:n] for field in scenes._fields})
        return detection.scores(detection.detect(network, method, first.images, args.dtype)[0], first)["map50"]

    def save(result=None):
        """The weights and the history so far (atomic writes: an interrupted run keeps its last epoch)."""
        serialization.save_params(args.save, {k: backends.to_numpy(v) for k, v in network.params.items()}, config)
        final = {"test_map50": None, "test_map50_95": None, "test_per_class_ap": None}
        if result is not None:  # the end of training: every test scene (a digit absent from them: null)
            final = {"test_map50": result["map50"], "test_map50_95": result["map50_95"],
                     "test_per_class_ap": [None if ap != ap else ap for ap in result["per_class_ap"].tolist()]}
        history = {"options": vars(args) | {"model": method}, "config": config, "iterations": len(losses),
                   "loss": losses, "epoch": epochs, "train_acc": train_acc, "test_acc": test_acc,
                   "accuracy": "mAP@0.5", "elapsed_s": seconds, "training_time_s": seconds[-1] if seconds else 0.0,
                   **final, "versions": backends.versions(args.backend)}
        paths.write_text(args.history, json.dumps(history, indent=1))

    def on_epoch(epoch):
        epochs.append(epoch)
        train_acc.append(map50(train_scenes))
        test_acc.append(map50(test_scenes))
        seconds.append(time.perf_counter() - start)
        progress.say(f"epoch {epoch}: mAP@0.5 train {train_acc[-1]:.4f} test {test_acc[-1]:.4f} "
                     f"({seconds[-1]:.0f} s)")
        save()

    def redraw(epoch):
        scenes = detection.load_scenes(args.train_size, 1000 + epoch, True, args.data_dir, args.download)
        return detection.TrainingSet(method, scenes, args.batch_size, args.dtype)

    schedule = training.lr_schedule(args, data_set.steps)
    detection.train(network, optimizer, data_set, args.epochs, args.seed, not args.no_progress, on_epoch,
                    redraw if args.fresh else None, schedule, losses)
    detections, elapsed = detection.detect(network, method, test_scenes.images, args.dtype)
    result = detection.scores(detections, test_scenes)
    save(result)
    print(f"saved weights: {args.save}")
    print(f"saved history: {args.history}")
    if args.plot is not None:
        title = {"rcnn": "R-CNN", "fast_rcnn": "Fast R-CNN"}[method]
        detection.plot_curves(args.plot, losses, epochs, train_acc, test_acc,
                              f"{title} ({args.backend}): mAP@0.5 on {min(n, args.train_size)} training and "
                              f"{min(n, args.test_size)} test scenes")
        print(f"saved plot: {args.plot}")
    print(f"training time: {seconds[-1]:.0f} s")
    report(method, result, args.test_size, elapsed)


def load_trained(args, test_size):
    """(method, network, dtype, the first ``test_size`` test scenes) of the saved weights."""
    config = detection.check_saved_network(args.weights)
    method = config["model"]
    network = detection.build_network(method, args.backend, config).load_params(args.weights)
    return method, network, config["dtype"], detection.load_scenes(test_size, 1, False, args.data_dir,
                                                                    args.download)


def run_evaluate(args):
    method, network, dtype, scenes = load_trained(args, args.test_size)
    detections, seconds = detection.detect(network, method, scenes.images, dtype)
    report(method, detection.scores(detections, scenes), len(scenes.images), seconds)


def run_show(args):
    from scratch.scenes import ground_truth

    method, network, dtype, scenes = load_trained(args, args.count)
    detections, _ = detection.detect(network, method, scenes.images, dtype)
    truth = ground_truth(scenes)
    shown = sum(int((d["scores"] >= args.min_score).sum()) for d in detections)
    digits = sum(len(t["labels"]) for t in truth)
    title = {"rcnn": "R-CNN", "fast_rcnn": "Fast R-CNN"}[method]
    detection.draw_detections(args.out, scenes.images, detections, truth, range(len(truth)),
                              f"the first {len(truth)} test scenes, {title} ({args.backend}): boxes scoring "
                              f">= {args.min_score:g}, true boxes dashed", args.min_score)
    print(f"detections scoring >= {args.min_score:g}: {shown} for {digits} digits ({len(truth)} test scenes)")
    print(f"saved {args.out}")


def main(argv=None):
    args = parse_args(argv)
    {"train": run_train, "evaluate": run_evaluate, "show": run_show}[args.command](args)


if __name__ == "__main__":
    cli.run_main(main)
