"""The per-layer profile behind ``scripts/profile_step.py``: each scratch layer's own time and achieved GFLOP/s.

Every ``forward`` and ``backward`` of the scratch layers is timed (its own
time: a residual block's time excludes the layers inside it), and so is the
optimizer's ``update``; the rest of the step is "other". Convolutions and
affine layers also get their achieved GFLOP/s, counted as 2 * multiply-adds
of the matrix products, set against one large matrix product's speed.
Standard library only at module level: NumPy loads after the thread counts are set.
"""
import functools
import inspect
import sys
import time
from collections import defaultdict

from .benchmark import batch, build, make_step

__all__ = ["LayerTimer", "instrument", "profile", "report"]


class LayerTimer:
    """Wraps ``forward``/``backward`` of classes and accumulates each call's own time per label."""

    def __init__(self):
        self.seconds = defaultdict(float)  # (label, "forward" | "backward") -> seconds
        self.calls = defaultdict(int)
        self.flops = defaultdict(float)
        self._child = [0.0]  # time spent in timed calls nested in the current one

    def wrap(self, cls, method):
        original = getattr(cls, method)

        @functools.wraps(original)
        def timed(layer, *args, **kwargs):
            self._child.append(0.0)
            start = time.perf_counter()
            result = original(layer, *args, **kwargs)
            elapsed = time.perf_counter() - start
            nested = self._child.pop()
            self._child[-1] += elapsed
            key = (label(layer), method)
            self.seconds[key] += elapsed - nested
            self.calls[key] += 1
            self.flops[key] += flop_count(layer, method)
            return result
        setattr(cls, method, timed)


def label(layer):
    """A row label: the class, with the weight shape for convolutions and affine layers."""
    name = type(layer).__name__
    W = getattr(layer, "W", None)
    if name == "Convolution":
        return f"Convolution {'x'.join(map(str, W.shape))} s{layer.stride} p{layer.pad}"
    if name == "Affine":
        return f"Affine {W.shape[0]}x{W.shape[1]}"
    return name


def flop_count(layer, method):
    """2 * multiply-adds of a convolution's or affine layer's matrix products in this call."""
    name = type(layer).__name__
    if name == "Convolution":
        FN, C, FH, FW = layer.W.shape
        N, _, H, W = layer.x.shape
        OH = (H + 2 * layer.pad - FH) // layer.stride + 1
        OW = (W + 2 * layer.pad - FW) // layer.stride + 1
        products = 1 if method == "forward" else (2 if layer.need_dx else 1)
        return 2.0 * FN * C * FH * FW * N * OH * OW * products
    if name == "Affine":
        N = layer.x.shape[0]
        return 2.0 * N * layer.W.size * (1 if method == "forward" else 2)
    return 0.0


def instrument(scratch):
    """A LayerTimer wrapped around every scratch class that has both forward and backward."""
    timer = LayerTimer()
    seen = set()
    for module in list(sys.modules.values()):
        if not getattr(module, "__name__", "").startswith("scratch.") or module.__name__.startswith("scratch.book"):
            continue
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls in seen or not cls.__module__.startswith("scratch."):
                continue
            seen.add(cls)
            if "forward" in vars(cls):
                timer.wrap(cls, "forward")
            if "backward" in vars(cls):
                timer.wrap(cls, "backward")
    return timer


def matmul_peak(np, dtype, n=1536, repeats=5):
    """GFLOP/s of one large square matrix product: the practical peak of BLAS on these threads."""
    rng = np.random.default_rng(0)
    a, b = rng.random((n, n)).astype(dtype), rng.random((n, n)).astype(dtype)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(repeats))
    return 2.0 * n ** 3 / best / 1e9


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _wrap_optimizers(scratch, timer):
    """Time ``update`` of the optimizers like a layer (own time, per call)."""
    for name in ("SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam"):
        cls = getattr(scratch, name, None)
        if cls is not None and "update" in vars(cls):
            timer.wrap(cls, "update")


