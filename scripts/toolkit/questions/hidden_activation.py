"""Is the hidden layers' activation function arbitrary? (chapter 3)

The same fully connected network, 784 -> 100 -> 100 -> 100 -> 100 -> 10,
is trained five times with a different hidden activation h (chapter 3):

    step      h(a) = 1 if a > 0 else 0          h'(a) = 0 (a != 0)
    identity  h(a) = a                          h'(a) = 1
    sigmoid   h(a) = 1 / (1 + exp(-a))          h'(a) = h(a) (1 - h(a)) <= 1/4
    tanh      h(a) = tanh a                     h'(a) = 1 - h(a)^2 <= 1
    ReLU      h(a) = max(0, a)                  h'(a) = 1 if a > 0 else 0

from the same initial draws, scaled by Xavier's sqrt(1/n) (step, identity,
sigmoid, tanh) or He's sqrt(2/n) (ReLU) (6.2), on the same minibatches with
the same optimizer and number of iterations. What it measures:

- test accuracy after training, beside softmax regression (784 -> 10, no
  hidden layer) trained the same way;
- each layer's gradient norm ||dL/dW_l|| at initialisation, on one fixed batch;
- the identity network is one linear map: with h(a) = a,
      y = (...((x W1^T + b1) W2^T + b2) ...) W5^T + b5 = x M + c,
      M = W1^T W2^T ... W5^T,   c = ((b1 W2^T + b2) W3^T + ...) W5^T + b5,
  so its trained weights composed into (M, c) predict what the network
  predicts (to rounding, in float64), and it can do no better than softmax
  regression, the best single linear map: their accuracies agree within
  2 points. Why 2: what separates two linear models trained differently is
  not the test set's sampling (3 standard errors of a difference: 0.011 on
  10000 images) but the optimisation; SGD's last iterate of the identity
  network moves by about half a point from one checkpoint to the next (its
  spread over the second half of training is measured and printed), while
  the nonlinear networks sit 5 or more points higher: 2 points still tells
  a linear model from a nonlinear one;
- step passes no gradient: backpropagation multiplies by h'(a) = 0, so
  every weight below the last step layer keeps its initial value exactly
  (only the output layer, a linear classifier of random binary features, learns);
- sigmoid's gradients shrink with depth: each sigmoid layer multiplies the
  backward signal by h'(a) <= 1/4, so ||dL/dW_1|| / ||dL/dW_last|| falls
  geometrically as hidden layers are added (tanh and ReLU for contrast).

The hidden layers are the backend's own (``Affine``, ``Sigmoid``, ``Tanh``,
``Relu`` in ``MultiLayerNet``); the step and identity layers are written
here around the backend's ``step_function`` and ``identity_function``, the
step's backward as the zeros its derivative gives (NumPy) or autograd's own
zero derivative of ``sign`` (PyTorch).
"""
import numpy as np

from ..experiments import check_finite, minibatch_seed, smooth_curve

ACTIVATIONS = ("step", "identity", "sigmoid", "tanh", "relu")
WEIGHT_INIT = {"step": "xavier", "identity": "xavier", "sigmoid": "xavier", "tanh": "xavier", "relu": "he"}
SOFTMAX_REGRESSION = "softmax regression"
HIDDEN_SIZE = 100
HIDDEN_LAYERS = 4
LEARNING_RATE = 0.1
BATCH_SIZE = 100
DEPTHS = range(2, 9)  # hidden layers in the depth sweep
SWEEP = ("sigmoid", "tanh", "relu")
SWEEP_SEEDS = 3  # initial draws per depth: the median ratio is reported
CHECKPOINTS = 10  # test accuracy measured every iters / CHECKPOINTS iterations
LINEAR_TOLERANCE = 0.02  # identity against softmax regression: see the docstring
COMPOSITION_TOLERANCE = 1e-12  # relative, in float64: a 6-matrix product rounds at ~1e-15
COLORS = {"step": "tab:gray", "identity": "tab:orange", "sigmoid": "tab:green", "tanh": "tab:red",
          "relu": "tab:purple", SOFTMAX_REGRESSION: "tab:brown"}


