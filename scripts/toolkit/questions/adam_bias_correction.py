"""adam-bias-correction (chapter 6): why does Adam correct its bias?

Adam (6.1.6) keeps two running averages of each weight's gradient g, both
started at 0:

    m <- beta1 * m + (1 - beta1) * g          (the mean; beta1 = 0.9)
    v <- beta2 * v + (1 - beta2) * g * g      (the mean square; beta2 = 0.999)

Started at 0, they are too small at first: after t steps of a steady
gradient, m = (1 - beta1^t) g and v = (1 - beta2^t) g^2. The bias correction
divides that factor out, m_hat = m / (1 - beta1^t) and
v_hat = v / (1 - beta2^t), and the step is (PyTorch's ``torch.optim.Adam``)

    W <- W - lr * m_hat / (sqrt(v_hat) + eps).

Without it the step is lr * m / (sqrt(v) + eps). From the same m and v the
two differ by the factor (1 - beta1^t) / sqrt(1 - beta2^t) (eps aside): at
t = 1 that is (1 - beta1) / sqrt(1 - beta2) = 3.16 for beta2 = 0.999 (the
uncorrected first step is three times too long, and the factor climbs to
about 6.5 near t = 12 before it falls back to 1 over thousands of steps),
but 0.32 for beta2 = 0.9 (too short). With the correction the first step is
lr * g / (|g| + eps), lr * sign(g) for every weight whose gradient is far
above eps, whatever the gradient's size; a weight whose gradient is 0 (a
pixel that is 0 in every image) does not move.

eps's place: PyTorch adds eps after the correction of v; the book
(``scratch.book.Adam``) folds both corrections into the learning rate,
lr_t = lr sqrt(1 - beta2^t) / (1 - beta1^t), and adds its 1e-7 to the
uncorrected sqrt(v): an eps of 1e-7 / sqrt(1 - beta2^t) after the correction,
3.2e-6 at t = 1 for beta2 = 0.999, which shortens the first steps of weights
with gradients below about 1e-4. Measured below on the same gradient.

``torch.optim.Adam`` has no switch for the correction, so this module writes
Adam once (``AdamVariant``, PyTorch's arithmetic, for NumPy arrays or torch
tensors), with the correction on or off; the experiment first checks that
the corrected one equals the backend's ``Adam`` (``scratch.Adam``, or
``torch.optim.Adam`` through ``reference.Adam``) to 1e-12 in float64, so the
uncorrected one differs only by the correction. Then, at beta2 = 0.999 and
0.9: the first step from one MNIST gradient (the ratio uncorrected /
corrected against the closed form), the steps, m and m_hat over the
iterations, and the loss of ``MultiLayerNet(784, [100]*4, 10)`` trained on
MNIST by each variant from the same initial weights on the same minibatches
(``toolkit.experiments.race``).
"""
import contextlib
import math
from types import SimpleNamespace

import numpy as np

from toolkit import experiments

LR = 0.001
BETA1 = 0.9
BETA2S = (0.999, 0.9)
EPS = 1e-8
BATCH_SIZE = 128
HIDDEN = [100] * 4


