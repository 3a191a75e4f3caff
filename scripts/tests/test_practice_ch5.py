"""Chapter 5's practice tasks: the project's own layers pass, a hand-written book-style layer passes, a fresh
skeleton is "not written yet", and each classic mistake is named (Affine's own tests: test_practice.py)."""
import pytest

from toolkit.practice.tasks import find_task
from .practice_support import failure_of, grade_source, mistake_named, passes, solution_source
from .test_practice import GOOD_AFFINE

GOOD = {
    "mul_layer": """
        class MulLayer:
            def __init__(self):
                self.x = None
                self.y = None

            def forward(self, x, y):
                self.x = x
                self.y = y
                return x * y

            def backward(self, dout):
                dx = dout * self.y
                dy = dout * self.x
                return dx, dy
    """,
    "add_layer": """
        class AddLayer:
            def __init__(self):
                pass

            def forward(self, x, y):
                return x + y

            def backward(self, dout):
                dx = dout * 1
                dy = dout * 1
                return dx, dy
    """,
    "relu_layer": """
        class Relu:
            def __init__(self):
                self.mask = None

            def forward(self, x):
                self.mask = (x <= 0)
                out = x.copy()
                out[self.mask] = 0
                return out

            def backward(self, dout):
                dx = dout.copy()
                dx[self.mask] = 0
                return dx
    """,
    "sigmoid_layer": """
        import numpy as np

        class Sigmoid:
            def __init__(self):
                self.out = None

            def forward(self, x):
                out = 1 / (1 + np.exp(-x))
                self.out = out
                return out

            def backward(self, dout):
                dx = dout * (1.0 - self.out) * self.out
                return dx
    """,
    "softmax_with_loss": """
        import numpy as np
        from scratch.book.functions import cross_entropy_error, softmax

        class SoftmaxWithLoss:
            def __init__(self):
                self.loss = None
                self.y = None
                self.t = None

            def forward(self, x, t):
                self.t = t
                self.y = softmax(x)
                self.loss = cross_entropy_error(self.y, self.t)
                return self.loss

            def backward(self, dout=1):
                batch_size = self.t.shape[0]
                if self.t.size == self.y.size:
                    dx = (self.y - self.t) / batch_size
                else:
                    dx = self.y.copy()
                    dx[np.arange(batch_size), self.t] -= 1
                    dx = dx / batch_size
                return dx
    """,
}

TASK_NAMES = ["mul_layer", "add_layer", "relu_layer", "sigmoid_layer", "affine", "softmax_with_loss"]


def wrong(task_name, right, wrong_text):
    """GOOD[task_name] with ``right`` replaced by ``wrong_text`` (which must occur)."""
    assert right in GOOD[task_name], right
    return GOOD[task_name].replace(right, wrong_text)


def test_chapter_5_tasks_are_in_the_books_order():
    from toolkit.practice.tasks import ch5

    assert [task.name for task in ch5.TASKS] == TASK_NAMES
    assert [task.section for task in ch5.TASKS] == ["5.4.1", "5.4.2", "5.5.1", "5.5.2", "5.6.2", "5.6.3"]


@pytest.mark.parametrize("semantics", ["book", "pytorch"])
@pytest.mark.parametrize("task_name", TASK_NAMES)
def test_the_projects_own_layer_passes(tmp_path, task_name, semantics):
    assert passes(grade_source(task_name, solution_source(task_name, semantics), tmp_path, semantics), task_name)


@pytest.mark.parametrize("task_name", sorted(GOOD))
def test_a_hand_written_book_style_layer_passes(tmp_path, task_name):
    assert passes(grade_source(task_name, GOOD[task_name], tmp_path), task_name)


def test_a_pytorch_style_softmax_with_loss_passes_under_pytorch_semantics(tmp_path):
    source = GOOD["softmax_with_loss"].replace("scratch.book.functions", "scratch.functions")
    assert passes(grade_source("softmax_with_loss", source, tmp_path, "pytorch"), "softmax_with_loss")


@pytest.mark.parametrize("task_name", TASK_NAMES)
def test_a_fresh_skeleton_is_not_written_yet(tmp_path, task_name):
    task = find_task(task_name)
    assert task.skeleton.rstrip().endswith("'") or "NotImplementedError" in task.skeleton
    assert f"Check it: python scripts/practice.py check {task_name}" in task.skeleton
    failure = failure_of(grade_source(task_name, task.skeleton, tmp_path))
    assert "not written yet" in failure.message and "NotImplementedError" in failure.message


