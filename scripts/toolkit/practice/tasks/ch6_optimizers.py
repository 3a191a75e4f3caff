"""Chapter 6.1's practice tasks: the optimizers SGD, Momentum, AdaGrad, RMSprop and Adam.

``ch6.py`` puts these ``TASKS`` first in chapter 6's (``from .ch6_optimizers import TASKS``).

Each check runs the learner's optimizer for five updates on a params dict of
two parameters of different shapes, W (2, 3) and b (3,), and compares every
parameter after every update with a trusted run:

- the expected package's optimizer (``scratch.book``'s by default, ``scratch``'s
  with ``--semantics pytorch``), in float64 and in float32;
- ``torch.optim``, with the semantics' own update rule, exactly: AdaGrad and
  RMSprop are torch's formulas, given the semantics' eps; PyTorch semantics are
  torch's own; the book's Momentum is ``torch.optim.SGD(lr=1, momentum=m)`` run
  on lr * dL/dW (its velocity is minus torch's), and the book's Adam is
  ``torch.optim.Adam`` with eps = 1e-7 / sqrt(1 - beta2^t) at step t (the book
  adds 1e-7 before the bias correction of v, torch after it).

b's gradients are tiny (about 1e-7), the size where eps decides the step, so a
misplaced or missing eps shows. A failed comparison names the mistake whose
own trajectory (computed here) the learner's numbers follow.
"""
import math

import numpy as np

from ..task import Mistake, Task

STEPS = 5
SHAPES = (("W", (2, 3)), ("b", (3,)))       # different shapes: one state for all keys cannot broadcast
SAME_SHAPES = (("W1", (2, 3)), ("W2", (2, 3)))  # same shapes: one state for all keys gives wrong numbers
TINY = {"b": 1e-7, "W2": 1e-7}             # gradient scale of these keys (the others: about 1)
FLOAT32_RTOL = 1e-5
TORCH_NAMES = {"SGD": "torch.optim.SGD", "Momentum": "torch.optim.SGD(momentum=0.9)",
               "AdaGrad": "torch.optim.Adagrad", "RMSprop": "torch.optim.RMSprop", "Adam": "torch.optim.Adam"}


# ---------------------------------------------------------------------------
# Inputs and trusted runs
# ---------------------------------------------------------------------------

def copy_arrays(arrays):
    return {key: np.array(value, copy=True) for key, value in arrays.items()}


def make_case(grader, stream, dtype, shapes=SHAPES):
    """(params, a list of STEPS grads dicts): normal values; the TINY keys' gradients scaled down."""
    rng = grader.rng(6, 1, stream)
    params = {key: rng.standard_normal(shape).astype(dtype) for key, shape in shapes}
    grads = [{key: (rng.standard_normal(shape) * TINY.get(key, 1.0)).astype(dtype) for key, shape in shapes}
             for _ in range(STEPS)]
    return params, grads


def run(optimizer, params, grads_seq, lrs):
    """A trusted optimizer's trajectory: params after each update, lr set before each (as a scheduler does)."""
    params = copy_arrays(params)
    trajectory = []
    for lr, grads in zip(lrs, grads_seq):
        optimizer.lr = lr
        optimizer.update(params, copy_arrays(grads))
        trajectory.append(copy_arrays(params))
    return trajectory


def torch_run(make, params, grads_seq, lrs, eps_at=None, grad_scale=None):
    """``torch.optim``'s trajectory: ``make(tensors)`` builds the optimizer; lr (and eps_at(t)) set before step t."""
    import torch

    tensors = {key: torch.tensor(value.copy(), requires_grad=True) for key, value in params.items()}
    optimizer = make(list(tensors.values()))
    trajectory = []
    for t, (lr, grads) in enumerate(zip(lrs, grads_seq), 1):
        for group in optimizer.param_groups:
            group["lr"] = lr
            if eps_at is not None:
                group["eps"] = eps_at(t)
        scale = 1.0 if grad_scale is None else grad_scale[t - 1]
        for key, tensor in tensors.items():
            tensor.grad = torch.tensor(scale * grads[key])
        optimizer.step()
        trajectory.append({key: tensor.detach().numpy().copy() for key, tensor in tensors.items()})
    return trajectory


class Fresh:
    """The mistake of re-creating the state at every update: a new optimizer for each step."""

    def __init__(self, make):
        self.make, self.lr = make, None

    def update(self, params, grads):
        optimizer = self.make()
        optimizer.lr = self.lr
        optimizer.update(params, grads)


