"""The test images DeepConvNet gets wrong (8.1.1, the book's ch08/misclassified_mnist.py).

About 99.4% right for the book's trained network: the mistakes (figure 8-3)
are mostly digits a person would hesitate over too.

    python scripts/ch08_misclassified.py --weights ch08_deep_convnet_params.npz
    accuracy: 0.9797 on 10000 test images
    misclassified: 203 of 10000
    saved runs/ch08_misclassified-scratch.png
"""
import toolkit  # noqa: F401 - first: a Python without the project's packages gets one line, exit 2
import os
import time

import numpy as np

from toolkit import backends, cli, data, figures, paths, weights
from toolkit.progress import add_progress_argument, progress_bar

DESCRIPTION = """Run DeepConvNet with the given weights over the MNIST test images, print its
accuracy, how many images it misclassifies and its most frequent mistakes, and
draw the first --max misclassified images with 'predicted / true' labels (the
book's ch08/misclassified_mnist.py, figure 8-3)."""

TEST_IMAGES = 10000


def parse_args(argv=None):
    parser = cli.ArgumentParser(prog="ch08_misclassified.py", description=DESCRIPTION)
    backends.add_backend_argument(parser)
    parser.add_argument("--weights", metavar="PATH", required=True,
                        help="DeepConvNet parameters: the book's ch08_deep_convnet_params.npz or its "
                             "ch08/deep_convnet_params.pkl (read safely), or what train.py --model "
                             "deep_convnet saved")
    parser.add_argument("--max", type=cli.positive_int, default=20,
                        help="draw at most N misclassified images (default 20, as the book)")
    parser.add_argument("--samples", type=cli.positive_int, default=TEST_IMAGES,
                        help=f"evaluate the first N test images (default all {TEST_IMAGES})")
    parser.add_argument("--batch-size", type=cli.positive_int, default=100,
                        help="images per forward pass (default 100)")
    parser.add_argument("--out", metavar="PATH", default=None,
                        help="where to save the figure (default runs/ch08_misclassified-<backend>.png)")
    add_progress_argument(parser)
    data.add_data_arguments(parser, from_weights=True)
    args = parser.parse_args(argv)
    if not os.path.isfile(args.weights):
        parser.error(f"no weights file at {args.weights}")
    if args.samples > TEST_IMAGES:
        parser.error(f"--samples can be at most {TEST_IMAGES}, got {args.samples}")
    figures.require_matplotlib(parser)
    weights.dataset_from_weights(args, args.weights)
    if args.out is None:
        args.out = os.path.join("runs", f"ch08_misclassified-{args.backend}{data.dataset_suffix(args)}.png")
    paths.check_output("--out", args.out)
    weights.check_weights_config(args.weights, {"model": "deep_convnet"})
    args.dtype = "float32"  # what load_data reads
    return args

def predict_classes(network, x, batch_size, backend_name, progress=True):
    """argmax of the test-mode scores for every image, batch by batch (a progress bar on a terminal)."""
    classes = np.empty(len(x), dtype=np.int64)
    start = time.perf_counter()
    with backends.no_grad(backend_name), progress_bar(len(x), progress, unit="img") as bar:
        for i in range(0, len(x), batch_size):
            scores = network.predict(x[i:i + batch_size], train_flg=False)
            classes[i:i + batch_size] = backends.to_numpy(scores).argmax(axis=1)
            bar.update(len(scores))
    return classes, time.perf_counter() - start


def frequent_mistakes(true, predicted, top=5):
    """The ``top`` most frequent (true, predicted, count) pairs among the mistakes."""
    pairs, counts = np.unique(np.stack([true, predicted], axis=1), axis=0, return_counts=True)
    order = np.argsort(-counts, kind="stable")[:top]
    return [(int(pairs[k, 0]), int(pairs[k, 1]), int(counts[k])) for k in order]


def draw(path, images, true, predicted, indices, total_wrong, title):
    """A grid of the misclassified images, each titled 'predicted / true' (as the book's 4 x 5)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    columns = 5 if len(images) <= 25 else 10
    rows = max(1, -(-len(images) // columns))
    fig = Figure(figsize=(1.5 * columns, 1.7 * rows + 0.8), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for k, ax in enumerate(axes):
        ax.set_xticks([])
        ax.set_yticks([])
        if k >= len(images):
            ax.set_axis_off()
            continue
        ax.imshow(images[k], cmap="gray_r", interpolation="nearest")
        ax.set_title(f"{predicted[k]} / {true[k]}", color="tab:red")
        ax.set_xlabel(f"#{indices[k]}", fontsize=8)
    if not len(images):
        axes[0].text(0.5, 0.5, "no misclassified images", ha="center", va="center")
    shown = f"first {len(images)} of {total_wrong}" if len(images) < total_wrong else f"all {total_wrong}"
    fig.suptitle(f"{title}: {shown} misclassified\nabove each: predicted / true; below: test index")
    figures.save_png(fig, path)


def main(argv=None):
    args = parse_args(argv)
    backend = backends.load_backend(args.backend)
    network = backend.DeepConvNet(dtype="float32", seed=0)  # the initial weights are overwritten
    weights.load_weights(network, args.weights)
    _, (x_test, t_test) = data.load_data(args, flatten=False)
    x, t = x_test[:args.samples], t_test[:args.samples]

    predicted, seconds = predict_classes(network, x, args.batch_size, args.backend, not args.no_progress)
    wrong = np.flatnonzero(predicted != t)
    print(f"DeepConvNet ({args.backend} backend), weights {args.weights}: {len(x)} test images in {seconds:.1f} s")
    print(f"accuracy: {1 - len(wrong) / len(x):.4f} on {len(x)} test images")
    print(f"misclassified: {len(wrong)} of {len(x)}")
    if len(wrong):
        mistakes = frequent_mistakes(t[wrong], predicted[wrong])
        print("most frequent mistakes (true -> predicted: count): "
              + ", ".join(f"{a} -> {b}: {n}" for a, b, n in mistakes))
    shown = wrong[:args.max]
    print("drawn (test index: predicted / true): "
          + (", ".join(f"{i}: {predicted[i]} / {t[i]}" for i in shown) or "none"))
    draw(args.out, x[shown, 0], t[shown], predicted[shown], shown, len(wrong),
         f"DeepConvNet ({os.path.basename(args.weights)})")
    print(f"saved {args.out}")


if __name__ == "__main__":
    cli.run_main(main)
