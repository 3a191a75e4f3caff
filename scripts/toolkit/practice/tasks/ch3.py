"""Chapter 3's practice tasks: the activation functions step_function, sigmoid, relu (3.2) and softmax (3.5).

Each is a function of an array, graded on a vector and a batch (rows are
samples), in float64 and float32, against the book's (``scratch.book``) or
PyTorch semantics' (``scratch``) function and against PyTorch's own operator.
The two semantics differ only in step_function's dtype: the book's returns
integers, PyTorch semantics keeps the input's floating dtype (like
``torch.heaviside``).
"""
import numpy as np

from ..task import Mistake, Task

# ---------------------------------------------------------------------------
# helpers shared by the four functions
# ---------------------------------------------------------------------------


def activation_case(grader, stream, shape, dtype=np.float64, scale=3.0):
    """Inputs of ``shape`` drawn from the task's stream, with a 0 and a negative and a positive value in them."""
    x = grader.rng(3, stream, *shape).standard_normal(shape) * scale
    flat = x.reshape(-1)
    flat[:3] = (0.0, -1.5, 2.0)[:flat.size]
    return x.astype(dtype)


def call_on(grader, what, x, mistakes=()):
    """The learner's function on a copy of ``x``, failing if it changed that copy (its input)."""
    given = x.copy()
    y = grader.call(what, grader.learner, given, mistakes=mistakes)
    return y, given


def to_numpy(tensor):
    return tensor.detach().cpu().numpy()


def inplace_mistake(name, book_line):
    return Mistake(f"{name} changes its input in place",
                   f"the caller's x must stay as it was: compute a new array (the book's {book_line})",
                   book_line, lambda received: True)


def check_unchanged(grader, name, x, given, book_line):
    grader.require(np.array_equal(given, x), f"{name}(x) changed x: {given.ravel()[:6]} after the call, "
                   f"{x.ravel()[:6]} before", mistake=inplace_mistake(name, book_line))


def scalar_only(name, book_line):
    """The learner wrote ``if x > 0`` or ``math.exp``: it works on one number, not on an array (3.2.2)."""
    return Mistake(f"{name} written for a single number, not an array",
                   "an `if x > 0:` or math.exp takes one number; NumPy's comparisons and np.exp work on every "
                   "element of an array (3.2.2)", book_line,
                   lambda err: isinstance(err, (ValueError, TypeError)) and (
                       "truth value" in str(err) or "size-1" in str(err) or "length-1" in str(err)
                       or "0-dimensional" in str(err)))


# ---------------------------------------------------------------------------
# step_function (3.2.2)
# ---------------------------------------------------------------------------

STEP_SKELETON = '''"""The step function (3.2.2): 1 where x > 0, else 0, for every element of the array x.

    h(x) = 1  if x > 0
           0  if x <= 0          x: any shape  ->  the same shape

The book returns integers (np.array(x > 0, dtype=int)); with --semantics
pytorch the result keeps x's floating dtype, as torch.heaviside does.

Check it: python scripts/practice.py check step_function
"""
import numpy as np


def step_function(x):
    raise NotImplementedError("compare x > 0 (an array of booleans) and convert it to numbers")
'''

STEP_LINE = "step_function: return np.array(x > 0, dtype=int)"


def step_mistakes(x):
    return (
        Mistake("step at 0 gives 1 (x >= 0 instead of x > 0)", "h(0) is 0: the step fires only above 0",
                STEP_LINE, lambda y: np.array_equal(np.asarray(y), x >= 0)),
        Mistake("step_function returns 1 - h(x) (x < 0 or x <= 0)", "1 where x > 0, 0 where x <= 0",
                STEP_LINE, lambda y: np.array_equal(np.asarray(y), x <= 0)),
    )


