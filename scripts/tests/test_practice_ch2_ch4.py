"""Practice tasks of chapters 2-4: the project's solutions and book-style ones pass, each mistake is named.

The gates (AND, NAND, OR, XOR), the activations (step_function, sigmoid, relu,
softmax) and chapter 4's cross_entropy_error, numerical_gradient and
gradient_descent. Each wrong implementation below is a correct one with one
line changed, and the test asserts the grader's diagnosis by name.
"""
import sys

import pytest

from toolkit.practice.grader import grade
from toolkit.practice.tasks import find_task
from toolkit.practice.workspace import load, start
from .practice_support import failure_of, grade_source, mistake_named, passes, solution_source

TASK_NAMES = ["and", "nand", "or", "xor", "step_function", "sigmoid", "relu", "softmax", "cross_entropy_error",
              "numerical_gradient", "gradient_descent"]

GATE = """
    import numpy as np

    def {name}(x1, x2):
        x = np.array([x1, x2])
        w = np.array([{w}, {w}])
        b = {b}
        tmp = np.sum(w*x) + b
        if tmp <= 0:
            return 0
        else:
            return 1
"""

GOOD_GATES = {"and": GATE.format(name="AND", w=0.5, b=-0.7), "nand": GATE.format(name="NAND", w=-0.5, b=0.7),
              "or": GATE.format(name="OR", w=0.5, b=-0.2)}

GOOD_XOR = """
    from scratch.book import AND, NAND, OR

    def XOR(x1, x2):
        s1 = NAND(x1, x2)
        s2 = OR(x1, x2)
        y = AND(s1, s2)
        return y
"""

GOOD = {
    **GOOD_GATES,
    "xor": GOOD_XOR,
    "step_function": """
        import numpy as np

        def step_function(x):
            return np.array(x > 0, dtype=int)
    """,
    "sigmoid": """
        import numpy as np

        def sigmoid(x):
            return 1 / (1 + np.exp(-x))
    """,
    "relu": """
        import numpy as np

        def relu(x):
            return np.maximum(0, x)
    """,
    "softmax": """
        import numpy as np

        def softmax(a):
            c = np.max(a, axis=-1, keepdims=True)
            exp_a = np.exp(a - c)
            return exp_a / np.sum(exp_a, axis=-1, keepdims=True)
    """,
    "cross_entropy_error": """
        import numpy as np

        def cross_entropy_error(y, t):
            if y.ndim == 1:
                t = t.reshape(1, t.size)
                y = y.reshape(1, y.size)
            if t.size == y.size:
                t = t.argmax(axis=1)
            batch_size = y.shape[0]
            return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size
    """,
    "numerical_gradient": """
        import numpy as np

        def numerical_gradient(f, x):
            h = 1e-4
            if x.dtype.kind != "f":
                raise TypeError(f"numerical_gradient needs a float array, got {x.dtype}")
            grad = np.zeros_like(x)
            it = np.nditer(x, flags=['multi_index'], op_flags=['readwrite'])
            while not it.finished:
                idx = it.multi_index
                tmp_val = x[idx]
                x[idx] = tmp_val + h
                fxh1 = f(x)
                x[idx] = tmp_val - h
                fxh2 = f(x)
                grad[idx] = (fxh1 - fxh2) / (2*h)
                x[idx] = tmp_val
                it.iternext()
            return grad
    """,
    "gradient_descent": """
        import numpy as np
        from scratch.book import numerical_gradient

        def gradient_descent(f, init_x, lr=0.01, step_num=100):
            x = init_x
            for i in range(step_num):
                grad = numerical_gradient(f, x)
                x -= lr * grad
            return x
    """,
}

# PyTorch semantics differs from the book only here: step_function keeps x's dtype, the loss adds no 1e-7.
GOOD_PYTORCH = {
    "step_function": GOOD["step_function"].replace("np.array(x > 0, dtype=int)", "(x > 0).astype(x.dtype)"),
    "cross_entropy_error": GOOD["cross_entropy_error"].replace(" + 1e-7", ""),
}


