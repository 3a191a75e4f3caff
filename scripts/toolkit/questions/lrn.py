"""What does LRN, local response normalisation, do? (chapter 8: "LRN(국소적 응답 정규화)은 무엇을 하나?")

AlexNet (Krizhevsky et al. 2012, section 3.3) divides each channel's
response at a position by the energy of the neighbouring channels at the
same position, as PyTorch's ``F.local_response_norm`` computes it
(``LocalResponseNorm``):

    b_c = a_c / (k + alpha/n * sum_{c' = c - n//2}^{c + (n-1)//2} a_c'^2)^beta

with zeros for the channels outside 0..C-1 (the window is cut at the edges,
the sum still divided by n). A strong response next to a weak one makes the
weak one weaker: lateral inhibition. The paper writes alpha on the plain sum
(n = 5, k = 2, alpha = 1e-4, beta = 0.75), so the project's AlexNet passes
PyTorch's alpha = 5 x 1e-4.

The experiment:

1. On one position of eight channels, one of them strong, b_c is computed
   by hand (a Python loop over the window, float64) and by the backend's
   layer, with illustrative constants (n = 3, k = 1, alpha/n = 1,
   beta = 0.5: b_c = a_c / sqrt(1 + sum of squares)) and with AlexNet's.
2. The project's small AlexNet for MNIST (the one chapter 8 trains) with
   LRN, without it, with LRN's constant factor k^-beta alone (LRN with
   alpha = 0) and with per-channel batch norm in its place (after the ReLU,
   where LRN was), from the same initial weights and dropout
   masks, trained by Adam on the same minibatches of a MNIST subset, in
   lockstep (a busy machine slows them alike): test accuracy and the median
   time of a training step; and the LRN layers' own forward and backward
   time.
3. How far AlexNet's LRN is from a constant: the factors d^-beta over a
   training batch at the first LRN, against k^-beta; and the trained
   network with both LRN layers replaced by that constant (LRN with
   alpha = 0), evaluated without retraining.

``AlexNet`` has no LRN or batch-norm option, so the variants are its layer
list with the LRN layers removed or replaced (``LayerNetwork``, the
backend's ``BatchNormalization``).
"""
import time
from collections import OrderedDict

import numpy as np

from ..experiments import smooth_curve
from .lenet_subsampling import final_loss, layer_list_class, minibatches, train_together

ILLUSTRATIVE = {"size": 3, "alpha": 3.0, "beta": 0.5, "k": 1.0}  # alpha/n = 1: b = a / sqrt(1 + sum a^2)
ALEXNET = {"size": 5, "alpha": 5e-4, "beta": 0.75, "k": 2.0}  # the paper's constants, PyTorch's alpha
EXAMPLE = (1.0, 1.0, 1.0, 8.0, 1.0, 1.0, 1.0, 1.0)  # eight channels at one position, channel 3 strong
VARIANTS = ("LRN", "no LRN", "constant k^-beta", "batch norm")


# ---------------------------------------------------------------------------------------------------------
# 1. The formula by hand
# ---------------------------------------------------------------------------------------------------------