class AdamVariant:
    """Adam as ``torch.optim.Adam`` computes it (one tensor at a time), bias correction on or off.

    ``torch``: the parameters are torch tensors (updated in place without
    autograd), else NumPy arrays. ``bias_correction=False`` drops both
    corrections: W <- W - lr * m / (sqrt(v) + eps). ``watch_at``: the steps t
    after which the medians over the weights of |g|, |m|, |m_hat|, sqrt(v),
    sqrt(v_hat) and the step |dW| / lr are kept in ``watched`` (weights whose
    v is still 0 left out).
    """

    def __init__(self, lr=LR, beta1=BETA1, beta2=0.999, eps=EPS, bias_correction=True, torch=False, watch_at=()):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.bias_correction = bias_correction
        self.torch = torch
        self.watch_at = set(watch_at)
        self.watched = []
        self.t = 0
        self.m = self.v = None

    def _xp(self):
        if self.torch:
            import torch
            return torch
        return np

    def update(self, params, grads):
        xp = self._xp()
        if self.m is None:
            self.m = {key: xp.zeros_like(p) for key, p in params.items()}
            self.v = {key: xp.zeros_like(p) for key, p in params.items()}
        self.t += 1
        if self.bias_correction:
            step_size = self.lr / (1 - self.beta1 ** self.t)
            bias_correction2_sqrt = math.sqrt(1 - self.beta2 ** self.t)
        else:
            step_size, bias_correction2_sqrt = self.lr, 1.0
        before = {key: self._numpy(p).copy() for key, p in params.items()} if self.t in self.watch_at else None
        with self._no_grad():
            for key, p in params.items():
                g = grads[key]
                self.m[key] += (1 - self.beta1) * (g - self.m[key])
                self.v[key] *= self.beta2
                self.v[key] += (1 - self.beta2) * g * g
                denom = xp.sqrt(self.v[key]) / bias_correction2_sqrt + self.eps
                p -= step_size * (self.m[key] / denom)
        if before is not None:
            self._watch(params, grads, before)

    def _no_grad(self):
        if self.torch:
            import torch
            return torch.no_grad()
        return contextlib.nullcontext()

    def _numpy(self, x):
        return x.detach().numpy() if self.torch else np.asarray(x)

    def _watch(self, params, grads, before):
        flat = lambda values: np.concatenate([self._numpy(values[key]).ravel() for key in params])  # noqa: E731
        v = flat(self.v).astype(np.float64)
        seen = v > 0
        g, m = np.abs(flat(grads))[seen], np.abs(flat(self.m))[seen]
        step = np.abs(flat(params) - np.concatenate([before[key].ravel() for key in params]))[seen]
        c1, c2 = 1 - self.beta1 ** self.t, 1 - self.beta2 ** self.t
        self.watched.append({"t": self.t, "g": float(np.median(g)), "m": float(np.median(m)),
                             "m_hat": float(np.median(m / c1)), "sqrt_v": float(np.median(np.sqrt(v[seen]))),
                             "sqrt_v_hat": float(np.median(np.sqrt(v[seen] / c2))),
                             "step_over_lr": float(np.median(step / self.lr))})


def run(session):
    session.say(f"Adam with and without bias correction ({session.backend_name} backend): lr {LR}, "
                f"beta1 {BETA1}, beta2 in {list(BETA2S)}, eps {EPS}")
    (x_train, t_train), _ = session.mnist()
    corrected_is_backends_adam(session, x_train, t_train)
    first = {beta2: first_step(session, x_train, t_train, beta2) for beta2 in BETA2S}
    report_first_steps(session, first)
    race, optimizers = mnist_race(session, x_train, t_train)
    report_moments(session, optimizers)
    report_losses(session, race)
    session.figure(lambda fig: draw(fig, session, optimizers, race), figsize=(13, 8.5))


def network(session, dtype="float32"):
    return session.backend.MultiLayerNet(784, HIDDEN, 10, dtype=dtype, seed=session.seed)


def snapshot(session, params):
    return {key: session.to_numpy(p).copy() for key, p in params.items()}


# ---------------------------------------------------------------------------
# The corrected variant is the backend's Adam
# ---------------------------------------------------------------------------

def corrected_is_backends_adam(session, x_train, t_train, steps=20):
    """``steps`` minibatches through the backend's Adam and through AdamVariant (float64): the largest difference."""
    rng = session.rng(1)
    theirs, ours = network(session, "float64"), network(session, "float64")
    adam = session.backend.Adam(lr=LR, beta1=BETA1, beta2=0.999, eps=EPS)
    variant = AdamVariant(beta2=0.999, torch=session.torch)
    for _ in range(steps):
        batch = rng.choice(len(x_train), BATCH_SIZE)
        x, t = x_train[batch].astype(np.float64), t_train[batch]
        adam.update(theirs.params, theirs.gradient(x, t))
        variant.update(ours.params, ours.gradient(x, t))
    a, b = snapshot(session, theirs.params), snapshot(session, ours.params)
    difference = max(float(np.max(np.abs(a[key] - b[key]))) for key in a)
    moved = max(float(np.max(np.abs(a[key] - snapshot(session, network(session, "float64").params)[key])))
                for key in a)
    session.record("corrected_variant_against_backend_adam", {"steps": steps, "max_difference": difference,
                                                              "max_distance_moved": moved})
    what = "torch.optim.Adam" if session.torch else "scratch.Adam"
    session.conclude(
        "variant_is_adam", difference < 1e-12,
        f"AdamVariant with the correction walks with {what}: after {steps} MNIST steps in float64 the weights "
        f"differ by {difference:.1g} at most (they moved up to {moved:.3g}), so the uncorrected variant differs "
        f"from the backend's Adam by the correction alone.",
        f"AdamVariant with the correction differs from {what} by {difference:.3g} after {steps} steps.")


