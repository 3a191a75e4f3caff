"""softmax-with-loss: the book's appendix A, Softmax-with-Loss's backward pass as a computational graph.

The notes found the derivation of ``SoftmaxWithLoss.backward`` hard: the
layer returns y - t, and the book derives it in appendix A on a graph of
small nodes. Here that graph is built and run, one sample of K classes,
every edge a number:

    forward                                    backward (dL/d(edge), right to left)
    e_k = exp(a_k)          Exp                dL/da_k = dL/de_k * e_k
    S = e_1 + ... + e_K     Sum ("+")          dL/de_k (the + branch) = dL/dS, for every k
    r = 1/S                 Reciprocal ("/")   dL/dS = dL/dr * (-1/S^2)
    y_k = e_k * r           MulLayer           dL/de_k (the x branch) = dL/dy_k * r,
                                               dL/dr = sum_k dL/dy_k * e_k  (r feeds K nodes: a branch adds)
    l_k = log y_k           Log                dL/dy_k = dL/dl_k / y_k
    c_k = t_k * l_k         MulLayer           dL/dl_k = dL/dc_k * t_k
    s = c_1 + ... + c_K     Sum ("+")          dL/dc_k = dL/ds
    L = -s                  Negate ("x -1")    dL/ds = -dL/dL = -1

Going back with dL/dL = 1: dL/dl_k = -t_k, dL/dy_k = -t_k/y_k, the x branch
gives -t_k/e_k, dL/dr = -S sum_k t_k, dL/dS = sum_k t_k / S, and
e_k (1/S - t_k/e_k) = y_k - t_k once sum_k t_k = 1 (one-hot, or any
probability vector). ``MulLayer`` is the backend's (chapter 5's gate); the
other nodes are written here in the book's style, forward then backward.

Measured: (1) each node's local backward against autograd
(``torch.autograd.grad`` of the same torch operator, float64, random
upstream gradient); ``Sum`` of three inputs also against two chained
``AddLayer`` gates, the book's three-input + node; (2) the composition's
dL/da against y - t, the backend's ``SoftmaxWithLoss`` backward for a batch
of one and, on the torch backend, autograd of ``F.cross_entropy``, for the
appendix's example a = (0.3, 2.9, 4.0), t = (0, 0, 1) and random samples;
(3) where sum_k t_k = 1 enters: labels that do not sum to 1 give
y sum_k t_k - t. The figure is the graph of the example with the forward
value (black, above) and the backward gradient (red, below) on every edge.
"""
import numpy as np

EXAMPLE_SCORES = (0.3, 2.9, 4.0)  # the appendix's 3-class example, a
EXAMPLE_LABELS = (0.0, 0.0, 1.0)  # t, one-hot: the correct class is the third
RANDOM_CLASSES = 10
SCORE_SCALE = 3.0  # random scores a ~ N(0, SCORE_SCALE^2)
TOLERANCE = 1e-12  # float64: every comparison is to rounding error, relative to the numbers' size
UNNORMALISED_LABELS = ((0.2, 0.3, 0.5), (0.0, 0.0, 2.0), (0.5, 0.5, 0.5))  # sum 1, 2, 1.5


def exp(x):
    """e^x of an array or a tensor (a tensor has ``.exp()``; NumPy's ``np.exp`` would drop its autograd)."""
    return x.exp() if hasattr(x, "exp") else np.exp(x)


def log(x):
    """Natural log of an array or a tensor."""
    return x.log() if hasattr(x, "log") else np.log(x)


class Exp:
    """out = exp(x); backward: dx = dout * exp(x) = dout * out (A.1's "exp" node)."""

    def __init__(self):
        self.out = None

    def forward(self, x):
        self.out = exp(x)
        return self.out

    def backward(self, dout):
        return dout * self.out


