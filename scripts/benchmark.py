"""Time one training step and a full test-set inference of each network in both backends.

One process, the same thread count for NumPy's BLAS and for torch, warm-up
first, then the two backends interleaved step by step so that both see the
same machine load. Prints the median milliseconds per step, the ratio
scratch / torch, and the peak memory each backend's step adds (measured in a
fresh subprocess per backend, so the two do not mix).

    python scripts/benchmark.py                      # float32, batch 100, all the networks
    python scripts/benchmark.py --dtype float64 --json runs/benchmark.json
"""
import argparse
import json
import os
import subprocess
import sys
import time

from _paths import check_output, write_atomically

# model -> (build(backend package, dtype, seed), the optimizer of its training step, its lr, slow).
# A new network needs one entry; a slow one is timed half as many steps (--repeats // 2).
NETWORKS = {
    "two_layer": (lambda backend, dtype, seed: backend.TwoLayerNet(784, 50, 10, dtype=dtype, seed=seed),
                  "SGD", 0.1, False),
    "simple_convnet": (lambda backend, dtype, seed: backend.SimpleConvNet(dtype=dtype, seed=seed),
                       "Adam", 0.001, False),
    "deep_convnet": (lambda backend, dtype, seed: backend.DeepConvNet(dtype=dtype, seed=seed), "Adam", 0.001, True),
    "lenet": (lambda backend, dtype, seed: backend.LeNet(dtype=dtype, seed=seed), "Adam", 0.001, False),
    "resnet": (lambda backend, dtype, seed: backend.ResNet(dtype=dtype, seed=seed), "Adam", 0.001, True),
    "alexnet": (lambda backend, dtype, seed: backend.AlexNet(dtype=dtype, seed=seed), "Adam", 0.001, True),
    "vgg": (lambda backend, dtype, seed: backend.VGG(dtype=dtype, seed=seed), "Adam", 0.001, True),
    "googlenet": (lambda backend, dtype, seed: backend.GoogLeNet(dtype=dtype, seed=seed), "Adam", 0.001, True),
}
MODELS = tuple(NETWORKS)
FLAT_INPUT = ("two_layer",)  # takes (N, 784); the others (N, 1, 28, 28)

DESCRIPTION = """Benchmark the NumPy backend against the PyTorch backend: median time of one
training step (forward, backward, optimizer update; TwoLayerNet with SGD, the
convnets with Adam) and of inference over 10000 test-sized images, the ratio
scratch/torch, and peak memory. Both backends use --threads threads."""


class OneLineErrors(argparse.ArgumentParser):
    """Bad arguments: one line on stderr and exit status 2, like the other scripts. (This script
    cannot use scripts/_common.py: that imports NumPy, whose thread count must be set first.)"""

    def error(self, message):
        fail(f"{message} (see {self.prog} --help)")


def fail(message):
    """``error: message`` on stderr, exit status 2."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def parse_args(argv=None):
    parser = OneLineErrors(prog="benchmark.py", description=DESCRIPTION)
    parser.add_argument("--models", default=",".join(MODELS),
                        help=f"comma-separated subset of {', '.join(MODELS)} (default: all)")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=20, help="timed steps per backend (default 20)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first (default 3)")
    parser.add_argument("--inference-images", type=int, default=10000,
                        help="images for the inference timing (default 10000; 0 skips it)")
    parser.add_argument("--threads", type=int, default=os.cpu_count(),
                        help=f"threads for both backends (default: all cores, {os.cpu_count()})")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocesses")
    parser.add_argument("--json", metavar="PATH", help="also write the results to this JSON file")
    parser.add_argument("--probe-memory", nargs=2, metavar=("MODEL", "BACKEND"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    bad = [m for m in args.models if m not in MODELS]
    if bad:
        parser.error(f"unknown model {bad[0]!r}; choose from {', '.join(MODELS)}")
    for name in ("batch_size", "repeats", "threads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.warmup < 0 or args.inference_images < 0:
        parser.error("--warmup and --inference-images must be >= 0")
    if args.json is not None and not args.probe_memory:
        try:
            check_output("--json", args.json)  # now, not after minutes of timing
        except ValueError as err:
            fail(err)
    return args


def pin_threads(threads):
    """Set the thread counts before NumPy and torch load (they read these once).

    Idle worker threads of OpenBLAS and of torch's OpenMP spin-wait for a while
    by default; with the two backends interleaved, each pool's spinning threads
    would steal the cores from the other's (we measured torch's DeepConvNet step
    2.5x slower that way). A short OpenBLAS timeout and a passive OpenMP wait
    make each backend run about as fast as it does alone in its own process.
    """
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def build(backend, model, dtype, seed=0):
    return NETWORKS[model][0](backend, dtype, seed)


def batch(model, dtype, n, seed=0):
    import numpy as np
    rng = np.random.default_rng(seed)
    shape = (n, 784) if model in FLAT_INPUT else (n, 1, 28, 28)
    return rng.random(shape).astype(dtype), rng.integers(0, 10, n)


def make_step(backend, network, model, x, t):
    _, name, lr, _ = NETWORKS[model]
    optimizer = getattr(backend, name)(lr=lr)

    def step():
        optimizer.update(network.params, network.gradient(x, t))
    return step


def peak_rss_kib():
    """The process's peak resident memory (VmHWM). Unlike getrusage's ru_maxrss it is not
    inherited from the parent across fork and exec, so a subprocess measures only itself."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    import resource  # not Linux: the best available
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def probe_memory(model, backend_name, dtype, batch_size):
    """Run in a subprocess: peak resident memory added by three training steps, in MiB."""
    import importlib
    backend = importlib.import_module(backend_name)
    x, t = batch(model, dtype, batch_size)
    network = build(backend, model, dtype)
    before = peak_rss_kib()
    step = make_step(backend, network, model, x, t)
    for _ in range(3):
        step()
    print(json.dumps({"peak_mib": (peak_rss_kib() - before) / 1024}))


