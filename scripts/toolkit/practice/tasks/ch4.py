"""Chapter 4's practice tasks: cross_entropy_error (4.2), numerical_gradient (4.4), gradient_descent (4.4.1).

cross_entropy_error is where the semantics differ: the book adds 1e-7 inside
the log (``scratch.book``), PyTorch semantics adds nothing (``scratch``, like
``F.nll_loss`` of ``log y``), so each semantics names the other's convention.
numerical_gradient is graded on the book's examples, any shape of x, x left as
it was, and an integer x (the book's issue: x + h is truncated back to x, so
every gradient is silently 0); the project's answer is a clear TypeError, and
a function that converts x to float and returns the right gradient passes too.
gradient_descent is graded on the book's f(x0, x1) = x0^2 + x1^2 against the
project's and ``torch.optim.SGD``.
"""
import numpy as np

import scratch

from ..task import Mistake, Task

# ---------------------------------------------------------------------------
# cross_entropy_error (4.2.2, 4.2.4)
# ---------------------------------------------------------------------------

CROSS_ENTROPY_SKELETON = '''"""Cross-entropy error (4.2.2) over a mini-batch (4.2.4).

    E = -1/N * sum_n log(y[n, t_n] + delta)       delta = 1e-7 keeps log(0) = -inf away

    y: (N, classes) probabilities (a softmax's output); a single sample y (classes,) is a batch of one
    t: (N, classes) one-hot rows, or (N,) integer labels        ->  E, one number

With --semantics pytorch, delta is 0 (PyTorch's nll_loss of log y adds nothing).

Check it: python scripts/practice.py check cross_entropy_error
"""
import numpy as np


def cross_entropy_error(y, t):
    raise NotImplementedError("reshape a single sample to (1, n), turn one-hot t into labels, "
                              "average -log(y[n, t_n] + 1e-7) over the batch")
'''

CE_LINE = "cross_entropy_error: return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size"
CE_RESHAPE_LINE = "cross_entropy_error: if y.ndim == 1: t = t.reshape(1, t.size); y = y.reshape(1, y.size)"
CE_ONE_HOT_LINE = "cross_entropy_error: if t.size == y.size: t = t.argmax(axis=1)"
BOOK_Y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])  # 4.2.2's example
DELTA = 1e-7


def as_batch(y, t):
    """(y (N, classes), labels (N,)) for a single sample or a batch, one-hot or labels."""
    y = np.asarray(y, dtype=np.float64)
    t = np.asarray(t)
    if y.ndim == 1:
        y, t = y.reshape(1, -1), t.reshape(1, -1) if t.size == y.size else t.reshape(1)
    labels = t.argmax(axis=1) if t.shape == y.shape else t
    return y, labels


def cross_entropy_with(y, t, delta):
    """-1/N sum_n log(y[n, t_n] + delta): the book's loss (delta 1e-7) or PyTorch semantics' (0)."""
    y, labels = as_batch(y, t)
    with np.errstate(divide="ignore"):
        return -np.sum(np.log(y[np.arange(y.shape[0]), labels] + delta)) / y.shape[0]


def one_hot_formula(y, labels, delta):
    """-sum(t * log(y + delta)) / N with labels t taken as if they were one-hot rows (broadcast)."""
    y = np.asarray(y, dtype=np.float64).reshape(-1, np.shape(y)[-1])
    with np.errstate(divide="ignore"):
        return float(-np.sum(np.asarray(labels).reshape(-1, 1) * np.log(y + delta)) / y.shape[0])