class Shared:
    """The mistake of one state for every parameter: each key's update goes through the same state slot."""

    def __init__(self, optimizer):
        self.optimizer, self.lr = optimizer, None

    def update(self, params, grads):
        self.optimizer.lr = self.lr
        step = getattr(self.optimizer, "iter", None)
        for key in params:
            if step is not None:
                self.optimizer.iter = step  # Adam's counter still counts updates, not parameters
            self.optimizer.update({"shared": params[key]}, {"shared": grads[key]})


class Ascent:
    """The mistake of moving up the gradient: W <- W + lr dL/dW."""

    def __init__(self, lr):
        self.lr = lr

    def update(self, params, grads):
        for key in params:
            params[key] += self.lr * grads[key]


class ScaledByRoot:
    """AdaGrad (decay None) and RMSprop, with eps where a mistake puts it: 'outside', 'inside' or 'none'.

    ``swapped``: RMSprop's decay_rate on the wrong term, h <- (1 - decay) h + decay g*g.
    """

    def __init__(self, lr, eps, decay=None, eps_at="outside", swapped=False):
        self.lr, self.eps, self.decay, self.eps_at, self.swapped = lr, eps, decay, eps_at, swapped
        self.h = None

    def update(self, params, grads):
        if self.h is None:
            self.h = {key: np.zeros_like(value) for key, value in params.items()}
        for key in params:
            g, h = grads[key], self.h[key]
            if self.decay is None:
                h += g * g
            else:
                keep = 1 - self.decay if self.swapped else self.decay
                h *= keep
                h += (1 - keep) * g * g
            root = {"outside": lambda: np.sqrt(h) + self.eps, "inside": lambda: np.sqrt(h + self.eps),
                    "none": lambda: np.sqrt(h)}[self.eps_at]()
            params[key] -= self.lr * g / root


class AdamForm:
    """Adam in one of three forms: 'book' (eps before v's bias correction), 'pytorch' (after), 'uncorrected'.

    ``per_key``: the mistake of counting the step once per parameter, not once per update.
    """

    def __init__(self, lr, beta1, beta2, eps, form, per_key=False):
        self.lr, self.beta1, self.beta2, self.eps, self.form = lr, beta1, beta2, eps, form
        self.per_key = per_key
        self.iter, self.m, self.v = 0, None, None

    def update(self, params, grads):
        if self.m is None:
            self.m = {key: np.zeros_like(value) for key, value in params.items()}
            self.v = {key: np.zeros_like(value) for key, value in params.items()}
        self.iter += 0 if self.per_key else 1
        for key in params:
            self.iter += 1 if self.per_key else 0
            c1, c2 = 1 - self.beta1 ** self.iter, 1 - self.beta2 ** self.iter
            g = grads[key]
            self.m[key] += (1 - self.beta1) * (g - self.m[key])
            self.v[key] += (1 - self.beta2) * (g * g - self.v[key])
            if self.form == "book":
                params[key] -= self.lr * math.sqrt(c2) / c1 * self.m[key] / (np.sqrt(self.v[key]) + self.eps)
            elif self.form == "pytorch":
                params[key] -= self.lr / c1 * self.m[key] / (np.sqrt(self.v[key]) / math.sqrt(c2) + self.eps)
            else:
                params[key] -= self.lr * self.m[key] / (np.sqrt(self.v[key]) + self.eps)


# ---------------------------------------------------------------------------
# Mistakes every optimizer can make
# ---------------------------------------------------------------------------

NOT_IN_PLACE = Mistake(
    "parameters not updated in place",
    "the network's layers hold the arrays of params (Affine(self.params['W1'], ...)), so update must change "
    "them in place, params[key] -= ..., not rebind params[key] = params[key] - ... or return new arrays",
    "SGD.update: params[key] -= self.lr * grads[key]", None)

GRADS_CHANGED = Mistake(
    "gradients changed in place",
    "update reads grads and must leave them as they are (the network computed them; a copy is cheap)",
    "SGD.update: params[key] -= self.lr * grads[key]", None)


def shared_state_mistake(state, book_line):
    return Mistake(
        "state shared across parameters",
        f"each parameter needs its own {state}, of its own shape: a dict by parameter name, "
        f"created at the first update ({{key: np.zeros_like(val) for key, val in params.items()}})",
        book_line, lambda err: isinstance(err, ValueError) and "broadcast" in str(err))