def step_dtype_mistakes(grader, x):
    """A dtype that is not the semantics': booleans, or the other semantics' convention."""
    book = grader.semantics == "book"
    wanted = "integers (the book's dtype=int)" if book else f"x's dtype {x.dtype} (PyTorch semantics)"
    return (
        Mistake("step_function returns booleans",
                f"x > 0 is an array of True/False: convert it to {wanted}; plotted or multiplied, booleans "
                f"are not the numbers 0 and 1", STEP_LINE, lambda y: np.asarray(y).dtype == np.bool_),
        Mistake("step_function follows PyTorch semantics' dtype (x's float), not the book's integers"
                if book else "step_function follows the book's dtype (integers), not PyTorch semantics' (x's float)",
                f"the values are right; the dtype should be {wanted}", STEP_LINE, lambda y: True),
    )


def check_step_dtype(grader, y, x):
    y = np.asarray(y)
    if grader.semantics == "book":
        good = y.dtype.kind in "iu"
    else:
        good = y.dtype == x.dtype
    grader.require(good, f"step_function of {x.dtype} returned {y.dtype}",
                   mistake=next(m for m in step_dtype_mistakes(grader, x) if m.matches(y)))


def check_step_vector(grader):
    """a vector (with 0 and negatives): values and dtype equal the book's step_function"""
    x = np.array([-1.0, 1.0, 2.0, 0.0, -0.5])
    y, given = call_on(grader, "step_function(np.array([-1.0, 1.0, 2.0, 0.0, -0.5]))", x,
                       (scalar_only("step_function", STEP_LINE),))
    grader.compare("step_function of a vector", y, grader.expected.step_function(x), step_mistakes(x), STEP_LINE)
    check_step_dtype(grader, y, x)
    check_unchanged(grader, "step_function", x, given, STEP_LINE)


def check_step_batch(grader):
    """a batch (4, 6), float64 and float32: the book's values and dtype"""
    for dtype in (np.float64, np.float32):
        x = activation_case(grader, 1, (4, 6), dtype)
        y, _ = call_on(grader, f"step_function of a (4, 6) {np.dtype(dtype).name} batch", x,
                       (scalar_only("step_function", STEP_LINE),))
        grader.compare(f"step_function of a batch, {np.dtype(dtype).name}", y, grader.expected.step_function(x),
                       step_mistakes(x), STEP_LINE)
        check_step_dtype(grader, y, x)


def check_step_torch(grader):
    """equals torch.heaviside(x, 0) (PyTorch's step, 0 at x = 0)"""
    import torch

    x = activation_case(grader, 2, (3, 5))
    y, _ = call_on(grader, "step_function of a (3, 5) batch", x, (scalar_only("step_function", STEP_LINE),))
    tensor = torch.from_numpy(x)
    grader.compare("step_function against torch.heaviside", y,
                   to_numpy(torch.heaviside(tensor, torch.zeros((), dtype=tensor.dtype))), step_mistakes(x),
                   STEP_LINE)


STEP_FUNCTION = Task("step_function", 3, "3.2.2", "step_function", STEP_SKELETON,
                     (check_step_vector, check_step_batch, check_step_torch))

# ---------------------------------------------------------------------------
# sigmoid (3.2.4)
# ---------------------------------------------------------------------------

SIGMOID_SKELETON = '''"""The sigmoid function (3.2.4), element by element.

    h(x) = 1 / (1 + exp(-x))          x: any shape  ->  the same shape, x's float dtype

Check it: python scripts/practice.py check sigmoid
"""
import numpy as np


def sigmoid(x):
    raise NotImplementedError("1 / (1 + np.exp(-x)): np.exp works on every element")
'''

SIGMOID_LINE = "sigmoid: return 1 / (1 + np.exp(-x))"


def sigmoid_mistakes(x):
    with np.errstate(all="ignore"):
        return (
            Mistake("sigmoid with exp(x) instead of exp(-x)", "h(x) = 1 / (1 + exp(-x)): the sign gives 1 - h(x)",
                    SIGMOID_LINE, lambda y: np.allclose(np.asarray(y), 1 / (1 + np.exp(x)), rtol=1e-6)),
            Mistake("sigmoid as 1 / (1 - exp(-x))", "the denominator is 1 + exp(-x)", SIGMOID_LINE,
                    lambda y: np.allclose(np.asarray(y), 1 / (1 - np.exp(-x)), rtol=1e-6, equal_nan=True)),
        )