def cross_entropy_mistakes(grader, y, t):
    n = as_batch(y, t)[0].shape[0]
    book = grader.semantics == "book"
    other = cross_entropy_with(y, t, 0.0 if book else DELTA)
    close = lambda a, b: np.isfinite(b) and abs(float(a) - b) <= 1e-12 * max(abs(b), 1e-300)  # noqa: E731
    delta = (Mistake("log without the delta 1e-7 (log(0) gives inf)",
                     "the book writes log(y + 1e-7): without the delta a probability of 0 at the label gives "
                     "log(0) = -inf and the loss is inf (and every other value is off by about 1e-7 / y)",
                     CE_LINE, lambda e: np.isinf(float(e)) or close(e, other))
             if book else
             Mistake("the book's delta 1e-7 added (PyTorch semantics adds none)",
                     "PyTorch's nll_loss of log y adds nothing: the book's + 1e-7 shifts each term by about "
                     "1e-7 / y (grade with the default --semantics book for the book's convention)",
                     CE_LINE, lambda e: close(e, other)))
    return (
        delta,
        Mistake("labels not handled (only one-hot t)",
                "t may be labels (N,): t * np.log(y) needs a one-hot t; index y[np.arange(N), t] instead", CE_LINE,
                lambda e: np.shape(t) != np.shape(y) and any(close(e, one_hot_formula(y, t, d)) for d in (DELTA, 0.0))),
        Mistake("missing division by the batch size",
                f"E is the mean over the batch: divide the sum by N = {n}", CE_LINE,
                lambda e: n > 1 and close(e, float(grader.expected.cross_entropy_error(y, t)) * n)),
        Mistake("divided by the number of elements, not the batch size",
                f"E = -1/N sum_n ...: N = {n} samples, not y.size = {np.size(y)}", CE_LINE,
                lambda e: np.size(y) != n and close(e, float(grader.expected.cross_entropy_error(y, t)) * n
                                                    / np.size(y))),
    )


CE_CALL_MISTAKES = (
    Mistake("a single sample (1-D y) not reshaped to a batch of one",
            "for y of shape (classes,), y.shape[0] is not the batch size and y has no axis 1: reshape y and t "
            "to one row first", CE_RESHAPE_LINE,
            lambda err: isinstance(err, IndexError) and ("too many indices" in str(err) or "axis 1" in str(err))),
    Mistake("one-hot t not turned into labels",
            "y[np.arange(N), t] needs labels (N,): a one-hot t (N, classes) becomes labels by t.argmax(axis=1)",
            CE_ONE_HOT_LINE, lambda err: isinstance(err, IndexError) and (
                "shape mismatch" in str(err) or "integer (or boolean)" in str(err))),
    Mistake("labels not handled (only one-hot t)",
            "t may be labels (N,): t * np.log(y) needs a one-hot t; index y[np.arange(N), t] instead",
            CE_LINE, lambda err: isinstance(err, ValueError) and "broadcast" in str(err)),
)


def ce_value(grader, what, y, t):
    """The learner's loss for copies of (y, t), required to be one number."""
    e = grader.call(what, grader.learner, y.copy(), t.copy(), mistakes=CE_CALL_MISTAKES)
    grader.require(e is not None, f"{what} is None: return the loss", book_line=CE_LINE)
    grader.require(np.size(e) == 1, f"{what} returned shape {np.shape(e)}, not one number: sum over the batch "
                   "and divide by N", book_line=CE_LINE)
    return e


def ce_compare(grader, what, y, t, expected=None, rtol=None):
    e = ce_value(grader, what, y, t)
    expected = grader.expected.cross_entropy_error(y, t) if expected is None else expected
    grader.compare(what, np.asarray(e, dtype=np.asarray(expected).dtype).reshape(()), expected,
                   cross_entropy_mistakes(grader, y, t), CE_LINE, rtol)


def ce_batch(grader, n, classes=10, dtype=np.float64):
    """(logits, probabilities, labels, one-hot) for a batch of ``n``."""
    rng = grader.rng(4, 2, n)
    logits = rng.standard_normal((n, classes)) * 2
    y = scratch.softmax(logits).astype(dtype)
    labels = rng.integers(0, classes, n)
    return logits, y, labels, np.eye(classes, dtype=dtype)[labels]


def check_ce_single(grader):
    """the book's single sample (4.2.2): one-hot t, then the label 2"""
    t = np.eye(10)[2]
    ce_compare(grader, "cross_entropy_error(y, one-hot t = 2) of 4.2.2", BOOK_Y, t)
    ce_compare(grader, "cross_entropy_error(y, one-hot t = 7)", BOOK_Y, np.eye(10)[7])
    ce_compare(grader, "cross_entropy_error(y, t = np.array(2))", BOOK_Y, np.array(2))


