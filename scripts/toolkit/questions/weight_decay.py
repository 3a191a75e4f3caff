"""weight-decay (chapter 6, hard): what does weight decay do, as lambda grows?

The book's overfitting set-up (6.4.1, ``scripts/ch06_overfit_regularization.py``,
whose training loop this reuses): ``MultiLayerNet(784, [100]*6, 10)`` learns
only the first 300 MNIST training images by SGD (lr 0.01, batch 100) for 201
epochs; train and test accuracy are measured after every epoch. Weight decay
(6.4.2) adds to the loss

    L = cross-entropy + 1/2 * lambda * sum over the layers of ‖W‖^2

(the weights only, not the biases), so each weight's gradient gets
+ lambda * W and plain SGD becomes

    W <- W - lr * (dL0/dW + lambda * W) = (1 - lr * lambda) * W - lr * dL0/dW:

every step shrinks the weights by the factor (1 - lr * lambda) before the
data's gradient acts. The experiment sweeps lambda over 0 (none), 0.001, ...,
0.3, every run from the same initial weights on the same minibatches, and
reports the final train and test accuracy, their gap and the size of the
weights ‖W‖ = sqrt(sum of every weight squared) against lambda.

Where the decay lives. Both backends' ``MultiLayerNet(weight_decay_lambda=...)``
keep the book's form: the penalty is part of the network's loss (scratch adds
lambda * W to the backpropagated gradient; reference lets autograd
differentiate the penalty). PyTorch usually puts it in the optimizer instead,
``torch.optim.SGD(params, weight_decay=lambda)``, which adds lambda * W to
the gradient of every parameter in the group (biases too, unless a parameter
group excludes them). With SGD the two are the same update; the experiment
measures that on one step: the network with the penalty against a network
without it whose weights (not biases) get the decay in the optimizer
(``torch.optim.SGD`` with parameter groups on the torch backend, the same
formula written out in NumPy on the scratch one). (With Adam they differ:
AdamW decouples the decay; not measured here.)
"""
import math
from types import SimpleNamespace

import numpy as np

import ch06_overfit_regularization as overfit

HIDDEN = [100] * 6
TRAIN_SIZE = 300  # 6.4.1: the first 300 training images
LR = 0.01
BATCH_SIZE = 100
EPOCHS = 201
BOOK_LAMBDA = 0.1  # 6.4.2


def run(session):
    backend = session.backend
    lambdas = session.size(quick=(0, 0.01, 0.1, 0.3), full=(0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3))
    test_size = session.size(quick=1000, full=10000)
    data = session.mnist(TRAIN_SIZE, test_size)
    session.say(f"weight decay ({session.backend_name} backend): MultiLayerNet(784, [100]*6, 10) on {TRAIN_SIZE} "
                f"training images, SGD lr {LR}, batch {BATCH_SIZE}, {EPOCHS} epochs, tested on {test_size} "
                f"test images; lambda in {list(lambdas)}")

    check_decay_is_optimizer_weight_decay(session, data)
    runs = {lam: train(session, lam, data) for lam in lambdas}
    report_sweep(session, runs)
    session.figure(lambda fig: draw(fig, runs, session.backend_name, test_size), figsize=(13, 7.5))


# ---------------------------------------------------------------------------
# The sweep
# ---------------------------------------------------------------------------

def build(session, lam):
    return session.backend.MultiLayerNet(784, HIDDEN, 10, weight_decay_lambda=lam, seed=session.seed)


def weights(network):
    """The weight matrices W1, W2, ... (not the biases: the decay leaves those alone)."""
    return [network.params[key] for key in network.params if key.startswith("W")]


def weight_norm(session, network):
    """‖W‖: the square root of the sum of every weight squared, over all the layers (float64)."""
    return math.sqrt(sum(float(np.sum(session.to_numpy(W).astype(np.float64) ** 2)) for W in weights(network)))


def train(session, lam, data):
    """Train one network with ``lam`` by the overfitting script's loop; its accuracy curves and weight norms."""
    network = build(session, lam)
    initial_norm = weight_norm(session, network)
    options = SimpleNamespace(lr=LR, seed=session.seed, batch_size=BATCH_SIZE, no_progress=session.args.no_progress)
    train_acc, test_acc = overfit.train_by_hand(options, session.backend, network, data, EPOCHS)
    final = {"train_acc": float(train_acc[-1]), "test_acc": float(test_acc[-1]),
             "gap": float(train_acc[-1] - test_acc[-1]), "weight_norm": weight_norm(session, network),
             "initial_weight_norm": initial_norm,
             "train_acc_per_epoch": [float(a) for a in train_acc], "test_acc_per_epoch": [float(a) for a in test_acc]}
    session.say(f"lambda {lam}: train acc {final['train_acc']:.4f}, test acc {final['test_acc']:.4f}, "
                f"‖W‖ {final['weight_norm']:.2f}")
    return final