# --- the mistakes ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("task_name, mistake, right, wrong_text", [
    ("mul_layer", "x and y swapped in backward",
     "dx = dout * self.y\n                dy = dout * self.x",
     "dx = dout * self.x\n                dy = dout * self.y"),
    ("add_layer", "dout multiplied by the other input (MulLayer's rule)",
     "return x + y", "self.x, self.y = x, y\n                return x + y"),
    ("relu_layer", "Relu changing its input in place",
     "out = x.copy()", "out = x"),
    ("relu_layer", "mask x < 0 instead of x <= 0",
     "self.mask = (x <= 0)", "self.mask = (x < 0)"),
    ("sigmoid_layer", "x used instead of out in backward",
     "self.out = out", "self.out = out\n                self.x = x"),
    ("sigmoid_layer", "dout left out of backward",
     "dx = dout * (1.0 - self.out) * self.out", "dx = (1.0 - self.out) * self.out"),
    ("softmax_with_loss", "dx not divided by the batch size",
     "dx = dx / batch_size", "dx = dx"),
    ("softmax_with_loss", "dx divided by the batch size twice",
     "dx = dx / batch_size", "dx = dx / batch_size / batch_size"),
    ("softmax_with_loss", "t taken as one-hot rows when it holds labels",
     "if self.t.size == self.y.size:", "if True:"),
    ("softmax_with_loss", "t taken as labels when it holds one-hot rows",
     "if self.t.size == self.y.size:", "if False:"),
    ("softmax_with_loss", "softmax without subtracting the maximum",
     "from scratch.book.functions import cross_entropy_error, softmax",
     "from scratch.book.functions import cross_entropy_error\n\n"
     "        def softmax(x):\n"
     "            e = np.exp(x)\n"
     "            return e / e.sum(axis=1, keepdims=True)"),
    ("softmax_with_loss", "loss not averaged over the batch",
     "self.loss = cross_entropy_error(self.y, self.t)",
     "self.loss = cross_entropy_error(self.y, self.t) * x.shape[0]"),
])
def test_each_mistake_is_named(tmp_path, task_name, mistake, right, wrong_text):
    source = wrong(task_name, right, wrong_text)
    if mistake == "dout multiplied by the other input (MulLayer's rule)":
        source = source.replace("dx = dout * 1\n                dy = dout * 1",
                                "dx = dout * self.y\n                dy = dout * self.x")
    if mistake == "x used instead of out in backward":
        source = source.replace("(1.0 - self.out) * self.out", "(1.0 - self.x) * self.x")
    assert mistake_named(grade_source(task_name, source, tmp_path)) == mistake


# --- the texts follow the semantics being graded ---------------------------------------------------------

BOOK_AFFINE = GOOD_AFFINE  # test_practice.py's book-style Affine
PYTORCH_AFFINE = (BOOK_AFFINE.replace("np.dot(self.x, self.W)", "np.dot(self.x, self.W.T)")
                  .replace("np.dot(dout, self.W.T)", "np.dot(dout, self.W)")
                  .replace("np.dot(self.x.T, dout)", "np.dot(dout.T, self.x)"))


def test_a_pytorch_layout_affine_passes_under_pytorch_semantics(tmp_path):
    assert passes(grade_source("affine", PYTORCH_AFFINE, tmp_path, "pytorch"), "affine")


@pytest.mark.parametrize("semantics, source, layout", [
    ("book", PYTORCH_AFFINE, "(in, out)"),
    ("pytorch", BOOK_AFFINE, "(out, in)"),
])
def test_w_transposed_says_the_graded_semantics_layout(tmp_path, semantics, source, layout):
    failure = failure_of(grade_source("affine", source, tmp_path, semantics))
    assert failure.mistake.name == "W used transposed" and layout in failure.mistake.why


@pytest.mark.parametrize("semantics, source, right, wrong_text, formula", [
    ("book", BOOK_AFFINE, "np.dot(self.x.T, dout)", "np.dot(dout.T, self.x)", "x^T dout"),
    ("pytorch", PYTORCH_AFFINE, "np.dot(dout.T, self.x)", "np.dot(self.x.T, dout)", "dout^T x"),
])
def test_dw_transposed_says_the_graded_semantics_formula(tmp_path, semantics, source, right, wrong_text, formula):
    failure = failure_of(grade_source("affine", source.replace(right, wrong_text), tmp_path, semantics))
    assert failure.mistake.name == "dW transposed" and formula in failure.mistake.why


def test_dx_with_w_the_wrong_way_round_is_named(tmp_path):
    source = BOOK_AFFINE.replace("np.dot(dout, self.W.T)", "np.dot(dout, self.W)")
    assert mistake_named(grade_source("affine", source, tmp_path)) == "W used transposed in dx"


@pytest.mark.parametrize("semantics, package, says", [
    ("pytorch", "scratch.book.functions", "cross-entropy with the book's 1e-7"),
    ("book", "scratch.functions", "cross-entropy without the book's 1e-7"),
])
def test_the_other_semantics_cross_entropy_is_named(tmp_path, semantics, package, says):
    source = GOOD["softmax_with_loss"].replace("scratch.book.functions", package)
    assert mistake_named(grade_source("softmax_with_loss", source, tmp_path, semantics)) == says


def test_a_failure_shows_the_expected_and_received_values(tmp_path):
    source = wrong("softmax_with_loss", "dx = dx / batch_size", "dx = dx")
    failure = failure_of(grade_source("softmax_with_loss", source, tmp_path))
    assert "batch 4" in failure.message and "shape (4, 3)" in failure.expected and "shape (4, 3)" in failure.received
    assert failure.book_line.startswith("SoftmaxWithLoss.backward")


def test_relu_writing_into_dout_is_the_books_own_backward_and_a_mistake_only_with_pytorchs_semantics(tmp_path):
    source = wrong("relu_layer", "dx = dout.copy()", "dx = dout")
    assert passes(grade_source("relu_layer", source, tmp_path, "book"), "relu_layer")
    assert mistake_named(grade_source("relu_layer", source, tmp_path, "pytorch")) == "Relu changing dout in place"
