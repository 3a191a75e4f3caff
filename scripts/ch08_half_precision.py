"""Inference in half precision (8.3.4, the book's ch08/half_float_network.py).

16-bit floats (float16: 10-bit mantissa, relative spacing 2^-10 ~ 0.001,
largest value 65504) hardly change a trained network's accuracy; the book
shows 0.9935 -> 0.9935 for its DeepConvNet. Here the network is built with
dtype='float16', so weights, images and every activation are float16 (the
book casts only the weights and images; its NumPy operations keep float16 too).

    python scripts/ch08_half_precision.py --model deep_convnet --backend both \\
        --weights ch08_deep_convnet_params.npz

NumPy has no BLAS for float16: its matrix products convert element by
element and take about 3x the float32 time for SimpleConvNet, and DeepConvNet
in the scratch backend runs about 50 s per 1000 images in float16 (two cores).
So when the scratch backend evaluates deep_convnet the default is the first
1000 test images (the output says so); --samples 10000 evaluates all of them.
"""
import toolkit  # noqa: F401 - first: a Python without the project's packages gets one line, exit 2
import os
import sys
import time

import numpy as np

from toolkit import backends, cli, data, weights
from toolkit.progress import add_progress_argument, progress_bar

DESCRIPTION = """Evaluate a trained SimpleConvNet or DeepConvNet on MNIST test images twice:
in float32 and in float16 (network built with dtype='float16': float16
weights, images and activations), and print both accuracies side by side, how
many predictions float16 changes and the largest score difference (the book's
ch08/half_float_network.py). --backend both gives one row per backend."""

TEST_IMAGES = 10000
CLASSES = {"simple_convnet": "SimpleConvNet", "deep_convnet": "DeepConvNet"}
# NumPy float16 is slow (no BLAS): default subsets where all 10000 images would take over ~2 minutes.
SCRATCH_DEFAULT_SAMPLES = {"simple_convnet": TEST_IMAGES, "deep_convnet": 1000}
DTYPES = ("float32", "float16")


def parse_args(argv=None):
    parser = cli.ArgumentParser(prog="ch08_half_precision.py", description=DESCRIPTION)
    parser.add_argument("--model", choices=sorted(CLASSES), required=True,
                        help="simple_convnet: chapter 7's SimpleConvNet; deep_convnet: chapter 8's DeepConvNet")
    parser.add_argument("--weights", metavar="PATH", required=True,
                        help="the trained parameters: the book's ch07_simple_convnet_params.npz / "
                             "ch08_deep_convnet_params.npz, its ch07/params.pkl / "
                             "ch08/deep_convnet_params.pkl (read safely), or what train.py saved")
    parser.add_argument("--backend", choices=[*backends.CHOICES, "both"], default="scratch",
                        help="scratch: NumPy; torch: its PyTorch mirror; both: one row each, on the same "
                             "images (default scratch)")
    parser.add_argument("--samples", type=cli.positive_int, default=None,
                        help=f"evaluate the first N test images (default all {TEST_IMAGES}, but "
                             f"{SCRATCH_DEFAULT_SAMPLES['deep_convnet']} when the scratch backend runs "
                             "deep_convnet: NumPy float16 takes ~50 s per 1000 images there)")
    parser.add_argument("--batch-size", type=cli.positive_int, default=100,
                        help="images per forward pass (default 100)")
    add_progress_argument(parser)
    data.add_data_arguments(parser, from_weights=True)
    args = parser.parse_args(argv)
    if not os.path.isfile(args.weights):
        parser.error(f"no weights file at {args.weights}")
    if args.samples is not None and args.samples > TEST_IMAGES:
        parser.error(f"--samples can be at most {TEST_IMAGES}, got {args.samples}")
    args.backends = list(backends.CHOICES) if args.backend == "both" else [args.backend]
    weights.dataset_from_weights(args, args.weights)
    args.dtype = "float32"  # what load_data reads; the float16 images are cast from it
    return args