def check_ce_batch(grader):
    """a batch of 5, one-hot t and labels t: the mean over the batch"""
    _, y, labels, one_hot = ce_batch(grader, 5)
    ce_compare(grader, "cross_entropy_error of a batch of 5, one-hot t", y, one_hot)
    ce_compare(grader, "cross_entropy_error of a batch of 5, labels t", y, labels)


def check_ce_batch_of_one(grader):
    """a batch of 1 (1, 10), one-hot and labels"""
    _, y, labels, one_hot = ce_batch(grader, 1)
    ce_compare(grader, "cross_entropy_error of a batch of 1, one-hot t", y, one_hot)
    ce_compare(grader, "cross_entropy_error of a batch of 1, labels t", y, labels)


def check_ce_zero(grader):
    """a probability of 0 at the label: the book's -log(1e-7) = 16.118..., not inf"""
    y = np.array([[0.0, 0.5, 0.5], [0.2, 0.3, 0.5]])
    t = np.array([0, 2])
    if grader.semantics == "pytorch":
        # scratch clamps a 0 to the smallest normal float (-log(tiny) = 708.4); PyTorch's nll_loss(log 0) is inf:
        # either is PyTorch semantics, so inf passes here.
        e = ce_value(grader, "cross_entropy_error with y[0, t_0] = 0", y, t)
        if np.isinf(float(e)):
            return
    ce_compare(grader, "cross_entropy_error with y[0, t_0] = 0", y, t)


def check_ce_torch(grader):
    """equals PyTorch: F.nll_loss(log(y + 1e-7), t) (book) or F.cross_entropy of the logits (pytorch)"""
    import torch
    import torch.nn.functional as F

    logits, y, labels, one_hot = ce_batch(grader, 4)
    if grader.semantics == "book":
        expected = F.nll_loss(torch.log(torch.from_numpy(y) + DELTA), torch.from_numpy(labels))
    else:  # log of softmax's output differs from F.cross_entropy's log_softmax by a few roundings: within 1e-10
        expected = F.cross_entropy(torch.from_numpy(logits), torch.from_numpy(labels))
    ce_compare(grader, "cross_entropy_error against PyTorch, labels t", y, labels, expected.item())
    ce_compare(grader, "cross_entropy_error against PyTorch, one-hot t", y, one_hot, expected.item())


def check_ce_float32(grader):
    """float32 probabilities: the book's loss to 1e-5"""
    _, y, labels, one_hot = ce_batch(grader, 3, dtype=np.float32)
    ce_compare(grader, "cross_entropy_error of float32 y, labels t", y, labels, rtol=1e-5)


CROSS_ENTROPY_ERROR = Task("cross_entropy_error", 4, "4.2.4", "cross_entropy_error", CROSS_ENTROPY_SKELETON,
                           (check_ce_single, check_ce_batch, check_ce_batch_of_one, check_ce_zero, check_ce_torch,
                            check_ce_float32))

# ---------------------------------------------------------------------------
# numerical_gradient (4.4)
# ---------------------------------------------------------------------------

NUMERICAL_GRADIENT_SKELETON = '''"""The numerical gradient (4.4): df/dx for every element of x, by central differences.

    grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2h),   h = 1e-4

    f: a function of the whole array x returning one number; x: a float array of any shape
    ->  grad, x's shape

Change one element of x at a time (np.nditer(x, flags=['multi_index']) visits
every element of any shape), call f(x), and put the element back: x must be
as it was after the call. x must be floating: in an integer array x + h is
truncated back to x (convert it, or raise a clear error).

Check it: python scripts/practice.py check numerical_gradient
"""
import numpy as np


def numerical_gradient(f, x):
    h = 1e-4
    raise NotImplementedError("for each element: x[i] + h, f(x), x[i] - h, f(x), restore x[i], grad[i] = ...")
'''

NG_LINE = "numerical_gradient: grad[idx] = (fxh1 - fxh2) / (2*h)"
NG_RESTORE_LINE = "numerical_gradient: x[idx] = tmp_val  # restore the value"
NG_NDITER_LINE = "numerical_gradient: it = np.nditer(x, flags=['multi_index'], op_flags=['readwrite'])"
NG_RTOL = 1e-6  # central differences with an h near 1e-4 agree this well on smooth f; a forward difference does not
H = 1e-4