# ---------------------------------------------------------------------------
# The first step
# ---------------------------------------------------------------------------

def first_step(session, x_train, t_train, beta2):
    """The first step of each variant (eps 1e-8 and eps 0) and of the book's Adam, from one MNIST gradient."""
    batch = session.rng(2).choice(len(x_train), BATCH_SIZE)
    net = network(session, "float64")
    grads = net.gradient(x_train[batch].astype(np.float64), t_train[batch])
    start = snapshot(session, net.params)
    g = np.concatenate([session.to_numpy(grads[key]).ravel() for key in net.params])

    def step(optimizer, numpy=False):
        """How far each weight moves in ``optimizer``'s first update (``numpy``: the book's, on arrays)."""
        if numpy:
            params = {key: value.copy() for key, value in start.items()}
            optimizer.update(params, {key: session.to_numpy(value) for key, value in grads.items()})
        else:
            params = {key: _like(session, value) for key, value in start.items()}
            optimizer.update(params, grads)
        return np.concatenate([(start[key] - session.to_numpy(params[key])).ravel() for key in start])

    with np.errstate(invalid="ignore"):  # eps 0: a weight with g = 0 gets 0 / 0 (left out of the ratios)
        steps = {(correction, eps): step(AdamVariant(beta2=beta2, eps=eps, bias_correction=correction,
                                                      torch=session.torch))
                 for correction in (True, False) for eps in (EPS, 0.0)}
    book = step(session.book.Adam(lr=LR, beta1=BETA1, beta2=beta2), numpy=True)
    return {"g": g, "steps": steps, "book": book}


def _like(session, array):
    if session.torch:
        import torch
        return torch.tensor(array)
    return array.copy()


