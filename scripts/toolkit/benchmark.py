"""The machinery of ``scripts/benchmark.py``: the tasks, the four sides, the worker processes, the rounds, the table.

See the command's docstring for what is measured and how. Standard library
only at module level: a worker sets its thread counts (``pin_threads``)
before NumPy and torch load.
"""
import json
import os
import platform
import subprocess
import sys
import time

from .cli import fail
from .models import MODELS as ALL_MODELS
from .models import OPTIMIZERS, ModelConfig, trainable_models

__all__ = ["MODELS", "TASKS", "SIDES", "RATIOS", "Classification", "Captioning", "pin_threads", "build",
           "optimizer_of", "batch", "make_step", "book_side", "plain_side", "median_ms", "run_worker", "benchmark",
           "print_table"]

SIDES = {
    "scratch": "NumPy backend (scratch/, on the fast plug-ins of scratch/fast/: the networks' default)",
    "readable": "NumPy backend on the readable layers (readable=True: im2col, col2im, batch norm node by node)",
    "reference": "this project's torch backend (reference/: the book's layers, one autograd pass)",
    "plain": "plain PyTorch (scripts/toolkit/plain_torch.py: torch.nn, one loss.backward(), torch.optim)",
}
RATIOS = {"scratch/plain": "scratch", "readable/plain": "readable",  # ratio name -> numerator side
          "reference/plain": "reference"}
INFERENCE_REPEATS = 3  # timed passes over the test images per worker (after one warm-up pass)
COMMAND = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmark.py")


def pin_threads(threads):
    """Set the thread counts before NumPy and torch load: their BLAS and OpenMP read these once."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)


# ---------------------------------------------------------------- the tasks: what each model learns
# A task says, for one kind of model, what every side needs: ``build`` (a backend's network in the benchmarked
# ``shape``), ``batch`` (a seeded minibatch), ``optimizer`` and ``lr``, ``slow``, and for the plain side
# ``plain_step`` (its training step), ``plain_predict`` (one chunk's predictions) and ``score`` (the accuracy
# of all the predictions, as the book networks' ``accuracy`` returns it).

class Classification:
    """A network of ``toolkit.models`` (train.py's): MNIST-shaped images, labels 0..9, its entry's
    optimizer; inference is the accuracy of the highest scores."""

    def __init__(self, model):
        spec = ALL_MODELS[model]
        self.model, self.flatten, self.slow = model, spec.flatten, spec.slow
        self.optimizer, self.lr = OPTIMIZERS[spec.optimizer], spec.lr
        self.shape = {}  # the networks' default shape

    def build(self, backend, dtype, seed, readable):
        return ModelConfig(self.model, dtype=dtype, seed=seed,
                           readable=readable and not self.flatten).build(backend)  # two_layer has no layer to choose

    def batch(self, rng, dtype, n):
        shape = (n, 784) if self.flatten else (n, 1, 28, 28)
        return rng.random(shape).astype(dtype), rng.integers(0, 10, n)

    def plain_step(self, plain_torch, module, optimizer, x, t):
        import torch
        x, t = torch.from_numpy(x), torch.from_numpy(t)  # once, outside the timing: a user's tensors
        return lambda: plain_torch.train_step(module, optimizer, x, t)

    def plain_predict(self, module, x):
        return module(x).argmax(1)

    def score(self, predicted, t):
        return float((predicted == t).mean())


class Captioning:
    """The image captioner (``scratch.captioner``) in scripts/caption.py's full-size training shape and
    optimizer: pictures (N, 1, 28, 140), captions of 1 to 5 digits padded with -1; inference is greedy
    captioning, scored by the exact-caption accuracy (``Captioner.accuracy``)."""

    shape = {"channels": (16, 32, 64), "encoder_size": 512, "hidden_size": 256, "embed_size": 16}
    optimizer, lr, slow = "Adam", 0.001, True

    def build(self, backend, dtype, seed, readable):
        return backend.Captioner(**self.shape, dtype=dtype, seed=seed, readable=readable)

    def batch(self, rng, dtype, n):
        import numpy as np
        blocks = rng.random((n, 1, 1, 7)) < 0.5  # noise in some of 7 blocks of 20 columns: "digits" in a row
        images = (rng.random((n, 1, 28, 140)) * np.repeat(blocks, 20, axis=3)).astype(dtype)
        lengths, digits = rng.integers(1, 6, n), rng.integers(0, 10, (n, 5))
        return images, np.where(np.arange(5) < lengths[:, None], digits, -1)

    def plain_step(self, plain_torch, module, optimizer, x, captions):
        import torch
        x = torch.from_numpy(x)  # the captions become tokens in every step, as in scratch's gradient
        return lambda: plain_torch.caption_train_step(module, optimizer, x, captions)

    def plain_predict(self, module, x):
        return module.generate(x)

    def score(self, predicted, captions):
        from scratch.captioner import caption_scores
        return caption_scores(predicted, captions)[0]


# Every network train.py trains (a new one needs its entry in toolkit.models and its plain twin in
# toolkit.plain_torch.NETWORKS), then caption.py's captioner. A slow one is timed half as many steps.
TASKS = {**{model: Classification(model) for model in trainable_models()}, "captioner": Captioning()}
MODELS = tuple(TASKS)


# ---------------------------------------------------------------- the four sides (in a worker)

def build(backend, model, dtype, seed=0, readable=False):
    """``model`` (a name of ``MODELS``) as built by ``backend``, in its benchmarked shape, in ``dtype``
    (``readable``: a convnet on the readable layers; two_layer has none to choose)."""
    return TASKS[model].build(backend, dtype, seed, readable)


def optimizer_of(model):
    """(optimizer class name, learning rate) of ``model``'s training step: its entry in ``models.MODELS``,
    the captioner caption.py's."""
    return TASKS[model].optimizer, TASKS[model].lr


def batch(model, dtype, n, seed=0):
    """A seeded random minibatch (images, labels or captions): every worker draws the same one."""
    import numpy as np
    return TASKS[model].batch(np.random.default_rng(seed), dtype, n)


def make_step(backend, network, model, x, t):
    """One training step of a scratch or reference network, with the book's optimizer classes."""
    name, lr = optimizer_of(model)
    optimizer = getattr(backend, name)(lr=lr)

    def step():
        optimizer.update(network.params, network.gradient(x, t))
    return step


def book_side(backend, model, dtype, x, t, seed_network, readable=False):
    """(train step, inference) of a scratch or reference network with ``seed_network``'s weights
    (``readable``: scratch's network on the readable layers)."""
    mine = backend.__name__ == "scratch" and not readable
    network = seed_network if mine else build(backend, model, dtype, readable=readable)
    if network is not seed_network:
        network.load_params(seed_network.params)
    return make_step(backend, network, model, x, t), network.accuracy


def plain_side(model, dtype, x, t, seed_network):
    """(train step, inference) of the plain PyTorch module with ``seed_network``'s weights.

    Inference runs in eval mode without autograd, in the chunks that the scratch network's
    ``accuracy`` uses by default, so both sides do the same work per call.
    """
    import inspect

    import torch

    from . import plain_torch
    task = TASKS[model]
    module, optimizer = plain_torch.make(model, dtype)
    plain_torch.load_from_scratch(module, seed_network.params)
    chunk = inspect.signature(seed_network.accuracy).parameters["batch_size"].default

    @torch.no_grad()
    def inference(x_test, t_test):
        module.eval()
        x_test = torch.from_numpy(x_test)
        predicted = torch.cat([task.plain_predict(module, x_test[i:i + chunk]) for i in range(0, len(x_test), chunk)])
        module.train()  # back to training mode (dropout, batch statistics) for any later step
        return task.score(predicted.numpy(), t_test)
    return task.plain_step(plain_torch, module, optimizer, x, t), inference


def median(values):
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def median_ms(function, repeats, warmup):
    """Median milliseconds of ``repeats`` timed calls of ``function`` after ``warmup`` untimed ones."""
    for _ in range(warmup):
        function()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return median(samples) * 1000


def memory_kib(field):
    """``VmRSS`` (resident now) or ``VmHWM`` (peak resident) of this process in KiB; None off Linux.
    Unlike getrusage's ru_maxrss, VmHWM is not inherited across fork and exec: a worker measures itself."""
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))
    except (OSError, StopIteration):
        return None