def check_sigmoid_vector(grader):
    """a vector [-1.0, 1.0, 2.0]: the book's sigmoid"""
    x = np.array([-1.0, 1.0, 2.0])
    y, given = call_on(grader, "sigmoid(np.array([-1.0, 1.0, 2.0]))", x, (scalar_only("sigmoid", SIGMOID_LINE),))
    grader.compare("sigmoid of a vector", y, grader.expected.sigmoid(x), sigmoid_mistakes(x), SIGMOID_LINE)
    check_unchanged(grader, "sigmoid", x, given, SIGMOID_LINE)


def check_sigmoid_batch(grader):
    """a batch (4, 6), float64 and float32 (dtype kept): the book's sigmoid"""
    for dtype in (np.float64, np.float32):
        x = activation_case(grader, 3, (4, 6), dtype)
        y, _ = call_on(grader, f"sigmoid of a (4, 6) {np.dtype(dtype).name} batch", x,
                       (scalar_only("sigmoid", SIGMOID_LINE),))
        grader.compare(f"sigmoid of a batch, {np.dtype(dtype).name}", y, grader.expected.sigmoid(x),
                       sigmoid_mistakes(x), SIGMOID_LINE)
        grader.require(np.asarray(y).dtype == x.dtype, f"sigmoid of {x.dtype} returned {np.asarray(y).dtype}: "
                       "keep x's dtype (1 / (1 + np.exp(-x)) does)", book_line=SIGMOID_LINE)


def check_sigmoid_torch(grader):
    """equals torch.sigmoid, large inputs (+-30) included"""
    import torch

    x = activation_case(grader, 4, (3, 5), scale=10.0)
    x[0, :2] = (30.0, -30.0)
    y, _ = call_on(grader, "sigmoid of a (3, 5) batch", x, (scalar_only("sigmoid", SIGMOID_LINE),))
    grader.compare("sigmoid against torch.sigmoid", y, to_numpy(torch.sigmoid(torch.from_numpy(x))),
                   sigmoid_mistakes(x), SIGMOID_LINE)


SIGMOID = Task("sigmoid", 3, "3.2.4", "sigmoid", SIGMOID_SKELETON,
               (check_sigmoid_vector, check_sigmoid_batch, check_sigmoid_torch))

# ---------------------------------------------------------------------------
# relu (3.2.7)
# ---------------------------------------------------------------------------

RELU_SKELETON = '''"""ReLU (3.2.7), element by element.

    h(x) = x  if x > 0
           0  if x <= 0          x: any shape  ->  the same shape and dtype

Return a new array: the caller's x must not change.

Check it: python scripts/practice.py check relu
"""
import numpy as np


def relu(x):
    raise NotImplementedError("np.maximum(0, x), the larger of 0 and each element")
'''

RELU_LINE = "relu: return np.maximum(0, x)"


def relu_mistakes(x):
    return (
        Mistake("relu returns the mask (x > 0), not the values", "h(x) is x where x > 0: the values, not 1",
                RELU_LINE, lambda y: np.array_equal(np.asarray(y), (x > 0).astype(np.asarray(y).dtype))),
        Mistake("relu keeps the negatives and zeroes the positives", "h(x) = x where x > 0, 0 elsewhere",
                RELU_LINE, lambda y: np.array_equal(np.asarray(y), np.minimum(x, 0))),
        Mistake("relu with np.max instead of np.maximum",
                "np.max(x) is the largest element (one number); np.maximum(0, x) compares each element with 0",
                RELU_LINE, lambda y: np.size(y) == 1 and x.size > 1),
    )


RELU_CALL_MISTAKES = (
    Mistake("relu with np.max instead of np.maximum",
            "np.max(0, x) reads x as an axis; np.maximum(0, x) compares each element with 0", RELU_LINE,
            lambda err: isinstance(err, (TypeError, ValueError))
            and ("axis" in str(err) or "scalar index" in str(err))),
    scalar_only("relu", RELU_LINE),
)


def check_relu_vector(grader):
    """a vector (with 0 and negatives): the book's relu, x unchanged"""
    x = np.array([-1.0, 1.0, 2.0, 0.0, -0.5])
    y, given = call_on(grader, "relu(np.array([-1.0, 1.0, 2.0, 0.0, -0.5]))", x, RELU_CALL_MISTAKES)
    check_unchanged(grader, "relu", x, given, RELU_LINE)
    grader.compare("relu of a vector", y, grader.expected.relu(x), relu_mistakes(x), RELU_LINE)


