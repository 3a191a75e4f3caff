"""rmsprop (chapter 6): what does RMSprop fix in AdaGrad?

AdaGrad (6.1.5) divides each weight's step by the root of the SUM of all its
squared gradients so far; RMSprop divides by the root of a decaying AVERAGE
of them:

    AdaGrad:  h <- h + g * g
    RMSprop:  h <- rho * h + (1 - rho) * g * g          (rho: decay_rate, 0.99)
    both:     W <- W - lr * g / (sqrt(h) + eps)

so each weight's effective learning rate is lr / (sqrt(h) + eps). AdaGrad's
h only grows: with gradients of a steady size |g| it is t * g^2 after t
steps, and the effective rate lr / (|g| sqrt(t)) dies out like 1/sqrt(t).
RMSprop's h forgets (a weight of rho^k on the gradient of k steps ago, about
the last 1/(1 - rho) = 100 steps): it is (1 - rho^t) g^2 for a steady
gradient, the step tends to lr and stays there. The experiment measures:

1. the mechanism, exactly: a constant gradient fed to the backend's
   ``AdaGrad`` and ``RMSprop`` (float64): each step against lr / sqrt(t) and
   lr / sqrt(1 - rho^t) (eps included) to the last digits;
2. the decay's meaning: the backend's ``RMSprop(decay_rate=0.99)`` against the
   book's RMSprop (``scratch.book``: h <- decay_rate * h + (1 - decay_rate) g^2,
   eps 1e-7) on the same walk. The torch backend is ``torch.optim.RMSprop``
   whose ``alpha`` is the book's ``decay_rate`` (the weight KEPT of the old
   average, not 1 - it); its eps is 1e-8 by default against the book's 1e-7;
   RMSprop has no bias correction in either (its first step is lr / sqrt(1 - rho)
   = 10 lr for a steady gradient);
3. the paths on f(x, y) = x^2/20 + y^2 from (-7, 2) (figure 6-8,
   ``scripts/ch06_optimizer_paths.py``'s f and ``walk``), 100 steps: AdaGrad
   with the book's lr 1.5, RMSprop with lr 0.15; the effective rate of x read
   off the path as -dx / (df/dx). Both first steps are lr * g / sqrt(h) with
   h = g^2 (AdaGrad) or (1 - rho) g^2 (RMSprop), so an RMSprop lr of
   sqrt(1 - rho) = 0.1 times AdaGrad's gives the same first step (1.5 per
   coordinate here) and any difference comes later. The same walks run for
   1000 steps show the price of forgetting: near the minimum RMSprop's h
   decays below eps^2, its step becomes lr * g / eps and it is thrown off;
4. MNIST: ``MultiLayerNet(784, [100]*4, 10)`` trained by each (the race of the
   book's optimizer_compare_mnist.py, ``toolkit.experiments.race``: the same
   initial weights and minibatches), the median effective rate over the
   weights and the median h over the iterations, read from the optimizers'
   own state, and the loss. AdaGrad with the book's lr 0.01, RMSprop with
   0.001 (the same first step again).
"""
import math
from types import SimpleNamespace

import numpy as np

import ch06_optimizer_paths as paths
from toolkit import experiments

RHO = 0.99  # RMSprop's decay_rate: the book's default and PyTorch's alpha
PATH_OPTIMIZERS = {"AdaGrad": {"lr": 1.5}, "RMSprop": {"lr": 0.15, "decay_rate": RHO}}
MNIST_OPTIMIZERS = {"AdaGrad": {"lr": 0.01}, "RMSprop": {"lr": 0.001, "decay_rate": RHO}}
CONSTANT_GRADIENTS = (1e-3, 1.0, 100.0)  # three weights, three steady gradient sizes
BATCH_SIZE = 128
PATH_STEPS = 100  # both converge by then; much longer, RMSprop's h falls below eps^2 and it jumps off the minimum
LONG_STEPS = 1000  # long enough for that jump