INTEGER_MISTAKE = Mistake(
    "numerical_gradient on an integer array",
    "an integer x cannot hold x[i] + h or x[i] - h: both are truncated to whole numbers, so the differences are "
    "not 2h apart and the gradient is silently wrong (0, or thousands): convert x to float (x.astype(float)) or "
    "raise a clear error (the project's numerical_gradient raises a TypeError)",
    "numerical_gradient: x[idx] = tmp_val + h", lambda received: True)


def function_2(x):
    """The book's f(x0, x1) = x0^2 + x1^2 (4.3.3)."""
    return x[0] ** 2 + x[1] ** 2


def smooth(x):
    """A function of any shape of x with a different derivative at every element."""
    w = np.arange(1, x.size + 1).reshape(x.shape)
    return float(np.sum(np.sin(x) * w) + np.sum(x ** 3) / 3)


def smooth_torch(x):
    import torch

    w = torch.arange(1, x.numel() + 1, dtype=x.dtype).reshape(x.shape)
    return torch.sum(torch.sin(x) * w) + torch.sum(x ** 3) / 3


def forward_difference(f, x, h=H):
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    base = f(x.copy())
    for index in np.ndindex(x.shape):
        y = x.copy()
        y[index] += h
        grad[index] = (f(y) - base) / h
    return grad


def ng_mistakes(f, x):
    return (
        Mistake("forward difference (f(x+h) - f(x)) / h, not the central difference",
                "the central difference (f(x+h) - f(x-h)) / 2h is far more accurate (4.3.1)", NG_LINE,
                lambda g: np.allclose(np.asarray(g), forward_difference(f, x), rtol=1e-9, atol=1e-9)),
        Mistake("h too small (rounded away)", "h = 1e-50 is lost in float64 rounding (1.0 + 1e-50 == 1.0): the "
                "book uses h = 1e-4 (4.3.1)", "numerical_gradient: h = 1e-4 # 0.0001",
                lambda g: not np.any(np.asarray(g))),
        Mistake("divided by h, not 2h", "the central difference spans 2h: (f(x+h) - f(x-h)) / (2*h)", NG_LINE,
                lambda g: np.allclose(np.asarray(g), 2 * scratch.numerical_gradient(f, np.array(x, dtype=float)),
                                      rtol=NG_RTOL)),
    )


NG_CALL_MISTAKES = (
    Mistake("numerical_gradient handles only 1-D x",
            "x[i] for i in range(x.size) indexes rows of a 2-D x: visit every element with np.nditer's multi_index "
            "(or x.reshape(-1) views) so any shape works", NG_NDITER_LINE,
            lambda err: isinstance(err, (IndexError, ValueError))),
)


def ng_call(grader, what, f, x, expected, torch_grad=None):
    """The learner's gradient of ``f`` at a copy of ``x``, compared with ``expected``; the copy must be restored."""
    given = x.copy()
    grad = grader.call(what, grader.learner, f, given, mistakes=NG_CALL_MISTAKES if x.ndim > 1 else ())
    grader.require(np.array_equal(given, x), f"{what}: x is {given.ravel()[:6]} after the call, "
                   f"{x.ravel()[:6]} before",
                   mistake=Mistake("x not restored", "after f(x + h) and f(x - h), put each element back: the "
                                   "caller's x (a network's weights) must be unchanged", NG_RESTORE_LINE,
                                   lambda received: True))
    grader.compare(what, grad, expected, ng_mistakes(f, x), NG_LINE, NG_RTOL)
    return grad


def check_ng_book(grader):
    """the book's examples (4.4): f = x0^2 + x1^2 at (3, 4), (0, 2), (3, 0), x unchanged"""
    for point in ((3.0, 4.0), (0.0, 2.0), (3.0, 0.0)):
        x = np.array(point)
        ng_call(grader, f"numerical_gradient(function_2, np.array({list(point)}))", function_2, x,
                grader.expected.numerical_gradient(function_2, x.copy()))


def check_ng_shapes(grader):
    """any shape: a (2, 3) matrix and a (2, 1, 3) array, the book's gradient"""
    for shape in ((2, 3), (2, 1, 3)):
        x = grader.rng(4, 4, *shape).standard_normal(shape)
        ng_call(grader, f"numerical_gradient of a {shape} x", smooth, x,
                grader.expected.numerical_gradient(smooth, x.copy()))