def window_of(c, channels, size):
    """The channels in c's window that exist: c - size//2 .. c + (size-1)//2, cut at 0 and channels - 1."""
    return range(max(c - size // 2, 0), min(c + (size - 1) // 2, channels - 1) + 1)


def lrn_by_hand(a, size, alpha, beta, k):
    """Per channel: the window, its sum of squares, the denominator and b_c, one channel at a time."""
    rows = []
    for c, a_c in enumerate(a):
        window = window_of(c, len(a), size)
        energy = sum(a[j] ** 2 for j in window)
        d = k + alpha / size * energy
        rows.append({"channel": c, "a": a_c, "window": (window.start, window.stop - 1), "energy": energy,
                     "d": d, "b": a_c / d ** beta})
    return rows


def lrn_by_layer(session, a, size, alpha, beta, k):
    """The backend's ``LocalResponseNorm`` on the channels ``a`` at one position (float64)."""
    x = np.asarray(a, dtype=np.float64).reshape(1, -1, 1, 1)
    with session.no_grad():
        return session.to_numpy(session.backend.LocalResponseNorm(size, alpha, beta, k).forward(x)).reshape(-1)


# ---------------------------------------------------------------------------------------------------------
# 2. AlexNet with LRN, without, with batch norm in its place
# ---------------------------------------------------------------------------------------------------------

def scale_and_shift(session, channels, like):
    """Batch norm's gamma = 1 and beta = 0 for ``channels``, in the parameters' kind (tensors with grad)."""
    if session.torch:
        import torch
        return (torch.ones(channels, dtype=like.dtype, requires_grad=True),
                torch.zeros(channels, dtype=like.dtype, requires_grad=True))
    return np.ones(channels, dtype=like.dtype), np.zeros(channels, dtype=like.dtype)


def alexnet_variant(session, variant):
    """The project's AlexNet (``seed``: the same weights and dropout masks), its LRN layers kept, removed,
    replaced by their constant factor k^-beta (LRN with alpha = 0) or by batch norm over the same channels."""
    alexnet = session.backend.AlexNet(seed=session.seed)
    if variant == "LRN":
        return alexnet
    if variant == "constant k^-beta":
        return lrn_as_constant(session, alexnet)
    layers, params = OrderedDict(), dict(alexnet.params)
    channels = None
    for name, layer in alexnet.layers.items():
        if name.startswith("Conv"):
            channels = layer.W.shape[0]
        if not name.startswith("LRN"):
            layers[name] = layer
        elif variant == "batch norm":
            idx = name[len("LRN"):]
            gamma, beta = scale_and_shift(session, channels, layer_like(alexnet))
            params[f"gamma{idx}"], params[f"beta{idx}"] = gamma, beta
            layers[f"BatchNorm{idx}"] = alexnet._batch_norm(gamma, beta)
    return layer_list_class(session.backend)(layers, params, alexnet.input_dim, alexnet.dtype)


def lrn_as_constant(session, alexnet):
    """The trained ``alexnet`` with each LRN replaced by LRN with alpha = 0: b_c = a_c / k^beta, a constant
    factor (the same parameters, nothing retrained)."""
    layers = OrderedDict(
        (name, session.backend.LocalResponseNorm(layer.size, 0.0, layer.beta, layer.k) if name.startswith("LRN")
         else layer) for name, layer in alexnet.layers.items())
    return layer_list_class(session.backend)(layers, alexnet.params, alexnet.input_dim, alexnet.dtype)


def predictions(session, network, x, batch_size=500):
    """The predicted classes of ``x`` (test mode), in batches."""
    with session.no_grad():
        return np.concatenate([np.argmax(session.to_numpy(network.predict(x[i:i + batch_size])), axis=1)
                               for i in range(0, len(x), batch_size)])


def layer_like(network):
    """A parameter of ``network``: its dtype (and kind) for new parameters."""
    return next(iter(network.params.values()))


def lrn_layer_seconds(session, alexnet, images, repeats):
    """The median seconds of the LRN layers' forward and backward on one training batch of ``alexnet``."""
    backend, inputs, x = session.backend, {}, alexnet._as_images(images)
    with session.no_grad():
        for name, layer in alexnet.layers.items():
            if name.startswith("LRN"):
                inputs[name] = x
            x = layer.forward(x, True) if backend.takes_train_flg(layer) else layer.forward(x)
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        for name, a in inputs.items():
            layer = alexnet.layers[name]
            out = layer.forward(a)
            layer.backward(ones_like(out))  # dL/db = 1
        seconds.append(time.perf_counter() - start)
    return float(np.median(seconds)), inputs


def ones_like(x):
    """Ones of ``x``'s shape and kind (array or tensor)."""
    return x.new_ones(x.shape) if hasattr(x, "new_ones") else np.ones_like(x)


def denominators(session, alexnet, a):
    """d = k + alpha/n * the window's sum of squares at AlexNet's first LRN, for its input ``a``."""
    a = session.to_numpy(a).astype(np.float64)
    layer = alexnet.layers["LRN1"]
    n = layer.size
    squares = np.zeros((a.shape[0], a.shape[1] + n - 1) + a.shape[2:])
    squares[:, n // 2:n // 2 + a.shape[1]] = a ** 2
    energy = sum(squares[:, o:o + a.shape[1]] for o in range(n))  # the window of c: c - n//2 .. c + (n-1)//2
    return layer.k + layer.alpha / n * energy, layer.k, layer.beta


def run(session):
    steps = session.size(quick=60, full=800)
    batch_size = 50
    train_size = session.size(quick=5000, full=20000)
    test_size = session.size(quick=1000, full=5000)

    # 1. the formula by hand against the layer
    checks = {}
    for label, constants in (("illustrative", ILLUSTRATIVE), ("AlexNet", ALEXNET)):
        hand = lrn_by_hand(EXAMPLE, **constants)
        layer = lrn_by_layer(session, EXAMPLE, **constants)
        checks[label] = {"hand": hand, "layer": layer,
                         "max_difference": float(max(abs(r["b"] - b) for r, b in zip(hand, layer)))}
        session.record(f"example_{label}_b_by_hand", [r["b"] for r in hand])
        session.record(f"example_{label}_b_by_layer", layer)
        session.record(f"example_{label}_max_difference", checks[label]["max_difference"])
        c = constants
        session.table(f"LRN of one position, {label} constants (n={c['size']}, k={c['k']:g}, "
                      f"alpha/n={c['alpha'] / c['size']:g}, beta={c['beta']:g}): b_c = a_c / (k + alpha/n * "
                      f"sum of a^2 over the window)^beta",
                      ["c", "a_c", "window", "sum a^2", "d", "b_c by hand", "b_c, the layer", "b_c / a_c"],
                      [[r["channel"], f"{r['a']:g}", f"{r['window'][0]}..{r['window'][1]}", f"{r['energy']:g}",
                        f"{r['d']:.6g}", f"{r['b']:.12f}", f"{b:.12f}", f"{r['b'] / r['a']:.4f}"]
                       for r, b in zip(hand, layer)])
    illustrative = checks["illustrative"]["hand"]
    neighbour, far, edge = illustrative[2]["b"], illustrative[6]["b"], illustrative[7]["b"]
    session.record("example_neighbour_of_strong_b", neighbour)
    session.record("example_far_from_strong_b", far)
    session.record("example_edge_b", edge)

    # 2. AlexNet four ways
    (x_train, t_train), (x_test, t_test) = session.mnist(train_size, test_size, flatten=False)
    batches = minibatches(session, train_size, steps, batch_size)
    session.say(f"{steps} Adam steps (lr 0.001) of {batch_size} images from the first {train_size} training "
                f"images, the same minibatches, weights and dropout masks for each; test accuracy on {test_size}")
    networks = OrderedDict((variant, alexnet_variant(session, variant)) for variant in VARIANTS)
    results = OrderedDict()
    for variant, (losses, seconds) in train_together(session, networks, x_train, t_train, batches).items():
        network = networks[variant]
        results[variant] = {"network": network, "losses": losses, "accuracy": network.accuracy(x_test, t_test),
                            "final_loss": final_loss(losses), "ms_per_step": 1000 * float(np.median(seconds))}
        session.say(f"AlexNet, {variant}: test accuracy {results[variant]['accuracy']:.4f}, "
                    f"{results[variant]['ms_per_step']:.0f} ms per step")
    alexnet = results["LRN"]["network"]
    lrn_seconds, lrn_inputs = lrn_layer_seconds(session, alexnet, x_train[batches[0]], repeats=session.size(3, 10))
    lrn_ms = 1000 * lrn_seconds
    for variant, r in results.items():
        key = variant.lower().replace(" ", "_").replace("^-", "_minus_")
        session.record(f"alexnet_{key}_test_accuracy", r["accuracy"])
        session.record(f"alexnet_{key}_final_loss", r["final_loss"])
        session.record(f"alexnet_{key}_first_step_loss", r["losses"][0])
        session.record(f"alexnet_{key}_ms_per_step", r["ms_per_step"])
    session.record("lrn_layers_forward_backward_ms", lrn_ms)
    session.record("steps", steps)
    session.record("batch_size", batch_size)
    session.record("train_size", train_size)
    session.record("test_size", test_size)
    session.table(f"AlexNet on MNIST ({steps} steps of {batch_size}, the same weights, minibatches and dropout)",
                  ["variant", "test accuracy", "first-step loss", "final training loss", "ms per step (median)"],
                  [[f"AlexNet, {v}", f"{r['accuracy']:.4f}", f"{r['losses'][0]:.4f}", f"{r['final_loss']:.4f}",
                    f"{r['ms_per_step']:.1f}"] for v, r in results.items()])

    # 3. how far from a constant is AlexNet's LRN after training
    d, k, beta = denominators(session, alexnet, lrn_inputs["LRN1"])
    scale = d ** -beta
    quantiles = np.quantile(scale, [0.0, 0.01, 0.5, 0.99, 1.0])
    session.record("alexnet_lrn1_scale_quantiles_0_1_50_99_100", quantiles)
    session.record("alexnet_lrn1_scale_of_k", k ** -beta)
    session.table(f"AlexNet's first LRN after training, one batch: the factor d^-beta each activation is "
                  f"multiplied by (k^-beta = {k ** -beta:.4f})",
                  ["min", "1%", "median", "99%", "max"], [[f"{q:.4f}" for q in quantiles]])
    constant = lrn_as_constant(session, alexnet)
    with_lrn, with_constant = predictions(session, alexnet, x_test), predictions(session, constant, x_test)
    constant_acc = float(np.mean(with_constant == t_test))
    changed = float(np.mean(with_lrn != with_constant))
    session.record("alexnet_lrn_as_constant_test_accuracy", constant_acc)
    session.record("alexnet_lrn_as_constant_share_of_predictions_changed", changed)
    session.table("The trained AlexNet with its LRN layers replaced by the constant k^-beta (LRN with alpha = 0), "
                  "nothing retrained",
                  ["LRN", "test accuracy", "predictions changed"],
                  [["a_c / (k + alpha/n * sum a^2)^beta", f"{results['LRN']['accuracy']:.4f}", ""],
                   [f"a_c / k^beta = {k ** -beta:.4f} a_c", f"{constant_acc:.4f}", f"{changed:.2%}"]])

    # the conclusions
    worst = max(check["max_difference"] for check in checks.values())
    session.conclude(
        "formula_by_hand", worst < 1e-12,
        f"The layer computes b_c = a_c / (k + alpha/n * sum of a_c'^2 over the zero-padded window)^beta: by hand "
        f"and by the layer agree to {worst:.1e} (float64) with both sets of constants.",
        f"The hand formula and the layer differ by {worst:.1e}.")
    session.conclude(
        "neighbours_inhibit", neighbour < 0.5 * far,
        f"A channel is divided by its neighbours' energy: with the illustrative constants a response of 1 next "
        f"to the 8 becomes {neighbour:.4f}, far from it {far:.4f} (at the edge, where the window is cut and "
        f"padded with zeros, {edge:.4f}); the strong channel itself keeps {illustrative[3]['b']:.4f} of 8.",
        f"A response of 1 next to the 8 became {neighbour:.4f}, far from it {far:.4f}.")
    lrn_acc, none_acc, bn_acc = (results[v]["accuracy"] for v in ("LRN", "no LRN", "batch norm"))
    session.conclude(
        "lrn_is_nearly_constant_here", quantiles[3] / quantiles[1] < 1.01 and changed < 0.005,
        f"In this AlexNet on MNIST, with the paper's constants, LRN is nearly a constant factor: 98% of the first "
        f"LRN's activations are multiplied by {quantiles[1]:.4f}-{quantiles[3]:.4f} (k^-beta = {k ** -beta:.4f}: "
        f"the activations are too small for alpha/n = 1e-4 to matter), and replacing both LRN layers of the "
        f"trained network by x k^-beta changes {changed:.2%} of its test predictions.",
        f"The first LRN's factors span {quantiles[1]:.4f}-{quantiles[3]:.4f} (1% to 99%); replacing LRN by its "
        f"constant k^-beta changes {changed:.2%} of the test predictions.")
    constant_trained_acc = results["constant k^-beta"]["accuracy"]
    gap = {variant: float(np.mean(np.abs(np.subtract(results[variant]["losses"], results["LRN"]["losses"]))))
           for variant in ("no LRN", "constant k^-beta", "batch norm")}
    for variant, value in gap.items():
        session.record(f"mean_loss_gap_to_lrn_{variant.lower().replace(' ', '_').replace('^-', '_minus_')}", value)
    first = {variant: r["losses"][0] for variant, r in results.items()}
    session.conclude(
        "lrn_training_is_its_constant_factor",
        abs(first["constant k^-beta"] / first["LRN"] - 1) < 0.001 < abs(first["no LRN"] / first["LRN"] - 1)
        and abs(constant_trained_acc - lrn_acc) < abs(none_acc - lrn_acc),
        f"Accordingly, what LRN does to the training here its constant factor does: trained with x k^-beta in "
        f"its place, the first step's loss is {first['constant k^-beta']:.4f} (LRN {first['LRN']:.4f}, without "
        f"either {first['no LRN']:.4f}: the factor 0.59 on two layers shrinks the initial scores) and the test "
        f"accuracy {constant_trained_acc:.4f} (LRN {lrn_acc:.4f}, without either {none_acc:.4f}); over all steps "
        f"the minibatch losses differ from LRN's by {gap['constant k^-beta']:.4f} on average with the constant, "
        f"{gap['no LRN']:.4f} without.",
        f"Trained with x k^-beta in LRN's place: first-step loss {first['constant k^-beta']:.4f} (LRN "
        f"{first['LRN']:.4f}, without {first['no LRN']:.4f}), test accuracy {constant_trained_acc:.4f} (LRN "
        f"{lrn_acc:.4f}, without {none_acc:.4f}).")
    lrn_share = lrn_ms / results["LRN"]["ms_per_step"]
    session.record("lrn_share_of_step", lrn_share)
    session.conclude(
        "lrn_costs_time", lrn_share > 0.05,
        f"LRN costs time: its two layers' forward and backward take {lrn_ms:.0f} ms of a "
        f"{results['LRN']['ms_per_step']:.0f} ms step ({lrn_share:.0%}); a step without LRN takes "
        f"{results['no LRN']['ms_per_step']:.0f} ms (medians, the four networks trained in lockstep).",
        f"LRN's two layers take {lrn_ms:.0f} ms of a {results['LRN']['ms_per_step']:.0f} ms step ({lrn_share:.0%}); "
        f"a step without LRN takes {results['no LRN']['ms_per_step']:.0f} ms.")
    session.conclude(
        "batch_norm_in_its_place", bn_acc >= lrn_acc,
        f"Batch norm in LRN's place learns at least as well: {bn_acc:.4f} against {lrn_acc:.4f} with LRN, in "
        f"{results['batch norm']['ms_per_step']:.0f} ms per step.",
        f"Batch norm in LRN's place reached {bn_acc:.4f}, below LRN's {lrn_acc:.4f}.")

    def draw(fig):
        example_ax, loss_ax, time_ax = fig.subplots(1, 3)
        channels = np.arange(len(EXAMPLE))
        example_ax.bar(channels - 0.3, EXAMPLE, 0.3, label="a_c")
        example_ax.bar(channels, [r["b"] for r in illustrative], 0.3, label="b_c, illustrative (n=3)")
        example_ax.bar(channels + 0.3, checks["AlexNet"]["layer"], 0.3, label="b_c, AlexNet's constants")
        example_ax.set_yscale("log"), example_ax.set_xlabel("channel c"), example_ax.legend(fontsize=7)
        example_ax.set_title("one position: the 8 inhibits its neighbours", fontsize=10)
        for variant, r in results.items():
            loss_ax.plot(smooth_curve(np.asarray(r["losses"])), label=f"{variant} ({r['accuracy']:.4f})")
        loss_ax.set_xlabel("step"), loss_ax.set_ylabel("training loss (smoothed)"), loss_ax.set_yscale("log")
        loss_ax.legend(fontsize=7, title="test accuracy", title_fontsize=7)
        loss_ax.set_title("AlexNet on MNIST", fontsize=10)
        names = list(results) + ["LRN layers alone"]
        times = [r["ms_per_step"] for r in results.values()] + [lrn_ms]
        time_ax.barh(range(len(names)), times)
        time_ax.set_yticks(range(len(names)), names)
        time_ax.set_xlabel("ms per training step (median)"), time_ax.set_title("time", fontsize=10)
        fig.suptitle(f"What does LRN do? ({session.backend_name} backend)")

    session.figure(draw, figsize=(15, 4.5))
