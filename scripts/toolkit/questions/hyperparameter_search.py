"""Hyperparameter search (6.5): random search against grid search with the same number of trials.

The book's 6.5.3 (``scripts/ch06_hyperparameter_search.py``, whose pieces
this reuses) draws each trial's hyperparameters on a log scale,

    learning rate  lr = 10^U(-6, -2),    weight decay  lambda = 10^U(-8, -4),

trains MultiLayerNet(784, [100]*6, 10) by SGD (batch 100) on 400 of the
first 500 training images and scores the trial by its accuracy on the other
100, the validation data (6.5.1: never the test data, which would then be
fitted too). Grid search tries the k x k combinations of k values per
hyperparameter instead; here the k values sit at the centres of k equal
cells of each log range (for k = 3 and lr: 10^-5.33, 10^-4, 10^-2.67), so
that no grid starts with the range's end points.

Bergstra & Bengio (2012, "Random search for hyper-parameter optimization")
point out that when one hyperparameter matters much more than the other, a
grid of k x k trials tries only k distinct values of the important one,
while k x k random trials try k x k. The experiment measures both halves of
that: how much the validation accuracy varies along lr and along the weight
decay on the largest grid, and the best validation accuracy each search has
found after n trials (random: the best of its first n draws, n = 1 ... k^2;
grid: a complete k x k grid, n = k^2), averaged over several seeds. Each
seed is a new replication: a new training/validation split, new initial
weights and minibatches (shared by every trial of that seed, so that trials
differ only in their hyperparameters) and new random draws.
"""
from types import SimpleNamespace

import numpy as np

import ch06_hyperparameter_search as book_search  # the 6.5.3 script: the split and the book's training of a trial

LR_EXPONENTS = (-6, -2)  # the book's ranges, as powers of ten
WEIGHT_DECAY_EXPONENTS = (-8, -4)
TRAIN_SIZE = 500  # the first 500 MNIST training images, as in the book
VALIDATION_RATE = 0.2  # 20% of them held out for validation, as in the book
BATCH_SIZE = 100
END_POINT_SIDE = 3  # a 3x3 grid from end to end as well: it tries lr = 1e-2, the range's upper end
SPLIT_STREAM, DRAW_STREAM, NETWORK_STREAM = 1, 2, 3  # one random stream per purpose (session.rng)


def grid_values(exponents, k, end_points=False):
    """k values on a log scale: at the centres of k equal cells of 10^exponents, or from end to end."""
    low, high = exponents
    if end_points:
        return np.logspace(low, high, k)
    return 10.0 ** (low + (np.arange(k) + 0.5) * (high - low) / k)


def grid_trials(k, end_points=False):
    """The k x k grid of (lr, weight decay) pairs, lr-major, as Python floats (float32 training stays float32)."""
    return [(float(lr), float(wd)) for lr in grid_values(LR_EXPONENTS, k, end_points)
            for wd in grid_values(WEIGHT_DECAY_EXPONENTS, k, end_points)]


def random_trials(n, rng):
    """n (lr, weight decay) pairs drawn as the book draws them: weight decay first, then lr, on log scales."""
    trials = []
    for _ in range(n):
        weight_decay = float(10 ** rng.uniform(*WEIGHT_DECAY_EXPONENTS))
        lr = float(10 ** rng.uniform(*LR_EXPONENTS))
        trials.append((lr, weight_decay))
    return trials


def best_so_far(scores):
    """The best score among the first n, for n = 1, 2, ..."""
    return np.maximum.accumulate(np.asarray(scores, dtype=float))


class Replication:
    """One seed's split, initial weights and minibatches: every trial of that seed trains with them."""

    def __init__(self, session, seed_index, epochs, bar):
        (x, t), _ = session.mnist(TRAIN_SIZE, test_size=0)
        self.train, self.validation = book_search.split_validation(
            x, t, VALIDATION_RATE, session.rng(SPLIT_STREAM, seed_index))
        network_seed = int(session.rng(NETWORK_STREAM, seed_index).integers(2**31))
        self.options = SimpleNamespace(dtype="float32", epochs=epochs, batch_size=BATCH_SIZE, seed=network_seed)
        self.backend, self.bar, self.scores = session.backend, bar, {}

    def score(self, lr, weight_decay):
        """The validation accuracy the book's Trainer records last (6.5.3), each pair trained once."""
        if (lr, weight_decay) not in self.scores:
            validation_accuracy, _ = book_search.train_trial(self.options, self.backend, lr, weight_decay,
                                                             self.train, self.validation, self.bar)
            self.scores[(lr, weight_decay)] = float(validation_accuracy[-1])
        return self.scores[(lr, weight_decay)]