def check_ng_autograd(grader):
    """equals autograd's gradient (PyTorch) of a smooth function of a (3, 4) x"""
    import torch

    x = grader.rng(4, 5).standard_normal((3, 4))
    tensor = torch.tensor(x, requires_grad=True)
    smooth_torch(tensor).backward()
    ng_call(grader, "numerical_gradient of a (3, 4) x against autograd", smooth, x, tensor.grad.numpy())


def check_ng_integer(grader):
    """an integer x, np.array([3, 4]): a clear error, or the float gradient (6, 8), never silent zeros"""
    x = np.array([3, 4])
    given = x.copy()
    learner = grader.learner

    def attempt():
        try:
            return learner(function_2, given), None
        except (TypeError, ValueError) as err:  # a clear error is the project's answer
            return None, err

    grad, error = grader.call("numerical_gradient(function_2, np.array([3, 4]))", attempt)
    grader.require(np.array_equal(given, x), f"numerical_gradient changed the integer x to {given}",
                   mistake=INTEGER_MISTAKE)
    if error is not None:
        return
    grad_array = np.asarray(grad) if grad is not None else None
    grader.require(grad_array is not None and grad_array.dtype.kind == "f"
                   and np.allclose(grad_array, [6.0, 8.0], rtol=NG_RTOL),
                   f"numerical_gradient(function_2, np.array([3, 4])) returned {grad!r}: the gradient is (6, 8)",
                   mistake=INTEGER_MISTAKE)


NUMERICAL_GRADIENT = Task("numerical_gradient", 4, "4.4", "numerical_gradient", NUMERICAL_GRADIENT_SKELETON,
                          (check_ng_book, check_ng_shapes, check_ng_autograd, check_ng_integer))

# ---------------------------------------------------------------------------
# gradient_descent (4.4.1)
# ---------------------------------------------------------------------------

GRADIENT_DESCENT_SKELETON = '''"""Gradient descent (4.4.1): step_num steps of x <- x - lr * grad f(x), from init_x.

    f: a function of the array x returning one number; init_x: a float array   ->  the last x, init_x's shape

The book's example: f(x0, x1) = x0^2 + x1^2 from (-3.0, 4.0), lr = 0.1, 100
steps, reaches about (-6.1e-10, 8.1e-10), the minimum (0, 0).

Check it: python scripts/practice.py check gradient_descent
"""
import numpy as np

from scratch.book import numerical_gradient  # or your own: from numerical_gradient import numerical_gradient


def gradient_descent(f, init_x, lr=0.01, step_num=100):
    x = init_x
    raise NotImplementedError("step_num times: grad = numerical_gradient(f, x); x -= lr * grad; then return x")
'''

GD_LINE = "gradient_descent: grad = numerical_gradient(f, x); x -= lr * grad"


def expected_descent(grader, f, init_x, lr, step_num):
    """The semantics' gradient_descent (``scratch.book`` has none of its own: the book's steps are scratch's)."""
    descent = getattr(grader.expected, "gradient_descent", scratch.gradient_descent)
    return descent(f, init_x.copy(), lr=lr, step_num=step_num)


def gd_mistakes(grader, f, init_x, lr, step_num):
    def close(received, lr=lr, step_num=step_num, rtol=1e-6):
        return np.allclose(np.asarray(received), expected_descent(grader, f, init_x, lr, step_num), rtol=rtol)

    grad0 = scratch.numerical_gradient(f, init_x.copy())
    return (
        Mistake("gradient ascent (x += lr * grad)", "descent moves against the gradient: x -= lr * grad",
                GD_LINE, lambda x: np.linalg.norm(np.asarray(x) - init_x) > 0
                and np.allclose(np.asarray(x), expected_descent(grader, f, init_x, -lr, step_num), rtol=1e-6)),
        Mistake("the gradient computed once, before the loop",
                "the gradient changes as x moves: compute numerical_gradient(f, x) in every step", GD_LINE,
                lambda x: np.allclose(np.asarray(x), init_x - step_num * lr * grad0, rtol=1e-6)),
        Mistake("one step too many or too few", f"range(step_num) makes exactly {step_num} steps", GD_LINE,
                lambda x: close(x, step_num=step_num + 1) or close(x, step_num=step_num - 1)),
        Mistake("lr or step_num ignored (a default or a fixed number used)",
                f"use the arguments: lr = {lr}, step_num = {step_num}", GD_LINE,
                lambda x: any(close(x, lr=a, step_num=b) for a in (0.01, 0.1) for b in (100, 20)
                              if (a, b) != (lr, step_num))),
    )