# ---------------------------------------------------------------------------
# The two hidden activations the backends have no layer for
# ---------------------------------------------------------------------------

class Step:
    """Step function (3.2.2) as a layer: forward ``step_function``; its derivative is 0 wherever it exists.

    NumPy: backward returns zeros. PyTorch: ``relu(sign(a))`` equals ``step_function`` (1 for a > 0, 0
    otherwise) and autograd's derivative of ``sign`` is 0, so the graph reaches the weights below and
    carries exactly 0 to them (``torch.heaviside`` has no derivative at all).
    """

    def __init__(self, backend, torch):
        self.backend, self.torch = backend, torch
        self.shape = None

    def forward(self, x):
        self.shape = x.shape
        if self.torch:
            import torch

            return torch.relu(torch.sign(x))
        return self.backend.step_function(x)

    def backward(self, dout):
        return np.zeros(self.shape, dtype=dout.dtype)


class Identity:
    """Identity (3.4.3) as a hidden layer: forward ``identity_function``, backward passes ``dout`` through."""

    def __init__(self, backend):
        self.backend = backend

    def forward(self, x):
        return self.backend.identity_function(x)

    def backward(self, dout):
        return dout


# ---------------------------------------------------------------------------
# Networks
# ---------------------------------------------------------------------------

def make_network(session, activation, hidden_layers, seed, dtype="float32"):
    """``MultiLayerNet`` 784 -> 100 x hidden_layers -> 10 with ``activation`` in every hidden layer.

    The backend's network is built with its sigmoid or ReLU, then step, identity and tanh layers take
    the activation layers' places (``MultiLayerNet`` offers only sigmoid and ReLU).
    """
    backend = session.backend
    builtin = "relu" if activation == "relu" else "sigmoid"
    network = backend.MultiLayerNet(784, [HIDDEN_SIZE] * hidden_layers, 10, activation=builtin,
                                    weight_init_std=WEIGHT_INIT[activation], dtype=dtype, seed=seed)
    for idx in range(1, hidden_layers + 1):
        network.layers[f"Activation_function{idx}"] = new_activation_layer(session, activation)
    return network


def new_activation_layer(session, activation):
    backend = session.backend
    layers = {"step": lambda: Step(backend, session.torch), "identity": lambda: Identity(backend), "sigmoid": backend.Sigmoid,
              "tanh": backend.Tanh, "relu": backend.Relu}
    return layers[activation]()


def step_layer_against_step_function(session, network, x_batch):
    """max |Step().forward(a) - backend.step_function(a)| over the first layer's a = x W1^T of a batch, +0 and -0.

    0 expected: the layer is the chapter-3 function.
    """
    a = np.append(x_batch @ session.to_numpy(network.params["W1"]).T, [0.0, -0.0]).astype(np.float32)
    if session.torch:
        import torch

        a = torch.from_numpy(a)
    layer = Step(session.backend, session.torch)
    difference = session.to_numpy(layer.forward(a)) - session.to_numpy(session.backend.step_function(a))
    return float(np.max(np.abs(difference)))


def weight_names(network):
    return [name for name in network.params if name.startswith("W")]


def gradient_norms(session, network, x_batch, t_batch):
    """||dL/dW_l|| (Frobenius) of every layer l on one batch."""
    grads = network.gradient(x_batch, t_batch)
    return [float(np.linalg.norm(session.to_numpy(grads[name]).astype(np.float64)))
            for name in weight_names(network)]


def weights_of(session, network):
    return {name: session.to_numpy(value).copy() for name, value in network.params.items()}


# ---------------------------------------------------------------------------
# The identity network as one linear map
# ---------------------------------------------------------------------------

