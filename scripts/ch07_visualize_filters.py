"""What SimpleConvNet's first layer learns (7.6.1, the book's ch07/visualize_filter.py).

The 30 filters (5x5) of the first convolution, freshly initialised (random
noise) and after training (edge and blob detectors, figure 7-24), and the 30
feature maps they make of one test image, before and after the ReLU
(figure 7-25 shows such responses).

    python scripts/ch07_visualize_filters.py --weights runs/simple_convnet-scratch.npz
    saved runs/ch07_filters-scratch.png
    saved runs/ch07_feature_maps-scratch.png
"""
import toolkit  # noqa: F401 - first: a Python without the project's packages gets one line, exit 2
import os

import numpy as np

from toolkit import backends, cli, data, figures, paths, weights

DESCRIPTION = """Draw the 30 first-layer filters of SimpleConvNet, freshly initialised
(--seed) and trained (--weights), as grey 5x5 images (the book's
ch07/visualize_filter.py, figure 7-24), and the 30 feature maps of one MNIST
test image after the first convolution and after its ReLU. Saves
ch07_filters-<backend>.png and ch07_feature_maps-<backend>.png in --out-dir
and prints their paths."""

COLUMNS = 10  # filters per row of a grid (30 filters: 3 rows)
TEST_IMAGES = 10000


def parse_args(argv=None):
    parser = cli.ArgumentParser(prog="ch07_visualize_filters.py", description=DESCRIPTION)
    backends.add_backend_argument(parser)
    parser.add_argument("--weights", metavar="PATH", required=True,
                        help="trained SimpleConvNet parameters: the book's ch07_simple_convnet_params.npz "
                             "or its ch07/params.pkl (read safely), or what train.py --model simple_convnet "
                             "saved")
    parser.add_argument("--seed", type=cli.non_negative_int, default=0,
                        help="seed of the freshly initialised network (default 0)")
    parser.add_argument("--image-index", type=cli.non_negative_int, default=0,
                        help=f"which of the {TEST_IMAGES} test images to send through the first layer (default 0)")
    parser.add_argument("--out-dir", metavar="DIR", default="runs",
                        help="folder for the two PNG files (default runs)")
    data.add_data_arguments(parser, from_weights=True)
    args = parser.parse_args(argv)
    if not os.path.isfile(args.weights):
        parser.error(f"no weights file at {args.weights}")
    if args.image_index >= TEST_IMAGES:
        parser.error(f"--image-index must be below {TEST_IMAGES}, got {args.image_index}")
    if os.path.exists(args.out_dir) and not os.path.isdir(args.out_dir):
        parser.error(f"--out-dir {args.out_dir} is a file, not a folder")
    figures.require_matplotlib(parser)
    weights.dataset_from_weights(args, args.weights)
    args.filters_png, args.maps_png = (os.path.join(args.out_dir, f"{name}-{args.backend}{data.dataset_suffix(args)}.png")
                                       for name in ("ch07_filters", "ch07_feature_maps"))
    for path in (args.filters_png, args.maps_png):
        paths.check_output("--out-dir", path)
    weights.check_weights_config(args.weights, {"model": "simple_convnet"})
    args.dtype = "float32"  # what load_data reads
    return args


def first_layer(network, x, backend_name):
    """Conv1's output for float32 images ``x``, that output after Relu1, and the scores."""
    with backends.no_grad(backend_name):
        conv = network.layers["Conv1"].forward(x)
        relu = network.layers["Relu1"].forward(conv)
        scores = network.predict(x)
    return backends.to_numpy(conv), backends.to_numpy(relu), backends.to_numpy(scores)


# ---------------------------------------------------------------------------
# Figures (matplotlib, imported only here)
# ---------------------------------------------------------------------------