@pytest.fixture
def forget_imports():
    """Drop the workspace modules a learner's file imported (``and``, ``numerical_gradient``) after the test.

    ``workspace.load`` puts the folder on sys.path only while the file loads, but
    what that file imports stays in sys.modules: a later test's folder would get it.
    """
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        if name in ("and", "nand", "or", "numerical_gradient"):
            del sys.modules[name]


def wrong(task, old, new, semantics_source=GOOD):
    """The good source of ``task`` with ``old`` replaced by ``new`` (which must be there)."""
    source = semantics_source[task]
    assert old in source, f"{old!r} is not in the good {task}"
    return source.replace(old, new)


# --------------------------------------------------------------------------- every task


@pytest.mark.parametrize("name", TASK_NAMES)
def test_the_projects_own_solution_passes_in_the_book_semantics(tmp_path, name):
    # scratch.book has no gradient_descent of its own: the book's steps are scratch's, which the book is graded against
    source = "from scratch import gradient_descent\n" if name == "gradient_descent" else solution_source(name, "book")
    assert passes(grade_source(name, source, tmp_path, "book"), name)


@pytest.mark.parametrize("name", TASK_NAMES)
def test_the_projects_own_solution_passes_in_the_pytorch_semantics(tmp_path, name):
    assert passes(grade_source(name, solution_source(name, "pytorch"), tmp_path, "pytorch"), name)


@pytest.mark.parametrize("name", TASK_NAMES)
def test_a_book_style_solution_passes(tmp_path, name):
    verdicts = grade_source(name, GOOD[name], tmp_path)
    assert passes(verdicts, name), [v.failure.message for v in verdicts if not v.ok]


@pytest.mark.parametrize("name", TASK_NAMES)
def test_a_pytorch_style_solution_passes_in_the_pytorch_semantics(tmp_path, name):
    verdicts = grade_source(name, GOOD_PYTORCH.get(name, GOOD[name]), tmp_path, "pytorch")
    assert passes(verdicts, name), [v.failure.message for v in verdicts if not v.ok]


@pytest.mark.parametrize("name", TASK_NAMES)
def test_a_fresh_skeleton_fails_with_not_written_yet(tmp_path, name):
    task = find_task(name)
    start(str(tmp_path), task)
    learner, path = load(str(tmp_path), task)
    failure = failure_of(grade(task, learner, "book", path))
    assert "not written yet" in failure.message and "NotImplementedError" in failure.message


@pytest.mark.parametrize("name", TASK_NAMES)
def test_the_skeleton_names_the_check_command_and_the_book_name(name):
    task = find_task(name)
    assert f"python scripts/practice.py check {name}" in task.skeleton
    assert f"def {task.book_name}(" in task.skeleton and "NotImplementedError" in task.skeleton


# --------------------------------------------------------------------------- chapter 2: the gates


@pytest.mark.parametrize("name, w, b, mistake", [
    ("AND", 0.5, -0.2, "AND behaves as OR"),
    ("AND", -0.5, 0.7, "AND behaves as NAND"),
    ("AND", 0.5, 0.7, "AND always returns 1"),  # the threshold 0.7 written as the bias, its sign not flipped
    ("NAND", -0.5, -0.7, "NAND always returns 0"),
    ("NAND", 0.5, -0.7, "NAND behaves as AND"),
    ("OR", 0.5, -0.7, "OR behaves as AND"),
    ("OR", 0.5, 0.2, "OR always returns 1"),
    ("OR", -0.5, 0.2, "OR behaves as NOR"),
])
def test_a_gate_with_the_wrong_bias_is_named_by_the_gate_it_is(tmp_path, name, w, b, mistake):
    source = GATE.format(name=name, w=w, b=b)
    assert mistake_named(grade_source(name.lower(), source, tmp_path)) == mistake


