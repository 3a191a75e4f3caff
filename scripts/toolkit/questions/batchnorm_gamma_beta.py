"""Batch norm's scale γ and shift β (6.3.1): what are they for?

In training mode batch norm normalises each unit over the minibatch and then
scales and shifts it by two learnt parameters per unit:

    x̂ = (x - μ_B) / sqrt(σ²_B + ε),    out = γ x̂ + β

(μ_B the batch mean, σ²_B the biased batch variance, ε = 1e-5 as PyTorch;
the book writes 1e-6). Normalising alone would force every unit's input to
the next activation to mean 0 and variance 1: for a sigmoid that is its
nearly linear middle. γ and β give the range back: the layer can choose any
mean and spread, and with γ = sqrt(σ²_B + ε), β = μ_B it becomes the
identity, so batch norm can undo itself (Ioffe & Szegedy 2015, 3.).

Three measurements, on the chosen backend's ``BatchNormalization`` and
``MultiLayerNetExtend``:

1. The identity, numerically: γ = sqrt(σ²_B + ε), β = μ_B on a float64 batch
   gives max |out - x| at rounding level; the unbiased variance or a
   forgotten ε do not (in inference mode the running statistics play μ_B's
   and σ²_B's part).
2. γ and β learnt against frozen at 1 and 0 (the optimizer is handed the
   parameters without the gamma/beta keys), with sigmoid (Xavier) and ReLU
   (He) in MultiLayerNetExtend(784, [20]*5, 10): Adam, the same initial
   weights and minibatches for both, several seeds; test accuracy and the
   final loss on the training images (inference mode, running statistics).
   The narrow layers make the network's capacity, and so what γ and β add to
   it, visible.
3. The learnt γ and β of each layer (their distributions in the figure).
"""
import numpy as np

HIDDEN = [20] * 5
OPTIMIZER, LEARNING_RATE, BATCH_SIZE = "Adam", 0.003, 100
EPS = 1e-5  # PyTorch's, as both backends' BatchNormalization
ACTIVATIONS = {"sigmoid": "sigmoid", "relu": "relu"}  # activation: weight_init_std (Xavier, He)
MODES = ("learnt", "frozen")
# the identity checks: γ and β from the statistics batch norm normalises with (float64, float32, inference
# mode), and two near misses
EXACT = "training, γ = sqrt(σ²_B + ε), β = μ_B (float64)"
FLOAT32 = "training, the same in float32"
UNBIASED = "training, unbiased σ² (n - 1)"
NO_EPS = "training, ε forgotten: γ = σ_B"
INFERENCE = "inference, γ = sqrt(running var + ε), β = running mean (float64)"
IDENTITY_STREAM, MINIBATCH_STREAM, NETWORK_STREAM = 1, 2, 3  # one random stream per purpose (session.rng)


# -- 1. batch norm can undo itself ------------------------------------------------------------------

def identity_batch(rng, n=100, channels=20, dtype="float64"):
    """A minibatch of pre-activations: each unit with its own mean (U(-3, 3)) and spread (10^U(-1, 1))."""
    means = rng.uniform(-3, 3, channels)
    spreads = 10 ** rng.uniform(-1, 1, channels)
    return (means + spreads * rng.standard_normal((n, channels))).astype(dtype)


def undo_error(session, x, gamma, beta, train_flg=True, running_mean=None, running_var=None):
    """max |out - x| for the backend's BatchNormalization(gamma, beta) on x."""
    layer = session.backend.BatchNormalization(gamma.astype(x.dtype), beta.astype(x.dtype), eps=EPS,
                                               running_mean=running_mean, running_var=running_var)
    with session.no_grad():
        out = session.to_numpy(layer.forward(x, train_flg=train_flg))
    return float(np.max(np.abs(out.astype(np.float64) - x.astype(np.float64))))