def fresh_state_mistake(state, book_line):
    return Mistake(
        "state re-created at every update",
        f"{state} must be created once, at the first update (if it is None), and carried from update to update",
        book_line, None)


def relative_error(received, expected):
    """max |received - expected| / max |expected|; inf when they cannot be compared, NaN counted as inf."""
    try:
        received = np.asarray(received, dtype=np.float64)
        expected = np.asarray(expected, dtype=np.float64)
        with np.errstate(all="ignore"):
            error = float(np.max(np.abs(received - expected))) / max(float(np.max(np.abs(expected))), 1e-300)
    except Exception:  # noqa: BLE001 - not an array of the shape: the plainest difference of all
        return math.inf
    return math.inf if math.isnan(error) or received.shape != expected.shape else error


def close(received, expected, rtol):
    """True when ``received`` has ``expected``'s shape and values (NaN where it has NaN; ``rtol`` of its largest)."""
    try:
        received = np.asarray(received, dtype=np.float64)
    except Exception:  # noqa: BLE001 - not an array: not the same
        return False
    expected = np.asarray(expected, dtype=np.float64)
    if received.shape != expected.shape:
        return False
    finite = np.isfinite(expected)
    if not np.array_equal(finite, np.isfinite(received)):
        return False
    scale = max(float(np.max(np.abs(expected[finite]), initial=0.0)), 1e-300)
    return bool(np.all(np.abs(received[finite] - expected[finite]) <= rtol * scale))


# ---------------------------------------------------------------------------
# The learner's run and the comparisons
# ---------------------------------------------------------------------------

def learner_run(grader, spec, params, grads_seq, lrs):
    """The learner's trajectory; stops at an update that raises, rebinds params, returns them or changes grads."""
    params = copy_arrays(params)
    originals = dict(params)
    arguments = ", ".join(f"{name}={value}" for name, value in spec.hyper.items())
    optimizer = grader.call(f"{spec.book_name}({arguments})", grader.learner, **spec.hyper)
    trajectory = []
    for t, (lr, grads) in enumerate(zip(lrs, grads_seq), 1):
        optimizer.lr = lr
        grads = copy_arrays(grads)
        grads_before, params_before = copy_arrays(grads), copy_arrays(params)
        returned = grader.call(f"update {t}", optimizer.update, params, grads,
                               mistakes=(spec.shared_state(),) if spec.state else ())
        replaced = [key for key in originals if params.get(key) is not originals[key]]
        grader.require(not replaced, f"update {t} replaced params[{replaced[0]!r}] with a new array" if replaced
                       else "", NOT_IN_PLACE)
        unchanged = all(np.array_equal(params[key], params_before[key]) for key in originals)
        grader.require(not (unchanged and returned is not None),
                       f"update {t} returned {type(returned).__name__} and left params unchanged", NOT_IN_PLACE)
        changed = [key for key in grads_before
                   if key not in grads or not np.array_equal(grads[key], grads_before[key], equal_nan=True)]
        grader.require(not changed, f"update {t} changed grads[{changed[0]!r}]" if changed else "", GRADS_CHANGED)
        trajectory.append(copy_arrays(params))
    return trajectory


def variant_runs(variants, params, grads_seq, lrs):
    """[(mistake, trajectory)] of each ``(mistake, make)``; a variant that cannot run on these inputs is left out."""
    runs = []
    for mistake, make in variants:
        try:
            with np.errstate(all="ignore"):
                runs.append((mistake, run(make(), params, grads_seq, lrs)))
        except Exception:  # noqa: BLE001 - e.g. one state for parameters of different shapes
            continue
    return runs


def compare_runs(grader, received, expected, runs, book_line, rtol=None, against=""):
    """Each parameter after each update; a difference names the first mistake whose run the learner's follows."""
    rtol = grader.tolerance(next(iter(expected[0].values())).dtype) if rtol is None else rtol
    for t, (got, want) in enumerate(zip(received, expected), 1):
        for key in sorted(want, key=lambda k: -relative_error(got[k], want[k])):  # the plainest difference first
            mistakes = tuple(Mistake(m.name, m.why, m.book_line,
                                     lambda r, e=trajectory[t - 1][key]: close(r, e, rtol))
                             for m, trajectory in runs)
            grader.compare(f"{key} after update {t}{against}", got[key], want[key], mistakes, book_line, rtol)


