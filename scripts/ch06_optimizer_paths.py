"""Optimizer paths on f(x, y) = x^2/20 + y^2 (6.1.7, the book's ch06/optimizer_compare_naive.py).

From (-7, 2), 30 updates each of SGD (lr 0.95), Momentum (lr 0.1), AdaGrad
(lr 1.5) and Adam (lr 0.3), drawn over the contour lines of f (figure 6-8).
The gradient is (x/10, 2y): written out with the scratch backend, from
autograd with the torch backend. The book prints no numbers; the table
sets the final points beside those of the book's own update rules
(``common/optimizer.py``, NumPy float64), which write Momentum, AdaGrad's
eps and Adam's eps differently from PyTorch (see the optimizers' docstrings).

    python scripts/ch06_optimizer_paths.py --backend torch
"""
import toolkit  # noqa: F401 - first: a Python without the project's packages gets one line, exit 2
import numpy as np

from toolkit import backends, cli, figures
from toolkit import experiments as ex

DESCRIPTION = """Draw the paths of SGD (lr 0.95), Momentum (lr 0.1), AdaGrad (lr 1.5) and Adam
(lr 0.3) minimising f(x, y) = x^2/20 + y^2 from (-7, 2), as the book's
ch06/optimizer_compare_naive.py (6.1.7); prints each final point beside the one
the book's own update rules reach, and saves the four panels as a PNG."""

INIT_POS = (-7.0, 2.0)
OPTIMIZERS = {"SGD": {"lr": 0.95}, "Momentum": {"lr": 0.1}, "AdaGrad": {"lr": 1.5}, "Adam": {"lr": 0.3}}


def f(x, y):
    """The bowl of equation 6.2, elongated along x."""
    return x ** 2 / 20 + y ** 2


def df(x, y):
    """Its gradient, (df/dx, df/dy) = (x/10, 2y)."""
    return x / 10, 2 * y


def gradient_scratch(params):
    gx, gy = df(params["x"], params["y"])
    return {"x": np.asarray(gx), "y": np.asarray(gy)}


def gradient_torch(params):
    import torch

    gx, gy = torch.autograd.grad(f(params["x"], params["y"]), [params["x"], params["y"]])
    return {"x": gx, "y": gy}


def start_params(backend_name, dtype):
    """The starting point as the backend's parameters: 0-d arrays, or 0-d tensors with requires_grad."""
    if backend_name == "torch":
        import torch

        return {key: torch.tensor(value, dtype=getattr(torch, dtype), requires_grad=True)
                for key, value in zip("xy", INIT_POS)}
    return {key: np.array(value, dtype=dtype) for key, value in zip("xy", INIT_POS)}


def walk(backend, backend_name, name, hyper, steps, dtype):
    """The points visited: the start and the position after each of ``steps`` updates, shape (steps + 1, 2)."""
    optimizer = getattr(backend, name)(**hyper)
    gradient = gradient_torch if backend_name == "torch" else gradient_scratch
    params = start_params(backend_name, dtype)
    position = lambda: [float(backends.to_numpy(params["x"])), float(backends.to_numpy(params["y"]))]  # noqa: E731
    history = [position()]
    for _ in range(steps):
        optimizer.update(params, gradient(params))
        history.append(position())
    return np.array(history)


def book_walk(name, lr, steps):
    """The final point of the book's update rules (common/optimizer.py), in float64."""
    p = np.array(INIT_POS)
    v, h, m = np.zeros(2), np.zeros(2), np.zeros(2)
    for t in range(1, steps + 1):
        g = np.array(df(*p))
        if name == "SGD":
            p -= lr * g
        elif name == "Momentum":  # v <- 0.9 v - lr g;  W <- W + v
            v = 0.9 * v - lr * g
            p += v
        elif name == "AdaGrad":   # h <- h + g*g;  W <- W - lr g / (sqrt(h) + 1e-7)
            h += g * g
            p -= lr * g / (np.sqrt(h) + 1e-7)
        elif name == "Adam":      # bias corrections folded into lr_t; eps 1e-7 before the correction
            lr_t = lr * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
            m += (1 - 0.9) * (g - m)
            v += (1 - 0.999) * (g ** 2 - v)
            p -= lr_t * m / (np.sqrt(v) + 1e-7)
    return p


def plot_paths(path, paths, title):
    """Four panels as figure 6-8: the contour lines of f (below 7) and each optimizer's path."""
    fig = figures.new_figure(figsize=(10, 8))
    x = np.arange(-10, 10, 0.01)
    y = np.arange(-5, 5, 0.01)
    X, Y = np.meshgrid(x, y)
    Z = f(X, Y)
    Z[Z > 7] = 0  # the book's "simple contour line" mask
    for ax, (name, points) in zip(fig.subplots(2, 2).flat, paths.items()):
        ax.contour(X, Y, Z)
        ax.plot(points[:, 0], points[:, 1], "o-", color="red", markersize=3)
        ax.plot(0, 0, "+", color="black", markersize=10)
        ax.set_xlim(-10, 10)
        ax.set_ylim(-10, 10)
        ax.set_title(f"{name} (lr {OPTIMIZERS[name]['lr']})")
        ax.set_xlabel("x")
        ax.set_ylabel("y")
    fig.suptitle(title)
    figures.save_figure(fig, path)


def parse_args(argv=None):
    parser = ex.make_parser(__file__, DESCRIPTION)
    parser.add_argument("--steps", type=cli.positive_int, default=30,
                        help="updates per optimizer (default 30, as in the book)")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32",
                        help="dtype of the point (default float32)")
    return ex.parse(parser, argv)


def main(argv=None):
    args = parse_args(argv)
    backend = ex.load_backend(args)
    gradient_from = "autograd" if args.backend == "torch" else "(x/10, 2y)"
    print(f"optimizer paths ({ex.label(args)}, {args.dtype}): f(x, y) = x^2/20 + y^2 from {INIT_POS}, "
          f"{args.steps} updates, gradient {gradient_from}")
    paths = {name: walk(backend, args.backend, name, hyper, args.steps, args.dtype)
             for name, hyper in OPTIMIZERS.items()}
    rows = []
    for name, points in paths.items():
        x, y = points[-1]
        bx, by = book_walk(name, OPTIMIZERS[name]["lr"], args.steps)
        rows.append([name, f"{OPTIMIZERS[name]['lr']}", f"{x:.6g}", f"{y:.6g}", f"{f(x, y):.4g}",
                     f"{bx:.6g}", f"{by:.6g}"])
    ex.print_table(["optimizer", "lr", "final x", "final y", "f(x, y)", "book rules x", "book rules y"], rows)
    if not args.no_plot:
        plot_paths(args.plot, paths, f"paths on x^2/20 + y^2 ({ex.label(args)}, {args.steps} updates)")


if __name__ == "__main__":
    cli.run_main(main)