def run(session):
    session.say(f"AdaGrad against RMSprop ({session.backend_name} backend)")
    constant_gradient(session)
    decay_rate_is_alpha(session)
    walks = paths_on_f(session)
    race = mnist_race(session)
    session.figure(lambda fig: draw(fig, session, walks, race), figsize=(13, 9))


# ---------------------------------------------------------------------------
# 1. The mechanism: a steady gradient
# ---------------------------------------------------------------------------

def steps_under_constant_gradient(session, name, hyper, steps):
    """|W_t - W_(t-1)| for t = 1..steps when every gradient is ``CONSTANT_GRADIENTS``: shape (steps, 3)."""
    optimizer = getattr(session.backend, name)(**hyper)
    start = np.zeros(len(CONSTANT_GRADIENTS))
    g = np.array(CONSTANT_GRADIENTS)
    if session.torch:
        import torch

        params, grads = {"w": torch.tensor(start)}, {"w": torch.tensor(g)}
    else:
        params, grads = {"w": start}, {"w": g}
    positions = [start.copy()]
    for _ in range(steps):
        optimizer.update(params, grads)
        positions.append(session.to_numpy(params["w"]).copy())
    return np.abs(np.diff(np.array(positions), axis=0))


def constant_gradient(session):
    steps = session.size(quick=1000, full=10000)
    t = np.arange(1, steps + 1)[:, None]
    g = np.abs(np.array(CONSTANT_GRADIENTS))
    adagrad = {"lr": 0.01, "eps": 1e-10}
    rmsprop = {"lr": 0.01, "decay_rate": RHO, "eps": 1e-8}
    measured = {"AdaGrad": steps_under_constant_gradient(session, "AdaGrad", adagrad, steps),
                "RMSprop": steps_under_constant_gradient(session, "RMSprop", rmsprop, steps)}
    expected = {"AdaGrad": adagrad["lr"] * g / (np.sqrt(t * g * g) + adagrad["eps"]),
                "RMSprop": rmsprop["lr"] * g / (np.sqrt((1 - RHO ** t) * g * g) + rmsprop["eps"])}
    errors = {name: float(np.max(np.abs(measured[name] / expected[name] - 1))) for name in measured}
    shown = [t_ for t_ in (1, 10, 100, 1000, 10000) if t_ <= steps]
    session.record("constant_gradient", {
        "gradients": CONSTANT_GRADIENTS, "steps": steps, "hyperparameters": {"AdaGrad": adagrad, "RMSprop": rmsprop},
        "step_at": {name: {str(t_): measured[name][t_ - 1].tolist() for t_ in shown} for name in measured},
        "max_relative_error_from_formula": errors})
    session.table(f"A steady gradient (g = {', '.join(f'{v:g}' for v in CONSTANT_GRADIENTS)} on three weights; "
                  f"lr 0.01, float64): the step size of the weight with g = 1",
                  ["t", "AdaGrad", "lr / sqrt(t)", "RMSprop", "lr / sqrt(1 - rho^t)"],
                  [[str(t_), f"{measured['AdaGrad'][t_ - 1, 1]:.6g}", f"{0.01 / math.sqrt(t_):.6g}",
                    f"{measured['RMSprop'][t_ - 1, 1]:.6g}", f"{0.01 / math.sqrt(1 - RHO ** t_):.6g}"]
                   for t_ in shown])
    last = steps - 1
    spread = {name: float(np.ptp(measured[name][last]) / np.mean(measured[name][last])) for name in measured}
    session.record("constant_gradient_relative_spread_over_gradient_sizes_at_end", spread)
    tolerance = steps * 1e-15  # h is a running sum: its rounding grows with the number of steps
    session.record("constant_gradient_tolerance", tolerance)
    session.conclude(
        "constant_gradient", max(errors.values()) < tolerance,
        f"With a steady gradient, AdaGrad's step is lr / sqrt(t) and RMSprop's lr / sqrt(1 - rho^t) (both within "
        f"{max(errors.values()):.1g} of the formulas, eps included, for |g| from 1e-3 to 100): after {steps} steps "
        f"AdaGrad moves {measured['AdaGrad'][last, 1]:.3g} per step, 1/{math.sqrt(steps):.0f} of its first step, "
        f"while RMSprop moves {measured['RMSprop'][last, 1]:.3g} = lr. AdaGrad's h = t g^2 grows without bound; "
        f"RMSprop's settles at g^2.",
        f"The steps depart from the formulas by up to {max(errors.values()):.3g} (AdaGrad {errors['AdaGrad']:.3g}, "
        f"RMSprop {errors['RMSprop']:.3g}).")


