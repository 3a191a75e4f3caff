"""Train and evaluate the image captioner (8.4: CNN + RNN) on pictures of 1 to 5 MNIST digits.

    python scripts/caption.py train --backend scratch --epochs 10
    python scripts/caption.py evaluate --weights runs/captioner-scratch.npz
    python scripts/caption.py show --weights runs/captioner-scratch.npz [--wrong]

``train`` draws --train-size pictures from MNIST's training images and
--test-size from its test images (``scratch.multi_digit``), trains with Adam
on minibatches (teacher forcing), saves the weights with the network's
configuration and a history JSON (the loss of every step; the exact-caption
accuracy on --eval-samples train and test pictures after each epoch), and
ends with the greedy captions' exact-caption and token accuracy on every
test picture. ``evaluate`` measures those two for saved weights. ``show``
draws test pictures with the predicted caption under each, the wrong ones in
red with the true caption beside (--wrong: only the wrong ones).
"""
import toolkit  # noqa: F401 - first: a Python without the project's packages gets one line, exit 2
import argparse
import json
import os
import time

from toolkit import backends, captioning, cli, data, figures, paths, progress, training

DEFAULTS = {"input_dim": [1, 28, 140], "channels": [16, 32, 64], "encoder_size": 512, "hidden_size": 256,
            "embed_size": 16}