# ---------------------------------------------------------------------------
# One optimizer: its hyperparameters, expected run, mistakes and torch run
# ---------------------------------------------------------------------------

class Spec:
    """What the generic checks need of one optimizer."""

    def __init__(self, name, book_name, section, stream, hyper, state, book_line, expected, variants, torch_make):
        self.name, self.book_name, self.section, self.stream = name, book_name, section, stream
        self.hyper = hyper              # the keyword arguments the learner's class is built with
        self.state = state              # 'v', 'h', ... ('' for SGD: no state)
        self.book_line = book_line      # the book's line of the update
        self.expected = expected        # (grader) -> the expected package's optimizer
        self.variants = variants        # (grader) -> [(Mistake, make)] (the shared and fresh-state ones added here)
        self.torch_make = torch_make    # (grader, params, grads_seq, lrs) -> torch.optim's trajectory

    def shared_state(self):
        return shared_state_mistake(self.state, self.book_line)

    def all_variants(self, grader, same_shapes=False):
        variants = list(self.variants(grader))
        if self.state:
            variants.append((fresh_state_mistake(self.state, self.book_line),
                             lambda: Fresh(lambda: self.expected(grader))))
            if same_shapes:
                shared = self.shared_state()
                variants.append((Mistake(shared.name, shared.why, shared.book_line, None),
                                 lambda: Shared(self.expected(grader))))
        return variants


def check_steps(spec):
    def check(grader):
        params, grads = make_case(grader, spec.stream, np.float64)
        lrs = [spec.hyper["lr"]] * STEPS
        received = learner_run(grader, spec, params, grads, lrs)
        compare_runs(grader, received, run(spec.expected(grader), params, grads, lrs),
                     variant_runs(spec.all_variants(grader), params, grads, lrs), spec.book_line)
    check.__doc__ = (f"five updates of W (2, 3) and b (3,) in place equal the book's {spec.book_name} "
                     f"(float64; --semantics pytorch: scratch's)")
    return check


def check_torch(spec, lrs=None, words=""):
    def check(grader):
        params, grads = make_case(grader, spec.stream, np.float64)
        schedule = lrs or [spec.hyper["lr"]] * STEPS
        received = learner_run(grader, spec, params, grads, schedule)
        compare_runs(grader, received, spec.torch_make(grader, params, grads, schedule),
                     variant_runs(spec.all_variants(grader), params, grads, schedule), spec.book_line,
                     against=" (torch.optim)")
    check.__doc__ = f"five updates{words} equal {TORCH_NAMES[spec.book_name]} in the semantics' convention (float64)"
    return check


def check_float32(spec):
    def check(grader):
        params, grads = make_case(grader, spec.stream, np.float32)
        lrs = [spec.hyper["lr"]] * STEPS
        received = learner_run(grader, spec, params, grads, lrs)
        grader.require(all(p.dtype == np.float32 for p in received[-1].values()),
                       "float32 parameters must stay float32")
        compare_runs(grader, received, run(spec.expected(grader), params, grads, lrs),
                     variant_runs(spec.all_variants(grader), params, grads, lrs), spec.book_line,
                     rtol=FLOAT32_RTOL)
    check.__doc__ = "float32 parameters and gradients: the book's numbers to 1e-5"
    return check


def check_state_per_key(spec):
    def check(grader):
        params, grads = make_case(grader, spec.stream, np.float64, SAME_SHAPES)
        lrs = [spec.hyper["lr"]] * STEPS
        received = learner_run(grader, spec, params, grads, lrs)
        compare_runs(grader, received, run(spec.expected(grader), params, grads, lrs),
                     variant_runs(spec.all_variants(grader, same_shapes=True), params, grads, lrs),
                     spec.book_line)
    check.__doc__ = f"two parameters of the same shape, W1 and W2, keep their own {spec.state}"
    return check


def optimizer_task(spec, skeleton, extra_checks=(), torch_check=None):
    checks = [check_steps(spec), *extra_checks, torch_check or check_torch(spec), check_float32(spec)]
    if spec.state:
        checks.append(check_state_per_key(spec))
    return Task(spec.name, 6, spec.section, spec.book_name, skeleton, tuple(checks))


def package(semantics):
    """The package a semantics grades against: ``scratch.book`` (book) or ``scratch`` (pytorch)."""
    import scratch
    import scratch.book

    return scratch.book if semantics == "book" else scratch