def identity_checks(session):
    """γ = sqrt(σ² + ε), β = μ (float64, float32, inference mode) and two near misses: {case: max |out - x|}."""
    rng = session.rng(IDENTITY_STREAM)
    x = identity_batch(rng)
    mu, var = x.mean(axis=0), x.var(axis=0)  # the biased batch variance: what batch norm divides by
    x32 = x.astype(np.float32)
    running_mean, running_var = rng.uniform(-3, 3, x.shape[1]), 10 ** rng.uniform(-2, 2, x.shape[1])
    return {
        EXACT: undo_error(session, x, np.sqrt(var + EPS), mu),
        FLOAT32: undo_error(session, x32, np.sqrt(x32.var(axis=0) + EPS), x32.mean(axis=0)),
        UNBIASED: undo_error(session, x, np.sqrt(x.var(axis=0, ddof=1) + EPS), mu),
        NO_EPS: undo_error(session, x, np.sqrt(var), mu),
        INFERENCE: undo_error(session, x, np.sqrt(running_var + EPS), running_mean, train_flg=False,
                              running_mean=running_mean, running_var=running_var),
    }


# -- 2. γ and β learnt against frozen -----------------------------------------------------------------

def trainable(network, mode):
    """The parameters the optimizer updates: all of them, or all but gamma* and beta* (frozen at 1 and 0)."""
    if mode == "learnt":
        return dict(network.params)
    return {key: value for key, value in network.params.items() if not key.startswith(("gamma", "beta"))}


def train(session, activation, mode, seed_index, batches, data):
    """One network trained on ``batches`` (index arrays); its test accuracy, final loss, γ and β per layer."""
    (x_train, t_train), (x_test, t_test) = data
    seed = int(session.rng(NETWORK_STREAM, seed_index).integers(2**31))
    network = session.backend.MultiLayerNetExtend(784, HIDDEN, 10, activation=activation,
                                                  weight_init_std=ACTIVATIONS[activation], use_batchnorm=True,
                                                  seed=seed)
    params = trainable(network, mode)
    optimizer = getattr(session.backend, OPTIMIZER)(lr=LEARNING_RATE)
    with session.progress(len(batches), f"{activation}, γ/β {mode}, seed {seed_index}") as bar:
        for batch in batches:
            grads = network.gradient(x_train[batch], t_train[batch])
            optimizer.update(params, grads)
            bar.update()
    with session.no_grad():
        loss = float(network.loss(x_train, t_train))
    layers = range(1, len(HIDDEN) + 1)
    return {"test_accuracy": float(network.accuracy(x_test, t_test)), "train_loss": loss,
            "gamma": [session.to_numpy(network.params[f"gamma{i}"]).tolist() for i in layers],
            "beta": [session.to_numpy(network.params[f"beta{i}"]).tolist() for i in layers]}


def compare(session, seeds, iterations, data):
    """{activation: {mode: [result per seed]}}: learnt and frozen from the same weights and minibatches."""
    train_size = len(data[0][0])
    results = {activation: {mode: [] for mode in MODES} for activation in ACTIVATIONS}
    for seed_index in range(seeds):
        batches = session.rng(MINIBATCH_STREAM, seed_index).choice(train_size, (iterations, BATCH_SIZE))
        for activation in ACTIVATIONS:
            for mode in MODES:
                results[activation][mode].append(train(session, activation, mode, seed_index, batches, data))
    return results


# -- the run --------------------------------------------------------------------------------------------