def test_a_gate_returning_the_weighted_sum_is_named(tmp_path):
    source = GATE.format(name="AND", w=0.5, b=-0.7).replace("if tmp <= 0:", "return tmp\n        if tmp <= 0:")
    assert mistake_named(grade_source("and", source, tmp_path)) == "AND returns the weighted sum, not 0 or 1"


def test_an_xor_from_the_wrong_gates_is_named_by_its_table(tmp_path):
    source = wrong("xor", "y = AND(s1, s2)", "y = OR(s1, s2)")
    failure = failure_of(grade_source("xor", source, tmp_path))
    assert failure.mistake.name == "XOR always returns 1" and "AND(s1, s2)" in failure.book_line


def test_an_xor_computed_directly_is_named(tmp_path):
    source = """
        def XOR(x1, x2):
            return int(x1 != x2)
    """
    assert mistake_named(grade_source("xor", source, tmp_path)) == \
        "XOR computed directly, not as a two-layer perceptron"


def test_an_xor_from_the_learners_own_gates_passes(tmp_path, forget_imports):
    for name, source in GOOD_GATES.items():
        (tmp_path / f"{name}.py").write_text(source.replace("\n    ", "\n"))
    source = GOOD_XOR.replace(
        "from scratch.book import AND, NAND, OR",
        'from importlib import import_module; AND, NAND, OR = import_module("and").AND, '
        'import_module("nand").NAND, import_module("or").OR')
    assert passes(grade_source("xor", source, tmp_path), "xor")


# --------------------------------------------------------------------------- chapter 3: the activations


@pytest.mark.parametrize("task, old, new, mistake", [
    ("step_function", "np.array(x > 0, dtype=int)", "x > 0", "step_function returns booleans"),
    ("step_function", "x > 0", "x >= 0", "step at 0 gives 1 (x >= 0 instead of x > 0)"),
    ("step_function", "return np.array(x > 0, dtype=int)", "return 1 if x > 0 else 0",
     "step_function written for a single number, not an array"),
    ("step_function", "np.array(x > 0, dtype=int)", "(x > 0).astype(x.dtype)",
     "step_function follows PyTorch semantics' dtype (x's float), not the book's integers"),
    ("sigmoid", "np.exp(-x)", "np.exp(x)", "sigmoid with exp(x) instead of exp(-x)"),
    ("sigmoid", "1 / (1 + np.exp(-x))", "1 / (1 - np.exp(-x))", "sigmoid as 1 / (1 - exp(-x))"),
    ("sigmoid", "np.exp(-x)", "__import__('math').exp(-x)", "sigmoid written for a single number, not an array"),
    ("relu", "return np.maximum(0, x)", "x[x < 0] = 0\n            return x", "relu changes its input in place"),
    ("relu", "np.maximum(0, x)", "np.max(0, x)", "relu with np.max instead of np.maximum"),
    ("relu", "np.maximum(0, x)", "x > 0", "relu returns the mask (x > 0), not the values"),
    ("relu", "np.maximum(0, x)", "np.minimum(0, x)", "relu keeps the negatives and zeroes the positives"),
    ("softmax", "np.exp(a - c)", "np.exp(a)", "softmax without subtracting the maximum (overflow at large inputs)"),
    ("softmax", "np.sum(exp_a, axis=-1, keepdims=True)", "np.sum(exp_a)",
     "softmax sums over the whole batch, not each row"),
    ("softmax", "c = np.max(a, axis=-1, keepdims=True)", "c = np.max(a)",
     "softmax subtracts the batch's maximum, not each row's"),
    ("softmax", "keepdims=True)\n", ")\n",
     "softmax's max or sum without keepdims=True (the batch's shapes broadcast wrongly)"),
    ("softmax", "axis=-1", "axis=0", "softmax normalises each column (axis=0), not each row"),
])
def test_each_activation_mistake_is_named(tmp_path, task, old, new, mistake):
    assert mistake_named(grade_source(task, wrong(task, old, new), tmp_path)) == mistake