def gd_call(grader, what, f, init_x, lr, step_num):
    """The learner's last x (the book's gradient_method.py returns (x, history): its x is taken)."""
    x = grader.call(what, grader.learner, f, init_x.copy(), lr=lr, step_num=step_num)
    if isinstance(x, tuple) and len(x) == 2:
        x = x[0]
    return x


def check_gd_book(grader):
    """the book's example (4.4.1): x0^2 + x1^2 from (-3, 4), lr 0.1, 100 steps: about (-6.1e-10, 8.1e-10)"""
    init_x = np.array([-3.0, 4.0])
    x = gd_call(grader, "gradient_descent(function_2, init_x=np.array([-3.0, 4.0]), lr=0.1, step_num=100)",
                function_2, init_x, 0.1, 100)
    grader.compare("gradient_descent's x, lr 0.1, 100 steps", x, expected_descent(grader, function_2, init_x, 0.1, 100),
                   gd_mistakes(grader, function_2, init_x, 0.1, 100), GD_LINE, rtol=1e-6)


def check_gd_small_lr(grader):
    """the book's too small learning rate: lr 1e-10 barely moves x (about (-2.99999994, 3.99999992))"""
    init_x = np.array([-3.0, 4.0])
    x = gd_call(grader, "gradient_descent(function_2, np.array([-3.0, 4.0]), lr=1e-10, step_num=100)", function_2,
                init_x, 1e-10, 100)
    grader.compare("gradient_descent's x, lr 1e-10", x, expected_descent(grader, function_2, init_x, 1e-10, 100),
                   gd_mistakes(grader, function_2, init_x, 1e-10, 100), GD_LINE)


def shifted_bowl(x):
    """sum_i a_i (x_i - c_i)^2 of a 3-element x: a minimum away from 0, a different slope per element."""
    return float(np.sum(np.array([1.0, 2.0, 0.5]) * (x - np.array([1.0, -2.0, 0.5])) ** 2))


def check_gd_other(grader):
    """another f of a 3-element x, lr 0.05, 20 steps: the project's gradient_descent"""
    init_x = np.array([3.0, 1.0, -2.0])
    x = gd_call(grader, "gradient_descent(f, np.array([3.0, 1.0, -2.0]), lr=0.05, step_num=20)", shifted_bowl,
                init_x, 0.05, 20)
    grader.compare("gradient_descent's x, lr 0.05, 20 steps", x,
                   expected_descent(grader, shifted_bowl, init_x, 0.05, 20),
                   gd_mistakes(grader, shifted_bowl, init_x, 0.05, 20), GD_LINE, rtol=1e-6)


def check_gd_torch(grader):
    """equals torch.optim.SGD (lr 0.1, 100 steps, autograd's gradient) on the book's f"""
    import torch

    init_x = np.array([-3.0, 4.0])
    x = gd_call(grader, "gradient_descent(function_2, np.array([-3.0, 4.0]), lr=0.1, step_num=100)", function_2,
                init_x, 0.1, 100)
    tensor = torch.tensor(init_x, requires_grad=True)
    optimizer = torch.optim.SGD([tensor], lr=0.1)
    for _ in range(100):
        optimizer.zero_grad()
        function_2(tensor).backward()
        optimizer.step()
    grader.compare("gradient_descent against torch.optim.SGD", x, tensor.detach().numpy(),
                   gd_mistakes(grader, function_2, init_x, 0.1, 100), GD_LINE, rtol=1e-6)


GRADIENT_DESCENT = Task("gradient_descent", 4, "4.4.1", "gradient_descent", GRADIENT_DESCENT_SKELETON,
                        (check_gd_book, check_gd_small_lr, check_gd_other, check_gd_torch))

TASKS = (CROSS_ENTROPY_ERROR, NUMERICAL_GRADIENT, GRADIENT_DESCENT)