class Sum:
    """out = x_1 + ... + x_K, the book's + node with K inputs; backward: dout to every input."""

    def __init__(self):
        self.count = None

    def forward(self, *xs):
        self.count = len(xs)
        return sum(xs[1:], xs[0])

    def backward(self, dout):
        return (dout,) * self.count


class Reciprocal:
    """out = 1/x, the book's "/" node; backward: dx = dout * (-1/x^2) = -dout * out^2."""

    def __init__(self):
        self.out = None

    def forward(self, x):
        self.out = 1 / x
        return self.out

    def backward(self, dout):
        return -dout * self.out * self.out


class Log:
    """out = log x; backward: dx = dout / x."""

    def __init__(self):
        self.x = None

    def forward(self, x):
        self.x = x
        return log(x)

    def backward(self, dout):
        return dout / self.x


class Negate:
    """out = -x, the book's "x -1" node; backward: dx = -dout."""

    def forward(self, x):
        return -x

    def backward(self, dout):
        return -dout


class SoftmaxWithLossGraph:
    """Appendix A's graph for one sample: K scores a_k and labels t_k in, the loss L out.

    ``forward`` and ``backward`` keep every edge's value in ``edges``:
    {edge name: {"forward": [...], "backward": [...]}} (one number per class
    or per branch of 1/S, one for the single edges S, s and L).
    """

    def __init__(self, backend):
        self.backend = backend
        self.edges = {}

    def forward(self, a, t):
        K = len(a)
        self.exp = [Exp() for _ in range(K)]
        self.sum_exp = Sum()
        self.reciprocal = Reciprocal()
        self.normalise = [self.backend.MulLayer() for _ in range(K)]
        self.log = [Log() for _ in range(K)]
        self.times_label = [self.backend.MulLayer() for _ in range(K)]
        self.sum_terms = Sum()
        self.negate = Negate()

        e = [node.forward(a_k) for node, a_k in zip(self.exp, a)]
        S = self.sum_exp.forward(*e)
        r = self.reciprocal.forward(S)
        y = [node.forward(e_k, r) for node, e_k in zip(self.normalise, e)]
        log_y = [node.forward(y_k) for node, y_k in zip(self.log, y)]
        terms = [node.forward(t_k, l_k) for node, t_k, l_k in zip(self.times_label, t, log_y)]
        s = self.sum_terms.forward(*terms)
        L = self.negate.forward(s)
        self._keep("forward", a=a, exp_to_sum=e, exp_to_mul=e, S=S, r=[r] * K, y=y, log_y=log_y, t=t,
                   t_log_y=terms, s=s, L=L)
        return L

    def backward(self, dout=1.0):
        ds = self.negate.backward(dout)
        dterms = self.sum_terms.backward(ds)
        dt, dlog_y = zip(*[node.backward(d) for node, d in zip(self.times_label, dterms)])
        dy = [node.backward(d) for node, d in zip(self.log, dlog_y)]
        de_mul, dr_branches = zip(*[node.backward(d) for node, d in zip(self.normalise, dy)])
        dr = sum(dr_branches[1:], dr_branches[0])  # 1/S feeds K multiplications: the branches' gradients add
        dS = self.reciprocal.backward(dr)
        de_sum = self.sum_exp.backward(dS)
        de = [d_mul + d_sum for d_mul, d_sum in zip(de_mul, de_sum)]  # e_k feeds the + and the x: they add
        da = [node.backward(d) for node, d in zip(self.exp, de)]
        self._keep("backward", a=da, exp_to_sum=de_sum, exp_to_mul=de_mul, S=dS, r=dr_branches, y=dy,
                   log_y=dlog_y, t=dt, t_log_y=dterms, s=ds, L=dout)
        self.edges["r_total"] = {"backward": _numbers(dr)}
        self.edges["exp_total"] = {"backward": _numbers(de)}
        return da

    def _keep(self, direction, **edges):
        for name, value in edges.items():
            self.edges.setdefault(name, {})[direction] = _numbers(value)


