"""Chapter 6's practice tasks: the optimizers (6.1, ``ch6_optimizers``), Dropout (6.4.3) and
BatchNormalization (6.3), in the book's order as ``practice.py list`` shows them."""
import contextlib

import numpy as np

from ..task import CheckFailed, Mistake, Task
from .ch6_optimizers import TASKS as OPTIMIZER_TASKS


def close(received, expected, rtol=1e-8):
    """True when ``received`` has ``expected``'s shape and values within ``rtol`` of its largest entry."""
    try:
        received, expected = np.asarray(received, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    if received.shape != expected.shape:
        return False
    scale = max(float(np.max(np.abs(expected))) if expected.size else 0.0, 1e-300)
    return bool(np.all(np.abs(received - expected) <= rtol * scale))


@contextlib.contextmanager
def seeded(seed):
    """NumPy's global generator seeded with ``seed`` inside, as it was outside (the book draws from it)."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def torch_tensor(array, grad=False):
    import torch

    return torch.tensor(np.asarray(array), requires_grad=grad)


# ---------------------------------------------------------------------------
# Dropout (6.4.3)
# ---------------------------------------------------------------------------

DROPOUT_SKELETON = '''"""Dropout (6.4.3): write forward and backward.

    training (train_flg=True):  self.mask = np.random.rand(*x.shape) > self.dropout_ratio
                                (True where the element is kept, with probability 1 - dropout_ratio)
                                out = x * self.mask
    test (train_flg=False):     out = x * (1 - dropout_ratio)     (training's expected output)
    backward:                   dx = dout * self.mask

x, out, dout and dx all have x's shape, e.g. (N, D). Draw the mask from NumPy's global
generator as the book does: the grader seeds it (np.random.seed) to compare your mask with the book's.

With --semantics pytorch (PyTorch's inverted dropout, F.dropout) the survivors are scaled in
training instead: out = x * mask / (1 - dropout_ratio), dx = dout * mask / (1 - dropout_ratio),
and the test pass is the identity, out = x.

Check it: python scripts/practice.py check dropout
"""
import numpy as np


class Dropout:
    def __init__(self, dropout_ratio=0.5):
        self.dropout_ratio = dropout_ratio
        self.mask = None

    def forward(self, x, train_flg=True):
        raise NotImplementedError("training: draw self.mask and return x through it; test: x * (1 - ratio)")

    def backward(self, dout):
        raise NotImplementedError("return dout through the mask of the last forward pass")
'''

RATIO = 0.3  # not 0.5: a mask that keeps with probability ratio instead of 1 - ratio shows
SEED = 2106
DROPOUT_LINES = {
    "book": {"train": "Dropout.forward: self.mask = np.random.rand(*x.shape) > self.dropout_ratio; "
                      "return x * self.mask",
             "test": "Dropout.forward: return x * (1.0 - self.dropout_ratio)",
             "backward": "Dropout.backward: return dout * self.mask"},
    "pytorch": {"train": "F.dropout (training): x * mask / (1 - p)",
                "test": "F.dropout (training=False): x, the identity",
                "backward": "F.dropout's backward: dout * mask / (1 - p)"},
}


def dropout_input(grader, shape, dtype=np.float64, stream=0):
    """x with no zero entry (so out == 0 exactly where the mask dropped), and dout of the same shape."""
    rng = grader.rng(6, 4, stream, *shape)
    x = (rng.uniform(0.5, 2.0, shape) * rng.choice((-1.0, 1.0), shape)).astype(dtype)
    dout = rng.standard_normal(shape).astype(dtype)
    return x, dout


def learner_dropout(grader, x, train_flg, seed=SEED, dout=None):
    """(out, dx or None) of a fresh learner Dropout(RATIO); NumPy's global generator seeded with ``seed``."""
    layer = grader.call("Dropout(dropout_ratio)", grader.learner, RATIO)
    with seeded(seed):
        out = grader.call(f"forward(x, train_flg={train_flg})", layer.forward, x.copy(), train_flg=train_flg)
    dx = None if dout is None else grader.call("backward", layer.backward, dout.copy())
    return out, dx


def expected_dropout(grader, x, train_flg, kept=None, seed=SEED, dout=None):
    """(out, dx) of the graded semantics' Dropout: the book's draw after np.random.seed(seed), or
    ``scratch.Dropout`` with the mask ``kept`` (the learner's, PyTorch semantics: its draw is free)."""
    layer = grader.expected.Dropout(RATIO)
    if grader.semantics == "book" or not train_flg:
        with seeded(seed):
            out = layer.forward(x.copy(), train_flg=train_flg)
    else:
        out = layer.forward(x.copy(), train_flg=True, mask=kept)
    return out, (None if dout is None else layer.backward(dout.copy()))


def require_output(grader, what, out, x):
    grader.require(out is not None, f"{what} is None: forward must return the output")
    shape = getattr(out, "shape", None)
    grader.require(shape is not None and tuple(shape) == x.shape,
                   f"{what} has shape {shape}, the input's is {x.shape}")


def factor(out, x, where):
    """out / x on ``where`` when it is one number there (to 1e-6), else None."""
    ratios = np.asarray(out, dtype=np.float64)[where] / np.asarray(x, dtype=np.float64)[where]
    if ratios.size == 0:
        return None
    middle = float(np.median(ratios))
    return middle if np.all(np.abs(ratios - middle) <= 1e-6 * max(abs(middle), 1e-300)) else None


def dropout_scaling_mistake(grader):
    """The "dropout scaling on the wrong side" Mistake, naming the side(s) the learner's code scales;
    None when its scaling is not recognised or is the asked one."""
    x, _ = dropout_input(grader, (4, 50), stream=9)
    try:
        out, _ = learner_dropout(grader, x, True)
        test, _ = learner_dropout(grader, x, False)
        train_factor = factor(out, x, np.asarray(out) != 0)
        test_factor = factor(test, x, np.ones(x.shape, dtype=bool))
    except (CheckFailed, TypeError, ValueError, IndexError):
        return None
    if train_factor is None or test_factor is None:
        return None
    sides = set()
    for side, value, scaled in (("training", train_factor, 1 / (1 - RATIO)), ("test", test_factor, 1 - RATIO)):
        if abs(value - scaled) <= 1e-6 * scaled:
            sides.add(side)
        elif abs(value - 1) > 1e-6:
            return None  # some other factor: not this mistake
    asked = {"test"} if grader.semantics == "book" else {"training"}
    if sides == asked:
        return None
    does = {frozenset({"training"}): "scales the survivors by 1 / (1 - dropout_ratio) in training "
                                     "(PyTorch's inverted dropout) and leaves the test pass alone",
            frozenset({"test"}): "scales the test pass by (1 - dropout_ratio) (the book's dropout) "
                                 "and not the survivors in training",
            frozenset({"training", "test"}): "scales on both sides: the survivors by 1 / (1 - dropout_ratio) in "
                                             "training and the test pass by (1 - dropout_ratio)",
            frozenset(): "scales on neither side"}[frozenset(sides)]
    wanted = ("the book scales only the test pass, by (1 - dropout_ratio)" if grader.semantics == "book" else
              "PyTorch's semantics scale only the survivors in training, by 1 / (1 - dropout_ratio)")
    lines = DROPOUT_LINES[grader.semantics]
    return Mistake("dropout scaling on the wrong side", f"{wanted}; this code {does}",
                   lines["test"] if grader.semantics == "book" else lines["train"], lambda received: True)


def dropout_mistakes(grader):
    mistake = dropout_scaling_mistake(grader)
    return (mistake,) if mistake else ()


MASK_REVERSED = Mistake(
    "dropout mask reversed", "the mask keeps an element with probability dropout_ratio: it must drop with that "
    "probability (keep where np.random.rand(...) > dropout_ratio)", DROPOUT_LINES["book"]["train"],
    lambda received: True)
NOT_THE_BOOKS_DRAW = Mistake(
    "dropout mask not the book's draw", "the book draws mask = np.random.rand(*x.shape) > dropout_ratio from "
    "NumPy's global generator; the grader seeds it (np.random.seed) and compares your mask with the book's",
    DROPOUT_LINES["book"]["train"], lambda received: True)


def backward_mistakes(grader, kept, dout):
    """dx not 0 where forward dropped; dx through the mask but scaled unlike forward's survivors."""
    line = DROPOUT_LINES[grader.semantics]["backward"]
    wrong = 1 / (1 - RATIO) if grader.semantics == "book" else 1.0
    right = "dx = dout * mask" if grader.semantics == "book" else "dx = dout * mask / (1 - dropout_ratio)"
    return (Mistake("dropout backward not applying the mask",
                    "dx must be 0 where forward dropped the element: the dropped ones did not reach the output",
                    line, lambda dx: np.any(np.asarray(dx)[~kept] != 0)),
            Mistake("dropout backward not scaled as forward",
                    f"dx is dout times what forward multiplied x by: {right}", line,
                    lambda dx: close(dx, np.where(kept, dout * wrong, 0))))


def check_dropout_training(grader):
    """forward in training: about dropout_ratio of x dropped to 0, the survivors scaled right (batches 2, 5)

    The survivors are x (book) or x / (1 - dropout_ratio) (PyTorch's semantics), on the learner's own mask.
    """
    for n in (2, 5):
        x, _ = dropout_input(grader, (n, 600))
        out, _ = learner_dropout(grader, x, True)
        require_output(grader, f"forward in training, batch {n}", out, x)
        kept = np.asarray(out) != 0
        dropped, size = int(np.sum(~kept)), x.size
        spread = 5 * np.sqrt(size * RATIO * (1 - RATIO))
        if abs(dropped - size * RATIO) > spread:
            reversed_ = abs(dropped - size * (1 - RATIO)) <= spread
            raise CheckFailed(f"forward in training, batch {n}: {dropped} of {size} elements dropped "
                              f"({dropped / size:.0%}), dropout_ratio {RATIO} drops about {RATIO:.0%}",
                              mistake=MASK_REVERSED if reversed_ else None,
                              book_line=DROPOUT_LINES[grader.semantics]["train"])
        expected, _ = expected_dropout(grader, x, True, kept)
        if grader.semantics == "book":
            expected = x * kept  # the same structure on the learner's own mask; the draw is the next check's
        grader.compare(f"forward in training, batch {n} (your mask)", out, expected, dropout_mistakes(grader),
                DROPOUT_LINES[grader.semantics]["train"])


def check_dropout_expected(grader):
    """forward in training equals the book's (PyTorch semantics: scratch's), float64 and float32

    Book: the same np.random.seed, the same draw np.random.rand(*x.shape) > ratio; PyTorch's semantics:
    scratch.Dropout on the learner's mask (its draw is free).
    """
    for dtype in (np.float64, np.float32):
        x, _ = dropout_input(grader, (5, 40), dtype)
        out, _ = learner_dropout(grader, x, True)
        require_output(grader, f"forward in training, {np.dtype(dtype).name}", out, x)
        kept = np.asarray(out) != 0
        expected, _ = expected_dropout(grader, x, True, kept)
        mistakes = dropout_mistakes(grader)
        if grader.semantics == "book" and not np.array_equal(kept, expected != 0):
            mistakes += (MASK_REVERSED,) if np.array_equal(kept, expected == 0) else (NOT_THE_BOOKS_DRAW,)
        grader.compare(f"forward in training, {np.dtype(dtype).name}", out, expected, mistakes,
                DROPOUT_LINES[grader.semantics]["train"])


def check_dropout_test(grader):
    """forward at test time (train_flg=False): x * (1 - ratio) (book) or x (PyTorch), float64 and float32"""
    for n, dtype in ((2, np.float64), (5, np.float64), (5, np.float32)):
        x, _ = dropout_input(grader, (n, 8), dtype)
        out, _ = learner_dropout(grader, x, False)
        expected, _ = expected_dropout(grader, x, False)
        grader.compare(f"forward at test time, batch {n}, {np.dtype(dtype).name}", out, expected,
                dropout_mistakes(grader), DROPOUT_LINES[grader.semantics]["test"])


def check_dropout_backward(grader):
    """backward: dout through the last training forward's mask (batches 2 and 5)"""
    for n in (2, 5):
        x, dout = dropout_input(grader, (n, 30))
        out, dx = learner_dropout(grader, x, True, dout=dout)
        require_output(grader, f"forward in training, batch {n}", out, x)
        kept = np.asarray(out) != 0
        _, expected = expected_dropout(grader, x, True, kept, dout=dout)
        mistakes = backward_mistakes(grader, kept, dout) + dropout_mistakes(grader)
        grader.compare(f"dx, batch {n}", dx, expected, mistakes, DROPOUT_LINES[grader.semantics]["backward"])


def check_dropout_torch(grader):
    """against F.dropout: zeros where dropped, survivors and dx scaled as PyTorch's, the test pass

    F.dropout draws its own mask, so the comparison is by structure: the learner's survivors and dx are
    F.dropout's factor 1 / (1 - p) times x and dout (times (1 - p) for the book, which does not scale them).
    """
    import torch
    import torch.nn.functional as F

    x, dout = dropout_input(grader, (5, 40))
    inputs = torch_tensor(x, grad=True)
    with torch.random.fork_rng():  # PyTorch's own generator as it was afterwards
        torch.manual_seed(SEED)
        torch_out = F.dropout(inputs, RATIO, training=True)
    torch_out.backward(torch_tensor(dout))
    torch_kept = torch_out.detach().numpy() != 0
    survivor = float(torch_out.detach().numpy()[torch_kept][0] / x[torch_kept][0])  # 1 / (1 - p)
    gradient = float(inputs.grad.numpy()[torch_kept][0] / dout[torch_kept][0])
    book = 1 - RATIO if grader.semantics == "book" else 1.0  # the book's training pass is (1 - p) times PyTorch's

    out, dx = learner_dropout(grader, x, True, dout=dout)
    require_output(grader, "forward in training", out, x)
    kept = np.asarray(out) != 0
    mistakes = dropout_mistakes(grader)
    grader.compare("forward in training against F.dropout's survivors", out, np.where(kept, x * survivor * book, 0),
            mistakes, DROPOUT_LINES[grader.semantics]["train"])
    grader.compare("dx against autograd's through F.dropout", dx, np.where(kept, dout * gradient * book, 0),
            backward_mistakes(grader, kept, dout) + mistakes, DROPOUT_LINES[grader.semantics]["backward"])
    test, _ = learner_dropout(grader, x, False)
    expected = F.dropout(torch_tensor(x), RATIO, training=False).numpy() * book
    grader.compare("forward at test time against F.dropout(training=False)", test, expected, mistakes,
            DROPOUT_LINES[grader.semantics]["test"])


def check_dropout_numerical(grader):
    """dx equals a numerical gradient of sum(forward(x) * dout), the mask fixed"""
    x, dout = dropout_input(grader, (2, 6), stream=1)
    out, dx = learner_dropout(grader, x, True, dout=dout)
    require_output(grader, "forward in training", out, x)
    kept = np.asarray(out) != 0

    def loss(inputs):
        return float(np.sum(expected_dropout(grader, inputs, True, kept)[0] * dout))

    grader.compare("dx against central differences", dx, grader.numerical_gradient(loss, x),
            backward_mistakes(grader, kept, dout) + dropout_mistakes(grader),
            DROPOUT_LINES[grader.semantics]["backward"], rtol=1e-7)


DROPOUT = Task("dropout", 6, "6.4.3", "Dropout", DROPOUT_SKELETON,
               (check_dropout_training, check_dropout_expected, check_dropout_test, check_dropout_backward,
                check_dropout_torch, check_dropout_numerical))

# ---------------------------------------------------------------------------
# BatchNormalization (6.3)
# ---------------------------------------------------------------------------

BATCH_NORMALIZATION_SKELETON = '''"""BatchNormalization (6.3): write forward and backward for x of shape (N, D).

training (train_flg=True), per feature (column) over the batch (axis 0):
    mu  = mean of x                       (D,)
    xc  = x - mu                          (N, D)
    var = mean of xc ** 2                 (D,)   the biased variance
    std = np.sqrt(var + 10e-7)            (D,)   the book's eps, 1e-6
    xn  = xc / std,  out = gamma * xn + beta                    (N, D)
    running_mean = momentum * running_mean + (1 - momentum) * mu
    running_var  = momentum * running_var  + (1 - momentum) * var
    (None running statistics start as np.zeros(D), both)
test (train_flg=False): xn = (x - running_mean) / np.sqrt(running_var + 10e-7), out = gamma * xn + beta;
    the running statistics do not change.

backward (after a training forward), the book's graph from out back to x, with N = the batch size:
    dbeta = sum of dout,  dgamma = sum of xn * dout   (over the batch: (D,), kept as self.dbeta, self.dgamma)
    dxn = gamma * dout,  dxc = dxn / std
    dstd = -sum of dxn * xc / (std * std),  dvar = 0.5 * dstd / std
    dxc += (2 / N) * xc * dvar,  dmu = sum of dxc,  dx = dxc - dmu / N       (N, D)

With --semantics pytorch (F.batch_norm, nn.BatchNorm1d): eps is 1e-5; running_var starts as np.ones(D)
and moves towards the unbiased variance var * N / (N - 1) (out still divides by the biased var's std).

Check it: python scripts/practice.py check batch_normalization
"""
import numpy as np


class BatchNormalization:
    def __init__(self, gamma, beta, momentum=0.9, running_mean=None, running_var=None):
        self.gamma = gamma
        self.beta = beta
        self.momentum = momentum
        self.running_mean = running_mean  # used at test time
        self.running_var = running_var
        self.batch_size = None  # kept by forward for backward
        self.xc = None
        self.xn = None
        self.std = None
        self.dgamma = None
        self.dbeta = None

    def forward(self, x, train_flg=True):
        raise NotImplementedError("training: normalise with the batch's mean and variance, update the running ones")

    def backward(self, dout):
        raise NotImplementedError("set self.dgamma and self.dbeta, return dx")
'''

D = 4
MOMENTUM = 0.9
EPS = {"book": 1e-6, "pytorch": 1e-5}
BN_LINES = {
    "book": {"train": "BatchNormalization.__forward: var = np.mean(xc**2, axis=0); std = np.sqrt(var + 10e-7); "
                      "xn = xc / std",
             "running": "BatchNormalization.__forward: self.running_var = self.momentum * self.running_var + "
                        "(1-self.momentum) * var",
             "test": "BatchNormalization.__forward: xc = x - self.running_mean (train_flg=False)",
             "backward": "BatchNormalization.__backward: dmu = np.sum(dxc, axis=0); dx = dxc - dmu / self.batch_size",
             "params": "BatchNormalization.__backward: dgamma = np.sum(self.xn * dout, axis=0)"},
    "pytorch": {"train": "F.batch_norm (training=True): (x - mean) / sqrt(var + 1e-5), the biased var",
                "running": "F.batch_norm: running_var = (1 - 0.1) running_var + 0.1 * var * n / (n - 1)",
                "test": "F.batch_norm (training=False): (x - running_mean) / sqrt(running_var + 1e-5)",
                "backward": "BatchNormalization.__backward: dmu = np.sum(dxc, axis=0); "
                            "dx = dxc - dmu / self.batch_size",
                "params": "BatchNormalization.__backward: dgamma = np.sum(self.xn * dout, axis=0)"},
}


def bn_case(grader, n, dtype=np.float64):
    """(gamma, beta, running_mean, running_var, x, dout): columns of different means and scales."""
    rng = grader.rng(6, 3, n)
    gamma = rng.uniform(0.5, 2.0, D)
    beta = rng.standard_normal(D)
    running_mean = rng.standard_normal(D)
    running_var = rng.uniform(0.5, 2.0, D)
    x = rng.standard_normal((n, D)) * np.array([1.0, 3.0, 0.5, 2.0]) + np.array([0.0, 2.0, -1.0, 5.0])
    dout = rng.standard_normal((n, D))
    return tuple(a.astype(dtype) for a in (gamma, beta, running_mean, running_var, x, dout))


def bn_layer(grader, cls, case, running=True):
    """``cls(gamma, beta, 0.9, running_mean, running_var)`` (copies); ``running=False``: no running statistics."""
    gamma, beta, running_mean, running_var = (a.copy() for a in case[:4])
    if not running:
        running_mean = running_var = None
    if cls is grader.learner:
        return grader.call("BatchNormalization(gamma, beta, momentum=0.9, running_mean, running_var)", cls,
                           gamma, beta, momentum=MOMENTUM, running_mean=running_mean, running_var=running_var)
    return cls(gamma, beta, MOMENTUM, running_mean, running_var)


def bn_pass(grader, case, train_flg=True, backward=True, running=True):
    """The learner's (out, dx, dgamma, dbeta, layer) on ``case``."""
    x, dout = case[4], case[5]
    layer = bn_layer(grader, grader.learner, case, running)
    out = grader.call(f"forward(x, train_flg={train_flg})", layer.forward, x.copy(), train_flg=train_flg)
    dx = grader.call("backward", layer.backward, dout.copy()) if backward else None
    return out, dx, getattr(layer, "dgamma", None), getattr(layer, "dbeta", None), layer


def bn_expected(grader, case, train_flg=True, backward=True, running=True):
    x, dout = case[4], case[5]
    layer = bn_layer(grader, grader.expected.BatchNormalization, case, running)
    out = layer.forward(x.copy(), train_flg=train_flg)
    dx = layer.backward(dout.copy()) if backward else None
    return out, dx, layer.dgamma, layer.dbeta, layer


def normalised(case, mean, var, eps):
    gamma, beta, x = case[0], case[1], case[4]
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


def bn_forward_mistakes(grader, case):
    """What a wrong training forward returns, each as a Mistake whose predicate recomputes it."""
    x, eps = case[4].astype(np.float64), EPS[grader.semantics]
    mu, var, unbiased = x.mean(axis=0), x.var(axis=0), x.var(axis=0, ddof=1)
    _, _, _, _, after = bn_expected(grader, case, backward=False)  # the running statistics after the update
    other = "pytorch" if grader.semantics == "book" else "book"
    return (
        Mistake("batch norm using its running statistics while training",
                "in training, forward normalises with the batch's own mean and variance (and then updates the "
                "running ones); running_mean and running_var are for train_flg=False",
                BN_LINES[grader.semantics]["train"],
                lambda out: close(out, normalised(case, case[2], case[3], eps))
                or close(out, normalised(case, after.running_mean, after.running_var, eps))),
        Mistake("batch norm normalising with the unbiased variance",
                "forward divides by sqrt(var + eps) with the biased variance mean((x - mu) ** 2) (np.var's default, "
                "ddof=0), not the unbiased one", BN_LINES[grader.semantics]["train"],
                lambda out: close(out, normalised(case, mu, unbiased, eps))),
        Mistake("batch norm eps of the other semantics",
                f"{'the book' if grader.semantics == 'book' else 'PyTorch'} adds eps = {eps:g} to the variance, "
                f"not {EPS[other]:g}", BN_LINES[grader.semantics]["train"],
                lambda out: close(out, normalised(case, mu, var, EPS[other]))),
    )


def bn_running_mistakes(grader, case, which, default=False):
    """Mistakes of the running statistics ``which`` ('running_mean' or 'running_var') after a training forward."""
    x, n = case[4].astype(np.float64), case[4].shape[0]
    mu, var = x.mean(axis=0), x.var(axis=0)
    if default:
        start = np.zeros(D) if which == "running_mean" else (np.zeros(D) if grader.semantics == "book" else np.ones(D))
    else:
        start = case[2] if which == "running_mean" else case[3]
    batch = mu if which == "running_mean" else (var if grader.semantics == "book" else var * n / (n - 1))
    wrong_var = var * n / (n - 1) if grader.semantics == "book" else var
    mistakes = [
        Mistake("running statistics not updated in training",
                f"a training forward moves {which} towards the batch's value: "
                f"{which} = momentum * {which} + (1 - momentum) * batch value", BN_LINES[grader.semantics]["running"],
                lambda received: close(received, start)),
        Mistake("running statistics momentum swapped",
                f"momentum (0.9) weighs the old {which}: momentum * old + (1 - momentum) * batch value (PyTorch's own "
                "momentum argument is the other weight, 0.1)", BN_LINES[grader.semantics]["running"],
                lambda received: close(received, (1 - MOMENTUM) * start + MOMENTUM * batch)),
    ]
    if which == "running_var":
        why = ("the book moves running_var towards the biased batch variance mean((x - mu) ** 2), "
               "not var * N / (N - 1)" if grader.semantics == "book" else
               "PyTorch moves running_var towards the unbiased batch variance var * N / (N - 1) "
               "(the output is still normalised with the biased var)")
        mistakes.append(Mistake("the biased vs unbiased variance in the running statistics", why,
                                BN_LINES[grader.semantics]["running"],
                                lambda received: close(received, MOMENTUM * start + (1 - MOMENTUM) * wrong_var)))
        if default:
            other = np.ones(D) if grader.semantics == "book" else np.zeros(D)
            mistakes.append(Mistake(
                "running_var starting at the other semantics' value",
                "the book starts running_var at np.zeros(D)" if grader.semantics == "book" else
                "PyTorch starts running_var at np.ones(D) (running_mean at zeros)",
                BN_LINES[grader.semantics]["running"],
                lambda received: close(received, MOMENTUM * other + (1 - MOMENTUM) * batch)))
    return tuple(mistakes)


def bn_backward_mistakes(grader, case, expected_layer):
    gamma, dout, n = case[0], case[5], case[4].shape[0]
    not_summed = Mistake("dgamma or dbeta not summed over the batch",
                         f"dgamma and dbeta have gamma's shape ({D},): every sample adds its share",
                         BN_LINES[grader.semantics]["params"], lambda received: np.shape(received) == (n, D))
    return {
        "dx": (Mistake("batch norm backward missing the mean terms",
                       "dx = gamma * dout / std alone treats mu and var as constants; in training they depend on "
                       "every x of the batch, so dx has the dvar and dmu terms too",
                       BN_LINES[grader.semantics]["backward"],
                       lambda dx: close(dx, gamma * dout / expected_layer.std)),),
        "dgamma": (not_summed,),
        "dbeta": (not_summed,),
    }


def check_bn_training(grader):
    """forward in training equals the book's (PyTorch semantics: scratch's), batches 2 and 5"""
    for n in (2, 5):
        case = bn_case(grader, n)
        out, *_ = bn_pass(grader, case, backward=False)
        expected, *_ = bn_expected(grader, case, backward=False)
        grader.compare(f"forward in training, batch {n}", out, expected, bn_forward_mistakes(grader, case),
                BN_LINES[grader.semantics]["train"])


def check_bn_running(grader):
    """running_mean and running_var after a training forward, given and default (None) ones"""
    for n, running in ((5, True), (2, True), (5, False)):
        case = bn_case(grader, n)
        *_, layer = bn_pass(grader, case, backward=False, running=running)
        *_, reference = bn_expected(grader, case, backward=False, running=running)
        given = "given" if running else "default"
        for which in ("running_mean", "running_var"):
            grader.compare(f"{which} after training, batch {n}, {given} statistics", getattr(layer, which, None),
                    getattr(reference, which), bn_running_mistakes(grader, case, which, default=not running),
                    BN_LINES[grader.semantics]["running"])


def check_bn_test(grader):
    """forward at test time (train_flg=False) normalises with the running statistics and leaves them alone"""
    for n in (2, 5):
        case = bn_case(grader, n)
        out, _, _, _, layer = bn_pass(grader, case, train_flg=False, backward=False)
        expected, *_ = bn_expected(grader, case, train_flg=False, backward=False)
        eps = EPS[grader.semantics]
        x = case[4]
        batch = Mistake("batch statistics used at test time",
                        "train_flg=False normalises with running_mean and running_var (the training set's), "
                        "not with the test batch's own mean and variance", BN_LINES[grader.semantics]["test"],
                        lambda out: close(out, normalised(case, x.mean(axis=0), x.var(axis=0), eps)))
        grader.compare(f"forward at test time, batch {n}", out, expected, (batch,), BN_LINES[grader.semantics]["test"])
        for which, before in (("running_mean", case[2]), ("running_var", case[3])):
            grader.require(close(getattr(layer, which, None), before, 0.0),
                           f"{which} changed in a test pass (train_flg=False): only training updates it",
                           book_line=BN_LINES[grader.semantics]["test"])


def check_bn_backward(grader):
    """backward: dx, dgamma and dbeta equal the book's (PyTorch semantics: scratch's), batches 2 and 5

    A batch of 2 normalises each column to about -1 and +1 whatever x, so its dx is tiny (eps's doing):
    it is compared to the tolerance of gamma * dout / std, the size of dx's terms, not of dx itself.
    """
    for n in (2, 5):
        case = bn_case(grader, n)
        _, dx, dgamma, dbeta, _ = bn_pass(grader, case)
        _, expected_dx, expected_dgamma, expected_dbeta, reference = bn_expected(grader, case)
        mistakes = bn_backward_mistakes(grader, case, reference)
        for name, received, expected in (("dbeta", dbeta, expected_dbeta), ("dgamma", dgamma, expected_dgamma),
                                         ("dx", dx, expected_dx)):
            rtol = grader.tolerance(expected.dtype)
            if name == "dx":
                rtol *= float(np.max(np.abs(case[0] * case[5] / reference.std)) / np.max(np.abs(expected)))
            grader.compare(f"{name}, batch {n}", received, expected, mistakes[name],
                    BN_LINES[grader.semantics]["params" if name != "dx" else "backward"], rtol)


def check_bn_torch(grader):
    """against F.batch_norm and autograd: forward, running statistics, dx, dgamma, dbeta, the test pass

    F.batch_norm's eps is set to the semantics' (the book's 1e-6, PyTorch's 1e-5) and its momentum to 0.1.
    """
    import torch.nn.functional as F

    n = 5
    case = bn_case(grader, n)
    gamma, beta, running_mean, running_var, x, dout = case
    eps = EPS[grader.semantics]
    weight, bias, inputs = torch_tensor(gamma, True), torch_tensor(beta, True), torch_tensor(x, True)
    torch_mean, torch_var = torch_tensor(running_mean.copy()), torch_tensor(running_var.copy())
    expected = F.batch_norm(inputs, torch_mean, torch_var, weight, bias, training=True, momentum=1 - MOMENTUM, eps=eps)
    expected.backward(torch_tensor(dout))
    expected_var = torch_var.numpy()
    if grader.semantics == "book":  # torch moves towards var * n / (n - 1); the book towards var
        expected_var = MOMENTUM * running_var + (expected_var - MOMENTUM * running_var) * (n - 1) / n

    out, dx, dgamma, dbeta, layer = bn_pass(grader, case)
    _, _, _, _, reference = bn_expected(grader, case)
    mistakes = bn_backward_mistakes(grader, case, reference)
    lines = BN_LINES[grader.semantics]
    grader.compare("forward against F.batch_norm(training=True)", out, expected.detach().numpy(),
            bn_forward_mistakes(grader, case), lines["train"])
    grader.compare("running_mean against F.batch_norm's", getattr(layer, "running_mean", None), torch_mean.numpy(),
            bn_running_mistakes(grader, case, "running_mean"), lines["running"])
    grader.compare("running_var against F.batch_norm's", getattr(layer, "running_var", None), expected_var,
            bn_running_mistakes(grader, case, "running_var"), lines["running"])
    grader.compare("dbeta against autograd", dbeta, bias.grad.numpy(), mistakes["dbeta"], lines["params"])
    grader.compare("dgamma against autograd", dgamma, weight.grad.numpy(), mistakes["dgamma"], lines["params"])
    grader.compare("dx against autograd", dx, inputs.grad.numpy(), mistakes["dx"], lines["backward"])

    test, *_ = bn_pass(grader, case, train_flg=False, backward=False)
    expected = F.batch_norm(torch_tensor(x), torch_tensor(running_mean), torch_tensor(running_var),
                            torch_tensor(gamma), torch_tensor(beta), training=False, eps=eps)
    grader.compare("forward at test time against F.batch_norm(training=False)", test, expected.numpy(),
            book_line=lines["test"])


def check_bn_numerical(grader):
    """dx, dgamma and dbeta equal numerical gradients of sum(forward(x) * dout) (batch 3)"""
    case = bn_case(grader, 3)
    gamma, beta, running_mean, running_var, x, dout = case
    _, dx, dgamma, dbeta, _ = bn_pass(grader, case)
    _, _, _, _, reference = bn_expected(grader, case)
    mistakes = bn_backward_mistakes(grader, case, reference)
    cls = grader.expected.BatchNormalization

    def loss(inputs=x, weights=gamma, biases=beta):
        layer = cls(np.array(weights), np.array(biases), MOMENTUM, running_mean.copy(), running_var.copy())
        return float(np.sum(layer.forward(np.array(inputs), train_flg=True) * dout))

    lines = BN_LINES[grader.semantics]
    grader.compare("dbeta against central differences", dbeta,
            grader.numerical_gradient(lambda biases: loss(biases=biases), beta), mistakes["dbeta"], lines["params"],
            rtol=1e-6)
    grader.compare("dgamma against central differences", dgamma,
            grader.numerical_gradient(lambda weights: loss(weights=weights), gamma), mistakes["dgamma"],
            lines["params"], rtol=1e-6)
    grader.compare("dx against central differences", dx, grader.numerical_gradient(lambda inputs: loss(inputs), x),
            mistakes["dx"], lines["backward"], rtol=1e-6)


def check_bn_float32(grader):
    """float32 gamma, beta and input: forward (training and test), dx, dgamma, dbeta to 1e-5 relative"""
    case = bn_case(grader, 5, np.float32)
    out, dx, dgamma, dbeta, _ = bn_pass(grader, case)
    expected_out, expected_dx, expected_dgamma, expected_dbeta, reference = bn_expected(grader, case)
    mistakes = bn_backward_mistakes(grader, case, reference)
    grader.compare("forward in training, float32", out, expected_out, rtol=1e-5)
    grader.compare("dbeta, float32", dbeta, expected_dbeta, mistakes["dbeta"], rtol=1e-5)
    grader.compare("dgamma, float32", dgamma, expected_dgamma, mistakes["dgamma"], rtol=1e-5)
    grader.compare("dx, float32", dx, expected_dx, mistakes["dx"], rtol=1e-5)
    test, *_ = bn_pass(grader, case, train_flg=False, backward=False)
    expected_test, *_ = bn_expected(grader, case, train_flg=False, backward=False)
    grader.compare("forward at test time, float32", test, expected_test, rtol=1e-5)


BATCH_NORMALIZATION = Task("batch_normalization", 6, "6.3", "BatchNormalization", BATCH_NORMALIZATION_SKELETON,
                           (check_bn_training, check_bn_running, check_bn_test, check_bn_backward, check_bn_torch,
                            check_bn_numerical, check_bn_float32))

TASKS = tuple(OPTIMIZER_TASKS) + (DROPOUT, BATCH_NORMALIZATION)