def parse_args(argv=None):
    parser = cli.ArgumentParser(prog="caption.py", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train a captioner, save its weights and history")
    backends.add_backend_argument(train)
    train.add_argument("--epochs", type=cli.positive_int, default=10, help="passes over the training pictures")
    train.add_argument("--batch-size", type=cli.positive_int, default=64)
    train.add_argument("--lr", type=cli.positive_float, default=0.001, help="Adam's learning rate")
    train.add_argument("--lr-decay-at", type=cli.positive_float, nargs="+", default=(), metavar="EPOCH",
                       help="step decay: multiply the learning rate by --lr-decay when these epochs are reached "
                            "(default: a constant rate)")
    train.add_argument("--lr-decay", type=cli.positive_float, default=0.1, metavar="FACTOR",
                       help="--lr-decay-at's factor (default 0.1)")
    train.add_argument("--warmup", type=cli.non_negative_int, default=0, metavar="STEPS",
                       help="raise the learning rate linearly from --lr / STEPS to --lr over the first STEPS steps "
                            "(default 0: none)")
    train.add_argument("--hidden-size", type=cli.positive_int, default=DEFAULTS["hidden_size"])
    train.add_argument("--embed-size", type=cli.positive_int, default=DEFAULTS["embed_size"])
    train.add_argument("--channels", type=cli.positive_int, nargs=3, default=DEFAULTS["channels"],
                       help="the encoder's three conv layers (default 16 32 64)")
    train.add_argument("--encoder-size", type=cli.positive_int, default=DEFAULTS["encoder_size"],
                       help="the encoder's hidden layer, which gives the LSTM its initial state (default 512)")
    train.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    train.add_argument("--train-size", type=cli.positive_int, default=60000)
    train.add_argument("--test-size", type=cli.positive_int, default=10000)
    train.add_argument("--eval-samples", type=cli.positive_int, default=1000,
                       help="per-epoch accuracies on the first N train and test pictures (default 1000)")
    train.add_argument("--fresh", action="store_true",
                       help="new training pictures every epoch (from MNIST's training images, seed 1000 + epoch; "
                            "epoch 1's are the usual ones): no picture is seen twice")
    train.add_argument("--seed", type=cli.non_negative_int, default=0,
                       help="seeds the initial weights and the minibatch order (default 0)")
    train.add_argument("--init-weights", metavar="PATH", default=None,
                       help="start from these weights (saved by caption.py, the same --channels, --encoder-size, "
                            "--hidden-size and --embed-size), e.g. to train on with a smaller --lr; Adam's state "
                            "starts afresh")
    train.add_argument("--readable", action="store_true", help="scratch backend: the readable conv layers")
    train.add_argument("--save", metavar="PATH", default=None,
                       help="the weights (default runs/captioner-<backend>.npz)")
    train.add_argument("--history", metavar="PATH", default=None, help="default: the --save path with .json")
    train.add_argument("--plot", metavar="PATH", default=None,
                       help="the loss and exact-caption accuracy curves (default: the --save path with .png)")
    train.add_argument("--no-plot", action="store_true", help="do not draw the curves")
    data.add_data_arguments(train, dataset=False)
    progress.add_progress_argument(train)
    evaluate = commands.add_parser("evaluate", help="exact-caption and token accuracy of saved weights")
    backends.add_backend_argument(evaluate)
    evaluate.add_argument("--weights", metavar="PATH", required=True)
    evaluate.add_argument("--test-size", type=cli.positive_int, default=10000)
    data.add_data_arguments(evaluate, dataset=False)
    show = commands.add_parser("show", help="a figure of test pictures with their predicted captions")
    backends.add_backend_argument(show)
    show.add_argument("--weights", metavar="PATH", required=True)
    show.add_argument("--count", type=cli.positive_int, default=18, help="pictures to draw (default 18)")
    show.add_argument("--wrong", action="store_true",
                      help="draw the first --count wrongly captioned pictures (of --test-size) instead of the first")
    show.add_argument("--test-size", type=cli.positive_int, default=10000,
                      help="--wrong: the test pictures searched (default 10000)")
    show.add_argument("--out", metavar="PATH", default=None,
                      help="the figure (default runs/captions-<backend>.png, runs/captions-wrong-<backend>.png "
                           "with --wrong)")
    data.add_data_arguments(show, dataset=False)
    args = parser.parse_args(argv)
    if args.command == "train":
        args.save = args.save or os.path.join("runs", f"captioner-{args.backend}.npz")
        training.check_run_outputs(parser, args)
        try:
            training.lr_schedule(args, args.train_size // args.batch_size)  # a decay inside the warmup
        except ValueError as error:
            parser.error(str(error))
    start = args.weights if args.command in ("evaluate", "show") else args.init_weights
    if start is not None and not os.path.isfile(start):
        parser.error(f"no weights file at {start}")
    if args.command == "show":
        figures.require_matplotlib(parser)
        wrong = "-wrong" if args.wrong else ""
        args.out = args.out or os.path.join("runs", f"captions{wrong}-{args.backend}.png")
        paths.check_output("--out", args.out)
    return args


def run_train(args):
    from scratch import serialization

    config = {"model": "captioner", "input_dim": DEFAULTS["input_dim"], "channels": list(args.channels),
              "encoder_size": args.encoder_size, "hidden_size": args.hidden_size, "embed_size": args.embed_size,
              "dtype": args.dtype}
    network = captioning.build_captioner(args.backend, config, args.seed, args.readable)
    if args.init_weights is not None:
        captioning.check_saved_captioner(args.init_weights, config)
        network.load_params(args.init_weights)
    optimizer = captioning.importlib.import_module(f"{backends.BACKENDS[args.backend].package}.optimizer")
    optimizer = optimizer.Adam(lr=args.lr)
    x_train, c_train = captioning.load_pictures(args.train_size, 0, True, args.data_dir, args.download, args.dtype)
    x_test, c_test = captioning.load_pictures(args.test_size, 1, False, args.data_dir, args.download, args.dtype)
    n = args.eval_samples
    losses, epochs, train_acc, test_acc, seconds = [], [], [], [], []
    start = time.perf_counter()

    def save(exact=None, token=None):
        """The weights and the history so far (atomic writes: an interrupted run keeps its last epoch)."""
        serialization.save_params(args.save, {k: backends.to_numpy(v) for k, v in network.params.items()}, config)
        history = {"options": vars(args) | {"model": "captioner"}, "config": config, "iterations": len(losses),
                   "loss": losses, "epoch": epochs, "train_acc": train_acc, "test_acc": test_acc,
                   "elapsed_s": seconds, "training_time_s": seconds[-1] if seconds else 0.0,
                   "test_exact": exact, "test_token": token, "versions": backends.versions(args.backend)}
        paths.write_text(args.history, json.dumps(history, indent=1))

    def on_epoch(epoch):
        epochs.append(epoch)
        train_acc.append(captioning.evaluate(network, x_train[:n], c_train[:n])[0])
        test_acc.append(captioning.evaluate(network, x_test[:n], c_test[:n])[0])
        seconds.append(time.perf_counter() - start)
        progress.say(f"epoch {epoch}: exact-caption accuracy train {train_acc[-1]:.4f} test {test_acc[-1]:.4f} "
                     f"({seconds[-1]:.0f} s)")
        save()

    def redraw(epoch):
        return captioning.load_pictures(args.train_size, 1000 + epoch, True, args.data_dir, args.download,
                                        args.dtype)

    schedule = training.lr_schedule(args, len(x_train) // args.batch_size)
    captioning.train(network, optimizer, x_train, c_train, args.epochs, args.batch_size, args.seed,
                     not args.no_progress, on_epoch, redraw if args.fresh else None, schedule, losses)
    exact, token, _ = captioning.evaluate(network, x_test, c_test)
    save(exact, token)
    print(f"saved weights: {args.save}")
    print(f"saved history: {args.history}")
    if args.plot is not None:
        training.plot_curves(args.plot, losses, epochs, train_acc, test_acc,
                             f"Captioner ({args.backend}): exact-caption accuracy on {n} pictures")
        print(f"saved plot: {args.plot}")
    print(f"training time: {seconds[-1]:.0f} s")
    print(f"exact-caption accuracy: {exact:.4f}, token accuracy: {token:.4f} ({len(x_test)} test pictures)")


def load_trained(args, test_size):
    """The saved captioner and the first ``test_size`` test pictures (images in the weights' dtype, captions)."""
    from scratch import serialization

    config = captioning.check_saved_captioner(args.weights)
    network = captioning.build_captioner(args.backend, config).load_params(args.weights)
    return network, *captioning.load_pictures(test_size, 1, False, args.data_dir, args.download, config["dtype"])


def run_evaluate(args):
    network, x_test, c_test = load_trained(args, args.test_size)
    exact, token, seconds = captioning.evaluate(network, x_test, c_test)
    print(f"exact-caption accuracy: {exact:.4f}, token accuracy: {token:.4f} "
          f"({len(x_test)} test pictures, {seconds:.1f} s)")


def run_show(args):
    import numpy as np

    network, x_test, c_test = load_trained(args, args.test_size if args.wrong else args.count)
    predicted = captioning.predict(network, x_test)
    wrong = np.nonzero([captioning.caption_text(p) != captioning.caption_text(c)
                        for p, c in zip(predicted, c_test)])[0]
    shown = wrong[:args.count] if args.wrong else np.arange(min(args.count, len(x_test)))
    if args.wrong:
        title = (f"{len(wrong)} of {len(x_test)} test pictures captioned wrongly"
                 + (f"; the first {len(shown)}" if len(shown) < len(wrong) else ""))
    else:
        title = f"the first {len(shown)} test pictures: {len(set(shown) & set(wrong))} captioned wrongly (red)"
    captioning.draw_captions(args.out, x_test[shown], predicted[shown], c_test[shown], shown,
                             f"{title}\nunder each: the greedy caption ({args.backend})")
    print(f"wrong captions: {len(wrong)} of {len(x_test)} test pictures")
    print(f"saved {args.out}")


def main(argv=None):
    args = parse_args(argv)
    {"train": run_train, "evaluate": run_evaluate, "show": run_show}[args.command](args)


if __name__ == "__main__":
    cli.run_main(main)
