"""What data augmentation makes of a digit (8.1.1): each test image and K random versions of it.

Rotations, shifts and scalings small enough that a 7 stays a 7, drawn by the
backend's ``Augmenter`` (train.py --augment's defaults). The torch backend
draws the same parameters from the same seed (NumPy's generator) and
transforms with ``affine_grid`` + ``grid_sample``; its images agree with the
NumPy backend's to float rounding, which the script measures and prints.

    python scripts/ch08_augmentation.py --backend torch --samples 4 --variants 5
    test image 0 (label 7): angle -3.1 shift (+1.2, -0.4) scale 1.04 | ...
    ...
    saved runs/ch08_augmentation-torch.png
"""
import toolkit  # noqa: F401 - first: a Python without the project's packages gets one line, exit 2
import os

import numpy as np

from toolkit import backends, cli, data, figures, paths
from toolkit.training import AUGMENT_DEFAULTS  # the figure shows what train.py --augment does by default

DESCRIPTION = """Draw the first --samples MNIST test images (first column) and --variants
randomly augmented versions of each (one row per image): rotated by up to
--max-angle degrees, shifted by up to --max-shift pixels and scaled by a
factor in --scale-range, as the backend's Augmenter does (8.1.1). Each panel is
titled with its drawn angle, shift and scale, and a line per image lists them.
The same --seed gives the same parameters with both backends."""

TEST_IMAGES = 10000


def parse_args(argv=None):
    parser = cli.ArgumentParser(prog="ch08_augmentation.py", description=DESCRIPTION)
    backends.add_backend_argument(parser)
    parser.add_argument("--seed", type=cli.non_negative_int, default=0,
                        help="seed of the Augmenter's draws (default 0)")
    parser.add_argument("--samples", type=cli.positive_int, default=8, metavar="N",
                        help="augment the first N test images, one row each (default 8)")
    parser.add_argument("--variants", type=cli.positive_int, default=6, metavar="K",
                        help="augmented versions of each image, one column each (default 6)")
    parser.add_argument("--max-angle", type=cli.non_negative_float, default=AUGMENT_DEFAULTS["augment_angle"],
                        metavar="DEGREES",
                        help="rotate by an angle drawn from [-DEGREES, DEGREES], counter-clockwise > 0 "
                             f"(default {AUGMENT_DEFAULTS['augment_angle']:g}, as train.py --augment)")
    parser.add_argument("--max-shift", type=cli.non_negative_float, default=AUGMENT_DEFAULTS["augment_shift"],
                        metavar="PIXELS",
                        help="shift right and down by amounts drawn from [-PIXELS, PIXELS] "
                             f"(default {AUGMENT_DEFAULTS['augment_shift']:g}, as train.py --augment)")
    parser.add_argument("--scale-range", type=cli.positive_float, nargs=2,
                        default=AUGMENT_DEFAULTS["augment_scale"], metavar=("LOW", "HIGH"),
                        help="scale by a factor drawn from [LOW, HIGH] (default %g %g, as train.py --augment)"
                             % AUGMENT_DEFAULTS["augment_scale"])
    parser.add_argument("--out", metavar="PATH", default=None,
                        help="where to save the figure (default runs/ch08_augmentation-<backend>.png)")
    data.add_data_arguments(parser)
    args = parser.parse_args(argv)
    if args.samples > TEST_IMAGES:
        parser.error(f"--samples can be at most {TEST_IMAGES}, got {args.samples}")
    args.scale_range = tuple(args.scale_range)
    if args.scale_range[0] > args.scale_range[1]:
        parser.error(f"--scale-range LOW HIGH needs LOW <= HIGH, got {args.scale_range[0]:g} {args.scale_range[1]:g}")
    figures.require_matplotlib(parser)
    if args.out is None:
        args.out = os.path.join("runs", f"ch08_augmentation-{args.backend}{data.dataset_suffix(args)}.png")
    paths.check_output("--out", args.out)
    args.dtype = "float32"  # what load_data reads
    return args