def report_first_steps(session, first):
    rows, records = [], {}
    for beta2, found in first.items():
        g, steps, book = np.abs(found["g"]), found["steps"], found["book"]
        moving = g > 0
        closed_form = (1 - BETA1) / math.sqrt(1 - beta2)
        ratio_eps0 = steps[(False, 0.0)][moving] / steps[(True, 0.0)][moving]
        ratio = steps[(False, EPS)][moving] / steps[(True, EPS)][moving]
        with_eps = (1 - BETA1) * (g[moving] + EPS) / (math.sqrt(1 - beta2) * g[moving] + EPS)
        corrected = np.abs(steps[(True, EPS)]) / LR
        record = {
            "closed_form_ratio": closed_form,
            "eps0_max_relative_error_from_closed_form": float(np.max(np.abs(ratio_eps0 / closed_form - 1))),
            "median_ratio": float(np.median(ratio)),
            "max_relative_error_from_formula_with_eps": float(np.max(np.abs(ratio / with_eps - 1))),
            "corrected_step_over_lr_median": float(np.median(corrected[moving])),
            "fraction_corrected_step_within_1pct_of_lr": float(np.mean(np.abs(corrected[moving] - 1) < 0.01)),
            "weights_with_zero_gradient": int(np.sum(~moving)),
            "weights_with_zero_gradient_that_moved": int(np.sum(corrected[~moving] != 0)),
            "uncorrected_step_over_lr_median": float(np.median(np.abs(steps[(False, EPS)][moving]) / LR)),
            "fraction_book_step_below_099_lr": float(np.mean(np.abs(book[moving]) / LR < 0.99)),
            "fraction_torch_step_below_099_lr": float(np.mean(corrected[moving] < 0.99)),
            "weights": int(g.size)}
        records[str(beta2)] = record
        rows.append([f"{beta2}", f"{closed_form:.6f}", f"{record['median_ratio']:.6f}",
                     f"{record['eps0_max_relative_error_from_closed_form']:.1g}",
                     f"{record['corrected_step_over_lr_median']:.6f}",
                     f"{record['uncorrected_step_over_lr_median']:.4f}",
                     f"{record['fraction_corrected_step_within_1pct_of_lr']:.4f}",
                     f"{record['weights_with_zero_gradient']}",
                     f"{record['fraction_torch_step_below_099_lr']:.4f}",
                     f"{record['fraction_book_step_below_099_lr']:.4f}"])
    session.record("first_step", records)
    session.table(f"The first step from one MNIST gradient (float64, lr {LR}, beta1 {BETA1}): uncorrected / "
                  f"corrected, and the steps in units of lr",
                  ["beta2", "(1-b1)/sqrt(1-b2)", "ratio (median)", "rel. error, eps 0", "corrected / lr",
                   "uncorrected / lr", "corrected within 1% of lr", "weights with g = 0",
                   "below 0.99 lr: PyTorch eps", "book's eps"], rows)
    errors = [r["eps0_max_relative_error_from_closed_form"] for r in records.values()]
    with_eps = [r["max_relative_error_from_formula_with_eps"] for r in records.values()]
    session.conclude(
        "first_step_ratio", max(errors) < 1e-12 and max(with_eps) < 1e-12,
        "The first uncorrected step is (1 - beta1) / sqrt(1 - beta2) times the corrected one for every weight: "
        + ", ".join(f"{r['closed_form_ratio']:.4f} at beta2 {b}" for b, r in records.items())
        + f" (with eps 0 within {max(errors):.1g}; with eps 1e-8 the exact (1-b1)(|g|+eps)/(sqrt(1-b2)|g|+eps) "
        f"within {max(with_eps):.1g}). At beta2 0.999 uncorrected Adam starts with steps three times too long, "
        f"at 0.9 three times too short.",
        f"The first-step ratio departs from the closed form: {max(errors):.3g} with eps 0, {max(with_eps):.3g} "
        f"from the formula with eps.")
    r = records[str(BETA2S[0])]
    session.conclude(
        "first_step_is_lr", r["fraction_corrected_step_within_1pct_of_lr"] > 0.9
        and r["weights_with_zero_gradient_that_moved"] == 0,
        f"With the correction the first step is about lr * sign(g): median {r['corrected_step_over_lr_median']:.6f} "
        f"lr, within 1% of lr for {100 * r['fraction_corrected_step_within_1pct_of_lr']:.1f}% of the weights whose "
        f"gradient is not 0 (the rest have |g| within a hundred times eps); the {r['weights_with_zero_gradient']} "
        f"weights with g = 0 do not move. The book's eps, added before the correction (1e-7 / sqrt(1 - beta2) = "
        f"3.2e-6 after it), shortens the first step below 0.99 lr for "
        f"{100 * r['fraction_book_step_below_099_lr']:.1f}% of the weights (PyTorch's: "
        f"{100 * r['fraction_torch_step_below_099_lr']:.1f}%).",
        f"The corrected first step is not lr * sign(g): within 1% of lr for only "
        f"{100 * r['fraction_corrected_step_within_1pct_of_lr']:.1f}% of the weights; "
        f"{r['weights_with_zero_gradient_that_moved']} weights with g = 0 moved.")


# ---------------------------------------------------------------------------
# MNIST: the four variants side by side
# ---------------------------------------------------------------------------

def variant_name(beta2, correction):
    return f"b2 {beta2} {'corrected' if correction else 'uncorrected'}"