def measure_memory(args, model, backend_name):
    command = [sys.executable, os.path.abspath(__file__), "--probe-memory", model, backend_name,
               "--dtype", args.dtype, "--batch-size", str(args.batch_size), "--threads", str(args.threads)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])["peak_mib"]


def median_ms(samples):
    ordered = sorted(samples)
    mid = len(ordered) // 2
    value = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    return value * 1000


def time_interleaved(functions, repeats, warmup):
    """Median seconds of each function, calling them in turn so both see the same load."""
    for _ in range(warmup):
        for f in functions:
            f()
    samples = [[] for _ in functions]
    for _ in range(repeats):
        for f, bucket in zip(functions, samples):
            start = time.perf_counter()
            f()
            bucket.append(time.perf_counter() - start)
    return [median_ms(s) for s in samples]


def benchmark(args):
    import numpy as np
    import torch

    import reference
    import scratch
    torch.set_num_threads(args.threads)
    results = []
    for model in args.models:
        numpy_net = build(scratch, model, args.dtype)
        torch_net = build(reference, model, args.dtype)
        torch_net.load_params(numpy_net.params)
        x, t = batch(model, args.dtype, args.batch_size)
        steps = [make_step(scratch, numpy_net, model, x, t), make_step(reference, torch_net, model, x, t)]
        repeats = max(args.repeats // 2, 1) if NETWORKS[model][3] else args.repeats
        print(f"timing {model} training step ({repeats} x 2 backends)...", file=sys.stderr, flush=True)
        step_ms = time_interleaved(steps, repeats, args.warmup)
        row = {"model": model, "dtype": args.dtype, "batch_size": args.batch_size, "threads": args.threads,
               "step_ms": {"scratch": step_ms[0], "torch": step_ms[1]}, "step_ratio": step_ms[0] / step_ms[1]}
        if args.inference_images:
            x_test, t_test = batch(model, args.dtype, args.inference_images, seed=1)
            print(f"timing {model} inference over {args.inference_images} images...", file=sys.stderr, flush=True)
            inference_ms = time_interleaved([lambda: numpy_net.accuracy(x_test, t_test),
                                             lambda: torch_net.accuracy(x_test, t_test)], repeats=3, warmup=1)
            row["inference_ms"] = {"scratch": inference_ms[0], "torch": inference_ms[1]}
            row["inference_ratio"] = inference_ms[0] / inference_ms[1]
        if not args.no_memory:
            row["peak_mib"] = {"scratch": measure_memory(args, model, "scratch"),
                               "torch": measure_memory(args, model, "reference")}
        results.append(row)
    return {"numpy": np.__version__, "torch": torch.__version__, "results": results}


def print_table(report):
    header = (f"{'model':<15} {'dtype':<8} {'step scratch ms':>15} {'step torch ms':>13} {'ratio':>6} "
              f"{'infer scratch s':>15} {'infer torch s':>13} {'ratio':>6} {'MiB scratch':>11} {'MiB torch':>9}")
    print(header)
    print("-" * len(header))
    for r in report["results"]:
        inf = r.get("inference_ms")
        mem = r.get("peak_mib")
        print(f"{r['model']:<15} {r['dtype']:<8} {r['step_ms']['scratch']:15.2f} {r['step_ms']['torch']:13.2f} "
              f"{r['step_ratio']:5.2f}x "
              + (f"{inf['scratch'] / 1000:15.2f} {inf['torch'] / 1000:13.2f} {r['inference_ratio']:5.2f}x "
                 if inf else f"{'-':>15} {'-':>13} {'-':>6} ")
              + (f"{mem['scratch']:11.1f} {mem['torch']:9.1f}" if mem else f"{'-':>11} {'-':>9}"))
    first = report["results"][0]
    print(f"batch {first['batch_size']}, {first['threads']} threads for both backends, "
          f"numpy {report['numpy']}, torch {report['torch']}; ratio = scratch / torch, below 1 means NumPy is faster;")
    print("MiB: peak resident memory that the first three training steps add to a fresh process after its imports")


def write_json(path, report):
    """Write ``report`` to ``path`` atomically (no half-written file, no temporary left behind)."""
    write_atomically(path, lambda f: json.dump(report, f, indent=2), binary=False)


def main(argv=None):
    args = parse_args(argv)
    pin_threads(args.threads)
    if args.probe_memory:
        probe_memory(*args.probe_memory, args.dtype, args.batch_size)
        return
    report = benchmark(args)
    print_table(report)
    if args.json:
        try:
            write_json(args.json, report)
        except OSError as err:  # the folder became unwritable during the run
            fail(err)
        print(f"saved: {args.json}")


if __name__ == "__main__":
    main()