def check_relu_batch(grader):
    """a batch (4, 6), float64 and float32 (dtype kept): the book's relu, x unchanged"""
    for dtype in (np.float64, np.float32):
        x = activation_case(grader, 5, (4, 6), dtype)
        y, given = call_on(grader, f"relu of a (4, 6) {np.dtype(dtype).name} batch", x, RELU_CALL_MISTAKES)
        check_unchanged(grader, "relu", x, given, RELU_LINE)
        grader.compare(f"relu of a batch, {np.dtype(dtype).name}", y, grader.expected.relu(x), relu_mistakes(x),
                       RELU_LINE)
        grader.require(np.asarray(y).dtype == x.dtype,
                       f"relu of {x.dtype} returned {np.asarray(y).dtype}: keep x's dtype", book_line=RELU_LINE)


def check_relu_torch(grader):
    """equals F.relu"""
    import torch.nn.functional as F
    import torch

    x = activation_case(grader, 6, (3, 5))
    y, _ = call_on(grader, "relu of a (3, 5) batch", x, RELU_CALL_MISTAKES)
    grader.compare("relu against F.relu", y, to_numpy(F.relu(torch.from_numpy(x))), relu_mistakes(x), RELU_LINE)


RELU = Task("relu", 3, "3.2.7", "relu", RELU_SKELETON, (check_relu_vector, check_relu_batch, check_relu_torch))

# ---------------------------------------------------------------------------
# softmax (3.5)
# ---------------------------------------------------------------------------

SOFTMAX_SKELETON = '''"""Softmax (3.5), over the last axis: each row of a batch becomes probabilities that sum to 1.

    y_k = exp(a_k - c) / sum_i exp(a_i - c),   c = max_i a_i  (the row's maximum, 3.5.2)

    a (n,)    ->  y (n,)
    a (N, n)  ->  y (N, n), each row on its own

Subtracting c changes nothing mathematically but keeps exp from overflowing:
np.exp(1010) is inf.

Check it: python scripts/practice.py check softmax
"""
import numpy as np


def softmax(a):
    raise NotImplementedError("subtract each row's max (keepdims=True), exponentiate, divide by each row's sum")
'''

SOFTMAX_LINE = "softmax: x = x - np.max(x, axis=-1, keepdims=True); return np.exp(x) / np.sum(np.exp(x), axis=-1, " \
               "keepdims=True)"


def _softmax_by(x, max_axis, sum_axis):
    """exp(x - max over ``max_axis``) / its sum over ``sum_axis`` (None: the whole array)."""
    with np.errstate(all="ignore"):
        if max_axis == "none":
            e = np.exp(x)
        else:
            e = np.exp(x - np.max(x, axis=max_axis, keepdims=True))
        return e / np.sum(e, axis=sum_axis, keepdims=True)


def softmax_mistakes(x):
    batch = x.ndim == 2
    return (
        Mistake("softmax subtracts the batch's maximum, not each row's",
                "a row far below the batch's maximum underflows to 0 / 0 = nan: take the max over axis=-1 with "
                "keepdims=True", SOFTMAX_LINE,
                lambda y: batch and np.allclose(np.asarray(y), _softmax_by(x, None, -1), rtol=1e-6, equal_nan=True)),
        Mistake("softmax without subtracting the maximum (overflow at large inputs)",
                "np.exp(1010) overflows to inf and inf / inf is nan: subtract the row's maximum first (3.5.2)",
                "softmax: x = x - np.max(x, axis=-1, keepdims=True)  # overflow countermeasure",
                lambda y: np.all(np.isfinite(_softmax_by(x, -1, -1)))
                and not np.all(np.isfinite(np.asarray(y, dtype=np.float64)))
                and not np.all(np.isfinite(np.exp(x.astype(np.float64))))),
        Mistake("softmax sums over the whole batch, not each row",
                "each row is one sample: sum over axis=-1 with keepdims=True, so each row sums to 1",
                SOFTMAX_LINE,
                lambda y: batch and np.isclose(np.sum(y), 1.0) and not np.allclose(np.sum(y, axis=-1), 1.0)),
        Mistake("softmax normalises each column (axis=0), not each row",
                "rows are samples: the max and the sum are over the last axis (axis=-1)",
                SOFTMAX_LINE, lambda y: batch and np.allclose(np.asarray(y), _softmax_by(x, 0, 0), rtol=1e-6)),
    )