def run_seed(session, seed_index, sides, epochs, bar):
    """Random search of max(sides)^2 trials and a k x k grid for every k of ``sides``, on one replication."""
    replication = Replication(session, seed_index, epochs, bar)
    draws = random_trials(max(sides) ** 2, session.rng(DRAW_STREAM, seed_index))
    random_scores = [replication.score(*trial) for trial in draws]
    grids = {k: [replication.score(*trial) for trial in grid_trials(k)] for k in sides}
    end_point_grid = [replication.score(*trial) for trial in grid_trials(END_POINT_SIDE, end_points=True)]
    return {"random_trials": draws, "random_scores": random_scores,
            "random_best_so_far": best_so_far(random_scores).tolist(),
            "grid_scores": grids, "grid_best": {k: max(scores) for k, scores in grids.items()},
            "end_point_grid_scores": end_point_grid, "end_point_grid_best": max(end_point_grid),
            "training_images": len(replication.train[0]), "validation_images": len(replication.validation[0])}


def sensitivity(grid_scores, k):
    """How much the validation accuracy moves along each hyperparameter on the k x k grid.

    ``grid_scores`` is lr-major (``grid_trials``): the range of the row means (over the weight decays) and of
    the column means (over the learning rates).
    """
    table = np.asarray(grid_scores, dtype=float).reshape(k, k)
    along_lr, along_wd = table.mean(axis=1), table.mean(axis=0)
    return float(np.ptp(along_lr)), float(np.ptp(along_wd)), along_lr, along_wd


def run(session):
    sides = session.size(quick=(3,), full=(1, 2, 3, 4))
    seeds = session.size(quick=3, full=6)
    epochs = session.size(quick=15, full=50)
    largest = max(sides)
    iterations = int(epochs * max((TRAIN_SIZE - int(TRAIN_SIZE * VALIDATION_RATE)) / BATCH_SIZE, 1))
    pairs = {pair for k in sides for pair in grid_trials(k)} | set(grid_trials(END_POINT_SIDE, end_points=True))
    trials_per_seed = largest ** 2 + len(pairs)  # each pair is trained once
    session.say(f"hyperparameter search ({session.backend_name}): MultiLayerNet(784, [100]*6, 10), SGD, "
                f"lr 10^U{LR_EXPONENTS}, weight decay 10^U{WEIGHT_DECAY_EXPONENTS}, {epochs} epochs per trial, "
                f"{seeds} seeds, random {largest ** 2} trials against grids {', '.join(f'{k}x{k}' for k in sides)} "
                f"(cell centres) and {END_POINT_SIDE}x{END_POINT_SIDE} (end points)")
    with session.progress(seeds * trials_per_seed * iterations, "trials") as bar, \
            np.errstate(over="ignore", invalid="ignore"):  # a diverging trial is a result, not an error
        runs = [run_seed(session, s, sides, epochs, bar) for s in range(seeds)]

    (_, _), (x_test, _) = session.mnist(TRAIN_SIZE, test_size=0)
    session.record("setup", {"train_images": runs[0]["training_images"],
                             "validation_images": runs[0]["validation_images"],
                             "validation_from": f"the first {TRAIN_SIZE} MNIST training images",
                             "test_images_used": len(x_test), "epochs": epochs, "seeds": seeds,
                             "lr_exponents": LR_EXPONENTS, "weight_decay_exponents": WEIGHT_DECAY_EXPONENTS,
                             "grid_sides": sides, "random_trials": largest ** 2})
    session.record("runs", runs)

    report_sensitivity(session, runs, largest)
    comparison = report_comparison(session, runs, sides)
    conclude(session, runs, comparison, largest)
    session.figure(lambda fig: draw(fig, runs, sides, session.backend_name), figsize=(13, 4.2))


