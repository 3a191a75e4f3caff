"""Where the milliseconds of a NumPy training step go: a per-layer profile of the scratch backend.

Every ``forward`` and ``backward`` of the scratch layers is timed (its own time:
a residual block's time excludes the layers inside it), and so is the
optimizer's ``update``; the rest of the step (gradient dicts, checks) is
"other". Convolutions and affine layers also get their achieved GFLOP/s,
counted as 2 * multiply-adds of the matrix products (forward: out = W col;
backward: dW = dout col^T and, where needed, dx), set against the speed of
one large float32 matrix product on the same threads, this machine's
practical peak.

    python scripts/profile_step.py --model simple_convnet
    python scripts/profile_step.py --model resnet --threads 2 --inference
"""
import toolkit  # noqa: F401 - first: a Python without the project's packages gets one line, exit 2
from toolkit import profiling
from toolkit.benchmark import MODELS, pin_threads
from toolkit.cli import ArgumentParser


def parse_args(argv=None):
    parser = ArgumentParser(prog="profile_step.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=MODELS, default="simple_convnet")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--steps", type=int, default=10, help="timed training steps (after 2 warm-up steps)")
    parser.add_argument("--threads", type=int, default=2, help="BLAS threads (default 2, as benchmark.py)")
    parser.add_argument("--statistic", choices=("median", "min"), default="median",
                        help="per layer, the median (default) or the fastest of the timed steps; min is "
                             "robust when other processes share the cores")
    parser.add_argument("--inference", action="store_true",
                        help="profile the inference of 10000 images (in the batches of the network's accuracy) "
                             "instead")
    args = parser.parse_args(argv)
    if args.batch_size < 1 or args.steps < 1 or args.threads < 1:
        parser.error("--batch-size, --steps and --threads must be >= 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    pin_threads(args.threads)  # before the profile imports NumPy
    timer, total, units, peak, what = profiling.profile(args)
    profiling.report(timer, total, units, peak, args, what)


if __name__ == "__main__":
    main()