def _numbers(value):
    """Floats for a number, tensor, or list of them (what the JSON and the figure read)."""
    if isinstance(value, (list, tuple)):
        return [_numbers(item) for item in value]
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return float(np.asarray(value))


# -- the experiment --------------------------------------------------------------------------------------


def run(session):
    checks = local_backward_checks(session)
    session.table("Each node's local backward against autograd (float64, random inputs and upstream gradient)",
                  ["node", "the book's node", "operator checked", "largest abs. difference from autograd"],
                  [[name, book, op, f"{error:.1e}"] for name, (book, op, error) in checks.items()])
    local = {name: error for name, (_, _, error) in checks.items()}
    session.record("local_backward_max_abs_error", local)
    add_error = sum_against_add_layers(session)
    session.record("sum_vs_two_add_layers_max_abs_error", add_error)
    worst_local = max([*local.values(), add_error])
    session.conclude("local_backward", worst_local <= TOLERANCE,
                     f"every node's hand-written backward equals autograd's: the largest difference is "
                     f"{worst_local:.1e} (tolerance {TOLERANCE:.0e}); Sum of three equals two chained AddLayers "
                     f"to {add_error:.1e}",
                     f"a node's backward differs from autograd's by {worst_local:.1e}, above {TOLERANCE:.0e}")

    example = run_example(session)
    random = random_samples(session)
    worst = max(example["max_abs_diff"][key] for key in example["max_abs_diff"])
    worst_random = max(random["max_abs_diff"].values())
    session.conclude("collapses_to_y_minus_t", max(worst, worst_random) <= TOLERANCE,
                     f"the composition collapses to y - t: for a = {EXAMPLE_SCORES}, t = {EXAMPLE_LABELS} the graph "
                     f"gives dL/da = ({', '.join(f'{g:.6f}' for g in example['dL_da'])}), y - t to "
                     f"{example['max_abs_diff']['vs_y_minus_t']:.1e}; over {random['count']} random "
                     f"{RANDOM_CLASSES}-class samples the largest difference (dL/da against y - t, the backend's "
                     f"SoftmaxWithLoss.backward{' and autograd of F.cross_entropy' if session.torch else ''}; "
                     f"L against the layer's forward and cross_entropy_error(softmax(a), t)) is {worst_random:.1e}",
                     f"the graph's dL/da differs from y - t by up to {max(worst, worst_random):.1e}")

    unnormalised_labels(session)
    session.figure(lambda fig: draw_graph(fig, example), figsize=(17, 7.5))


def local_backward_checks(session):
    """{node: (book's node, torch operator, max |backward - autograd's|)} on random float64 inputs."""
    import torch

    def positive(rng, shape):
        return rng.uniform(0.2, 3.0, shape)

    def normal(rng, shape):
        return rng.normal(0.0, 1.0, shape)

    backend = session.backend
    def add_all(*xs):
        return torch.stack(xs).sum(dim=0)

    nodes = {  # name: (book's node, the node, torch operator, inputs drawn how, how many inputs)
        "Exp": ("exp", Exp, torch.exp, normal, 1),
        "Sum": (f"+ ({RANDOM_CLASSES} inputs)", Sum, add_all, normal, RANDOM_CLASSES),
        "Reciprocal": ("/", Reciprocal, torch.reciprocal, positive, 1),
        "Log": ("log", Log, torch.log, positive, 1),
        "Negate": ("x -1", Negate, torch.neg, normal, 1),
        f"{backend.__name__}.MulLayer": ("x", backend.MulLayer, torch.mul, normal, 2),
        f"{backend.__name__}.AddLayer": ("+", backend.AddLayer, torch.add, normal, 2),
    }
    shape = (RANDOM_CLASSES,)
    checks = {}
    for name, (book, make_node, op, draw, count) in nodes.items():
        rng = session.rng(1, len(checks))
        inputs = [draw(rng, () if count > 2 else shape) for _ in range(count)]
        node = make_node()
        out = node.forward(*[as_backend(session, x) for x in inputs])
        dout = rng.normal(0.0, 1.0, np.shape(session.to_numpy(out)))
        grads = node.backward(as_backend(session, dout))
        grads = grads if isinstance(grads, tuple) else (grads,)
        expected = autograd_backward(op, inputs, dout)
        error = max(float(np.max(np.abs(session.to_numpy(g) - e))) for g, e in zip(grads, expected))
        operator = "torch.stack(xs).sum(0)" if op is add_all else f"torch.{op.__name__}"
        checks[name] = (book, operator, error)
    return checks


