"""Time a training step and a test-set inference of each network four ways: scratch, readable, reference, plain.

The networks: train.py's eight classifiers, then the image captioner (``captioner``: ``scratch.Captioner``
in caption.py's full-size shape, channels 16, 32 and 64, encoder 512, hidden size 256, embedding 16,
trained with Adam at lr 0.001 on seeded random pictures (N, 1, 28, 140) and captions of 1 to 5 digits;
its inference is greedy captioning, in the batches of 500 that ``Captioner.evaluate`` uses, scored by the
exact-caption accuracy).
The four sides, each the same network from the same weights on the same data:

* ``scratch``: this project's NumPy backend (``scratch/``), the subject of the book, on the fast
  plug-ins (``scratch/fast/``) that the networks use by default;
* ``readable``: the same on the readable layers (``readable=True``: im2col, one product, col2im;
  batch norm node by node), what the fast plug-ins buy shown by the two ratios side by side;
* ``reference``: this project's PyTorch backend (``reference/``), which mirrors the book's
  layer-by-layer forward API (its ``gradient`` is one autograd pass over the whole network, as
  ``loss.backward()``; ``layerwise_gradient`` keeps the book's loop), as ``--backend torch`` trains;
* ``plain``: the network as a PyTorch user writes it (``scripts/toolkit/plain_torch.py``: ``torch.nn``,
  one ``loss.backward()`` over the whole network, ``torch.optim``), the honest baseline. Both
  ratios are against it: below 1 means faster than plain PyTorch.

Each side runs in its own fresh process (``benchmark.py --worker MODEL SIDE``), with ``--threads``
threads for its BLAS and for torch. One process per side keeps the thread pools of OpenBLAS and
of torch's OpenMP from competing for the cores (their idle threads spin-wait, stealing time from
the other side), keeps one side's caches and allocator state out of the other's numbers, and
lets each process measure its own peak memory. The worker times ``--warmup`` untimed steps, then
``--repeats`` timed steps, and reports their median; inference over ``--inference-images``
test-sized images is timed the same way (1 warm-up, 3 timed passes). That is one round; the
``--rounds`` rounds alternate the sides (round r runs scratch, readable, reference, plain in turn),
so all four see the same machine load, and each side's result is the median of its per-round medians.

    python scripts/benchmark.py                      # float32, batch 100, 2 threads, all the networks
    python scripts/benchmark.py --models simple_convnet --rounds 5 --json runs/benchmark.json
    python scripts/benchmark.py --models captioner   # the captioner alone
"""
import toolkit  # noqa: F401 - first: a Python without the project's packages gets one line, exit 2
import argparse
import json

from toolkit import benchmark
from toolkit.benchmark import MODELS, SIDES
from toolkit.cli import ArgumentParser, fail
from toolkit.paths import check_output, write_text

DESCRIPTION = """Benchmark one training step (forward, backward, optimizer update; TwoLayerNet with
SGD, the others with Adam) and inference over test-sized images (the captioner: greedy captions) of each
network, the image captioner included, in four sides:
scratch (NumPy on the fast plug-ins, the default), readable (NumPy on the readable layers), reference
(this project's torch backend) and plain PyTorch (torch.nn, one loss.backward(), torch.optim). Each side
runs in its own process with --threads threads, in alternating rounds; prints the median milliseconds
and the ratios scratch/plain, readable/plain and reference/plain."""


def parse_args(argv=None):
    parser = ArgumentParser(prog="benchmark.py", description=DESCRIPTION)
    parser.add_argument("--models", default=",".join(MODELS),
                        help=f"comma-separated subset of {', '.join(MODELS)} (default: all)")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=20, help="timed steps per side and round (default 20)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first (default 3)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds, each running every side once in turn (default 3)")
    parser.add_argument("--inference-images", type=int, default=10000,
                        help="images for the inference timing (default 10000; 0 skips it)")
    parser.add_argument("--threads", type=int, default=2, help="threads of each side's process (default 2)")
    parser.add_argument("--no-memory", action="store_true", help="leave out the peak memory of the steps")
    parser.add_argument("--json", metavar="PATH", help="also write the results to this JSON file")
    parser.add_argument("--worker", nargs=2, metavar=("MODEL", "SIDE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    bad = [m for m in args.models if m not in MODELS]
    if bad:
        parser.error(f"unknown model {bad[0]!r}; choose from {', '.join(MODELS)}")
    if not args.models:
        parser.error("--models names no model")
    for name in ("batch_size", "repeats", "threads", "rounds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.warmup < 0 or args.inference_images < 0:
        parser.error("--warmup and --inference-images must be >= 0")
    if args.worker and (args.worker[0] not in MODELS or args.worker[1] not in SIDES):
        parser.error(f"--worker takes a model and one of {', '.join(SIDES)}")
    if args.json is not None and not args.worker:
        try:
            check_output("--json", args.json)  # now, not after minutes of timing
        except ValueError as err:
            fail(err)
    return args


def write_json(path, report):
    """Write ``report`` to ``path`` atomically (no half-written file, no temporary left behind)."""
    write_text(path, json.dumps(report, indent=2))


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        benchmark.pin_threads(args.threads)  # before run_worker imports NumPy and torch
        benchmark.run_worker(args)
        return
    report = benchmark.benchmark(args)
    benchmark.print_table(report)
    if args.json:
        try:
            write_json(args.json, report)
        except OSError as err:  # the folder became unwritable during the run
            fail(err)
        print(f"saved: {args.json}")


if __name__ == "__main__":
    main()