def report(timer, total, units, peak, args, what):
    rows = defaultdict(lambda: {"forward": 0.0, "backward": 0.0, "update": 0.0, "flops": 0.0, "calls": 0})
    for (name, method), seconds in timer.seconds.items():
        rows[name][method] += seconds
        rows[name]["flops"] += timer.flops[(name, method)] / units
        rows[name]["calls"] = max(rows[name]["calls"], timer.calls[(name, method)] // units)
    measured = sum(r["forward"] + r["backward"] + r["update"] for r in rows.values())
    print(f"scratch {args.model}, {args.dtype}, {what}, {args.threads} BLAS thread(s): "
          f"{total * 1e3:.2f} ms per {'pass' if args.inference else 'step'} ({args.statistic} of {units}, "
          f"each layer's time its own {args.statistic})")
    print(f"one {1536}x{1536} matrix product on these threads: {peak:.1f} GFLOP/s (the practical peak)")
    head = f"{'layer':<34} {'calls':>5} {'forward ms':>10} {'backward ms':>11} {'total ms':>9} {'share':>6} " \
           f"{'GFLOP/s':>8} {'of peak':>7}"
    print(head)
    print("-" * len(head))
    ordered = sorted(rows.items(), key=lambda kv: -(kv[1]["forward"] + kv[1]["backward"] + kv[1]["update"]))
    for name, r in ordered:
        own = r["forward"] + r["backward"] + r["update"]
        rate = r["flops"] / own / 1e9 if r["flops"] and own else None
        backward = r["backward"] + r["update"]
        print(f"{name:<34} {r['calls']:>5} {r['forward'] * 1e3:>10.2f} {backward * 1e3:>11.2f} {own * 1e3:>9.2f} "
              f"{own / total:>6.1%} " + (f"{rate:>8.1f} {rate / peak:>7.0%}" if rate else f"{'':>8} {'':>7}"))
    other = total - measured
    print(f"{'other (outside the layers)':<34} {'':>5} {'':>10} {'':>11} {other * 1e3:>9.2f} {other / total:>6.1%}")
    flops = sum(r["flops"] for r in rows.values())
    print(f"matrix-product work: {flops / 1e9:.3f} GFLOP per {'pass' if args.inference else 'step'}, "
          f"{flops / total / 1e9:.1f} GFLOP/s over the whole {'pass' if args.inference else 'step'}")


def profile(args):
    """Time ``args.steps`` training steps (or 3 inference passes with ``args.inference``) of the scratch
    network ``args.model``, each layer's own time; (timer, total seconds, units, matmul GFLOP/s, what).
    The thread counts must be set (``benchmark.pin_threads``) before this imports NumPy."""
    import numpy as np

    import scratch
    network = build(scratch, args.model, args.dtype)
    x, t = batch(args.model, args.dtype, args.batch_size)
    if args.inference:
        x_test, t_test = batch(args.model, args.dtype, 10000, seed=1)
        work, units, what = (lambda: network.accuracy(x_test, t_test)), 3, "inference of 10000 images"
    else:
        step = make_step(scratch, network, args.model, x, t)
        work, units, what = step, args.steps, f"training step, batch {args.batch_size}"
    for _ in range(2 if not args.inference else 1):
        work()  # warm-up: allocations, caches
    timer = instrument(scratch)
    _wrap_optimizers(scratch, timer)
    per_step, totals = [], []
    for _ in range(units):
        timer.seconds.clear()
        start = time.perf_counter()
        work()
        totals.append(time.perf_counter() - start)
        per_step.append(dict(timer.seconds))
    pick = np.median if args.statistic == "median" else np.min
    timer.seconds = {key: float(pick([step.get(key, 0.0) for step in per_step])) for key in per_step[0]}
    return timer, float(pick(totals)), units, matmul_peak(np, args.dtype), what
