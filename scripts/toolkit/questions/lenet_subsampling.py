"""Is LeNet's subsampling random? (chapter 8: "LeNet의 서브샘플링은 무작위인가?")

No. LeNet-5's subsampling layer (LeCun et al. 1998, ``Subsampling``) takes
each non-overlapping 2x2 window of a map, averages it, multiplies by a
trained coefficient and adds a trained bias, one pair per map c:

    out[c, y, x] = W[c] * (a[c, 2y, 2x] + a[c, 2y, 2x+1] + a[c, 2y+1, 2x] + a[c, 2y+1, 2x+1]) / 4 + b[c]

Nothing is drawn: the same input gives the same output, bit for bit. The
random pooling is a later idea, stochastic pooling (Zeiler & Fergus 2013):
in training each window outputs ONE of its elements, drawn with probability
proportional to its activation (which must be non-negative, as after a ReLU),

    p_i = a_i / sum_j a_j,   out = a_k with k drawn from p,

and at test time the probability-weighted average sum_i p_i a_i.

The experiment:

1. The project's LeNet (tanh, subsampling) is trained on MNIST; on one test
   image its S2 layer runs twice (bit-identical outputs) and is checked
   against the formula above computed by hand (float64) with its trained
   W and b.
2. LeNet's layer list with ReLU as the activation (stochastic pooling needs
   non-negative inputs; He initialisation) and S2/S4 being subsampling, max
   pooling, average pooling or stochastic pooling, all 2x2 stride 2, from
   the same initial weights, trained by Adam on the same minibatches for
   the same number of steps (in lockstep: a busy machine slows them alike):
   test accuracy and the median time per step. The project's tanh LeNet is
   the first row.
3. Stochastic pooling in training mode gives other outputs at every call on
   the same input, at test mode the same; drawn many times, each element of
   a window is picked as often as its probability says.

``LeNet`` takes no pooling choice, so the variants are built here from the
backend's public layers (``LayerNetwork``, ``Relu``, ``Pooling``,
``AvgPooling``, ``Subsampling``); stochastic pooling is not in the library
and is written below once per backend: NumPy with its backward pass, torch
from torch operators (``gather`` of the drawn indices) so autograd gives
the backward. Its draws come from ``session.rng``: the same seed, the same
draws, on both backends.
"""
import functools
import time
from collections import OrderedDict

import numpy as np

from ..experiments import smooth_curve

POOL = 2
MINIBATCH_STREAM, STOCHASTIC_STREAM, DEMO_STREAM = 1, 2, 3
POOLINGS = ("subsampling", "max", "average", "stochastic")


# ---------------------------------------------------------------------------------------------------------
# Stochastic pooling, once per backend
# ---------------------------------------------------------------------------------------------------------

def check_non_negative(smallest):
    if smallest < 0:
        raise ValueError(f"StochasticPooling needs non-negative inputs (put it after a ReLU or a sigmoid), "
                         f"got a smallest value of {float(smallest):.3g}")