def new_figure(**kwargs):
    """A matplotlib ``Figure`` drawn by the Agg canvas (no display, no pyplot state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(layout="constrained", **kwargs)
    FigureCanvasAgg(fig)
    return fig


def image_grid(panel, images, title, symmetric=False, **imshow):
    """``images`` (K, H, W) in rows of COLUMNS small axes without ticks, each scaled to its own range.

    ``symmetric``: each image's range is [-m, m], m = max |image|, so 0 is mid grey.
    """
    rows = -(-len(images) // COLUMNS)
    axes = panel.subplots(rows, COLUMNS, squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if k >= len(images):
            ax.set_axis_off()
            continue
        if symmetric:
            m = float(np.max(np.abs(images[k]))) or 1.0
            imshow.update(vmin=-m, vmax=m)
        ax.imshow(images[k], interpolation="nearest", **imshow)
    panel.suptitle(title)


def draw_filters(path, initial, trained, seed, weights):
    """Two panels of the (K, 1, FH, FW) filters, each filter scaled to its own range as in the book."""
    fig = new_figure(figsize=(12, 3.2))
    before, after = fig.subfigures(1, 2, wspace=0.04)
    image_grid(before, initial[:, 0], f"initial weights (seed {seed})", cmap="gray_r")
    image_grid(after, trained[:, 0], f"after training ({os.path.basename(weights)})", cmap="gray_r")
    fig.suptitle(f"SimpleConvNet: the {len(trained)} first-layer filters "
                 f"({trained.shape[2]}x{trained.shape[3]}, black = large weight)")
    figures.save_png(fig, path)


def draw_feature_maps(path, index, image, label, predicted, conv, relu):
    """The input image, then the K maps after the convolution and after the ReLU, each map to its own scale."""
    fig = new_figure(figsize=(11, 8.5))
    top, middle, bottom = fig.subfigures(3, 1, height_ratios=[1.1, 3, 3])
    ax = top.subplots()
    ax.imshow(image, cmap="gray_r", interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    top.suptitle(f"input: test image {index}, label {label}, predicted {predicted}")
    image_grid(middle, conv, f"after Conv1 (map k from filter k of the filters figure; white > 0 > black, "
                             f"all maps in [{conv.min():.2f}, {conv.max():.2f}])", symmetric=True, cmap="gray")
    image_grid(bottom, relu, "after ReLU (negative responses become 0, black)", cmap="gray", vmin=0)
    fig.suptitle("what the trained first layer makes of one image (each map scaled to its own range)")
    figures.save_png(fig, path)


def main(argv=None):
    args = parse_args(argv)
    backend = backends.load_backend(args.backend)
    initial = backend.SimpleConvNet(dtype="float32", seed=args.seed)
    trained = backend.SimpleConvNet(dtype="float32", seed=args.seed)
    weights.load_weights(trained, args.weights)
    w_initial, w_trained = backends.to_numpy(initial.params["W1"]), backends.to_numpy(trained.params["W1"])

    _, (x_test, t_test) = data.load_data(args, flatten=False)
    i = args.image_index
    conv, relu, scores = first_layer(trained, x_test[i:i + 1], args.backend)
    predicted = int(np.argmax(scores[0]))

    print(f"SimpleConvNet ({args.backend} backend): {len(w_trained)} first-layer filters of shape "
          f"{tuple(w_trained.shape[1:])}")
    for name, w in (("initial", w_initial), ("trained", w_trained)):
        print(f"  {name:8s} std {w.std():.4f}, range [{w.min():+.4f}, {w.max():+.4f}]")
    print(f"test image {i}: label {t_test[i]}, predicted {predicted}; Conv1 output {tuple(conv.shape[1:])}, "
          f"range [{conv.min():+.3f}, {conv.max():+.3f}], {np.mean(relu == 0):.0%} zero after ReLU")

    filters_png, maps_png = args.filters_png, args.maps_png
    draw_filters(filters_png, w_initial, w_trained, args.seed, args.weights)
    print(f"saved {filters_png}")
    draw_feature_maps(maps_png, i, x_test[i, 0], t_test[i], predicted, conv[0], relu[0])
    print(f"saved {maps_png}")


if __name__ == "__main__":
    cli.run_main(main)