def semantics_eps(semantics, name):
    """The eps of the semantics' optimizer ``name`` (the book: 1e-7; scratch: torch.optim's defaults)."""
    return getattr(package(semantics), name)().eps


def other_semantics(grader):
    return "pytorch" if grader.semantics == "book" else "book"


def other_package(grader):
    return package(other_semantics(grader))


# ---------------------------------------------------------------------------
# SGD (6.1.2)
# ---------------------------------------------------------------------------

SGD_SKELETON = '''"""SGD, stochastic gradient descent (6.1.2): write update.

    params, grads: dicts of NumPy arrays by parameter name ({'W1': ..., 'b1': ...}); grads[key] has
    params[key]'s shape. For every key:

        params[key] <- params[key] - lr * grads[key]

Change each array in place (params[key] -= ...): the network's layers hold these same arrays.
The grader sets self.lr between updates, as a learning-rate scheduler does. torch.optim.SGD is the same.

Check it: python scripts/practice.py check sgd
"""
import numpy as np


class SGD:
    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        raise NotImplementedError("for each key, params[key] -= self.lr * grads[key]")
'''

SGD_LINE = "SGD.update: params[key] -= self.lr * grads[key]"


def sgd_variants(grader):
    return [(Mistake("moved up the gradient", "descent subtracts: params[key] -= lr * grads[key]", SGD_LINE, None),
             lambda: Ascent(0.0))]


def sgd_torch(grader, params, grads_seq, lrs):
    import torch

    return torch_run(lambda tensors: torch.optim.SGD(tensors, lr=lrs[0]), params, grads_seq, lrs)


SGD = optimizer_task(Spec("sgd", "SGD", "6.1.2", 1, {"lr": 0.1}, "", SGD_LINE,
                          lambda grader: grader.expected.SGD(0.1), sgd_variants, sgd_torch),
                     SGD_SKELETON)

# ---------------------------------------------------------------------------
# Momentum (6.1.4)
# ---------------------------------------------------------------------------

MOMENTUM_SKELETON = '''"""Momentum (6.1.4): write update. One velocity v per parameter, of its shape, zero at the start.

    params, grads: dicts of NumPy arrays by parameter name; grads[key] has params[key]'s shape.
    The book's form (the default), for every key:

        v[key] <- momentum * v[key] - lr * grads[key]
        params[key] <- params[key] + v[key]

    With --semantics pytorch, torch.optim.SGD(momentum=...)'s form, lr outside the velocity:

        v[key] <- momentum * v[key] + grads[key]      (v[key] = grads[key] at the first update)
        params[key] <- params[key] - lr * v[key]

The two walk the same path while lr stays constant; they part when lr changes, and the grader
sets self.lr between updates, as a learning-rate scheduler does.
Change each array in place (params[key] += ...): the network's layers hold these same arrays.

Check it: python scripts/practice.py check momentum
"""
import numpy as np


class Momentum:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = lr
        self.momentum = momentum
        self.v = None  # {key: velocity}, created at the first update

    def update(self, params, grads):
        raise NotImplementedError("create self.v at the first update, then update v[key] and params[key]")
'''

MOMENTUM_LINE = "Momentum.update: self.v[key] = self.momentum*self.v[key] - self.lr*grads[key]"
MOMENTUM_LRS = [0.1, 0.1, 0.05, 0.05, 0.02]


def momentum_convention_mistake(grader):
    """The other convention's mistake, named after the convention the learner's code follows."""
    if grader.semantics == "book":
        return Mistake(
            "Momentum with PyTorch's convention (lr outside the velocity)",
            "your code follows torch.optim.SGD: v <- momentum v + dL/dW, W <- W - lr v; the book asks for "
            "v <- momentum v - lr dL/dW, W <- W + v. With a constant lr the two walk the same path; here lr "
            "drops from 0.1 to 0.05 after update 2, and PyTorch's form rescales the whole velocity, past steps "
            "included, by the new lr, where the book's keeps each past step at the lr it was taken with",
            MOMENTUM_LINE, None)
    return Mistake(
        "Momentum with the book's convention (lr inside the velocity)",
        "your code follows the book: v <- momentum v - lr dL/dW, W <- W + v; --semantics pytorch asks for "
        "torch.optim.SGD's v <- momentum v + dL/dW, W <- W - lr v. With a constant lr the two walk the same path; "
        "here lr drops from 0.1 to 0.05 after update 2, and torch's form rescales the whole velocity by the new "
        "lr, where the book's keeps each past step at the lr it was taken with",
        "scratch.Momentum.update: v <- momentum * v + grads[key]; params[key] -= lr * v", None)