def augment(backend, args, images):
    """Each of the N ``images`` repeated K times and augmented in one batch: (N, K, C, H, W) and the draw.

    One draw of N * K parameters; row i holds entries i * K ... i * K + K - 1.
    """
    augmenter = backend.Augmenter(seed=args.seed, max_angle=args.max_angle, max_shift=args.max_shift,
                                  scale_range=args.scale_range)
    batch = np.repeat(images, args.variants, axis=0)
    out = backends.to_numpy(augmenter(batch))
    n, k = len(images), args.variants
    return out.reshape(n, k, *out.shape[1:]), augmenter.last_params


def tenths(value):
    """``value`` to one decimal with its sign, '+0.0' rather than '-0.0' for small negatives."""
    return f"{round(float(value), 1) + 0.0:+.1f}"


def describe(params, j, sep=" "):
    """'angle -3.1 shift (+1.2, -0.4) scale 1.04' for draw j (``sep`` between the three)."""
    tx, ty = params["translate"][j]
    return sep.join([f"angle {tenths(params['angle'][j])}", f"shift ({tenths(tx)}, {tenths(ty)})",
                     f"scale {params['scale'][j]:.2f}"])


def draw(path, images, augmented, labels, params, title):
    """Row i: image i, then its K augmented versions, each titled with its angle, shift and scale."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n, k = augmented.shape[:2]
    fig = Figure(figsize=(1.25 * (k + 1), 1.45 * n + 0.8), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(n, k + 1, squeeze=False)
    for i in range(n):
        for j, ax in enumerate(axes[i]):
            ax.set_xticks([])
            ax.set_yticks([])
            if j == 0:
                ax.imshow(images[i], cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
                ax.set_title(f"original ({labels[i]})", fontsize=7, fontweight="bold")
                for side in ax.spines.values():
                    side.set_color("tab:blue")
                    side.set_linewidth(1.5)
            else:
                ax.imshow(augmented[i, j - 1], cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
                ax.set_title(describe(params, i * k + j - 1, sep="\n").replace("shift ", ""), fontsize=5.5,
                             linespacing=1.1)
    fig.suptitle(title, fontsize=9)
    figures.save_png(fig, path)


def main(argv=None):
    args = parse_args(argv)
    backend = backends.load_backend(args.backend)
    _, (x_test, t_test) = data.load_data(args, flatten=False)
    images, labels = x_test[:args.samples], t_test[:args.samples]

    augmented, params = augment(backend, args, images)
    low, high = args.scale_range
    setting = (f"angle up to {args.max_angle:g} degrees, shift up to {args.max_shift:g} px, "
               f"scale {low:g}-{high:g}, seed {args.seed}")
    print(f"{backend.Augmenter.__module__}.Augmenter ({args.backend} backend): {setting}")
    print(f"{args.variants} augmented versions of each of the first {args.samples} test images "
          "(angle in degrees, counter-clockwise > 0; shift (right, down) in pixels):")
    k = args.variants
    for i in range(args.samples):
        print(f"test image {i} (label {labels[i]}): "
              + " | ".join(describe(params, i * k + j) for j in range(k)))
    if args.backend == "torch":  # the same draw through the NumPy backend: equal up to float rounding
        import scratch
        numpy_version, _ = augment(scratch, args, images)
        print(f"the NumPy backend's images for this seed differ by at most "
              f"{np.max(np.abs(augmented - numpy_version)):.1e} (float32 rounding)")
    draw(args.out, images[:, 0], augmented[:, :, 0], labels, params,
         f"data augmentation (8.1.1), {args.backend} backend: {setting}\n"
         "first column the original; above each version: angle (deg), shift (right, down) px, scale")
    print(f"saved {args.out}")


if __name__ == "__main__":
    cli.run_main(main)