def reset_peak_memory():
    """Restart VmHWM from the current resident size (Linux 4.0 and later), so that the peak measured
    next is the steps', not a higher one reached while importing and building."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        pass  # then the peak counts from the process start: an upper bound


def repeats_for(model, repeats):
    return max(repeats // 2, 1) if TASKS[model].slow else repeats


def run_worker(args):
    """One side of one model, one round: print {step_ms, peak_mib, inference_ms, versions} as JSON."""
    import numpy as np

    import scratch
    model, side = args.worker
    versions = {"python": platform.python_version(), "numpy": np.__version__}
    if side in ("reference", "plain"):  # the NumPy workers never load torch: their process holds NumPy alone
        import torch
        torch.set_num_threads(args.threads)
        versions["torch"] = torch.__version__
        # The first torch.optim optimizer imports torch._dynamo and sympy (about 150 MiB). Plain's
        # make() builds its optimizer now, reference's first update would build it inside the timed
        # steps: one throwaway optimizer loads those modules here, so both sides' memory omits them.
        torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    seed_network = build(scratch, model, args.dtype)  # every side starts from scratch's seeded weights
    x, t = batch(model, args.dtype, args.batch_size)
    if side == "plain":
        step, inference = plain_side(model, args.dtype, x, t, seed_network)
    else:
        backend = __import__("reference") if side == "reference" else scratch
        step, inference = book_side(backend, model, args.dtype, x, t, seed_network, readable=side == "readable")
    reset_peak_memory()
    before = memory_kib("VmRSS")
    result = {"step_ms": median_ms(step, repeats_for(model, args.repeats), args.warmup), "versions": versions}
    peak = memory_kib("VmHWM")
    result["peak_mib"] = None if peak is None or before is None else (peak - before) / 1024
    if args.inference_images:
        x_test, t_test = batch(model, args.dtype, args.inference_images, seed=1)
        result["inference_ms"] = median_ms(lambda: inference(x_test, t_test), INFERENCE_REPEATS,
                                           warmup=min(args.warmup, 1))
    print(json.dumps(result))


# ---------------------------------------------------------------- the rounds (in the parent)

def worker_command(args, model, side):
    return [sys.executable, COMMAND, "--worker", model, side, "--dtype", args.dtype,
            "--batch-size", str(args.batch_size), "--repeats", str(args.repeats), "--warmup", str(args.warmup),
            "--inference-images", str(args.inference_images), "--threads", str(args.threads)]


def run_in_worker(args, model, side):
    """Run one side of one model in a fresh process; its JSON result (a failure: a one-line error)."""
    done = subprocess.run(worker_command(args, model, side), capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        fail(f"the {side} side of {model} failed: {last}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def time_model(args, model, versions):
    """All rounds of one model; its result row. Round r runs scratch, readable, reference, plain in turn."""
    per_round = {side: [] for side in SIDES}
    for r in range(1, args.rounds + 1):
        for side in SIDES:
            print(f"timing {model}, round {r}/{args.rounds}: {side}...", file=sys.stderr, flush=True)
            result = run_in_worker(args, model, side)
            versions.update(result.pop("versions"))
            per_round[side].append(result)
    row = {"model": model, "dtype": args.dtype, "batch_size": args.batch_size, "threads": args.threads,
           "rounds": args.rounds, "repeats": repeats_for(model, args.repeats)}
    keys = ["step_ms"] + (["inference_ms"] if args.inference_images else [])
    for key in keys:
        rounds = {side: [result[key] for result in per_round[side]] for side in SIDES}
        row[key] = {side: median(values) for side, values in rounds.items()}  # median of the rounds' medians
        row[f"{key}_rounds"] = rounds
        row[key.replace("_ms", "_ratio")] = {name: row[key][side] / row[key]["plain"]
                                             for name, side in RATIOS.items()}
    if not args.no_memory and all(result["peak_mib"] is not None for r in per_round.values() for result in r):
        row["peak_mib"] = {side: median([result["peak_mib"] for result in per_round[side]]) for side in SIDES}
    return row


def benchmark(args):
    versions = {}
    results = [time_model(args, model, versions) for model in args.models]
    return {"sides": SIDES, "dtype": args.dtype, "batch_size": args.batch_size, "threads": args.threads,
            "rounds": args.rounds, "repeats": args.repeats, "warmup": args.warmup,
            "inference_images": args.inference_images, "versions": versions, "results": results}


def print_table(report):
    print("plain = the same network in plain PyTorch (torch.nn, one loss.backward(), torch.optim), "
          "reference = this project's torch backend, scratch = NumPy on the fast plug-ins (the default), "
          "readable = NumPy on the readable layers; each in its own process")
    memory = ("  peak MiB scratch/readable/reference/plain" if any("peak_mib" in r for r in report["results"])
              else "")
    header = (f"{'model':<15} {'timing':<16} {'scratch ms':>11} {'readable ms':>12} {'reference ms':>12} "
              f"{'plain ms':>10} {'scratch/plain':>13} {'readable/plain':>14} {'reference/plain':>15}{memory}")
    print(header)
    print("-" * len(header))
    for r in report["results"]:
        print(row_line(r["model"], "train step", r["step_ms"], r["step_ratio"], r.get("peak_mib")))
        if "inference_ms" in r:
            print(row_line("", f"infer {report['inference_images']} img", r["inference_ms"], r["inference_ratio"]))
    v = report["versions"]
    print(f"{report['dtype']}, batch {report['batch_size']}, threads per process: {report['threads']}; each value is "
          f"the median of {report['rounds']} rounds' medians; numpy {v.get('numpy')}, torch {v.get('torch')}; "
          "a ratio below 1 means faster than plain PyTorch")
    if any("peak_mib" in r for r in report["results"]):
        print("peak MiB: the peak resident memory of the training steps (warm-up included) above the "
              "process's resident memory before them (after its imports, the network and the batch)")


def row_line(model, timing, ms, ratio, mib=None):
    line = (f"{model:<15} {timing:<16} {ms['scratch']:11.2f} {ms['readable']:12.2f} {ms['reference']:12.2f} "
            f"{ms['plain']:10.2f} {ratio['scratch/plain']:12.2f}x {ratio['readable/plain']:13.2f}x "
            f"{ratio['reference/plain']:14.2f}x")
    if mib:
        line += "  " + " / ".join(f"{mib[side]:.1f}" for side in ("scratch", "readable", "reference", "plain"))
    return line