# ---------------------------------------------------------------------------
# 2. rho, decay_rate and alpha
# ---------------------------------------------------------------------------

def decay_rate_is_alpha(session):
    """The backend's RMSprop(decay_rate=0.99, eps=1e-7) against the book's RMSprop on the same walk (float64)."""
    steps = 100
    lr = PATH_OPTIMIZERS["RMSprop"]["lr"]
    ours = paths.walk(session.backend, session.backend_name, "RMSprop",
                      {"lr": lr, "decay_rate": RHO, "eps": 1e-7}, steps, "float64")
    book = paths.walk(session.book, "scratch", "RMSprop", {"lr": lr, "decay_rate": RHO}, steps, "float64")
    difference = float(np.max(np.abs(ours - book)))
    session.record("rmsprop_against_book_max_difference", difference)
    what = ("torch.optim.RMSprop(alpha=0.99, eps=1e-7)" if session.torch
            else "scratch.RMSprop(decay_rate=0.99, eps=1e-7)")
    session.conclude(
        "alpha_is_decay_rate", difference < 1e-12,
        f"{what} walks the book's RMSprop path (decay_rate 0.99) to {difference:.1g} over {steps} steps on f: "
        f"PyTorch's alpha is the book's decay_rate (h <- alpha h + (1 - alpha) g^2); only the default eps "
        f"differs (1e-8 against 1e-7).",
        f"{what} leaves the book's RMSprop path by {difference:.3g} over {steps} steps.")


# ---------------------------------------------------------------------------
# 3. The paths on f(x, y) = x^2/20 + y^2
# ---------------------------------------------------------------------------

def effective_rate_of_x(points):
    """The effective learning rate of x at each step, read off the path: -dx / (df/dx at the previous point)."""
    gx = paths.df(points[:-1, 0], points[:-1, 1])[0]
    return -np.diff(points[:, 0]) / gx