def default_samples(args):
    """(number of test images, note or None): the subset rule for NumPy float16."""
    if args.samples is not None:
        return args.samples, None
    if "scratch" in args.backends and SCRATCH_DEFAULT_SAMPLES[args.model] < TEST_IMAGES:
        n = SCRATCH_DEFAULT_SAMPLES[args.model]
        return n, (f"note: the first {n} of {TEST_IMAGES} test images only: NumPy has no BLAS for float16, "
                   f"{CLASSES[args.model]} takes ~50 s per 1000 images in float16 in the scratch backend; "
                   f"--samples {TEST_IMAGES} evaluates all")
    return TEST_IMAGES, None
def scores_of(network, x, batch_size, backend_name, label, progress=True):
    """The scores (N, 10) for images ``x`` in the network's dtype, batch by batch; and the seconds taken."""
    batches = []
    start = time.perf_counter()
    with backends.no_grad(backend_name), progress_bar(len(x), progress, unit="img", desc=label,
                                                             leave=False) as bar:
        for i in range(0, len(x), batch_size):
            batches.append(backends.to_numpy(network.predict(x[i:i + batch_size])))
            bar.update(len(batches[-1]))
    return np.concatenate(batches), time.perf_counter() - start


def evaluate(backend_name, args, images, t):
    """One table row: accuracies, changed predictions, score difference and timings of float32 vs float16."""
    backend = backends.load_backend(backend_name)
    scores, seconds = {}, {}
    for dtype in DTYPES:
        network = getattr(backend, CLASSES[args.model])(dtype=dtype, seed=0)  # initial weights overwritten
        weights.load_weights(network, args.weights)
        scores[dtype], seconds[dtype] = scores_of(network, images[dtype], args.batch_size, backend_name,
                                                  f"{backend_name} {dtype}", not args.no_progress)
    y32, y16 = scores["float32"], scores["float16"]
    if y16.dtype != np.float16:
        print(f"warning: {backend_name} float16 network returned {y16.dtype} scores: something upcasts",
              file=sys.stderr)
    diff = np.abs(y16.astype(np.float64) - y32) / np.max(np.abs(y32))
    return {"backend": backend_name,
            "acc32": float(np.mean(y32.argmax(axis=1) == t)),
            "acc16": float(np.mean(y16.argmax(axis=1) == t)),
            "changed": int(np.sum(y16.argmax(axis=1) != y32.argmax(axis=1))),
            "error": float(diff.max()), "dtype": str(y16.dtype),
            "s32": seconds["float32"], "s16": seconds["float16"]}


def print_table(rows, n):
    print(f"{'backend':8s} {'float32':>8s} {'float16':>8s} {'change':>8s} {'changed predictions':>20s} "
          f"{'max score diff':>15s} {'float16 scores':>15s} {'s float32':>10s} {'s float16':>10s}")
    for r in rows:
        print(f"{r['backend']:8s} {r['acc32']:8.4f} {r['acc16']:8.4f} {r['acc16'] - r['acc32']:+8.4f} "
              f"{r['changed']:>10d} of {n:<6d} {r['error']:15.2e} {r['dtype']:>15s} "
              f"{r['s32']:10.1f} {r['s16']:10.1f}")


def main(argv=None):
    args = parse_args(argv)
    n, note = default_samples(args)
    # a clear error before any output if the file holds another network's parameters
    weights.check_weights_config(args.weights, {"model": args.model})
    weights.load_weights(getattr(backends.load_backend("scratch"), CLASSES[args.model])(), args.weights)
    _, (x_test, t_test) = data.load_data(args, flatten=False)
    x32, t = x_test[:n], t_test[:n]
    images = {"float32": x32, "float16": x32.astype(np.float16)}

    print(f"{CLASSES[args.model]} in float32 and in float16 (weights, images and activations), "
          f"weights {args.weights}, first {n} of {TEST_IMAGES} test images")
    if note:
        print(note)
    rows = [evaluate(name, args, images, t) for name in args.backends]
    print("max score diff: max |y16 - y32| / max |y32|; float16's relative spacing is 2^-10 = 9.8e-04")
    print_table(rows, n)


if __name__ == "__main__":
    cli.run_main(main)