class StochasticPooling:
    """Stochastic pooling (Zeiler & Fergus 2013) over ``pool`` x ``pool`` windows, stride ``pool``, in NumPy.

    Per window with non-negative activations a_1..a_m (m = pool^2, rows and
    columns that fill no window dropped, as in average pooling):

        p_i = a_i / sum_j a_j          (all zero: p = 0, the output is 0)
        training:  out = a_k, k drawn from p (inverse CDF: the first i with p_1 + ... + p_i > u, u ~ U[0, 1))
        test:      out = sum_i p_i a_i
        backward (training): dout goes to the drawn element, as max pooling's goes to the maximum.

    ``rng`` (a NumPy Generator) draws the u; ``forward(x, train_flg)`` as
    batch norm's (``takes_train_flg``: ``LayerNetwork`` passes it).
    """

    takes_train_flg = True

    def __init__(self, pool, rng):
        self.pool, self.rng = pool, rng
        self.x_shape = None
        self.chosen = None

    def _windows(self, x):
        """(N, C, OH, OW, pool*pool): each window's elements in a row, row-major."""
        N, C, H, W = x.shape
        p = self.pool
        oh, ow = H // p, W // p
        return x[:, :, :oh * p, :ow * p].reshape(N, C, oh, p, ow, p).transpose(0, 1, 2, 4, 3, 5).reshape(
            N, C, oh, ow, p * p)

    def forward(self, x, train_flg=False):
        x = np.asarray(x)
        check_non_negative(x.min())
        windows = self._windows(x)
        total = windows.sum(axis=-1, keepdims=True)
        probabilities = windows / np.where(total > 0, total, 1)
        self.x_shape = x.shape
        if not train_flg:
            self.chosen = None
            return (probabilities * windows).sum(axis=-1)
        u = self.rng.random(total.shape, dtype=np.float32).astype(x.dtype)
        below = np.cumsum(probabilities, axis=-1) <= u  # the CDF's steps below u: their count is k
        self.chosen = np.minimum(below.sum(axis=-1, keepdims=True), self.pool ** 2 - 1)
        return np.take_along_axis(windows, self.chosen, axis=-1)[..., 0]

    def backward(self, dout):
        if self.chosen is None:
            raise RuntimeError("StochasticPooling.backward needs a training forward (train_flg=True) first")
        N, C, H, W = self.x_shape
        p = self.pool
        oh, ow = dout.shape[2:]
        dwindows = np.zeros(dout.shape + (p * p,), dtype=dout.dtype)
        np.put_along_axis(dwindows, self.chosen, dout[..., None], axis=-1)
        dx = np.zeros(self.x_shape, dtype=dout.dtype)
        dx[:, :, :oh * p, :ow * p] = dwindows.reshape(N, C, oh, ow, p, p).transpose(0, 1, 2, 4, 3, 5).reshape(
            N, C, oh * p, ow * p)
        return dx


class TorchStochasticPooling(StochasticPooling):
    """The same stochastic pooling from torch operators; autograd differentiates it (through ``gather``,
    the gradient reaches the drawn element). The u come from the same NumPy generator: the same draws."""

    def _windows(self, x):
        N, C, H, W = x.shape
        p = self.pool
        oh, ow = H // p, W // p
        return x[:, :, :oh * p, :ow * p].reshape(N, C, oh, p, ow, p).permute(0, 1, 2, 4, 3, 5).reshape(
            N, C, oh, ow, p * p)

    def forward(self, x, train_flg=False):
        import torch

        check_non_negative(x.detach().min())
        windows = self._windows(x)
        total = windows.sum(dim=-1, keepdim=True)
        probabilities = windows / torch.where(total > 0, total, torch.ones_like(total))
        if not train_flg:
            return (probabilities * windows).sum(dim=-1)
        u = torch.from_numpy(self.rng.random(tuple(total.shape), dtype=np.float32)).to(x.dtype)
        below = torch.cumsum(probabilities.detach(), dim=-1) <= u
        chosen = below.sum(dim=-1, keepdim=True).clamp(max=self.pool ** 2 - 1)
        return windows.gather(-1, chosen).squeeze(-1)

    def backward(self, dout):
        raise RuntimeError("TorchStochasticPooling has no layer-wise backward: the network's gradient is autograd")


# ---------------------------------------------------------------------------------------------------------
# Networks from a list of layers, and their training (shared with the lrn question)
# ---------------------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def layer_list_class(backend):
    """``backend.LayerNetwork`` made of a given layer list: predict, loss, accuracy, gradient as LeNet's."""

    class LayerList(backend.LayerNetwork):
        """The ``layers`` (an OrderedDict) in order; ``params`` the arrays (tensors) they hold."""

        def __init__(self, layers, params, input_dim, dtype):
            self.layers, self.params = layers, params
            self.input_dim, self.dtype = tuple(input_dim), dtype
            self.last_layer = self._softmax_with_loss()

        def _param_gradients(self):
            """(NumPy) each parameter's gradient from the layer that holds it: dW, db, dgamma or dbeta."""
            grads = {}
            for layer in self.layers.values():
                for attr in ("W", "b", "gamma", "beta"):
                    for name, param in self.params.items():
                        if getattr(layer, attr, None) is param:
                            grads[name] = getattr(layer, "d" + attr)
            return grads

    return LayerList


def minibatches(session, train_size, steps, batch_size):
    """(steps, batch_size) image indices, drawn with replacement as in the book; the same for every network."""
    return session.rng(MINIBATCH_STREAM).integers(0, train_size, size=(steps, batch_size))


