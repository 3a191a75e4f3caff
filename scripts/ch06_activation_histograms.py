"""Activations of the hidden layers (6.2.2-6.2.3, the book's ch06/weight_init_activation_histogram.py).

1000 random inputs (N(0, 1), 100 features) pass through 5 layers of 100
neurons, z = h(x W), without biases, for h = sigmoid, tanh and ReLU and
initial weights N(0, std^2) with std 1, 0.01, Xavier's sqrt(1/n) and He's
sqrt(2/n) (n = 100). Prints each layer's mean and standard deviation and
draws one histogram per layer (figures 6-10 to 6-14). The book's script
edits one line per case; this one runs all twelve.
"""
import toolkit  # noqa: F401 - first: a Python without the project's packages gets one line, exit 2
import numpy as np

from toolkit import backends, cli, figures
from toolkit import experiments as ex

DESCRIPTION = """Histograms of the activations of 5 hidden layers of 100 neurons fed 1000
random inputs, as the book's ch06/weight_init_activation_histogram.py (6.2.2):
sigmoid, tanh and ReLU, each with initial weights std 1, 0.01, Xavier and He.
Prints each layer's mean/std beside what the book's figures show, and saves
the grid of histograms as a PNG."""

ACTIVATIONS = ("sigmoid", "tanh", "relu")
WEIGHT_INITS = {"std=1": 1.0, "std=0.01": 0.01, "Xavier": "xavier", "He": "he"}

# What the book's figures 6-10 to 6-14 show (and its note on tanh in 6.2.2).
BOOK = {
    ("sigmoid", "std=1"): "6-10: piled at 0 and 1",
    ("sigmoid", "std=0.01"): "6-11: piled at 0.5",
    ("sigmoid", "Xavier"): "6-13: spread out",
    ("tanh", "Xavier"): "6.2.2: bell around 0",
    ("relu", "std=0.01"): "6-14: all near 0",
    ("relu", "Xavier"): "6-14: shrinks with depth",
    ("relu", "He"): "6-14: same in every layer",
}

# The histogram's range: the book's (0, 1); tanh's values lie in (-1, 1).
HIST_RANGE = {"sigmoid": (0, 1), "tanh": (-1, 1), "relu": (0, 1)}


def activation_functions(backend_name, backend):
    """sigmoid and relu from the backend; tanh is np.tanh / torch.tanh."""
    if backend_name == "torch":
        import torch

        tanh = torch.tanh
    else:
        tanh = np.tanh
    return {"sigmoid": backend.sigmoid, "tanh": tanh, "relu": backend.relu}


def hidden_activations(backend, x, h, weight_init_std, layers, nodes, seed, dtype):
    """The outputs z of each layer, a = x W, z = h(a) (W drawn (out, in), so x W^T)."""
    rng = backend.make_rng(seed)  # the same draws for every case: only the scale differs
    activations = []
    for _ in range(layers):
        W = backend.init_weight((nodes, x.shape[1]), weight_init_std, rng, dtype)
        x = h(x @ W.T)
        activations.append(backends.to_numpy(x))
    return activations


def parse_args(argv=None):
    parser = ex.make_parser(__file__, DESCRIPTION)
    parser.add_argument("--samples", type=cli.positive_int, default=1000,
                        help="random inputs (default 1000, as in the book)")
    parser.add_argument("--nodes", type=cli.positive_int, default=100,
                        help="neurons per layer, also the input's width (default 100)")
    parser.add_argument("--layers", type=cli.positive_int, default=5,
                        help="hidden layers (default 5)")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32",
                        help="dtype of inputs and weights (default float32)")
    return ex.parse(parser, argv)


def plot_histograms(path, results, layers, title):
    """One row per (activation, initial weights), one column per layer."""
    fig = figures.new_figure(layout=None, figsize=(2.2 * layers + 1, 1.6 * len(results)))
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.03, top=0.95, wspace=0.08, hspace=0.35)
    axes = np.array(fig.subplots(len(results), layers, squeeze=False))
    for r, ((activation, init), outputs) in enumerate(results.items()):
        for i, z in enumerate(outputs):
            ax = axes[r, i]
            counts, edges = np.histogram(z, 30, range=HIST_RANGE[activation])  # plt.hist(a, 30, range=...)
            ax.stairs(counts, edges, fill=True)
            if activation == "relu":
                ax.set_ylim(0, 7000)  # as figure 6-14: the spike at 0 is cut
            ax.tick_params(labelsize=6)
            if r == 0:
                ax.set_title(f"{i + 1}-layer", fontsize=9)
            if i == 0:
                ax.set_ylabel(f"{activation}\n{init}", fontsize=9)
            else:
                ax.set_yticks([])
            ax.text(0.97, 0.95, f"std {z.std():.2g}", transform=ax.transAxes, ha="right", va="top", fontsize=6)
    fig.suptitle(title)
    figures.save_figure(fig, path)


def main(argv=None):
    args = parse_args(argv)
    backend = ex.load_backend(args)
    functions = activation_functions(args.backend, backend)
    x = np.random.default_rng(args.seed).standard_normal((args.samples, args.nodes)).astype(args.dtype)
    if args.backend == "torch":
        import torch

        x = torch.from_numpy(x)
    print(f"activation histograms ({ex.label(args)}, {args.dtype}): {args.samples} inputs N(0, 1), "
          f"{args.layers} layers of {args.nodes}, no biases, seed {args.seed}")
    results = {}
    with backends.no_grad(args.backend):
        for activation in ACTIVATIONS:
            for init, std in WEIGHT_INITS.items():
                results[activation, init] = hidden_activations(
                    backend, x, functions[activation], std, args.layers, args.nodes, args.seed, args.dtype)
    header = ["activation", "init", *(f"layer {i + 1} mean/std" for i in range(args.layers)), "book"]
    rows = [[activation, init, *(f"{z.mean():.3g}/{z.std():.3g}" for z in outputs), BOOK.get((activation, init), "-")]
            for (activation, init), outputs in results.items()]
    ex.print_table(header, rows)
    if not args.no_plot:
        plot_histograms(args.plot, results, args.layers,
                        f"activations of {args.layers} layers ({ex.label(args)})")


if __name__ == "__main__":
    cli.run_main(main)