def momentum_variants(grader):
    return [(momentum_convention_mistake(grader), lambda: other_package(grader).Momentum(0.1, 0.9))]


def momentum_torch(grader, params, grads_seq, lrs):
    """torch.optim.SGD(momentum=0.9); for the book, lr 1 on lr_t * dL/dW, whose velocity is minus the book's."""
    import torch

    if grader.semantics == "book":
        return torch_run(lambda tensors: torch.optim.SGD(tensors, lr=1.0, momentum=0.9), params, grads_seq,
                         [1.0] * len(lrs), grad_scale=lrs)
    return torch_run(lambda tensors: torch.optim.SGD(tensors, lr=lrs[0], momentum=0.9), params, grads_seq, lrs)


MOMENTUM_SPEC = Spec("momentum", "Momentum", "6.1.4", 2, {"lr": 0.1, "momentum": 0.9}, "velocity v",
                     MOMENTUM_LINE, lambda grader: grader.expected.Momentum(0.1, 0.9), momentum_variants,
                     momentum_torch)


def check_momentum_lr_change(grader):
    """lr changed between updates (0.1, 0.1, 0.05, 0.05, 0.02, as a scheduler does): the asked convention

    (--semantics pytorch: torch.optim.SGD's.) At a constant lr the two conventions walk the same path, so
    only a changing lr tells them apart.
    """
    spec = MOMENTUM_SPEC
    params, grads = make_case(grader, spec.stream, np.float64)
    received = learner_run(grader, spec, params, grads, MOMENTUM_LRS)
    compare_runs(grader, received, run(spec.expected(grader), params, grads, MOMENTUM_LRS),
                 variant_runs(spec.all_variants(grader), params, grads, MOMENTUM_LRS), spec.book_line)


MOMENTUM = optimizer_task(MOMENTUM_SPEC, MOMENTUM_SKELETON, (check_momentum_lr_change,),
                          check_torch(MOMENTUM_SPEC, MOMENTUM_LRS, ", lr changed as above,"))

# ---------------------------------------------------------------------------
# AdaGrad (6.1.5) and RMSprop
# ---------------------------------------------------------------------------

ADAGRAD_SKELETON = '''"""AdaGrad (6.1.5): write update. One sum of squared gradients h per parameter, zero at the start.

    params, grads: dicts of NumPy arrays by parameter name; grads[key] has params[key]'s shape. For every key:

        h[key] <- h[key] + grads[key] * grads[key]
        params[key] <- params[key] - lr * grads[key] / (sqrt(h[key]) + eps)

    eps = 1e-7 in the book (the default); with --semantics pytorch, torch.optim.Adagrad's 1e-10.
    eps is added after the square root; it keeps a tiny gradient's step finite.

Change each array in place (params[key] -= ...): the network's layers hold these same arrays.

Check it: python scripts/practice.py check adagrad
"""
import numpy as np


class AdaGrad:
    def __init__(self, lr=0.01):
        self.lr = lr
        self.h = None  # {key: sum of squared gradients}, created at the first update

    def update(self, params, grads):
        raise NotImplementedError("create self.h at the first update, then update h[key] and params[key]")
'''

RMSPROP_SKELETON = '''"""RMSprop (6.1.5's note): write update. One moving average of squared gradients h per parameter.

    params, grads: dicts of NumPy arrays by parameter name; grads[key] has params[key]'s shape. For every key:

        h[key] <- decay_rate * h[key] + (1 - decay_rate) * grads[key] * grads[key]     (h starts at 0)
        params[key] <- params[key] - lr * grads[key] / (sqrt(h[key]) + eps)

    eps = 1e-7 in the book (the default); with --semantics pytorch, torch.optim.RMSprop's 1e-8.
    eps is added after the square root; it keeps a tiny gradient's step finite.

Change each array in place (params[key] -= ...): the network's layers hold these same arrays.

Check it: python scripts/practice.py check rmsprop
"""
import numpy as np


class RMSprop:
    def __init__(self, lr=0.01, decay_rate=0.99):
        self.lr = lr
        self.decay_rate = decay_rate
        self.h = None  # {key: moving average of squared gradients}, created at the first update

    def update(self, params, grads):
        raise NotImplementedError("create self.h at the first update, then update h[key] and params[key]")
'''