def train_together(session, networks, x, t, batches, lr=0.001):
    """Adam for each network on the same minibatches, in lockstep (every network takes step i before any
    takes step i + 1, so a busy machine slows them alike): {name: (losses, seconds of each step)}."""
    optimizers = {name: session.backend.Adam(lr=lr) for name in networks}
    losses = {name: [] for name in networks}
    seconds = {name: [] for name in networks}
    with session.progress(len(batches), f"training {len(networks)} networks") as bar:
        for batch in batches:
            x_batch, t_batch = x[batch], t[batch]
            for name, network in networks.items():
                start = time.perf_counter()
                grads = network.gradient(x_batch, t_batch)
                optimizers[name].update(network.params, grads)
                seconds[name].append(time.perf_counter() - start)
                losses[name].append(float(network.last_loss))
            bar.update()
    return {name: (losses[name], seconds[name]) for name in networks}


def final_loss(losses):
    """The mean loss of the last tenth of the steps."""
    return float(np.mean(losses[-max(len(losses) // 10, 1):]))


# ---------------------------------------------------------------------------------------------------------
# LeNet's layer list with another pooling
# ---------------------------------------------------------------------------------------------------------

def pooling_layer(session, lenet, pooling, channels, index):
    """The layer for S2 (index 2) or S4 of ``lenet``: 2x2, stride 2."""
    backend = session.backend
    if pooling == "subsampling":
        return backend.Subsampling(channels, POOL, dtype=lenet.dtype)
    if pooling == "max":
        return lenet._pooling(POOL, POOL, POOL, 0)  # the network's own (NumPy: the fast plug-in)
    if pooling == "average":
        return backend.AvgPooling(POOL, POOL, stride=POOL)
    stochastic = TorchStochasticPooling if session.torch else StochasticPooling
    return stochastic(POOL, session.rng(STOCHASTIC_STREAM, index))


def relu_lenet(session, pooling):
    """LeNet's layers with ReLU for tanh and ``pooling`` at S2 and S4 (He weights, the same for every pooling)."""
    backend = session.backend
    lenet = backend.LeNet(weight_init_std="he", seed=session.seed)
    layers = OrderedDict()
    for name, layer in lenet.layers.items():
        if name.startswith("Act"):
            layer = backend.Relu()
        elif name in ("S2", "S4"):
            layer = pooling_layer(session, lenet, pooling, lenet.layers[name].channels, int(name[1]))
        layers[name] = layer
    params = dict(lenet.params)
    for name in ("S2", "S4"):  # subsampling's coefficient and bias belong to its layer
        idx = name[1]
        if pooling == "subsampling":
            params[f"W{idx}"], params[f"b{idx}"] = layers[name].W, layers[name].b
        else:
            del params[f"W{idx}"], params[f"b{idx}"]
    return layer_list_class(backend)(layers, params, lenet.input_dim, lenet.dtype)


def count_parameters(network):
    return int(sum(np.prod(tuple(p.shape)) for p in network.params.values()))


# ---------------------------------------------------------------------------------------------------------
# The measurements
# ---------------------------------------------------------------------------------------------------------

def s2_input(session, lenet, image):
    """What a LeNet's S2 receives for one image: C1 then the activation, (1, 6, 28, 28)."""
    with session.no_grad():
        return lenet.layers["Act1"].forward(lenet.layers["C1"].forward(lenet._as_images(image)))


def subsampling_by_hand(a, W, b):
    """W[c] * the mean of each 2x2 window + b[c], in float64, written out from the four window positions."""
    a, W, b = (np.asarray(v, dtype=np.float64) for v in (a, W, b))
    window_sum = a[:, :, 0::2, 0::2] + a[:, :, 0::2, 1::2] + a[:, :, 1::2, 0::2] + a[:, :, 1::2, 1::2]
    return W[:, None, None] * window_sum / 4 + b[:, None, None]


def subsampling_demo(session, lenet, image):
    """S2 on one image, twice, and by hand: identical outputs and their distance from the formula."""
    s2 = lenet.layers["S2"]
    a = s2_input(session, lenet, image)
    with session.no_grad():
        first, second = (session.to_numpy(s2.forward(a)) for _ in range(2))
    a_np = session.to_numpy(a)
    W, b = session.to_numpy(s2.W), session.to_numpy(s2.b)
    by_hand = subsampling_by_hand(a_np, W, b)
    y, x = 7, 7  # one window in the middle of map 0
    window = a_np[0, 0, 2 * y:2 * y + 2, 2 * x:2 * x + 2].astype(np.float64)
    return {
        "identical": bool(np.array_equal(first, second)),
        "max_difference_between_calls": float(np.max(np.abs(first - second))),
        "max_difference_from_hand": float(np.max(np.abs(first - by_hand))),
        "coefficient": W, "bias": b,
        "window": window, "window_mean": float(window.mean()), "hand": float(by_hand[0, 0, y, x]),
        "layer": float(first[0, 0, y, x]), "window_at": (y, x),
        "maps": (a_np[0, 0], first[0, 0]),
    }


def calls_differ(session, layer, a, train_flg=None, calls=3):
    """Outputs of ``calls`` forward calls on the same input: the share of outputs that differ from the first.

    ``train_flg`` goes to the layers that take it (stochastic pooling)."""
    options = () if train_flg is None else (train_flg,)
    with session.no_grad():
        outputs = [session.to_numpy(layer.forward(a, *options)) for _ in range(calls)]
    return float(np.mean([np.mean(out != outputs[0]) for out in outputs[1:]]))


def sampling_frequencies(session, draws):
    """One 2x2 window drawn ``draws`` times in training mode: how often each element is picked, and p."""
    window = np.array([0.1, 0.6, 0.0, 0.3], dtype=np.float32)
    stochastic = TorchStochasticPooling if session.torch else StochasticPooling
    layer = stochastic(POOL, session.rng(DEMO_STREAM))
    x = np.tile(window.reshape(1, 1, POOL, POOL), (draws, 1, 1, 1))
    if session.torch:
        import torch
        x = torch.from_numpy(x)
    with session.no_grad():
        picked = session.to_numpy(layer.forward(x, train_flg=True)).reshape(-1)
        test_output = float(session.to_numpy(layer.forward(x[:1], train_flg=False)).reshape(-1)[0])
    frequencies = np.array([np.mean(picked == value) for value in window])
    probabilities = window / window.sum()
    return {"window": window, "probabilities": probabilities, "frequencies": frequencies,
            "test_output": test_output, "test_by_hand": float(np.sum(probabilities.astype(np.float64) * window))}


def run(session):
    steps = session.size(quick=120, full=1500)
    batch_size = 100
    train_size = session.size(quick=10000, full=60000)
    test_size = session.size(quick=2000, full=10000)
    draws = 20000
    (x_train, t_train), (x_test, t_test) = session.mnist(train_size, test_size, flatten=False)
    batches = minibatches(session, train_size, steps, batch_size)
    session.say(f"{steps} Adam steps (lr 0.001) of {batch_size} images from the first {train_size} training "
                f"images, the same minibatches for every network; test accuracy on {test_size} test images")

    # the project's LeNet, then LeNet's layers with ReLU and each pooling at S2 and S4
    networks = OrderedDict([("LeNet (tanh, subsampling)", session.backend.LeNet(seed=session.seed))])
    for pooling in POOLINGS:
        networks[f"ReLU, {pooling}"] = relu_lenet(session, pooling)
    results = OrderedDict()
    for name, (losses, seconds) in train_together(session, networks, x_train, t_train, batches).items():
        network = networks[name]
        results[name] = {"accuracy": network.accuracy(x_test, t_test), "final_loss": final_loss(losses),
                         "ms_per_step": 1000 * float(np.median(seconds)), "losses": losses,
                         "parameters": count_parameters(network)}
        session.say(f"{name}: test accuracy {results[name]['accuracy']:.4f}")
    session.record("steps", steps)
    session.record("batch_size", batch_size)
    session.record("train_size", train_size)
    session.record("test_size", test_size)
    for name, r in results.items():
        key = name.replace(" (tanh, subsampling)", "_tanh_subsampling").replace("ReLU, ", "relu_").lower()
        session.record(f"{key}_test_accuracy", r["accuracy"])
        session.record(f"{key}_final_loss", r["final_loss"])
        session.record(f"{key}_ms_per_step", r["ms_per_step"])
        session.record(f"{key}_parameters", r["parameters"])
    session.table("LeNet on MNIST with each pooling at S2 and S4 (same initial weights and minibatches)",
                  ["network", "parameters", "test accuracy", "final training loss", "ms per step (median)"],
                  [[name, r["parameters"], f"{r['accuracy']:.4f}", f"{r['final_loss']:.4f}",
                    f"{r['ms_per_step']:.1f}"] for name, r in results.items()])

    # 1. what S2 computes on one image
    lenet = networks["LeNet (tanh, subsampling)"]
    image = x_test[:1]
    demo = subsampling_demo(session, lenet, image)
    session.record("subsampling_identical_twice", demo["identical"])
    session.record("subsampling_max_difference_between_calls", demo["max_difference_between_calls"])
    session.record("subsampling_max_difference_from_hand", demo["max_difference_from_hand"])
    session.record("subsampling_trained_coefficients", demo["coefficient"])
    session.record("subsampling_trained_biases", demo["bias"])
    y, x = demo["window_at"]
    w = demo["window"]
    session.table(f"S2 of the trained LeNet on test image 0, map 0, window ({y}, {x}): "
                  "W[0] x the 2x2 average + b[0]",
                  ["a[0,0]", "a[0,1]", "a[1,0]", "a[1,1]", "average", "W[0]", "b[0]", "by hand", "the layer"],
                  [[f"{w[0, 0]:.6f}", f"{w[0, 1]:.6f}", f"{w[1, 0]:.6f}", f"{w[1, 1]:.6f}",
                    f"{demo['window_mean']:.6f}", f"{demo['coefficient'][0]:.6f}", f"{demo['bias'][0]:.6f}",
                    f"{demo['hand']:.7f}", f"{demo['layer']:.7f}"]])

    # 2. random or not: three calls on the same input
    stochastic_net = networks["ReLU, stochastic"]
    a = s2_input(session, stochastic_net, image)  # after C1 and ReLU: the same for max pooling's S2 input shape
    differ = {
        "subsampling": calls_differ(session, lenet.layers["S2"], s2_input(session, lenet, image)),
        "max pooling": calls_differ(session, networks["ReLU, max"].layers["S2"], a),
        "stochastic pooling, training": calls_differ(session, stochastic_net.layers["S2"], a, True),
        "stochastic pooling, test": calls_differ(session, stochastic_net.layers["S2"], a, False),
    }
    a_np = session.to_numpy(a)
    positives = (a_np.reshape(1, 6, 14, POOL, 14, POOL) > 0).sum(axis=(3, 5))
    undecided = float(np.mean(positives >= 2))  # windows where a draw has a choice
    session.record("stochastic_share_of_windows_with_two_or_more_positive", undecided)
    for name, share in differ.items():
        session.record(f"share_changed_between_calls_{name.replace(' pooling', '').replace(', ', '_')}", share)
    session.table("Three calls on the same image (S2): the share of outputs that differ from the first call",
                  ["layer", "share changed"], [[name, f"{share:.4f}"] for name, share in differ.items()])

    sampling = sampling_frequencies(session, draws)
    session.record("stochastic_window", sampling["window"])
    session.record("stochastic_probabilities", sampling["probabilities"])
    session.record("stochastic_frequencies", sampling["frequencies"])
    session.record("stochastic_draws", draws)
    session.record("stochastic_test_output", sampling["test_output"])
    session.record("stochastic_test_output_by_hand", sampling["test_by_hand"])
    frequency_gap = float(np.max(np.abs(sampling["frequencies"] - sampling["probabilities"])))
    session.record("stochastic_frequency_max_gap", frequency_gap)
    session.table(f"Stochastic pooling of one window, drawn {draws} times in training mode",
                  ["element", "activation", "p = a / sum a", "picked (share)"],
                  [[i, f"{v:.1f}", f"{p:.4f}", f"{f:.4f}"] for i, (v, p, f) in
                   enumerate(zip(sampling["window"], sampling["probabilities"], sampling["frequencies"]))])

    # the conclusions
    session.conclude(
        "subsampling_is_deterministic",
        demo["identical"] and demo["max_difference_from_hand"] < 1e-6,
        f"LeNet's subsampling is not random: S2 run twice on the same image gives bit-identical outputs "
        f"(largest difference {demo['max_difference_between_calls']:g}), and every output is W[c] x the 2x2 "
        f"average + b[c] with the trained W, b (largest difference from the hand computation in float64 "
        f"{demo['max_difference_from_hand']:.1e}, float32 rounding).",
        f"S2 run twice differs by {demo['max_difference_between_calls']:g} or the hand computation by "
        f"{demo['max_difference_from_hand']:.1e}: not the deterministic formula.")
    session.conclude(
        "stochastic_pooling_is_random",
        differ["stochastic pooling, training"] > 0.05 and differ["stochastic pooling, test"] == 0
        and differ["max pooling"] == 0 and frequency_gap < 0.02,
        f"The random pooling is stochastic pooling: in training {differ['stochastic pooling, training']:.1%} of "
        f"its outputs change from one call to the next on the same image (subsampling and max pooling: "
        f"{differ['subsampling']:.0%}, {differ['max pooling']:.0%}; its test mode {differ['stochastic pooling, test']:.0%}; "
        f"only the {undecided:.1%} of windows with two or more positive activations after the ReLU can change), "
        f"and over {draws} draws each element is picked with frequency within {frequency_gap:.4f} of a_i / sum a.",
        f"Stochastic pooling changed {differ['stochastic pooling, training']:.1%} of its outputs between "
        f"training calls, {differ['stochastic pooling, test']:.1%} at test; frequencies off by {frequency_gap:.4f}.")
    relu = {pooling: results[f"ReLU, {pooling}"]["accuracy"] for pooling in POOLINGS}
    spread = max(relu.values()) - min(relu.values())
    session.record("relu_accuracy_spread", spread)
    listing = ", ".join(f"{pooling} {acc:.4f}" for pooling, acc in relu.items())
    ms = {pooling: results[f"ReLU, {pooling}"]["ms_per_step"] for pooling in POOLINGS}
    session.conclude(
        "poolings_learn_alike",
        spread < 0.02,
        f"With the same budget the four poolings end within {spread:.4f} of each other ({listing}): the "
        f"deterministic subsampling learns as well as max pooling, and stochastic pooling's randomness does not "
        f"set it apart in this short run (it costs time here: {ms['stochastic']:.0f} ms per step against "
        f"{ms['max']:.0f} for max pooling).",
        f"The four poolings end {spread:.4f} apart ({listing}).")

    def draw(fig):
        axes = fig.subplots(2, 3)
        image_ax, a_ax, s2_ax, loss_ax, acc_ax, freq_ax = axes.reshape(-1)
        image_ax.imshow(np.asarray(image).reshape(28, 28), cmap="gray")
        image_ax.set_title("test image 0")
        a_map, s2_map = demo["maps"]
        a_ax.imshow(a_map, cmap="viridis")
        a_ax.set_title("C1 map 0 after tanh (28x28)")
        s2_ax.imshow(s2_map, cmap="viridis")
        s2_ax.set_title(f"S2 map 0 (14x14): W={demo['coefficient'][0]:.2f} x avg + b={demo['bias'][0]:.2f}",
                        fontsize=9)
        for ax in (image_ax, a_ax, s2_ax):
            ax.set_xticks([]), ax.set_yticks([])
        for name, r in results.items():
            loss_ax.plot(smooth_curve(np.asarray(r["losses"])), label=name)
        loss_ax.set_xlabel("step"), loss_ax.set_ylabel("training loss (smoothed)")
        loss_ax.set_yscale("log"), loss_ax.legend(fontsize=7)
        names = list(results)
        accuracies = [results[n]["accuracy"] for n in names]
        acc_ax.barh(range(len(names)), accuracies)
        for i, acc in enumerate(accuracies):
            acc_ax.text(acc, i, f" {acc:.4f}", va="center", fontsize=8)
        acc_ax.set_yticks(range(len(names)), [n.replace("ReLU, ", "ReLU + ") for n in names], fontsize=7)
        acc_ax.set_xlim(min(accuracies) - 0.01, max(accuracies) + 0.01), acc_ax.set_xlabel("test accuracy")
        positions = np.arange(POOL * POOL)
        freq_ax.bar(positions - 0.2, sampling["probabilities"], 0.4, label="p = a / sum a")
        freq_ax.bar(positions + 0.2, sampling["frequencies"], 0.4, label=f"picked, {draws} draws")
        freq_ax.set_xticks(positions, [f"a={v:.1f}" for v in sampling["window"]])
        freq_ax.set_title("stochastic pooling of one window"), freq_ax.legend(fontsize=7)
        fig.suptitle(f"Is LeNet's subsampling random? ({session.backend_name} backend)")

    session.figure(draw, figsize=(14, 8))
