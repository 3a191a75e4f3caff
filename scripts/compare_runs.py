"""Compare two training runs curve for curve: whole-run parity of the two backends.

The runs are train.py's, caption.py's, segment.py's or detect.py's.

Train the same network twice, once per backend, from the same seed (the same
initial weights, minibatches and augmentation draws), then compare the JSON
histories train.py saved beside the weights:

    python scripts/train.py --model lenet --epochs 1 --dtype float64 --backend scratch --save runs/parity/lenet-scratch.npz
    python scripts/train.py --model lenet --epochs 1 --dtype float64 --backend torch --save runs/parity/lenet-torch.npz
    python scripts/compare_runs.py runs/parity/lenet-scratch.json runs/parity/lenet-torch.json --plot runs/parity/lenet.png

It prints the largest difference of the minibatch loss over all iterations
(absolute, and relative to the loss) and of the train and test accuracies,
and fails (exit 1) if the loss curves part by more than --tolerance
(relative) at any iteration. The runs must have been made with the same
options apart from the backend and the output paths.

The same check proves the fast plug-ins equal to the readable layers over a
whole run: train once with --readable, once without, and compare. caption.py's
histories compare the same way (its train and test rows are exact-caption
accuracies; docs/captioning.md says why the warmup):

    python scripts/caption.py train --dtype float64 --warmup 1000 --epochs 1 --train-size 19200 \\
        --backend scratch --save runs/parity/captioner-scratch.npz
    python scripts/caption.py train --dtype float64 --warmup 1000 --epochs 1 --train-size 19200 \\
        --backend torch --save runs/parity/captioner-torch.npz
    python scripts/compare_runs.py runs/parity/captioner-scratch.json runs/parity/captioner-torch.json
"""
import toolkit  # noqa: F401 - first: a Python without the project's packages gets one line, exit 2
import os
import sys

from toolkit import cli, paths
from toolkit.history import backend_label, check_same_training, differences, load_history, plot_comparison

DESCRIPTION = """Compare the histories (.json) of two train.py, caption.py, segment.py or
detect.py runs, typically the same run with --backend scratch and --backend torch: the
minibatch loss at every iteration and the accuracies of every row. Fails if the options differ (apart
from the backend and the output paths) or if the loss curves part by more than
--tolerance relative to the loss. --plot draws both loss curves and their
difference."""

DEFAULT_TOLERANCE = {"float64": 1e-9, "float32": 1e-3}


def parse_args(argv=None):
    parser = cli.ArgumentParser(prog="compare_runs.py", description=DESCRIPTION)
    parser.add_argument("first", metavar="FIRST.json", help="a history saved by train.py (--history)")
    parser.add_argument("second", metavar="SECOND.json", help="the other run's history")
    parser.add_argument("--tolerance", type=cli.positive_float, default=None,
                        help="largest relative difference of the minibatch loss allowed at any iteration "
                             "(default 1e-9 for float64 runs, 1e-3 for float32, where rounding "
                             "differences grow over thousands of updates)")
    parser.add_argument("--plot", metavar="PATH", default=None,
                        help="draw both loss curves and their relative difference per iteration")
    args = parser.parse_args(argv)
    for path in (args.first, args.second):
        if not os.path.isfile(path):
            parser.error(f"no history file at {path}")
    if args.plot is not None:
        paths.check_output("--plot", args.plot)
    return args


def main(argv=None):
    args = parse_args(argv)
    files = (args.first, args.second)
    first, second = (load_history(path) for path in files)
    check_same_training(first, second, files)
    found = differences(first, second)
    dtype = first["options"].get("dtype", "float32")
    tolerance = args.tolerance or DEFAULT_TOLERANCE.get(dtype, DEFAULT_TOLERANCE["float32"])
    labels = (backend_label(first, args.first), backend_label(second, args.second))
    print(f"{first['options']['model']}, {dtype}, {len(first['loss'])} iterations, "
          f"{len(first['epoch'])} accuracy rows: {labels[0]} vs {labels[1]}")
    for key, (absolute, at, relative) in found.items():
        where = f"iteration {at + 1}" if key == "loss" else f"row {at + 1} (epoch {first['epoch'][at]:.2f})"
        print(f"  {key:9s} largest difference {absolute:.3g} at {where}, relative {relative:.3g}")
    if args.plot is not None:
        plot_comparison(args.plot, first, second, labels)
        print(f"saved plot: {args.plot}")
    relative = found["loss"][2]
    if relative > tolerance:
        print(f"error: the loss curves part: relative difference {relative:.3g} > tolerance {tolerance:g}",
              file=sys.stderr)
        sys.exit(1)  # a measured disagreement, not a usage error (2)
    print(f"the loss curves agree within {tolerance:g} (relative) at every iteration")


if __name__ == "__main__":
    cli.run_main(main)