def report_sweep(session, runs):
    lambdas = list(runs)
    session.record("lambdas", lambdas)
    for key in ("train_acc", "test_acc", "gap", "weight_norm"):
        session.record(f"final_{key}_by_lambda", [runs[lam][key] for lam in lambdas])
    session.record("initial_weight_norm", runs[lambdas[0]]["initial_weight_norm"])
    session.record("accuracy_per_epoch_by_lambda",
                   {str(lam): {"train": run["train_acc_per_epoch"], "test": run["test_acc_per_epoch"]}
                    for lam, run in runs.items()})
    session.table(f"After {EPOCHS} epochs on {TRAIN_SIZE} images (initial ‖W‖ "
                  f"{runs[lambdas[0]]['initial_weight_norm']:.2f})",
                  ["lambda", "train acc", "test acc", "gap", "‖W‖"],
                  [[f"{lam:g}", f"{r['train_acc']:.4f}", f"{r['test_acc']:.4f}", f"{r['gap']:.4f}",
                    f"{r['weight_norm']:.2f}"] for lam, r in runs.items()])

    none, book, strongest = runs[0], runs[BOOK_LAMBDA], runs[lambdas[-1]]
    norms = [runs[lam]["weight_norm"] for lam in lambdas]
    shrinking = all(later < earlier for earlier, later in zip(norms, norms[1:]))
    session.conclude(
        "weights_shrink", shrinking,
        f"The larger lambda, the smaller the weights: ‖W‖ falls at every step of the sweep, from "
        f"{norms[0]:.2f} (lambda 0) to {norms[-1]:.2f} (lambda {lambdas[-1]:g}).",
        f"‖W‖ does not fall at every step of the sweep: {', '.join(f'{n:.2f}' for n in norms)} "
        f"for lambda {', '.join(f'{lam:g}' for lam in lambdas)}.")
    session.conclude(
        "gap_closes", none["train_acc"] == 1.0 and book["train_acc"] < 1.0 and book["gap"] < none["gap"],
        f"Without decay the network learns its {TRAIN_SIZE} images perfectly (train acc {none['train_acc']:.4f}) "
        f"and tests at {none['test_acc']:.4f}: a gap of {none['gap']:.4f}. With the book's lambda {BOOK_LAMBDA} "
        f"train accuracy stops at {book['train_acc']:.4f} and the gap shrinks to {book['gap']:.4f} "
        f"(test acc {book['test_acc']:.4f}).",
        f"The book's lambda {BOOK_LAMBDA} does not close the gap: {none['gap']:.4f} without decay "
        f"(train {none['train_acc']:.4f}), {book['gap']:.4f} with it (train {book['train_acc']:.4f}).")
    peak_epoch = int(np.argmax(strongest["train_acc_per_epoch"]))
    peak = strongest["train_acc_per_epoch"][peak_epoch]
    session.record("strongest_lambda_peak_train_acc", {"epoch": peak_epoch, "train_acc": peak})
    session.conclude(
        "too_much_decay_underfits", strongest["train_acc"] < 0.5,
        f"Too much decay stops learning: at lambda {lambdas[-1]:g} the shrinking (a factor 1 - lr lambda per step) "
        f"outweighs the data's gradient; train accuracy climbs to {peak:.4f} (epoch {peak_epoch}), then falls back "
        f"to {strongest['train_acc']:.4f} (chance is 0.1) with ‖W‖ at {strongest['weight_norm']:.2f}: its gap of "
        f"{strongest['gap']:.4f} is that of a network that has learnt nothing.",
        f"Even lambda {lambdas[-1]:g} still fits: train acc {strongest['train_acc']:.4f}, "
        f"test acc {strongest['test_acc']:.4f}, ‖W‖ {strongest['weight_norm']:.2f}.")
    best = max(lambdas, key=lambda lam: runs[lam]["test_acc"])
    session.record("best_test_lambda", best)
    gain = runs[best]["test_acc"] - none["test_acc"]
    session.conclude(
        "test_accuracy", gain > 0.01,
        f"Test accuracy is highest at lambda {best:g}: {runs[best]['test_acc']:.4f} against {none['test_acc']:.4f} "
        f"without decay ({100 * gain:+.2f} points).",
        f"Test accuracy hardly moves: the best lambda, {best:g}, tests at {runs[best]['test_acc']:.4f} against "
        f"{none['test_acc']:.4f} without decay ({100 * gain:+.2f} points, under one point). The gap closes "
        f"because train accuracy falls, not because test accuracy rises.")


# ---------------------------------------------------------------------------
# Where the decay lives: in the loss (the book) or in the optimizer (PyTorch)
# ---------------------------------------------------------------------------