def paths_on_f(session):
    steps = PATH_STEPS
    walks = {name: paths.walk(session.backend, session.backend_name, name, hyper, steps, "float64")
             for name, hyper in PATH_OPTIMIZERS.items()}
    rates = {name: effective_rate_of_x(points) for name, points in walks.items()}
    shown = [t for t in (1, 10, 30, 100, 1000) if t <= steps]
    session.record("paths_on_f", {
        "start": paths.INIT_POS, "steps": steps, "hyperparameters": PATH_OPTIMIZERS,
        "point_at": {name: {str(t): points[t].tolist() for t in shown} for name, points in walks.items()},
        "effective_rate_of_x_at": {name: {str(t): float(r[t - 1]) for t in shown} for name, r in rates.items()}})
    session.table(f"The paths on f = x^2/20 + y^2 from {paths.INIT_POS} (AdaGrad lr 1.5, RMSprop lr 0.15, "
                  f"float64): the effective rate of x, lr / (sqrt(h) + eps), and how far x is from the minimum",
                  ["step", "AdaGrad rate", "AdaGrad: distance of x from 0", "RMSprop rate",
                   "RMSprop: distance of x from 0"],
                  [[str(t), f"{rates['AdaGrad'][t - 1]:.4g}", f"{abs(walks['AdaGrad'][t, 0]):.3g}",
                    f"{rates['RMSprop'][t - 1]:.4g}", f"{abs(walks['RMSprop'][t, 0]):.3g}"] for t in shown])
    adagrad, rmsprop = rates["AdaGrad"], rates["RMSprop"]
    falling = bool(np.all(np.diff(adagrad) <= 1e-12 * adagrad[1:]))  # never rises, up to rounding
    recovers = float(rmsprop[-1] / rmsprop.min())
    session.record("paths_on_f_adagrad_rate_never_rises", falling)
    session.record("paths_on_f_rmsprop_rate_last_over_lowest", recovers)
    session.conclude(
        "paths", falling and recovers > 1.2,
        f"On f, AdaGrad's effective rate for x never rises: {adagrad[0]:.3g} at step 1, {adagrad[-1]:.4g} at step "
        f"{steps}, frozen once the gradients have shrunk (h stops growing but never forgets). RMSprop's falls while "
        f"the gradient is large, then rises again as the gradient shrinks ({rmsprop.min():.3g} at its lowest, "
        f"{rmsprop[-1]:.3g} at step {steps}, {recovers:.1f} times more). Both reach the minimum of this bowl "
        f"(|x| {abs(walks['AdaGrad'][-1, 0]):.2g} and {abs(walks['RMSprop'][-1, 0]):.2g}).",
        f"On f the rates do not behave as expected: AdaGrad's never rises: {falling}; RMSprop's ends "
        f"{recovers:.3g} times above its lowest.")
    forgetting_has_a_price(session)
    return walks


