"""Gradient check (5.7.3, the book's ch05/gradient_check.py): backpropagation against a second way.

TwoLayerNet(784, 50, 10) in float64 on the first 3 training images; for each
parameter the mean absolute difference of the two gradients. The book sees
values around 1e-10 to 1e-13. ``--dtype float32`` shows why the check needs
float64: the central differences then agree only to about 1e-3 (it warns).
"""
import toolkit  # noqa: F401 - first: a Python without the project's packages gets one line, exit 2
import numpy as np

from toolkit import backends, cli, data

DESCRIPTION = """Gradient check, as the book's ch05/gradient_check.py: TwoLayerNet(784, 50, 10)
in float64 on the first training images; prints the mean |difference| per
parameter between the backpropagation gradients and a second way of getting
them. scratch: network.gradient (backprop) vs network.numerical_gradient
(central differences, 4.4). torch: network.gradient (the layers' backward,
each by autograd) vs network.numerical_gradient (one autograd pass over the
whole loss), and vs central differences of the scratch network given the same
weights."""

PARAMS = ("W1", "b1", "W2", "b2")


def parse_args(argv=None):
    parser = cli.ArgumentParser(prog="gradient_check.py", description=DESCRIPTION)
    backends.add_backend_argument(parser)
    parser.add_argument("--activation", choices=["relu", "sigmoid"], default="relu",
                        help="hidden activation (default relu)")
    parser.add_argument("--samples", type=cli.positive_int, default=3,
                        help="how many training images (default 3, as in the book)")
    parser.add_argument("--hidden-size", type=cli.positive_int, default=50,
                        help="hidden units (default 50, as in the book; smaller is faster)")
    parser.add_argument("--seed", type=cli.non_negative_int, default=0,
                        help="seed of the initial weights (default 0)")
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64",
                        help="parameter and image dtype (default float64: central differences in float32 "
                             "agree only to about 1e-3, and say so)")
    data.add_data_arguments(parser)
    return parser.parse_args(argv)


def mean_abs_diff(a, b):
    return float(np.mean(np.abs(np.asarray(a) - np.asarray(b))))


def main(argv=None):
    args = parse_args(argv)
    backend = backends.load_backend(args.backend)
    (x_train, t_train), _ = data.load_data(args, flatten=True)
    if args.samples > len(x_train):
        raise ValueError(f"--samples {args.samples} exceeds the {len(x_train)} training images")
    x_batch, t_batch = x_train[:args.samples], t_train[:args.samples]

    def two_layer_net(package):
        return package.TwoLayerNet(784, args.hidden_size, 10, activation=args.activation,
                                   dtype=args.dtype, seed=args.seed)

    network = two_layer_net(backend)
    print(f"gradient check: TwoLayerNet(784, {args.hidden_size}, 10, activation={args.activation!r}), "
          f"{args.dtype}, seed {args.seed}, the first {args.samples} training images, {args.backend} backend")
    grad_backprop = network.gradient(x_batch, t_batch)
    if args.backend == "scratch":
        print("backprop: network.gradient (5.7.2); numeric: network.numerical_gradient, "
              "central differences with h=1e-4 (4.4)")
        grad_numerical = network.numerical_gradient(x_batch, t_batch)
        columns = {"mean |backprop - numeric|": grad_numerical}
    else:
        import scratch

        print("backprop: network.gradient, the layers' backward in turn (each asks autograd); "
              "autograd: network.numerical_gradient, one autograd pass over the whole loss; "
              "numeric: central differences (h=1e-4) of the scratch TwoLayerNet given the same weights")
        grad_autograd = network.numerical_gradient(x_batch, t_batch)
        grad_backprop = {name: backends.to_numpy(g) for name, g in grad_backprop.items()}
        twin = two_layer_net(scratch).load_params({n: backends.to_numpy(p) for n, p in network.params.items()})
        columns = {"mean |backprop - autograd|": {n: backends.to_numpy(g) for n, g in grad_autograd.items()},
                   "mean |backprop - numeric|": twin.numerical_gradient(x_batch, t_batch)}

    header = "param | " + " | ".join(columns)
    print(header)
    print("-" * len(header))
    for name in PARAMS:
        cells = [f"{mean_abs_diff(grad_backprop[name], other[name]):<{len(title)}.3e}"
                 for title, other in columns.items()]
        print(f"{name:<5} | " + " | ".join(cells).rstrip())


if __name__ == "__main__":
    cli.run_main(main)