def autograd_backward(op, inputs, dout):
    """The gradients of op(*inputs) for upstream gradient ``dout``, by ``torch.autograd.grad`` (float64)."""
    import torch

    xs = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in inputs]
    grads = torch.autograd.grad(op(*xs), xs, grad_outputs=torch.tensor(dout, dtype=torch.float64))
    return [g.numpy() for g in grads]


def sum_against_add_layers(session):
    """Max difference between Sum(x1, x2, x3) and AddLayer(AddLayer(x1, x2), x3), forward and backward."""
    rng = session.rng(2)
    x1, x2, x3, dout = (as_backend(session, v) for v in rng.normal(0.0, 1.0, 4))
    node = Sum()
    first, second = session.backend.AddLayer(), session.backend.AddLayer()
    out = node.forward(x1, x2, x3)
    chained = second.forward(first.forward(x1, x2), x3)
    d12, d3 = second.backward(dout)
    d1, d2 = first.backward(d12)
    differences = [out - chained, *(a - b for a, b in zip(node.backward(dout), (d1, d2, d3)))]
    return max(abs(float(session.to_numpy(d))) for d in differences)


def as_backend(session, x):
    """A float64 array (scratch) or tensor (torch) for ``x``."""
    x = np.asarray(x, dtype=np.float64)
    if session.torch:
        import torch
        return torch.tensor(x, dtype=torch.float64)
    return x


def through_graph(session, a, t):
    """(graph, L, dL/da, y - t) for one sample: the graph run forward and backward, y = the backend's softmax."""
    a, t = np.asarray(a, dtype=np.float64), np.asarray(t, dtype=np.float64)
    graph = SoftmaxWithLossGraph(session.backend)
    K = len(a)
    a_values, t_values = as_backend(session, a), as_backend(session, t)
    loss = _numbers(graph.forward([a_values[k] for k in range(K)], [t_values[k] for k in range(K)]))
    dL_da = np.array(_numbers(graph.backward(as_backend(session, 1.0))))
    y_minus_t = session.to_numpy(session.backend.softmax(a)) - t
    return graph, loss, dL_da, y_minus_t


def one_sample(session, a, t):
    """The graph's loss and dL/da for one sample (one-hot t), against y - t and the backend's own losses.

    Returns (graph, {name: max |difference|}, loss, dL/da, y - t).
    """
    graph, loss, dL_da, y_minus_t = through_graph(session, a, t)
    a, t = np.asarray(a, dtype=np.float64), np.asarray(t, dtype=np.float64)
    layer = session.backend.SoftmaxWithLoss()
    layer_loss = float(session.to_numpy(layer.forward(a[None, :], t[None, :])))
    layer_grad = session.to_numpy(layer.backward(1.0))[0]
    differences = {"vs_y_minus_t": np.max(np.abs(dL_da - y_minus_t)),
                   "vs_SoftmaxWithLoss_backward": np.max(np.abs(dL_da - layer_grad)),
                   "loss_vs_SoftmaxWithLoss_forward": abs(loss - layer_loss),
                   "loss_vs_cross_entropy_error": abs(loss - float(session.to_numpy(
                       session.backend.cross_entropy_error(session.backend.softmax(a), t))))}
    if session.torch:
        torch_loss, torch_grad = cross_entropy_autograd(a, t)
        differences["vs_F_cross_entropy_autograd"] = np.max(np.abs(dL_da - torch_grad))
        differences["loss_vs_F_cross_entropy"] = abs(loss - torch_loss)
    return graph, {key: float(value) for key, value in differences.items()}, loss, dL_da, y_minus_t