def run(session):
    checks = identity_checks(session)
    session.record("identity_max_abs_error", checks)
    session.table(f"batch norm undoing itself ({session.backend_name}): max |out - x| on a 100 x 20 batch, "
                  f"ε = {EPS:g}", ["γ and β", "max abs(out - x)"],
                  [[case, f"{error:.2e}"] for case, error in checks.items()])

    seeds = session.size(quick=2, full=4)
    iterations = session.size(quick=1000, full=2000)
    train_size, test_size = session.size(quick=(10000, 5000), full=(10000, 10000))
    data = session.mnist(train_size, test_size)
    session.say(f"MultiLayerNetExtend(784, {HIDDEN}, 10) with batch norm, {OPTIMIZER} lr {LEARNING_RATE}, "
                f"batch {BATCH_SIZE}, {iterations} iterations on {train_size} images, {seeds} seeds")
    results = compare(session, seeds, iterations, data)
    session.record("setup", {"hidden": HIDDEN, "optimizer": OPTIMIZER, "lr": LEARNING_RATE, "batch_size": BATCH_SIZE,
                             "iterations": iterations, "train_images": train_size, "test_images": test_size,
                             "seeds": seeds})
    session.record("training", results)

    gains = report_accuracy(session, results)
    report_parameters(session, results)
    conclude(session, checks, gains, results)
    session.figure(lambda fig: draw(fig, results, session.backend_name), figsize=(13, 6.5))


def report_accuracy(session, results):
    """Test accuracy and final training loss per activation and mode; the paired gain of learning γ and β."""
    rows, gains = [], {}
    for activation, by_mode in results.items():
        accuracy = {mode: np.array([r["test_accuracy"] for r in by_mode[mode]]) for mode in MODES}
        loss = {mode: np.array([r["train_loss"] for r in by_mode[mode]]) for mode in MODES}
        gain = accuracy["learnt"] - accuracy["frozen"]
        gains[activation] = {"per_seed": gain, "mean": gain.mean(),
                             "seed_spread": max(np.ptp(accuracy[mode]) for mode in MODES),
                             "loss_ratio": loss["frozen"].mean() / loss["learnt"].mean()}
        for mode in MODES:
            rows.append([activation, mode, " ".join(f"{a:.4f}" for a in accuracy[mode]),
                         f"{accuracy[mode].mean():.4f}", f"{loss[mode].mean():.4f}"])
        rows.append([activation, "learnt - frozen", " ".join(f"{g:+.4f}" for g in gain), f"{gain.mean():+.4f}",
                     f"× {gains[activation]['loss_ratio']:.2f} (frozen / learnt)"])
    session.record("gain_of_learning_gamma_beta", gains)
    session.table("γ and β learnt against frozen at 1 and 0: test accuracy per seed, mean, final training loss",
                  ["activation", "γ, β", "test accuracy per seed", "mean", "training loss"], rows)
    return gains


def layer_statistics(results, activation, name):
    """Per hidden layer: mean, sd, min and max of the learnt ``name`` (gamma or beta), pooled over seeds."""
    runs = results[activation]["learnt"]
    stats = []
    for layer in range(len(HIDDEN)):
        values = np.concatenate([run[name][layer] for run in runs])
        stats.append({"mean": values.mean(), "sd": values.std(), "min": values.min(), "max": values.max()})
    return stats


def report_parameters(session, results):
    rows, stats = [], {}
    for activation in results:
        stats[activation] = {name: layer_statistics(results, activation, name) for name in ("gamma", "beta")}
        for layer in range(len(HIDDEN)):
            g, b = stats[activation]["gamma"][layer], stats[activation]["beta"][layer]
            rows.append([activation, layer + 1, f"{g['mean']:.3f}", f"{g['sd']:.3f}",
                         f"{g['min']:.2f} .. {g['max']:.2f}", f"{b['mean']:+.3f}", f"{b['sd']:.3f}",
                         f"{b['min']:+.2f} .. {b['max']:+.2f}"])
    session.record("learnt_gamma_beta_per_layer", stats)
    session.table("the learnt γ and β per hidden layer (all seeds' units; they start at 1 and 0)",
                  ["activation", "layer", "γ mean", "γ sd", "γ range", "β mean", "β sd", "β range"], rows)