def report_sensitivity(session, runs, k):
    """The premise: along lr the validation accuracy moves much more than along the weight decay."""
    rows, spreads = [], []
    for s, result in enumerate(runs):
        lr_spread, wd_spread, along_lr, along_wd = sensitivity(result["grid_scores"][k], k)
        spreads.append((lr_spread, wd_spread))
        rows.append([s, " ".join(f"{a:.2f}" for a in along_lr), f"{lr_spread:.3f}",
                     " ".join(f"{a:.2f}" for a in along_wd), f"{wd_spread:.3f}"])
    spreads = np.asarray(spreads)
    session.record("sensitivity", {"grid_side": k, "lr_values": grid_values(LR_EXPONENTS, k),
                                   "weight_decay_values": grid_values(WEIGHT_DECAY_EXPONENTS, k),
                                   "accuracy_range_along_lr": spreads[:, 0],
                                   "accuracy_range_along_weight_decay": spreads[:, 1]})
    session.table(f"validation accuracy on the {k}x{k} grid, averaged along the other hyperparameter "
                  f"(lr {', '.join(f'{v:.2g}' for v in grid_values(LR_EXPONENTS, k))}; weight decay "
                  f"{', '.join(f'{v:.2g}' for v in grid_values(WEIGHT_DECAY_EXPONENTS, k))})",
                  ["seed", "per lr", "range along lr", "per weight decay", "range along weight decay"], rows)


def compare_at(runs, n, grid, grid_side, name):
    """Grid best against the best of the first n random trials, per seed: means and wins."""
    grid = np.asarray(grid, dtype=float)
    random = np.array([result["random_best_so_far"][n - 1] for result in runs])
    distinct_random = np.mean([len({lr for lr, _ in result["random_trials"][:n]}) for result in runs])
    return {"grid": name, "trials": n, "grid_side": grid_side, "grid_distinct_lr": grid_side,
            "random_distinct_lr": distinct_random, "grid_best": grid, "random_best": random,
            "grid_best_mean": grid.mean(), "random_best_mean": random.mean(),
            "random_wins": int(np.sum(random > grid)), "ties": int(np.sum(random == grid)),
            "grid_wins": int(np.sum(random < grid))}


def report_comparison(session, runs, sides):
    """Best validation accuracy after n = k^2 trials: each grid against the first n random trials."""
    comparison = {f"{k}x{k}": compare_at(runs, k * k, [result["grid_best"][k] for result in runs], k,
                                         "cell centres") for k in sides}
    k = END_POINT_SIDE
    comparison[f"{k}x{k} end points"] = compare_at(runs, k * k, [result["end_point_grid_best"] for result in runs],
                                                   k, "end points")
    rows = [[c["trials"], f"{c['grid_side']}x{c['grid_side']}, {c['grid']}", c["grid_distinct_lr"],
             f"{c['random_distinct_lr']:g}", f"{c['grid_best_mean']:.3f} ± {c['grid_best'].std():.3f}",
             f"{c['random_best_mean']:.3f} ± {c['random_best'].std():.3f}",
             f"{c['random_wins']}/{c['ties']}/{c['grid_wins']}"] for c in comparison.values()]
    curve = np.array([result["random_best_so_far"] for result in runs])
    session.record("random_best_so_far_mean", curve.mean(axis=0))
    session.record("comparison", comparison)
    session.table(f"best validation accuracy after n trials (mean ± sd over {len(runs)} seeds)",
                  ["trials n", "grid", "distinct lr, grid", "distinct lr, random", "grid best", "random best",
                   "random wins / ties / grid wins"], rows)
    return comparison