def test_the_books_one_line_softmax_of_3_5_2_is_named_on_a_batch(tmp_path):
    source = """
        import numpy as np

        def softmax(a):
            c = np.max(a)
            exp_a = np.exp(a - c)
            return exp_a / np.sum(exp_a)
    """
    verdicts = grade_source("softmax", source, tmp_path)
    assert [v.ok for v in verdicts[:2]] == [True, True]  # a vector, large values included, is right
    assert mistake_named(verdicts) == "softmax sums over the whole batch, not each row"


def test_step_functions_book_dtype_is_named_in_the_pytorch_semantics(tmp_path):
    assert mistake_named(grade_source("step_function", GOOD["step_function"], tmp_path, "pytorch")) == \
        "step_function follows the book's dtype (integers), not PyTorch semantics' (x's float)"


def test_step_function_returning_booleans_is_named_in_the_pytorch_semantics_too(tmp_path):
    source = wrong("step_function", "np.array(x > 0, dtype=int)", "x > 0")
    assert mistake_named(grade_source("step_function", source, tmp_path, "pytorch")) == \
        "step_function returns booleans"


def test_the_overflow_verdict_shows_the_nan_it_received(tmp_path):
    failure = failure_of(grade_source("softmax", wrong("softmax", "np.exp(a - c)", "np.exp(a)"), tmp_path))
    assert "1010" in failure.message and "nan" in failure.received and "overflow" in failure.mistake.book_line


# --------------------------------------------------------------------------- chapter 4


@pytest.mark.parametrize("old, new, mistake", [
    (" + 1e-7", "", "log without the delta 1e-7 (log(0) gives inf)"),
    (") / batch_size", ")", "missing division by the batch size"),
    (") / batch_size", ") / y.size", "divided by the number of elements, not the batch size"),
    ("if y.ndim == 1:", "if False:", "a single sample (1-D y) not reshaped to a batch of one"),
    ("if t.size == y.size:", "if False:", "one-hot t not turned into labels"),
    ("if t.size == y.size:\n                t = t.argmax(axis=1)\n            batch_size = y.shape[0]\n"
     "            return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size",
     "return -np.sum(t * np.log(y + 1e-7)) / y.shape[0]", "labels not handled (only one-hot t)"),
])
def test_each_cross_entropy_mistake_is_named(tmp_path, old, new, mistake):
    source = wrong("cross_entropy_error", old, new)
    assert mistake_named(grade_source("cross_entropy_error", source, tmp_path)) == mistake


def test_a_loss_right_everywhere_but_at_a_zero_probability_is_named(tmp_path):
    # exact where y > 0 (the book's 1e-7 added there), inf where y = 0: the log(0) the delta is for
    source = wrong("cross_entropy_error", "np.log(y[np.arange(batch_size), t] + 1e-7)",
                   "np.log(np.where(y[np.arange(batch_size), t] > 0, y[np.arange(batch_size), t] + 1e-7, 0))")
    verdicts = grade_source("cross_entropy_error", source, tmp_path)
    failure = failure_of(verdicts)
    assert "y[0, t_0] = 0" in failure.message
    assert failure.mistake.name == "log without the delta 1e-7 (log(0) gives inf)"


def test_the_books_delta_is_named_in_the_pytorch_semantics(tmp_path):
    assert mistake_named(grade_source("cross_entropy_error", GOOD["cross_entropy_error"], tmp_path, "pytorch")) == \
        "the book's delta 1e-7 added (PyTorch semantics adds none)"


def test_an_infinite_loss_at_a_zero_probability_passes_in_the_pytorch_semantics(tmp_path):
    # PyTorch's nll_loss of log(0) is inf; scratch clamps to the smallest normal float: both are PyTorch semantics
    assert passes(grade_source("cross_entropy_error", GOOD_PYTORCH["cross_entropy_error"], tmp_path, "pytorch"),
                  "cross_entropy_error")


NO_TYPE_CHECK = ('            if x.dtype.kind != "f":\n'
                 '                raise TypeError(f"numerical_gradient needs a float array, got {x.dtype}")\n')