def compose_linear_map(params, layers):
    """(M, c) with x M + c = the identity network's scores: M = W1^T ... WL^T, c folded through, float64."""
    M = params["W1"].astype(np.float64).T
    c = params["b1"].astype(np.float64)
    for idx in range(2, layers + 1):
        W, b = params[f"W{idx}"].astype(np.float64), params[f"b{idx}"].astype(np.float64)
        M, c = M @ W.T, c @ W.T + b
    return M, c


def identity_network_as_linear_map(session, trained, x_test, seed):
    """The trained identity network's float64 copy against its composed linear map on the test images."""
    layers = HIDDEN_LAYERS + 1
    M, c = compose_linear_map(trained, layers)
    network = make_network(session, "identity", HIDDEN_LAYERS, seed, dtype="float64")
    network.load_params({name: value.astype(np.float64) for name, value in trained.items()})
    x64 = x_test.astype(np.float64)
    with session.no_grad():
        scores = session.to_numpy(network.predict(x64))
    linear = x64 @ M + c
    return {
        "max_abs_difference": float(np.max(np.abs(scores - linear))),
        "relative_difference": float(np.max(np.abs(scores - linear)) / np.max(np.abs(scores))),
        "same_predictions": float(np.mean(np.argmax(scores, axis=1) == np.argmax(linear, axis=1))),
        "matrix_shape": list(M.shape),
    }


# ---------------------------------------------------------------------------
# The depth sweep
# ---------------------------------------------------------------------------

def depth_sweep(session, x_batch, t_batch, seeds):
    """{activation: [median over seeds of ||dW_1|| / ||dW_last|| at initialisation, per depth]}."""
    ratios = {activation: [] for activation in SWEEP}
    with session.progress(len(DEPTHS) * len(SWEEP), "depth sweep") as bar:
        for depth in DEPTHS:
            for activation in SWEEP:
                per_seed = []
                for seed in seeds:
                    norms = gradient_norms(session, make_network(session, activation, depth, seed), x_batch, t_batch)
                    per_seed.append(norms[0] / norms[-1])
                ratios[activation].append(float(np.median(per_seed)))
                bar.update()
    return ratios


# ---------------------------------------------------------------------------
# The experiment
# ---------------------------------------------------------------------------

def run(session):
    train_size = session.size(quick=20000, full=60000)
    test_size = session.size(quick=2000, full=10000)
    iters = session.size(quick=1000, full=6000)
    (x_train, t_train), (x_test, t_test) = session.mnist(train_size, test_size)
    seed_rng = session.rng(20, 1)
    seed = int(seed_rng.integers(2**31))
    sweep_seeds = [int(s) for s in seed_rng.integers(2**31, size=SWEEP_SEEDS)]
    fixed = session.rng(20, 2).choice(train_size, BATCH_SIZE, replace=False)
    x_batch, t_batch = x_train[fixed], t_train[fixed]
    session.say(f"784 -> {' -> '.join([str(HIDDEN_SIZE)] * HIDDEN_LAYERS)} -> 10, SGD lr {LEARNING_RATE}, "
                f"{iters} iterations of {BATCH_SIZE} on {train_size} training images, {test_size} test images")

    networks = {activation: make_network(session, activation, HIDDEN_LAYERS, seed) for activation in ACTIVATIONS}
    networks[SOFTMAX_REGRESSION] = make_network(session, "identity", 0, seed)
    step_check = session.record("step_layer_minus_step_function",
                                step_layer_against_step_function(session, networks["step"], x_batch))
    initial_norms = {name: gradient_norms(session, networks[name], x_batch, t_batch) for name in ACTIVATIONS}
    initial = {name: weights_of(session, network) for name, network in networks.items()}

    losses, checkpoints = train_together(session, networks, (x_train, t_train), (x_test, t_test), iters)
    trained = {name: weights_of(session, network) for name, network in networks.items()}
    accuracy = {name: curve[-1] for name, curve in checkpoints["test_accuracy"].items()}
    final_loss = {name: float(np.mean(curve[-50:])) for name, curve in losses.items()}

    weight_change = {name: {param: float(np.max(np.abs(trained[name][param] - initial[name][param])))
                            for param in trained[name]} for name in networks}
    linear = identity_network_as_linear_map(session, trained["identity"], x_test, seed)
    ratios = depth_sweep(session, x_batch, t_batch, sweep_seeds)

    report(session, networks, accuracy, final_loss, initial_norms, weight_change, linear, ratios, checkpoints,
           step_check)
    session.figure(lambda fig: draw(fig, losses, checkpoints, initial_norms, ratios), figsize=(12, 9))