def softmax_call_mistakes(x):
    return (
        Mistake("softmax's max or sum without keepdims=True (the batch's shapes broadcast wrongly)",
                "np.max(x, axis=-1) has shape (N,), which lines up with x's columns, not its rows: keepdims=True "
                "keeps (N, 1)", SOFTMAX_LINE,
                lambda err: isinstance(err, ValueError) and "broadcast" in str(err)),
    )


def softmax_on(grader, what, x):
    y, given = call_on(grader, what, x, softmax_call_mistakes(x))
    check_unchanged(grader, "softmax", x, given, SOFTMAX_LINE)
    return y


def check_softmax_vector(grader):
    """the book's vector [0.3, 2.9, 4.0]: the book's softmax"""
    x = np.array([0.3, 2.9, 4.0])
    y = softmax_on(grader, "softmax(np.array([0.3, 2.9, 4.0]))", x)
    grader.compare("softmax of [0.3, 2.9, 4.0]", y, grader.expected.softmax(x), softmax_mistakes(x), SOFTMAX_LINE)


def check_softmax_large(grader):
    """large inputs [1010, 1000, 990] (3.5.2): finite, the book's softmax"""
    x = np.array([1010.0, 1000.0, 990.0])
    y = softmax_on(grader, "softmax(np.array([1010.0, 1000.0, 990.0]))", x)
    grader.compare("softmax of [1010, 1000, 990]", y, grader.expected.softmax(x), softmax_mistakes(x),
                   SOFTMAX_LINE)


def check_softmax_batch(grader):
    """a batch (4, 6), each row on its own, one row around 1000: the book's softmax"""
    x = activation_case(grader, 7, (4, 6))
    x[2] += 1000.0
    y = softmax_on(grader, "softmax of a (4, 6) batch", x)
    grader.compare("softmax of a batch", y, grader.expected.softmax(x), softmax_mistakes(x), SOFTMAX_LINE)


def check_softmax_single_row(grader):
    """a batch of 1 (1, 5) and a float32 batch (dtype kept, 1e-5)"""
    x = activation_case(grader, 8, (1, 5))
    y = softmax_on(grader, "softmax of a (1, 5) batch", x)
    grader.compare("softmax of a batch of 1", y, grader.expected.softmax(x), softmax_mistakes(x), SOFTMAX_LINE)
    x = activation_case(grader, 9, (3, 4), np.float32)
    y = softmax_on(grader, "softmax of a (3, 4) float32 batch", x)
    grader.compare("softmax of a float32 batch", y, grader.expected.softmax(x), softmax_mistakes(x), SOFTMAX_LINE)
    grader.require(np.asarray(y).dtype == x.dtype,
                   f"softmax of float32 returned {np.asarray(y).dtype}: keep x's dtype", book_line=SOFTMAX_LINE)


def check_softmax_torch(grader):
    """equals torch.softmax(x, dim=-1), large rows included"""
    import torch

    x = activation_case(grader, 10, (3, 5))
    x[1] = x[1] * 100 + 1000.0
    y = softmax_on(grader, "softmax of a (3, 5) batch", x)
    grader.compare("softmax against torch.softmax(dim=-1)", y, to_numpy(torch.softmax(torch.from_numpy(x), dim=-1)),
                   softmax_mistakes(x), SOFTMAX_LINE)


SOFTMAX = Task("softmax", 3, "3.5.2", "softmax", SOFTMAX_SKELETON,
               (check_softmax_vector, check_softmax_large, check_softmax_batch, check_softmax_single_row,
                check_softmax_torch))

TASKS = (STEP_FUNCTION, SIGMOID, RELU, SOFTMAX)