def forgetting_has_a_price(session, steps=LONG_STEPS):
    """The same walks run on: RMSprop's h decays below eps^2 near the minimum, and lr * g / eps throws it off."""
    farthest = {}
    for name, hyper in PATH_OPTIMIZERS.items():
        points = paths.walk(session.backend, session.backend_name, name, hyper, steps, "float64")
        farthest[name] = float(np.max(np.abs(points[steps // 2:])))
    session.record("paths_on_f_long_walk_farthest_from_minimum_second_half", {"steps": steps, **farthest})
    session.conclude(
        "forgetting_price", farthest["RMSprop"] > 1e3 * max(farthest["AdaGrad"], 1e-300),
        f"Forgetting has a price: run for {steps} steps, RMSprop's h near the minimum decays below eps^2, its "
        f"step becomes lr * g / eps and it is thrown off the minimum (up to {farthest['RMSprop']:.2g} away over "
        f"the second half), while AdaGrad stays within {farthest['AdaGrad']:.2g}.",
        f"Over {steps} steps RMSprop stays near the minimum (at most {farthest['RMSprop']:.2g} away over the "
        f"second half; AdaGrad {farthest['AdaGrad']:.2g}).")


# ---------------------------------------------------------------------------
# 4. MNIST
# ---------------------------------------------------------------------------

class Watched:
    """The backend's optimizer, and every ``every`` steps the medians of its h and of lr / (sqrt(h) + eps).

    h is read from the optimizer's own state: ``h`` of the NumPy optimizers,
    ``state[p]["sum"]`` (Adagrad) or ``state[p]["square_avg"]`` (RMSprop) of
    the ``torch.optim`` optimizer the reference class drives. Weights whose
    gradient has always been 0 (pixels that are 0 in every image) have h = 0
    and are left out of the medians.
    """

    def __init__(self, optimizer, torch, every):
        self.optimizer, self.torch, self.every = optimizer, torch, every
        self.t = 0
        self.iterations, self.median_h, self.median_rate = [], [], []

    def accumulated(self, params):
        if self.torch:
            key = "sum" if type(self.optimizer).__name__ == "AdaGrad" else "square_avg"
            state = self.optimizer._optimizer.state  # the torch.optim optimizer reference.optimizer drives
            return np.concatenate([state[p][key].detach().numpy().ravel() for p in params.values()])
        return np.concatenate([self.optimizer.h[key].ravel() for key in params])

    def update(self, params, grads):
        self.optimizer.update(params, grads)
        self.t += 1
        if self.t == 1 or self.t % self.every == 0:
            h = self.accumulated(params).astype(np.float64)
            h = h[h > 0]
            self.iterations.append(self.t)
            self.median_h.append(float(np.median(h)))
            self.median_rate.append(float(np.median(self.optimizer.lr / (np.sqrt(h) + self.optimizer.eps))))


def growth_exponent(iterations, values):
    """The slope of log(value) against log(iteration) over the second half of the run: value ~ t^slope."""
    iterations, values = np.asarray(iterations, float), np.asarray(values)
    half = iterations >= iterations[-1] / 2
    return float(np.polyfit(np.log(iterations[half]), np.log(values[half]), 1)[0])


def mnist_race(session):
    iters = session.size(quick=500, full=3000)
    every = 10
    (x_train, t_train), _ = session.mnist()
    backend = session.backend
    networks = {name: backend.MultiLayerNet(784, [100] * 4, 10, seed=session.seed) for name in MNIST_OPTIMIZERS}
    watched = {name: Watched(getattr(backend, name)(**hyper), session.torch, every)
               for name, hyper in MNIST_OPTIMIZERS.items()}
    options = SimpleNamespace(seed=session.seed, no_progress=session.args.no_progress, backend=session.backend_name)
    session.say(f"MNIST: MultiLayerNet(784, [100]*4, 10), {iters} iterations of {BATCH_SIZE} images, "
                f"AdaGrad lr {MNIST_OPTIMIZERS['AdaGrad']['lr']}, RMSprop lr {MNIST_OPTIMIZERS['RMSprop']['lr']}")
    losses = experiments.race(options, networks, watched, x_train, t_train, iters, BATCH_SIZE, iters // 5)

    last = min(100, iters)
    summary = {}
    for name, w in watched.items():
        at_100 = w.iterations.index(100)
        summary[name] = {
            "rate_at_100": w.median_rate[at_100], "rate_at_end": w.median_rate[-1],
            "h_at_100": w.median_h[at_100], "h_at_end": w.median_h[-1],
            "h_growth_exponent_second_half": growth_exponent(w.iterations, w.median_h),
            "mean_loss_first_100": float(np.mean(losses[name][:100])),
            "mean_loss_last_100": float(np.mean(losses[name][-last:]))}
    session.record("mnist", {"iterations": iters, "batch_size": BATCH_SIZE, "hyperparameters": MNIST_OPTIMIZERS,
                             "summary": summary,
                             "median_rate": {name: w.median_rate for name, w in watched.items()},
                             "median_h": {name: w.median_h for name, w in watched.items()},
                             "recorded_at": watched["AdaGrad"].iterations, "loss": losses})
    session.table(f"MNIST, {iters} iterations: the medians over the weights of h and of the effective rate "
                  f"lr / (sqrt(h) + eps), and the loss",
                  ["optimizer", "rate at 100", f"rate at {iters}", "h at 100", f"h at {iters}",
                   "h ~ t^k, k (2nd half)", "loss first 100", f"loss last {last}"],
                  [[name, f"{s['rate_at_100']:.4g}", f"{s['rate_at_end']:.4g}", f"{s['h_at_100']:.3g}",
                    f"{s['h_at_end']:.3g}", f"{s['h_growth_exponent_second_half']:.2f}",
                    f"{s['mean_loss_first_100']:.4f}", f"{s['mean_loss_last_100']:.4f}"]
                   for name, s in summary.items()])

    ada, rms = summary["AdaGrad"], summary["RMSprop"]
    ada_drop, rms_change = ada["rate_at_end"] / ada["rate_at_100"], rms["rate_at_end"] / rms["rate_at_100"]
    session.record("mnist_rate_end_over_100", {"AdaGrad": ada_drop, "RMSprop": rms_change})
    session.conclude(
        "mnist_rates", (ada_drop < 0.75 and rms_change > 0.8 and ada["h_growth_exponent_second_half"] > 0.5
                        and abs(rms["h_growth_exponent_second_half"]) < 0.5),
        f"On MNIST AdaGrad's h keeps growing (h ~ t^{ada['h_growth_exponent_second_half']:.2f} over the second "
        f"half) and its median effective rate falls to {ada_drop:.2f} of its value at iteration 100; RMSprop's h "
        f"follows the recent, shrinking gradients (t^{rms['h_growth_exponent_second_half']:.2f}) and its rate "
        f"ends {rms_change:.2f} times its value at iteration 100: it does not die out.",
        f"On MNIST the rates do not separate as expected: AdaGrad's ends at {ada_drop:.2f} of its value at "
        f"iteration 100 (h ~ t^{ada['h_growth_exponent_second_half']:.2f}), RMSprop's at {rms_change:.2f}.")
    session.conclude(
        "mnist_loss", rms["mean_loss_last_100"] < ada["mean_loss_last_100"],
        f"RMSprop ends with the lower loss: {rms['mean_loss_last_100']:.4f} against AdaGrad's "
        f"{ada['mean_loss_last_100']:.4f} (mean of the last {last} minibatches).",
        f"AdaGrad still ends with the lower loss ({ada['mean_loss_last_100']:.4f} against RMSprop's "
        f"{rms['mean_loss_last_100']:.4f}, mean of the last {last} minibatches): over {iters} iterations its "
        f"shrinking rate has not yet cost it the lead; what RMSprop fixes shows in the rates, not yet in the loss.")
    return {"losses": losses, "watched": watched}


# ---------------------------------------------------------------------------
# The figure
# ---------------------------------------------------------------------------

def draw(fig, session, walks, race):
    axes = fig.subplots(2, 3)
    x = np.arange(-10, 10, 0.01)
    y = np.arange(-5, 5, 0.01)
    X, Y = np.meshgrid(x, y)
    Z = paths.f(X, Y)
    Z[Z > 7] = 0  # the book's contour mask
    for ax, (name, points) in zip(axes[0, :2], walks.items()):
        shown = points[:31]
        ax.contour(X, Y, Z)
        ax.plot(shown[:, 0], shown[:, 1], "o-", color="red", markersize=3)
        ax.plot(0, 0, "+", color="black", markersize=10)
        ax.set_xlim(-10, 10)
        ax.set_ylim(-10, 10)
        ax.set_title(f"{name} (lr {PATH_OPTIMIZERS[name]['lr']}), 30 steps on f")
    ax = axes[0, 2]
    for name, points in walks.items():
        steps = np.arange(1, len(points))
        ax.loglog(steps, effective_rate_of_x(points), label=f"{name}: rate of x")
    steps = np.arange(1, len(walks["AdaGrad"]))
    first = effective_rate_of_x(walks["AdaGrad"])[0]
    ax.loglog(steps, first / np.sqrt(steps), ":", color="gray", label="first / sqrt(t)")
    ax.set_xlabel("step")
    ax.set_title("effective rate on f")
    ax.legend(fontsize=8)
    losses, watched = race["losses"], race["watched"]
    ax = axes[1, 0]
    for name, w in watched.items():
        ax.loglog(w.iterations, w.median_rate, label=name)
    ax.set_xlabel("iteration")
    ax.set_title("MNIST: median lr / (sqrt(h) + eps)")
    ax.legend()
    ax = axes[1, 1]
    for name, w in watched.items():
        ax.loglog(w.iterations, w.median_h, label=name)
    ax.set_xlabel("iteration")
    ax.set_title("MNIST: median h")
    ax.legend()
    ax = axes[1, 2]
    for name, curve in losses.items():
        ax.plot(experiments.smooth_curve(curve), label=name)
    ax.set_xlabel("iteration")
    ax.set_ylim(0, 1)
    ax.set_title("MNIST: loss (smoothed)")
    ax.legend()
    fig.suptitle(f"AdaGrad against RMSprop ({session.backend_name} backend)")