def mnist_race(session, x_train, t_train):
    iters = session.size(quick=300, full=2000)
    watch_at = sorted(set(range(1, 31)) | set(np.unique(np.geomspace(1, iters, 40).astype(int)).tolist()))
    optimizers = {variant_name(beta2, correction): AdamVariant(beta2=beta2, bias_correction=correction,
                                                               torch=session.torch, watch_at=watch_at)
                  for beta2 in BETA2S for correction in (True, False)}
    networks = {name: network(session) for name in optimizers}
    options = SimpleNamespace(seed=session.seed, no_progress=session.args.no_progress, backend=session.backend_name)
    session.say(f"MNIST: MultiLayerNet(784, [100]*4, 10), {iters} iterations of {BATCH_SIZE} images, float32")
    losses = experiments.race(options, networks, optimizers, x_train, t_train, iters, BATCH_SIZE, max(iters // 4, 1))
    session.record("mnist", {"iterations": iters, "batch_size": BATCH_SIZE, "loss": losses,
                             "watched": {name: opt.watched for name, opt in optimizers.items()}})
    return losses, optimizers


def report_moments(session, optimizers):
    shown = [t for t in (1, 2, 3, 5, 10, 12, 20, 30) if t <= optimizers[variant_name(BETA2S[0], True)].t]
    rows = []
    for t in shown:
        row = [str(t)]
        for beta2 in BETA2S:
            corrected = _at(optimizers[variant_name(beta2, True)], t)
            uncorrected = _at(optimizers[variant_name(beta2, False)], t)
            row += [f"{corrected['step_over_lr']:.3f}", f"{uncorrected['step_over_lr']:.3f}",
                    f"{(1 - BETA1 ** t) / math.sqrt(1 - beta2 ** t):.3f}"]
        watched = _at(optimizers[variant_name(BETA2S[0], True)], t)
        row += [f"{watched['g']:.3g}", f"{watched['m']:.3g}", f"{watched['m_hat']:.3g}"]
        rows.append(row)
    header = ["t"]
    for beta2 in BETA2S:
        header += [f"b2 {beta2}: corrected step/lr", "uncorrected", "(1-b1^t)/sqrt(1-b2^t)"]
    header += ["g", "m", "m_hat"]
    session.table(f"The steps over the first iterations on MNIST (medians over the weights of the absolute "
                  f"values), and at beta2 {BETA2S[0]} (corrected run) the gradient, m and m_hat", header, rows)
    early = {}
    for beta2 in BETA2S:
        c, u = optimizers[variant_name(beta2, True)], optimizers[variant_name(beta2, False)]
        early[str(beta2)] = {
            "largest_uncorrected_over_corrected_median_step_first_30": max(
                _at(u, t)["step_over_lr"] / _at(c, t)["step_over_lr"] for t in range(1, 31)),
            "closed_form_peak_first_30": max((1 - BETA1 ** t) / math.sqrt(1 - beta2 ** t) for t in range(1, 31))}
    session.record("early_steps", early)
    one = _at(optimizers[variant_name(BETA2S[0], True)], 1)
    session.record("m_over_g_at_1", one["m"] / one["g"])
    session.record("m_hat_over_g_at_1", one["m_hat"] / one["g"])
    ten = _at(optimizers[variant_name(BETA2S[0], True)], 10)
    session.conclude(
        "m_hat", abs(one["m"] / one["g"] - (1 - BETA1)) < 1e-6 and abs(one["m_hat"] / one["g"] - 1) < 1e-6,
        f"m starts at (1 - beta1) g: at t = 1 the median |m| is {one['m']:.3g}, {one['m'] / one['g']:.4f} of the "
        f"median |g| ({one['g']:.3g}), while m_hat = m / (1 - beta1^t) is the gradient's own size "
        f"({one['m_hat'] / one['g']:.4f} of it). At t = 10, m is still {1 - BETA1 ** 10:.2f} of m_hat; v needs "
        f"about 1/(1 - beta2) = {1 / (1 - BETA2S[0]):.0f} steps (sqrt(v) / sqrt(v_hat) = "
        f"{ten['sqrt_v'] / ten['sqrt_v_hat']:.3f} at t = 10).",
        f"m at t = 1 is {one['m'] / one['g']:.4f} of |g|, m_hat {one['m_hat'] / one['g']:.4f}.")
    big, small = early[str(BETA2S[0])], early[str(BETA2S[1])]
    session.conclude(
        "early_steps", big["largest_uncorrected_over_corrected_median_step_first_30"] > 3
        and small["largest_uncorrected_over_corrected_median_step_first_30"] < 1.5,
        f"Over the first 30 steps the uncorrected median step reaches "
        f"{big['largest_uncorrected_over_corrected_median_step_first_30']:.2f} times the corrected one at beta2 "
        f"{BETA2S[0]} (the closed form's peak: {big['closed_form_peak_first_30']:.2f}), but never more than "
        f"{small['largest_uncorrected_over_corrected_median_step_first_30']:.2f} times at beta2 {BETA2S[1]}: the "
        f"slower v forgets its zero start, the longer the uncorrected steps stay too long.",
        f"The early uncorrected steps are not as expected: at most "
        f"{big['largest_uncorrected_over_corrected_median_step_first_30']:.2f} times the corrected ones at beta2 "
        f"{BETA2S[0]}, {small['largest_uncorrected_over_corrected_median_step_first_30']:.2f} at {BETA2S[1]}.")


def _at(optimizer, t):
    return next(w for w in optimizer.watched if w["t"] == t)


def report_losses(session, losses):
    iters = len(next(iter(losses.values())))
    last = min(100, iters)
    spans = {"first 10": slice(0, 10), "first 100": slice(0, min(100, iters)), f"last {last}": slice(-last, None)}
    summary = {name: {span: float(np.mean(curve[s])) for span, s in spans.items()} for name, curve in losses.items()}
    session.record("mnist_mean_loss", summary)
    session.table(f"MNIST loss (mean over the minibatches), {iters} iterations", ["variant", *spans],
                  [[name, *(f"{v:.4f}" for v in s.values())] for name, s in summary.items()])
    def uncorrected_minus_corrected(span):
        return {beta2: summary[variant_name(beta2, False)][span] - summary[variant_name(beta2, True)][span]
                for beta2 in BETA2S}

    gaps, early = uncorrected_minus_corrected(f"last {last}"), uncorrected_minus_corrected("first 100")
    session.record("mnist_uncorrected_minus_corrected_loss", {"first_100": early, f"last_{last}": gaps})
    big, small = BETA2S
    numbers = ", ".join(f"beta2 {b}: {early[b]:+.4f} over the first 100 iterations, {gaps[b]:+.4f} over the last "
                        f"{last}" for b in BETA2S)
    session.conclude(
        "mnist_start", early[big] < 0 < early[small],
        f"At lr {LR} the uncorrected variants start as their first steps predict: at beta2 {big} the steps three "
        f"to six times too long make the early loss lower, at beta2 {small} the steps about a third as long make "
        f"it higher (uncorrected minus corrected mean loss: {numbers}). Without the correction, what lr means "
        f"for the first hundreds of steps depends on beta2; with it the first step is lr * sign(g) at any beta2.",
        f"The uncorrected variants' losses do not follow their first steps' sizes (uncorrected minus corrected "
        f"mean loss: {numbers}).")


# ---------------------------------------------------------------------------
# The figure
# ---------------------------------------------------------------------------

def draw(fig, session, optimizers, losses):
    axes = fig.subplots(2, 3)
    t = np.arange(1, 1001)
    ax = axes[0, 0]
    for beta2 in BETA2S:
        ax.semilogx(t, (1 - BETA1 ** t) / np.sqrt(1 - beta2 ** t), label=f"beta2 {beta2}")
    ax.axhline(1, color="gray", linestyle=":")
    ax.set_xlabel("t")
    ax.set_title("uncorrected / corrected step: (1-b1^t)/sqrt(1-b2^t)")
    ax.legend()
    for ax, beta2 in zip(axes[0, 1:], BETA2S):
        for correction, style in ((True, "-"), (False, "--")):
            watched = optimizers[variant_name(beta2, correction)].watched
            ax.loglog([w["t"] for w in watched], [w["step_over_lr"] for w in watched], style,
                      label="corrected" if correction else "uncorrected")
        ax.set_xlabel("iteration")
        ax.set_title(f"MNIST, beta2 {beta2}: median |dW| / lr")
        ax.legend()
    ax = axes[1, 0]
    watched = optimizers[variant_name(BETA2S[0], True)].watched
    ts = [w["t"] for w in watched]
    for key, label in (("g", "|g|"), ("m", "|m|"), ("m_hat", "|m_hat|")):
        ax.loglog(ts, [w[key] for w in watched], label=label)
    ax.set_xlabel("iteration")
    ax.set_title(f"median |g|, |m|, |m_hat| (beta2 {BETA2S[0]})")
    ax.legend()
    ax = axes[1, 1]
    for key, label in (("sqrt_v", "sqrt(v)"), ("sqrt_v_hat", "sqrt(v_hat)"), ("g", "|g|")):
        ax.loglog(ts, [w[key] for w in watched], label=label)
    ax.set_xlabel("iteration")
    ax.set_title(f"median sqrt(v), sqrt(v_hat) (beta2 {BETA2S[0]})")
    ax.legend()
    ax = axes[1, 2]
    for k, (name, curve) in enumerate(losses.items()):
        ax.semilogx(np.arange(1, len(curve) + 1), experiments.smooth_curve(curve),
                    "-" if "uncorrected" not in name else "--", color=f"C{k // 2}", label=name)
    ax.set_ylim(0, 2.5)
    ax.set_xlabel("iteration (log: the early steps differ)")
    ax.set_title("MNIST loss (smoothed)")
    ax.legend()
    fig.suptitle(f"Adam with and without bias correction ({session.backend_name} backend)")