def cross_entropy_autograd(a, t):
    """F.cross_entropy(a, t) for one sample and its gradient by autograd (float64)."""
    import torch
    import torch.nn.functional as F

    scores = torch.tensor(a[None, :], dtype=torch.float64, requires_grad=True)
    loss = F.cross_entropy(scores, torch.tensor(t[None, :], dtype=torch.float64))
    (grad,) = torch.autograd.grad(loss, scores)
    return float(loss), grad.numpy()[0]


def run_example(session):
    """The appendix's 3-class example: every edge's forward value and backward gradient."""
    graph, differences, loss, dL_da, y_minus_t = one_sample(session, EXAMPLE_SCORES, EXAMPLE_LABELS)
    edges = graph.edges
    rows = [[f"a_{k + 1}", f"{EXAMPLE_SCORES[k]:g}", f"{edges['exp_to_mul']['forward'][k]:.6g}",
             f"{edges['y']['forward'][k]:.6f}", f"{edges['log_y']['forward'][k]:.6f}", f"{EXAMPLE_LABELS[k]:g}",
             f"{dL_da[k]:.12f}", f"{y_minus_t[k]:.12f}"] for k in range(len(EXAMPLE_SCORES))]
    session.table(f"The appendix's example through the graph: L = {loss:.12f}, S = {edges['S']['forward']:.6f}",
                  ["class", "a_k", "exp(a_k)", "y_k", "log y_k", "t_k", "dL/da_k (graph)", "y_k - t_k"], rows)
    session.table("The example's backward, edge by edge (the appendix's intermediate results)",
                  ["edge", "gradient (graph)", "appendix's formula"],
                  [["L", _fmt(edges["L"]["backward"]), "1"],
                   ["s = sum t_k log y_k", _fmt(edges["s"]["backward"]), "-1"],
                   ["log y_k", _fmt(edges["log_y"]["backward"]), "-t_k"],
                   ["y_k", _fmt(edges["y"]["backward"]), "-t_k / y_k"],
                   ["1/S (each branch)", _fmt(edges["r"]["backward"]), "-t_k S"],
                   ["1/S (branches added)", _fmt(edges["r_total"]["backward"]), "-S (t_1 + t_2 + t_3) = -S"],
                   ["S", _fmt(edges["S"]["backward"]), "1/S"],
                   ["exp(a_k), x branch", _fmt(edges["exp_to_mul"]["backward"]), "-t_k / exp(a_k)"],
                   ["exp(a_k), + branch", _fmt(edges["exp_to_sum"]["backward"]), "1/S"],
                   ["exp(a_k), added", _fmt(edges["exp_total"]["backward"]), "1/S - t_k / exp(a_k)"],
                   ["a_k", _fmt(edges["a"]["backward"]), "y_k - t_k"]])
    session.table("The example's dL/da against the backend's losses",
                  ["compared with", "largest abs. difference"],
                  [[key.replace("_", " "), f"{value:.1e}"] for key, value in differences.items()])
    example = {"a": EXAMPLE_SCORES, "t": EXAMPLE_LABELS, "loss": loss, "dL_da": dL_da, "y_minus_t": y_minus_t,
               "edges": edges, "max_abs_diff": differences}
    session.record("example", example)
    return example


def _fmt(value):
    """A number, or a tuple of them, to 6 digits (-0 written 0)."""
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(_fmt(v) for v in value) + ")"
    return f"{value + 0.0:.6g}"