@pytest.mark.parametrize("old, new, mistake", [
    (NO_TYPE_CHECK, "", "numerical_gradient on an integer array"),
    ("                x[idx] = tmp_val\n", "", "x not restored"),
    ("h = 1e-4", "h = 1e-50", "h too small (rounded away)"),
    ("(fxh1 - fxh2) / (2*h)", "(fxh1 - fxh2) / h", "divided by h, not 2h"),
    ("x[idx] = tmp_val - h\n                fxh2 = f(x)\n                grad[idx] = (fxh1 - fxh2) / (2*h)",
     "x[idx] = tmp_val\n                fxh2 = f(x)\n                grad[idx] = (fxh1 - fxh2) / h",
     "forward difference (f(x+h) - f(x)) / h, not the central difference"),
])
def test_each_numerical_gradient_mistake_is_named(tmp_path, old, new, mistake):
    source = wrong("numerical_gradient", old, new)
    assert mistake_named(grade_source("numerical_gradient", source, tmp_path)) == mistake


def test_the_integer_array_verdict_shows_the_silent_wrong_gradient(tmp_path):
    verdicts = grade_source("numerical_gradient", wrong("numerical_gradient", NO_TYPE_CHECK, ""), tmp_path)
    assert [v.ok for v in verdicts[:3]] == [True, True, True]  # right on floats: only the integer x exposes it
    failure = failure_of(verdicts)
    assert "np.array([3, 4])" in failure.message and "(6, 8)" in failure.message


def test_the_books_1d_numerical_gradient_is_named_on_a_matrix(tmp_path):
    source = """
        import numpy as np

        def numerical_gradient(f, x):
            h = 1e-4
            grad = np.zeros_like(x)
            for idx in range(x.size):
                tmp_val = x[idx]
                x[idx] = tmp_val + h
                fxh1 = f(x)
                x[idx] = tmp_val - h
                fxh2 = f(x)
                grad[idx] = (fxh1 - fxh2) / (2*h)
                x[idx] = tmp_val
            return grad
    """
    assert mistake_named(grade_source("numerical_gradient", source, tmp_path)) == \
        "numerical_gradient handles only 1-D x"


def test_a_numerical_gradient_that_converts_an_integer_x_to_float_passes(tmp_path):
    converts = '            x = x.astype(float) if x.dtype.kind != "f" else x\n'
    source = wrong("numerical_gradient", NO_TYPE_CHECK, converts)
    assert passes(grade_source("numerical_gradient", source, tmp_path), "numerical_gradient")


@pytest.mark.parametrize("old, new, mistake", [
    ("x -= lr * grad", "x += lr * grad", "gradient ascent (x += lr * grad)"),
    ("range(step_num)", "range(step_num + 1)", "one step too many or too few"),
    ("            for i in range(step_num):\n                grad = numerical_gradient(f, x)\n",
     "            grad = numerical_gradient(f, x)\n            for i in range(step_num):\n",
     "the gradient computed once, before the loop"),
    ("x -= lr * grad", "x -= 0.01 * grad", "lr or step_num ignored (a default or a fixed number used)"),
])
def test_each_gradient_descent_mistake_is_named(tmp_path, old, new, mistake):
    source = wrong("gradient_descent", old, new)
    assert mistake_named(grade_source("gradient_descent", source, tmp_path)) == mistake


def test_the_books_gradient_method_returning_the_history_passes(tmp_path):
    # ch04/gradient_method.py returns (x, x_history) for its plot: its x is graded
    source = wrong("gradient_descent", "return x", "return x, None")
    assert passes(grade_source("gradient_descent", source, tmp_path), "gradient_descent")


def test_gradient_descent_with_the_learners_own_numerical_gradient_passes(tmp_path, forget_imports):
    (tmp_path / "numerical_gradient.py").write_text(GOOD["numerical_gradient"].replace("\n        ", "\n"))
    source = wrong("gradient_descent", "from scratch.book import numerical_gradient",
                   "from numerical_gradient import numerical_gradient")
    assert passes(grade_source("gradient_descent", source, tmp_path), "gradient_descent")