def train_together(session, networks, train, test, iters):
    """SGD on the same minibatches for every network; the test accuracy at ``CHECKPOINTS`` evenly spaced points.

    Returns ({name: [loss of each minibatch before its update]}, {"iteration": [...], "test_accuracy":
    {name: [...]}}).
    """
    (x_train, t_train), (x_test, t_test) = train, test
    rng = np.random.default_rng(minibatch_seed(session.seed))
    optimizers = {name: session.backend.SGD(lr=LEARNING_RATE) for name in networks}
    losses = {name: [] for name in networks}
    checkpoints = {"iteration": [], "test_accuracy": {name: [] for name in networks}}
    every = max(iters // CHECKPOINTS, 1)
    with session.progress(iters, "training") as bar:
        for i in range(1, iters + 1):
            batch = rng.choice(len(x_train), BATCH_SIZE)
            for name, network in networks.items():
                optimizers[name].update(network.params, network.gradient(x_train[batch], t_train[batch]))
                losses[name].append(float(network.last_loss))
                check_finite(losses[name][-1], f"for {name} at iteration {i}")
            if i % every == 0 or i == iters:
                checkpoints["iteration"].append(i)
                for name, network in networks.items():
                    checkpoints["test_accuracy"][name].append(float(network.accuracy(x_test, t_test)))
            bar.update()
    return losses, checkpoints


def report(session, networks, accuracy, final_loss, initial_norms, weight_change, linear, ratios, checkpoints,
           step_check):
    names = list(networks)
    layer_names = [f"W{idx}" for idx in range(1, HIDDEN_LAYERS + 2)]
    session.record("test_accuracy", accuracy)
    session.record("test_accuracy_checkpoints", checkpoints)
    session.record("final_loss_mean_last_50", final_loss)
    session.record("initial_gradient_norms", {name: dict(zip(layer_names, norms))
                                              for name, norms in initial_norms.items()})
    session.record("max_weight_change", weight_change)
    session.record("identity_as_linear_map", linear)
    session.record("depth_sweep", {"depths": list(DEPTHS), "first_over_last_gradient_norm": ratios})

    session.table("Test accuracy after the same training (SGD, same minibatches)",
                  ["hidden activation", "initialisation", "minibatch loss (mean of last 50)", "test accuracy"],
                  [[name, WEIGHT_INIT.get(name, "xavier"), f"{final_loss[name]:.4f}", f"{accuracy[name]:.4f}"]
                   for name in names])
    session.table("Gradient norm ||dL/dW_l|| per layer at initialisation (one fixed batch of 100)",
                  ["hidden activation", *layer_names, "W1 / W5"],
                  [[name, *(f"{n:.3g}" for n in norms), f"{norms[0] / norms[-1]:.3g}" if norms[-1] else "-"]
                   for name, norms in initial_norms.items()])
    session.table("Largest change of each weight matrix during training, max |W_after - W_before|",
                  ["hidden activation", *layer_names],
                  [[name, *(f"{weight_change[name][w]:.3g}" for w in layer_names)] for name in ACTIVATIONS])
    session.table("||dL/dW_1|| / ||dL/dW_last|| at initialisation against depth (median of "
                  f"{SWEEP_SEEDS} initialisations)",
                  ["hidden layers", *SWEEP],
                  [[depth, *(f"{ratios[a][k]:.3g}" for a in SWEEP)] for k, depth in enumerate(DEPTHS)])

    # Identity network = one linear map, and as good as softmax regression.
    tolerance = LINEAR_TOLERANCE
    gap = abs(accuracy["identity"] - accuracy[SOFTMAX_REGRESSION])
    late = {name: checkpoints["test_accuracy"][name][len(checkpoints["iteration"]) // 2:]
            for name in ("identity", SOFTMAX_REGRESSION)}
    steps = np.abs(np.diff(late["identity"]))
    session.record("identity_vs_softmax_regression", {
        "difference": gap, "tolerance": tolerance,
        "second_half_mean": {name: float(np.mean(curve)) for name, curve in late.items()},
        "identity_largest_change_between_checkpoints_second_half": float(steps.max()) if len(steps) else 0.0})
    session.table("The two linear models' test accuracy over the second half of training (checkpoints)",
                  ["model", *checkpoints["iteration"][len(checkpoints["iteration"]) // 2:], "mean"],
                  [[name, *(f"{a:.4f}" for a in curve), f"{np.mean(curve):.4f}"] for name, curve in late.items()])
    session.conclude(
        "identity_is_one_linear_map",
        linear["relative_difference"] <= COMPOSITION_TOLERANCE and linear["same_predictions"] == 1.0,
        f"the trained identity network is one linear map: its {HIDDEN_LAYERS + 1} layers composed into one "
        f"{linear['matrix_shape'][0]}x{linear['matrix_shape'][1]} matrix M and bias c give its scores to "
        f"{linear['relative_difference']:.1e} (relative, float64) and the same class for "
        f"{linear['same_predictions']:.0%} of the test images",
        f"the composed linear map differs from the identity network by {linear['relative_difference']:.1e} "
        f"(relative), above {COMPOSITION_TOLERANCE:g}; same class for {linear['same_predictions']:.2%}")
    session.conclude(
        "identity_matches_softmax_regression",
        gap <= tolerance and accuracy["relu"] - accuracy["identity"] > 2 * tolerance,
        f"the identity network's accuracy {accuracy['identity']:.4f} matches softmax regression's "
        f"{accuracy[SOFTMAX_REGRESSION]:.4f} (difference {gap:.4f} <= {tolerance}; its own accuracy moved by up "
        f"to {steps.max() if len(steps) else 0:.4f} between checkpoints in the second half of training), while "
        f"tanh and ReLU reach {accuracy['tanh']:.4f} and {accuracy['relu']:.4f}: a linear model's accuracy",
        f"the identity network scored {accuracy['identity']:.4f} against softmax regression's "
        f"{accuracy[SOFTMAX_REGRESSION]:.4f} (difference {gap:.4f}, tolerance {tolerance}), tanh "
        f"{accuracy['tanh']:.4f}, ReLU {accuracy['relu']:.4f}")

    # Step passes no gradient.
    frozen = layer_names[:-1]
    step_change = max(weight_change["step"][w] for w in frozen)
    output_change = weight_change["step"][layer_names[-1]]
    session.conclude(
        "step_passes_no_gradient",
        step_change == 0 and max(initial_norms["step"][:-1]) == 0 and output_change > 0 and step_check == 0,
        f"step passes no gradient (its layer computes step_function exactly): the gradients of "
        f"{', '.join(frozen)} are exactly 0 and after training "
        f"max |W_after - W_before| = {step_change:g} for each of them; only the output layer {layer_names[-1]} "
        f"moved ({output_change:.3g}), a linear classifier of fixed random binary features scoring "
        f"{accuracy['step']:.4f}",
        f"the step network's hidden weights moved by up to {step_change:.3g} (output layer {output_change:.3g}); "
        f"its initial gradient norms were {initial_norms['step']}; layer minus step_function: {step_check:g}")

    # Sigmoid's gradients shrink with depth.
    sigmoid = ratios["sigmoid"]
    falling = all(b < a for a, b in zip(sigmoid, sigmoid[1:]))
    deepest = len(DEPTHS) - 1
    session.conclude(
        "sigmoid_gradients_shrink_with_depth",
        falling and sigmoid[-1] < ratios["relu"][-1] / 10,
        f"sigmoid's first-layer gradient shrinks with depth: ||dW_1|| / ||dW_last|| falls at every added layer, "
        f"from {sigmoid[0]:.3g} with {DEPTHS[0]} hidden layers to {sigmoid[-1]:.3g} with {DEPTHS[deepest]} "
        f"(x{(sigmoid[-1] / sigmoid[0]) ** (1 / deepest):.2f} per layer), while tanh keeps "
        f"{ratios['tanh'][-1]:.3g} and ReLU {ratios['relu'][-1]:.3g} at {DEPTHS[deepest]}",
        f"sigmoid's ratio went {', '.join(f'{r:.3g}' for r in sigmoid)} over {DEPTHS[0]}..{DEPTHS[deepest]} "
        f"hidden layers (ReLU's {ratios['relu'][-1]:.3g} at the deepest): not a steady fall")

    # Not arbitrary: the activations with a usable gradient beat the linear and the gradient-less ones.
    healthy = min(accuracy["tanh"], accuracy["relu"])
    sigmoid_note = (f"sigmoid, whose first-layer gradient is {ratios['sigmoid'][DEPTHS.index(HIDDEN_LAYERS)]:.2g} "
                    f"of the last layer's at this depth, reached {accuracy['sigmoid']:.4f} in the same budget")
    session.conclude(
        "activation_is_not_arbitrary",
        healthy > accuracy["identity"] + tolerance and healthy > accuracy["step"],
        f"the activation is not arbitrary: tanh {accuracy['tanh']:.4f} and ReLU {accuracy['relu']:.4f} beat "
        f"identity's {accuracy['identity']:.4f} (one linear map) and step's {accuracy['step']:.4f} (no gradient); "
        + sigmoid_note,
        f"tanh ({accuracy['tanh']:.4f}) and ReLU ({accuracy['relu']:.4f}) did not both beat identity "
        f"({accuracy['identity']:.4f}, by more than {tolerance:.4f}) and step ({accuracy['step']:.4f}); "
        + sigmoid_note)


def draw(fig, losses, checkpoints, initial_norms, ratios):
    (accuracy_ax, loss_ax), (norm_ax, depth_ax) = fig.subplots(2, 2)
    for name, curve in checkpoints["test_accuracy"].items():
        accuracy_ax.plot(checkpoints["iteration"], curve, marker="o", color=COLORS[name],
                         label=f"{name} ({curve[-1]:.3f})")
    accuracy_ax.set(xlabel="iteration", ylabel="test accuracy", ylim=(0, 1), title="Test accuracy during training")
    accuracy_ax.legend(fontsize="small")

    for name, curve in losses.items():
        loss_ax.plot(smooth_curve(curve) if len(curve) >= 11 else curve, label=name, color=COLORS[name])
    loss_ax.set(xlabel="iteration", ylabel="minibatch loss (smoothed)", title="Training with the same minibatches",
                yscale="log")
    loss_ax.legend(fontsize="small")

    layers = np.arange(1, HIDDEN_LAYERS + 2)
    for name, norms in initial_norms.items():
        shown = np.where(np.asarray(norms) > 0, norms, np.nan)  # log scale: step's zeros are not drawn
        norm_ax.plot(layers, shown, marker="o", color=COLORS[name],
                     label=name + (" (0 below the last layer)" if name == "step" else ""))
    norm_ax.set(xlabel="layer l (W_l)", ylabel="||dL/dW_l|| at initialisation", yscale="log",
                title="Gradient norm per layer at initialisation")
    norm_ax.set_xticks(layers)
    norm_ax.legend(fontsize="small")

    for name, values in ratios.items():
        depth_ax.plot(list(DEPTHS), values, marker="o", color=COLORS[name], label=name)
    depth_ax.set(xlabel="hidden layers", ylabel="||dL/dW_1|| / ||dL/dW_last||", yscale="log",
                 title="First layer's gradient against the last's, by depth")
    depth_ax.legend()