def random_samples(session):
    """Max differences of dL/da (and L) over random samples of RANDOM_CLASSES classes, one-hot labels."""
    count = session.size(quick=50, full=1000)
    rng = session.rng(3)
    worst = {}
    with session.progress(count, "random samples") as bar:
        for _ in range(count):
            a = rng.normal(0.0, SCORE_SCALE, RANDOM_CLASSES)
            t = np.eye(RANDOM_CLASSES)[rng.integers(RANDOM_CLASSES)]
            _, differences, *_ = one_sample(session, a, t)
            for key, value in differences.items():
                worst[key] = max(worst.get(key, 0.0), value)
            bar.update()
    session.table(f"{count} random samples, {RANDOM_CLASSES} classes, a ~ N(0, {SCORE_SCALE:g}^2), one-hot t",
                  ["the graph's dL/da (or L) compared with", "largest abs. difference"],
                  [[key.replace("_", " "), f"{value:.1e}"] for key, value in worst.items()])
    return session.record("random_samples", {"count": count, "classes": RANDOM_CLASSES, "max_abs_diff": worst})


def unnormalised_labels(session):
    """Where sum_k t_k = 1 enters: the graph gives y sum_k t_k - t, which is y - t only when the labels sum to 1."""
    rows, measured = [], []
    for t in UNNORMALISED_LABELS:
        _, _, dL_da, y_minus_t = through_graph(session, EXAMPLE_SCORES, t)
        y = y_minus_t + np.asarray(t)
        total = sum(t)
        vs_formula = float(np.max(np.abs(dL_da - (y * total - np.asarray(t)))))
        vs_y_minus_t = float(np.max(np.abs(dL_da - y_minus_t)))
        rows.append([str(t), f"{total:g}", _fmt(list(dL_da)), f"{vs_y_minus_t:.1e}", f"{vs_formula:.1e}"])
        measured.append({"t": t, "sum_t": total, "dL_da": dL_da, "max_abs_diff_vs_y_minus_t": vs_y_minus_t,
                         "max_abs_diff_vs_y_sum_t_minus_t": vs_formula})
    session.table(f"Labels that are not one-hot, a = {EXAMPLE_SCORES}: dL/dS = sum_k t_k / S",
                  ["t", "sum t_k", "dL/da (graph)", "vs y - t", "vs y sum t_k - t"], rows)
    session.record("labels_not_one_hot", measured)
    doubled = next(m for m in measured if m["sum_t"] == 2)
    holds = all((m["max_abs_diff_vs_y_minus_t"] <= TOLERANCE) == (m["sum_t"] == 1) for m in measured) and all(
        m["max_abs_diff_vs_y_sum_t_minus_t"] <= TOLERANCE for m in measured)
    session.conclude("needs_labels_summing_to_one", holds,
                     f"y - t needs sum_k t_k = 1: with t = {doubled['t']} the graph gives 2y - t (it differs from "
                     f"y - t by {doubled['max_abs_diff_vs_y_minus_t']:.3f}); every label vector gives "
                     "y sum_k t_k - t",
                     "the graph's gradient for labels not summing to 1 is not y sum_k t_k - t (see the table)")


# -- the figure ------------------------------------------------------------------------------------------