def eps_mistakes(grader, book_name, torch_name, book_line, make):
    """eps inside the square root, eps left out, the other semantics' eps; ``make(eps_at, eps)`` builds each."""
    book = grader.semantics == "book"
    eps = semantics_eps(grader.semantics, book_name)
    other_eps = semantics_eps(other_semantics(grader), book_name)
    torch_eps = f"torch.optim.{torch_name}'s"
    asked, other = ("the book's", torch_eps) if book else (torch_eps, "the book's")
    return [
        (Mistake("torch.optim's eps where the book's was asked" if book else
                 "the book's eps where torch.optim's was asked",
                 f"your eps is {other_eps:g}, {other}; {asked} is {eps:g}, and where gradients are tiny "
                 f"(b's here) eps decides the step", book_line, None),
         lambda: make("outside", other_eps)),
        (Mistake("eps inside the square root",
                 f"{asked} eps ({eps:g}) is added after the root, sqrt(h) + eps, not sqrt(h + eps): with a tiny "
                 f"gradient (b's here) the step is then far too small", book_line, None),
         lambda: make("inside", eps)),
        (Mistake("eps missing",
                 f"the denominator is sqrt(h) + eps with {asked} eps = {eps:g}; without it a tiny gradient "
                 f"(b's here) takes a full lr step, and a zero one divides 0 by 0", book_line, None),
         lambda: make("none", eps)),
    ]


ADAGRAD_LINE = "AdaGrad.update: params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)"
RMSPROP_LINE = "RMSprop.update: params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)"


def adagrad_variants(grader):
    return eps_mistakes(grader, "AdaGrad", "Adagrad", ADAGRAD_LINE, lambda at, e: ScaledByRoot(0.1, e, eps_at=at))


def adagrad_torch(grader, params, grads_seq, lrs):
    import torch

    eps = semantics_eps(grader.semantics, "AdaGrad")
    return torch_run(lambda tensors: torch.optim.Adagrad(tensors, lr=lrs[0], eps=eps), params, grads_seq, lrs)


def rmsprop_variants(grader):
    eps = semantics_eps(grader.semantics, "RMSprop")
    swapped = Mistake("decay_rate on the wrong term",
                      "h keeps decay_rate of itself and takes (1 - decay_rate) of the new squared gradient: "
                      "h <- decay_rate h + (1 - decay_rate) g*g",
                      "RMSprop.update: self.h[key] *= self.decay_rate", None)
    return [*eps_mistakes(grader, "RMSprop", "RMSprop", RMSPROP_LINE,
                          lambda at, e: ScaledByRoot(0.01, e, decay=0.9, eps_at=at)),
            (swapped, lambda: ScaledByRoot(0.01, eps, decay=0.9, swapped=True))]


def rmsprop_torch(grader, params, grads_seq, lrs):
    import torch

    eps = semantics_eps(grader.semantics, "RMSprop")
    return torch_run(lambda tensors: torch.optim.RMSprop(tensors, lr=lrs[0], alpha=0.9, eps=eps),
                     params, grads_seq, lrs)


ADAGRAD = optimizer_task(Spec("adagrad", "AdaGrad", "6.1.5", 3, {"lr": 0.1}, "h", ADAGRAD_LINE,
                              lambda grader: grader.expected.AdaGrad(0.1), adagrad_variants, adagrad_torch),
                         ADAGRAD_SKELETON)

RMSPROP = optimizer_task(Spec("rmsprop", "RMSprop", "6.1.5", 4, {"lr": 0.01, "decay_rate": 0.9}, "h",
                              RMSPROP_LINE, lambda grader: grader.expected.RMSprop(0.01, 0.9), rmsprop_variants,
                              rmsprop_torch),
                         RMSPROP_SKELETON)

# ---------------------------------------------------------------------------
# Adam (6.1.6)
# ---------------------------------------------------------------------------