def conclude(session, runs, comparison, k):
    lr_range = np.mean(session.measured["sensitivity"]["accuracy_range_along_lr"])
    wd_range = np.mean(session.measured["sensitivity"]["accuracy_range_along_weight_decay"])
    session.conclude(
        "lr_matters_more", lr_range > 5 * wd_range,
        f"the learning rate matters far more than the weight decay: on the {k}x{k} grid the validation accuracy "
        f"moves by {lr_range:.3f} along lr but by {wd_range:.3f} along the weight decay (mean over seeds)",
        f"the learning rate does not dominate: the validation accuracy moves by {lr_range:.3f} along lr and "
        f"by {wd_range:.3f} along the weight decay on the {k}x{k} grid")
    c = comparison[f"{k}x{k}"]
    n = c["trials"]
    session.conclude(
        "random_beats_grid", c["random_best_mean"] > c["grid_best_mean"] and c["random_wins"] > c["grid_wins"],
        f"with the same {n} trials random search finds a better validation accuracy than the {k}x{k} grid: "
        f"{c['random_best_mean']:.3f} against {c['grid_best_mean']:.3f} (mean of {len(runs)} seeds; random better "
        f"in {c['random_wins']}, tied in {c['ties']}, worse in {c['grid_wins']}), because it tries "
        f"{c['random_distinct_lr']:g} distinct learning rates where the grid tries {k}",
        f"with the same {n} trials random search does not beat the {k}x{k} grid: {c['random_best_mean']:.3f} "
        f"against {c['grid_best_mean']:.3f} (random better in {c['random_wins']} seeds, tied in {c['ties']}, "
        f"worse in {c['grid_wins']}), although it tries {c['random_distinct_lr']:g} distinct learning rates to "
        f"the grid's {k}")
    e = comparison[f"{END_POINT_SIDE}x{END_POINT_SIDE} end points"]
    best_lr = grid_values(LR_EXPONENTS, END_POINT_SIDE, end_points=True)[-1]
    session.conclude(
        "end_point_grid_hits_the_best_lr", e["grid_best_mean"] >= e["random_best_mean"],
        f"a grid's result hinges on where its few lr values land: the {END_POINT_SIDE}x"
        f"{END_POINT_SIDE} grid from end to end tries lr = {best_lr:g}, the range's upper end where the accuracy "
        f"is highest, and scores {e['grid_best_mean']:.3f}, above random's {e['random_best_mean']:.3f} with the "
        f"same {e['trials']} trials",
        f"even the {END_POINT_SIDE}x{END_POINT_SIDE} grid from end to end, which tries lr = {best_lr:g}, scores "
        f"{e['grid_best_mean']:.3f} against random's {e['random_best_mean']:.3f} with the same {e['trials']} trials")


def draw(fig, runs, sides, backend_name):
    """Best-so-far against trials; every trial's validation accuracy against lr and against weight decay."""
    ax_best, ax_lr, ax_wd = fig.subplots(1, 3)
    curve = np.array([result["random_best_so_far"] for result in runs])
    n = np.arange(1, curve.shape[1] + 1)
    ax_best.plot(n, curve.mean(axis=0), "-o", markersize=3, label="random search (mean)")
    ax_best.fill_between(n, curve.min(axis=0), curve.max(axis=0), alpha=0.2, label="random: min to max")
    grid = np.array([[result["grid_best"][k] for k in sides] for result in runs])
    ax_best.errorbar([k * k for k in sides], grid.mean(axis=0), yerr=grid.std(axis=0), fmt="s--", capsize=3,
                     label="grid search k x k (mean ± sd)")
    end_points = [result["end_point_grid_best"] for result in runs]
    ax_best.errorbar([END_POINT_SIDE ** 2], [np.mean(end_points)], yerr=[np.std(end_points)], fmt="D", capsize=3,
                     label=f"grid {END_POINT_SIDE}x{END_POINT_SIDE} from end to end (mean ± sd)")
    ax_best.set(xlabel="trials", ylabel="best validation accuracy so far",
                title=f"best found after n trials ({len(runs)} seeds)")
    ax_best.legend(fontsize=8, loc="lower right")
    first, k = runs[0], max(sides)
    grid_pairs = grid_trials(k)
    for ax, index, label in ((ax_lr, 0, "learning rate"), (ax_wd, 1, "weight decay")):
        ax.scatter([trial[index] for trial in first["random_trials"]], first["random_scores"], marker="o",
                   label=f"random ({len(first['random_trials'])} trials)")
        ax.scatter([pair[index] for pair in grid_pairs], first["grid_scores"][k], marker="x", s=50,
                   label=f"grid {k}x{k}")
        ax.set(xscale="log", xlabel=label, ylabel="validation accuracy", title=f"every trial against {label} (seed 0)")
        ax.legend(fontsize=8, loc="upper left")
    fig.suptitle(f"random against grid search, MultiLayerNet(784, [100]*6, 10) on 400 + 100 MNIST images "
                 f"({backend_name})")