def check_decay_is_optimizer_weight_decay(session, data, lam=0.1):
    """One SGD step with the penalty in the loss against the decay in the optimizer: the largest difference.

    Also the penalty itself: loss(lambda) - loss(0) against 1/2 * lambda * sum ‖W‖^2. In float64 so the
    comparison is about the formula, not rounding.
    """
    backend = session.backend
    (x_train, t_train), _ = data
    x, t = x_train[:BATCH_SIZE].astype(np.float64), t_train[:BATCH_SIZE]
    with_penalty = backend.MultiLayerNet(784, HIDDEN, 10, weight_decay_lambda=lam, dtype="float64", seed=session.seed)
    without = backend.MultiLayerNet(784, HIDDEN, 10, dtype="float64", seed=session.seed)

    with session.no_grad():
        penalty = float(with_penalty.loss(x, t)) - float(without.loss(x, t))
        formula = 0.5 * lam * weight_norm(session, without) ** 2
    backend.SGD(lr=LR).update(with_penalty.params, with_penalty.gradient(x, t))
    sgd_with_weight_decay(session, without.params, without.gradient(x, t), lam)
    step_difference = max(float(np.max(np.abs(session.to_numpy(with_penalty.params[key])
                                               - session.to_numpy(without.params[key]))))
                          for key in with_penalty.params)
    session.record("penalty_check", {"lambda": lam, "loss_difference": penalty, "half_lambda_norm_squared": formula,
                                     "relative_error": abs(penalty - formula) / formula})
    session.record("optimizer_weight_decay_max_difference", step_difference)
    where = ("torch.optim.SGD(weight_decay=lambda) on the weights' parameter group" if session.torch
             else "W <- W - lr * (dL0/dW + lambda * W) in NumPy")
    session.table(f"Where the decay lives (lambda {lam}, float64): the penalty in the loss against {where}",
                  ["check", "value"],
                  [["loss(lambda) - loss(0)", f"{penalty:.12g}"],
                   ["1/2 lambda sum ‖W‖^2", f"{formula:.12g}"],
                   ["max abs difference of W, b after one step", f"{step_difference:.2g}"]])
    session.conclude(
        "decay_in_optimizer", step_difference < 1e-12 and abs(penalty - formula) <= 1e-12 * formula,
        f"The penalty in the loss adds exactly 1/2 lambda sum ‖W‖^2 ({penalty:.6f}), and one SGD step with it "
        f"equals the decay put in the optimizer ({where}) to {step_difference:.1g}: with SGD, "
        f"weight_decay_lambda and PyTorch's weight_decay are the same update (weights only).",
        f"The two places of the decay differ: {step_difference:.3g} after one step; penalty {penalty:.12g} "
        f"against 1/2 lambda ‖W‖^2 = {formula:.12g}.")


def sgd_with_weight_decay(session, params, grads, lam):
    """SGD with the decay in the optimizer, on the weights only (PyTorch's way, with a parameter group)."""
    if session.torch:
        import torch

        decayed = [key for key in params if key.startswith("W")]
        groups = [{"params": [params[key] for key in decayed], "weight_decay": lam},
                  {"params": [params[key] for key in params if key not in decayed], "weight_decay": 0.0}]
        optimizer = torch.optim.SGD(groups, lr=LR, foreach=False)
        for key, p in params.items():
            p.grad = grads[key].detach()
        optimizer.step()
        return
    for key in params:
        decay = lam * params[key] if key.startswith("W") else 0
        params[key] -= LR * (grads[key] + decay)


# ---------------------------------------------------------------------------
# The figure
# ---------------------------------------------------------------------------

def draw(fig, runs, backend_name, test_size):
    lambdas = list(runs)
    positions = np.arange(len(lambdas))  # lambda 0 has no place on a log axis: one tick per lambda
    labels = [f"{lam:g}" for lam in lambdas]
    top = fig.subfigures(2, 1)
    acc_ax, gap_ax, norm_ax = top[0].subplots(1, 3)
    acc_ax.plot(positions, [runs[lam]["train_acc"] for lam in lambdas], "o-", label="train")
    acc_ax.plot(positions, [runs[lam]["test_acc"] for lam in lambdas], "s--", label=f"test ({test_size} images)")
    acc_ax.set_ylabel("final accuracy")
    acc_ax.legend()
    gap_ax.plot(positions, [runs[lam]["gap"] for lam in lambdas], "o-", color="C3")
    gap_ax.set_ylabel("train - test accuracy")
    norm_ax.plot(positions, [runs[lam]["weight_norm"] for lam in lambdas], "o-", color="C2")
    norm_ax.axhline(runs[lambdas[0]]["initial_weight_norm"], color="gray", linestyle=":", label="initial")
    norm_ax.set_ylabel("‖W‖ after training")
    norm_ax.legend()
    for ax in (acc_ax, gap_ax, norm_ax):
        ax.set_xticks(positions, labels)
        ax.set_xlabel("lambda")
    shown = [lambdas[0], 0.1 if 0.1 in runs else lambdas[len(lambdas) // 2], lambdas[-1]]
    for ax, lam in zip(top[1].subplots(1, 3, sharey=True), shown):
        ax.plot(runs[lam]["train_acc_per_epoch"], label="train")
        ax.plot(runs[lam]["test_acc_per_epoch"], "--", label="test")
        ax.set_title(f"lambda {lam:g}")
        ax.set_xlabel("epochs")
        ax.set_ylim(0, 1.02)
        ax.legend(loc="lower right")
    fig.suptitle(f"Weight decay on {TRAIN_SIZE} training images, MultiLayerNet [100]*6 ({backend_name} backend)")