def conclude(session, checks, gains, results):
    exact, float32, unbiased, no_eps, inference = (checks[case] for case in (EXACT, FLOAT32, UNBIASED, NO_EPS,
                                                                             INFERENCE))
    session.conclude(
        "batch_norm_undoes_itself", exact < 1e-13 and inference < 1e-13 and unbiased > 1e3 * exact,
        f"batch norm can undo itself: with γ = sqrt(σ²_B + ε) and β = μ_B its output equals its input to "
        f"{exact:.1e} in float64 ({float32:.1e} in float32; in inference mode with the running statistics "
        f"{inference:.1e}); it has to be the biased batch variance and the same ε (unbiased: {unbiased:.1e}, "
        f"no ε: {no_eps:.1e})",
        f"γ = sqrt(σ²_B + ε), β = μ_B leaves max |out - x| = {exact:.1e} (inference {inference:.1e}, unbiased "
        f"variance {unbiased:.1e}): not the identity to rounding")
    sigmoid, relu = gains["sigmoid"], gains["relu"]
    gamma_sigmoid = np.mean([s["mean"] for s in session.measured["learnt_gamma_beta_per_layer"]["sigmoid"]["gamma"]])
    session.conclude(
        "sigmoid_needs_gamma_beta", np.all(sigmoid["per_seed"] > 0) and sigmoid["mean"] > sigmoid["seed_spread"],
        f"with sigmoid, learning γ and β raises the test accuracy in every seed, by {sigmoid['mean']:+.4f} on "
        f"average (more than the seed-to-seed spread, {sigmoid['seed_spread']:.4f}), and the training loss is "
        f"{sigmoid['loss_ratio']:.1f} times lower; the learnt γ grow to {gamma_sigmoid:.2f} on average, "
        f"spreading the sigmoid's inputs beyond its nearly linear middle",
        f"with sigmoid, learning γ and β changes the test accuracy by {sigmoid['mean']:+.4f} on average "
        f"(per seed {', '.join(f'{g:+.4f}' for g in sigmoid['per_seed'])}; seed spread "
        f"{sigmoid['seed_spread']:.4f}): no consistent gain measured")
    session.conclude(
        "relu_hardly_needs_gamma_beta", abs(relu["mean"]) < sigmoid["mean"] / 2,
        f"with ReLU, γ and β matter much less: learnt minus frozen is {relu['mean']:+.4f} on average (per seed "
        f"{', '.join(f'{g:+.4f}' for g in relu['per_seed'])}; sigmoid {sigmoid['mean']:+.4f}); ReLU(γx) = γ ReLU(x) "
        f"for γ > 0, so the next layer's weights can take over γ",
        f"with ReLU, learning γ and β changes the test accuracy by {relu['mean']:+.4f} on average, not less than "
        f"half the sigmoid's {sigmoid['mean']:+.4f}")


def draw(fig, results, backend_name):
    """Top: histograms of the learnt γ per layer (sigmoid, ReLU); bottom: of the learnt β."""
    axes = fig.subplots(2, 2)
    colors = [f"C{layer}" for layer in range(len(HIDDEN))]
    for column, activation in enumerate(results):
        runs = results[activation]["learnt"]
        for row, (name, symbol, start) in enumerate((("gamma", "γ", 1.0), ("beta", "β", 0.0))):
            ax = axes[row, column]
            values = [np.concatenate([run[name][layer] for run in runs]) for layer in range(len(HIDDEN))]
            ax.hist(values, bins=20, histtype="step", color=colors,
                    label=[f"layer {i + 1}" for i in range(len(HIDDEN))])
            ax.axvline(start, color="gray", linestyle=":", label=f"frozen {symbol} = {start:g}")
            ax.set(xlabel=f"learnt {symbol}", ylabel="units", title=f"{activation}: learnt {symbol} per layer")
    axes[0, 1].legend(fontsize=8)
    fig.suptitle(f"batch norm's learnt scale γ and shift β, MultiLayerNetExtend(784, {HIDDEN}, 10) "
                 f"({backend_name})")