def draw_graph(fig, example):
    """The appendix's graph for the example: nodes as boxes, every edge with forward (black) and backward (red)."""
    edges = example["edges"]
    K = len(example["a"])
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_xlim(-0.6, 10.6)
    ax.set_ylim(-1.9, 2 * K - 0.6)
    row = [2 * (K - 1 - k) + 0.4 for k in range(K)]  # class 1 on top
    low = -1.2  # the row of the + and / nodes
    x = {"a": 0.0, "exp": 1.2, "sum": 2.6, "div": 4.0, "mul": 5.4, "log": 6.6, "mul_t": 7.8, "add": 8.9,
         "neg": 9.8, "L": 10.5}
    y_add = row[K // 2] if K % 2 else (row[0] + row[-1]) / 2

    def node(px, py, label):
        ax.text(px, py, label, ha="center", va="center", fontsize=12, zorder=3,
                bbox={"boxstyle": "circle,pad=0.3", "facecolor": "white", "edgecolor": "black"})

    def edge(start, end, forward, backward, at=0.5, shift=0.0):
        ax.annotate("", xy=end, xytext=start, zorder=1,
                    arrowprops={"arrowstyle": "-|>", "color": "black", "shrinkA": 14, "shrinkB": 14})
        mx, my = start[0] + at * (end[0] - start[0]), start[1] + at * (end[1] - start[1]) + shift
        label = {"ha": "center", "fontsize": 9, "zorder": 2,
                 "bbox": {"facecolor": "white", "edgecolor": "none", "pad": 0.3, "alpha": 0.85}}
        ax.text(mx, my + 0.06, forward, va="bottom", color="black", **label)
        ax.text(mx, my - 0.06, backward, va="top", color="red", **label)

    def g(value):
        return f"{value + 0.0:.4g}"

    def fwd(name, k=None):
        return g(edges[name]["forward"] if k is None else edges[name]["forward"][k])

    def bwd(name, k=None):
        return g(edges[name]["backward"] if k is None else edges[name]["backward"][k])

    for k in range(K):
        r = row[k]
        ax.text(x["a"], r, f"a$_{k + 1}$", ha="center", va="center", fontsize=12)
        node(x["exp"], r, "exp")
        node(x["mul"], r, "×")
        node(x["log"], r, "log")
        node(x["mul_t"], r, "×")
        ax.text(x["mul_t"], r + 0.75, f"t$_{k + 1}$", ha="center", va="center", fontsize=12)
        edge((x["a"], r), (x["exp"], r), fwd("a", k), bwd("a", k))
        edge((x["exp"], r), (x["mul"], r), fwd("exp_to_mul", k), bwd("exp_to_mul", k), at=0.72)
        edge((x["exp"], r), (x["sum"], low), fwd("exp_to_sum", k), bwd("exp_to_sum", k), at=0.3,
             shift=0.25 * (1 - k))
        between = (r + (row[k + 1] if k + 1 < K else low)) / 2  # label the branch between two rows
        edge((x["div"], low), (x["mul"], r), fwd("r", k), bwd("r", k), at=(between - low) / (r - low))
        edge((x["mul"], r), (x["log"], r), fwd("y", k), bwd("y", k))
        edge((x["log"], r), (x["mul_t"], r), fwd("log_y", k), bwd("log_y", k))
        edge((x["mul_t"], r + 0.75), (x["mul_t"], r), "", "")
        ax.text(x["mul_t"] + 0.08, r + 0.42, f"{fwd('t', k)}", ha="left", fontsize=9, color="black")
        ax.text(x["mul_t"] - 0.08, r + 0.42, f"{bwd('t', k)}", ha="right", fontsize=9, color="red")
        edge((x["mul_t"], r), (x["add"], y_add), fwd("t_log_y", k), bwd("t_log_y", k), at=0.45)
    node(x["sum"], low, "+")
    node(x["div"], low, "/")
    node(x["add"], y_add, "+")
    node(x["neg"], y_add, "×-1")
    edge((x["sum"], low), (x["div"], low), fwd("S"), bwd("S"))
    ax.text(x["div"], low - 0.35, f"1/S's {K} branches add up: {bwd('r_total')}", ha="center", va="top",
            fontsize=9, color="red")
    edge((x["add"], y_add), (x["neg"], y_add), fwd("s"), bwd("s"))
    edge((x["neg"], y_add), (x["L"], y_add), fwd("L"), bwd("L"), at=0.7)
    ax.text(x["L"], y_add, "L", ha="left", va="center", fontsize=12)
    ax.set_title(f"Softmax-with-Loss as a computational graph (appendix A): a = {example['a']}, "
                 f"t = {tuple(int(v) for v in example['t'])}.  Forward value above each edge (black), "
                 f"dL/d(edge) below (red);\ndL/da = y - t = ({', '.join(g(v) for v in example['dL_da'])})",
                 fontsize=11)