ADAM_SKELETON = '''"""Adam (6.1.6): write update. Moments m and v per parameter (zero at the start), and a step count t.

    params, grads: dicts of NumPy arrays by parameter name; grads[key] has params[key]'s shape.
    At each update t = 1, 2, ... (self.iter), for every key, with g = grads[key]:

        m[key] <- beta1 * m[key] + (1 - beta1) * g
        v[key] <- beta2 * v[key] + (1 - beta2) * g * g

    The book's form (the default) folds both bias corrections into the learning rate:

        lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
        params[key] <- params[key] - lr_t * m[key] / (sqrt(v[key]) + 1e-7)

    With --semantics pytorch, torch.optim.Adam's form corrects v before adding eps = 1e-8:

        params[key] <- params[key] - lr / (1 - beta1^t) * m[key] / (sqrt(v[key]) / sqrt(1 - beta2^t) + 1e-8)

    The two differ where the gradients are tiny, about eps.
Change each array in place (params[key] -= ...): the network's layers hold these same arrays.

Check it: python scripts/practice.py check adam
"""
import numpy as np


class Adam:
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.iter = 0
        self.m = None  # {key: first moment}, created at the first update
        self.v = None  # {key: second moment}

    def update(self, params, grads):
        raise NotImplementedError("create self.m and self.v at the first update, count self.iter, then update")
'''

ADAM_LINE = "Adam.update: lr_t = self.lr * np.sqrt(1.0 - self.beta2**self.iter) / (1.0 - self.beta1**self.iter)"
ADAM_HYPER = {"lr": 0.01, "beta1": 0.9, "beta2": 0.999}


def adam_variants(grader):
    book = grader.semantics == "book"
    eps = semantics_eps(grader.semantics, "Adam")
    uncorrected = Mistake(
        "Adam without bias correction",
        "m and v start at 0, so in the first updates they are too small by (1 - beta1^t) and (1 - beta2^t); "
        + ("the book divides them out in lr_t = lr sqrt(1 - beta2^t) / (1 - beta1^t)" if book else
           "torch.optim.Adam divides m by (1 - beta1^t) and sqrt(v) by sqrt(1 - beta2^t)"),
        ADAM_LINE if book else "scratch.Adam.update: denom = np.sqrt(v) / sqrt(1 - beta2^t) + eps", None)
    other = Mistake(
        "Adam with PyTorch's eps placement (after the bias correction)" if book else
        "Adam with the book's eps placement (before the bias correction)",
        ("your code adds eps to sqrt(v) / sqrt(1 - beta2^t), as torch.optim.Adam; the book folds the correction into "
         "lr_t and adds 1e-7 to the uncorrected sqrt(v)") if book else
        ("your code folds the bias correction into lr_t and adds eps to the uncorrected sqrt(v), as the book; "
         "torch.optim.Adam adds eps = 1e-8 to sqrt(v) / sqrt(1 - beta2^t)")
        + "; the two differ where gradients are tiny (b's here)",
        ADAM_LINE if book else "scratch.Adam.update: denom = np.sqrt(v) / sqrt(1 - beta2^t) + eps", None)
    per_key = Mistake(
        "Adam's step count advanced per parameter",
        "t counts updates: self.iter += 1 once per update, before the loop over the parameters, not inside it "
        "(with two parameters t ran 1, 2, 3, 4, ... and the bias correction faded twice as fast)",
        ADAM_LINE, None)
    other_form = "pytorch" if book else "book"
    lr, beta1, beta2 = ADAM_HYPER.values()
    return [(uncorrected, lambda: AdamForm(lr, beta1, beta2, eps, "uncorrected")),
            (per_key, lambda: AdamForm(lr, beta1, beta2, eps, grader.semantics, per_key=True)),
            *[(other, lambda e=e: AdamForm(lr, beta1, beta2, e, other_form)) for e in (1e-7, 1e-8)]]


def adam_torch(grader, params, grads_seq, lrs):
    """torch.optim.Adam; for the book, with eps = 1e-7 / sqrt(1 - beta2^t) at step t (the book's eps, moved)."""
    import torch

    lr, beta1, beta2 = ADAM_HYPER.values()
    eps = semantics_eps(grader.semantics, "Adam")
    eps_at = (lambda t: eps / math.sqrt(1 - beta2 ** t)) if grader.semantics == "book" else None
    return torch_run(lambda tensors: torch.optim.Adam(tensors, lr=lr, betas=(beta1, beta2), eps=eps),
                     params, grads_seq, lrs, eps_at=eps_at)


ADAM = optimizer_task(Spec("adam", "Adam", "6.1.6", 5, ADAM_HYPER, "m, v and iter", ADAM_LINE,
                           lambda grader: grader.expected.Adam(*ADAM_HYPER.values()), adam_variants, adam_torch),
                      ADAM_SKELETON)

TASKS = (SGD, MOMENTUM, ADAGRAD, RMSPROP, ADAM)
