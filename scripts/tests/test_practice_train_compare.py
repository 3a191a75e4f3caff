"""``practice.py train two_layer --with DIR`` and ``practice.py compare NAME``.

train: chapter 5's network is the book's (same weights and gradients as ``scratch.book.TwoLayerNet`` under the
same seed); correct learner files are used ("yours") and reach the project's accuracy, a file that fails its
check is refused before any training, an empty workspace trains with the project's layers, and a learner's
Affine or SGD that breaks the book's sharing of the parameter arrays is named. compare: both sources appear,
every line fits --width, and a missing file is one line saying to run start.
"""
import re
import textwrap
from argparse import Namespace

import numpy as np
import pytest

from mnist_support import requires_mnist
from toolkit.practice import compare, training
from toolkit.practice.task import Task
from toolkit.practice.tasks import find_task
from toolkit.site.terminal import MIN_WIDTH
from .script_support import assert_usage_error, run_script, succeeded

# Correct learner files in the book's style, written here rather than taken from the chapters' task modules.
GOOD = {
    "affine": """
        # my own Affine
        import numpy as np


        class Affine:
            def __init__(self, W, b):
                self.W = W
                self.b = b
                self.x = None
                self.original_x_shape = None
                self.dW = None
                self.db = None

            def forward(self, x):
                self.original_x_shape = x.shape
                self.x = x.reshape(x.shape[0], -1)
                return np.dot(self.x, self.W) + self.b

            def backward(self, dout):
                dx = np.dot(dout, self.W.T)
                self.dW = np.dot(self.x.T, dout)
                self.db = np.sum(dout, axis=0)
                return dx.reshape(*self.original_x_shape)
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
    "softmax_with_loss": """
        import numpy as np


        def softmax(x):
            x = x - np.max(x, axis=-1, keepdims=True)
            return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)


        def cross_entropy_error(y, t):
            if y.ndim == 1:
                t = t.reshape(1, t.size)
                y = y.reshape(1, y.size)
            if t.size == y.size:
                t = t.argmax(axis=1)
            batch_size = y.shape[0]
            return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size


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
                return dx * dout
        """,
    "sgd": """
        class SGD:
            def __init__(self, lr=0.01):
                self.lr = lr

            def update(self, params, grads):
                for key in params.keys():
                    params[key] -= self.lr * grads[key]
        """,
}

TRAIN = ("train", "two_layer", "--iters", "200", "--no-progress", "--no-download")


def workspace(tmp_path, **files):
    """A workspace holding ``files`` (task name -> source)."""
    ws = tmp_path / "ws"
    ws.mkdir(exist_ok=True)
    for name, source in files.items():
        (ws / f"{name}.py").write_text(textwrap.dedent(source))
    return ws


def final_accuracy(stdout):
    match = re.search(r"^test accuracy (\d\.\d+) after 200 iterations", stdout, re.M)
    assert match, stdout
    return float(match.group(1))


def component_lines(stdout):
    """{book name: its line} of the four components the run prints first."""
    lines = {}
    for line in stdout.splitlines():
        words = line.split()
        if words and words[0] in ("Affine", "Relu", "SoftmaxWithLoss", "SGD") and line.startswith("  "):
            lines[words[0]] = line
    assert set(lines) == {"Affine", "Relu", "SoftmaxWithLoss", "SGD"}, stdout
    return lines


# -- train -----------------------------------------------------------------------------------------------


def test_the_network_is_the_books_two_layer_net():
    """Under the same seed, the project's layers in TwoLayerNet give scratch.book.TwoLayerNet's weights,
    loss and gradients."""
    import scratch.book as book

    rng = np.random.default_rng(3)
    x, t = rng.random((7, 784)).astype(np.float32), np.eye(10)[rng.integers(0, 10, 7)]
    np.random.seed(5)
    ours = training.TwoLayerNet(book.Affine, book.Relu, book.SoftmaxWithLoss)
    np.random.seed(5)
    theirs = book.TwoLayerNet(784, 50, 10)
    grads, loss = ours.gradient(x, t)
    expected = theirs.gradient(x, t)
    for key in ("W1", "b1", "W2", "b2"):
        assert ours.params[key].shape == theirs.params[key].shape
        np.testing.assert_array_equal(ours.params[key], theirs.params[key])
        np.testing.assert_allclose(grads[key], expected[key], rtol=1e-12, atol=1e-15)
    assert loss == pytest.approx(theirs.loss(x, t), rel=1e-12)
    assert ours.accuracy(x, t) == pytest.approx(theirs.accuracy(x, t))


@requires_mnist
def test_correct_learner_files_are_used_and_reach_the_projects_accuracy(tmp_path):
    mine = succeeded(run_script("practice.py", *TRAIN, "--with", workspace(tmp_path, **GOOD)))
    for name, line in component_lines(mine).items():
        assert " yours: " in line and "REFUSED" not in line, line
    assert "with your Affine, Relu, SoftmaxWithLoss, SGD" in mine
    empty = tmp_path / "empty"
    empty.mkdir()
    project = succeeded(run_script("practice.py", *TRAIN, "--with", empty))
    for name, line in component_lines(project).items():
        assert f" the project's: scratch.book.{name} (no " in line, line
    assert "with the project's layers" in project
    # 200 of the book's 10000 iterations already pass 0.8; correct layers give the project's run, same seed
    assert final_accuracy(mine) > 0.8
    assert final_accuracy(mine) == pytest.approx(final_accuracy(project), abs=0.002)
    assert "iteration     0 (epoch  0): train accuracy" in mine


def test_a_learner_file_that_fails_its_check_is_refused_before_training(tmp_path):
    wrong = GOOD["affine"].replace("self.dW = np.dot(self.x.T, dout)", "self.dW = np.dot(dout.T, self.x)")
    ws = workspace(tmp_path, affine=wrong)
    result = run_script("practice.py", *TRAIN, "--with", ws)
    assert_usage_error_after_stdout(result, "python scripts/practice.py check affine says what is wrong")
    line = component_lines(result.stdout)["Affine"]
    assert "REFUSED" in line and "likely mistake: dW transposed" in line, line
    assert "the project's" in component_lines(result.stdout)["Relu"]
    assert "train accuracy" not in result.stdout  # not one step was trained


def test_a_fresh_skeleton_is_refused_as_not_written_yet(tmp_path):
    ws = workspace(tmp_path, affine=find_task("affine").skeleton)
    result = run_script("practice.py", *TRAIN, "--with", ws)
    assert_usage_error_after_stdout(result, "affine.py, which fails its check")
    assert "not written yet" in component_lines(result.stdout)["Affine"]


def assert_usage_error_after_stdout(result, words):
    """Exit 2, one line 'error: ...' holding ``words`` on stderr (stdout has the components' lines)."""
    assert result.returncode == 2, f"exit {result.returncode}: {result.stdout}\n{result.stderr}"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: not training with "), result.stderr
    assert words in lines[0], lines[0]


def test_a_file_without_a_task_is_used_unchecked_and_says_so(tmp_path):
    ws = workspace(tmp_path, my_relu=GOOD["relu_layer"])
    choice = training.choose(str(ws), "my_relu", "Relu")
    assert choice.whose == "yours" and choice.failure is None and "not graded" in choice.note
    assert choice.cls.__module__ == "practice_my_relu"
    missing = training.choose(str(ws), "affine", "Affine")
    import scratch.book

    assert missing.whose == "the project's" and missing.cls is scratch.book.Affine


def test_an_affine_that_copies_W_is_named():
    import scratch.book as book

    class CopyingAffine(book.Affine):
        def __init__(self, W, b):
            super().__init__(W.copy(), b.copy())

    with pytest.raises(ValueError, match=r"your Affine keeps a copy of W .*self.W = W"):
        training.TwoLayerNet(CopyingAffine, book.Relu, book.SoftmaxWithLoss)


def test_an_sgd_that_replaces_the_arrays_is_named():
    import scratch.book as book

    class ReplacingSGD:
        def __init__(self, lr):
            self.lr = lr

        def update(self, params, grads):
            for key in params:
                params[key] = params[key] - self.lr * grads[key]

    network = training.TwoLayerNet(book.Affine, book.Relu, book.SoftmaxWithLoss)
    grads, _ = network.gradient(np.ones((2, 784)), np.eye(10)[[1, 2]])
    before = dict(network.params)
    ReplacingSGD(0.1).update(network.params, grads)
    with pytest.raises(ValueError, match=r"replaced params\['W1'\] .* in place"):
        training._check_in_place(network, before)
    book.SGD(lr=0.1).update(before, grads)  # the project's: in place
    training._check_in_place(Namespace(params=before), dict(before))


# -- compare ---------------------------------------------------------------------------------------------


def compare_lines(capsys, task, ws, width):
    assert compare.show(Namespace(task=task, dir=str(ws), width=width)) == 0
    return capsys.readouterr().out.splitlines()


@pytest.mark.parametrize("width", [MIN_WIDTH, 61, 80, 132])
def test_compare_fits_the_width_and_shows_both_sources(tmp_path, capsys, width):
    ws = workspace(tmp_path, affine=GOOD["affine"])
    lines = compare_lines(capsys, find_task("affine"), ws, width)
    assert all(len(line) <= width for line in lines), [line for line in lines if len(line) > width]
    assert lines[0].startswith("affine") and lines[1] == "=" * width
    text = "\n".join(lines)
    assert "# my own Affine" in text                      # the learner's file, left
    column = (width - 3) // 2
    left = "\n".join(line[:column] for line in lines[3:])
    right = "\n".join(line[column + 3:] for line in lines[3:])
    assert "# my own Affine" in left and "# my own Affine" not in right
    if width >= 80:  # wide enough that the project's lines are not cut inside a name
        assert "check_forward_done" in right and "check_forward_done" not in left
    if width >= 132:  # the title on one line
        assert "the project's: scratch.book.layers.Affine" in text


def test_compare_shows_scratchs_object_where_the_book_reexports_it(tmp_path, capsys):
    relu = Task("relu_layer", 5, "5.5.1", "Relu", "", ())  # stands in for the chapter's task
    ws = workspace(tmp_path, relu_layer=GOOD["relu_layer"])
    text = "\n".join(compare_lines(capsys, relu, ws, 200))
    assert "the project's: scratch.layers.Relu (scratch.book re-exports it as Relu)" in text
    assert "dx = dout.copy()" in text and "class Relu:" in text


def test_compare_shows_the_project_base_class_a_book_class_inherits(tmp_path, capsys):
    dropout = Task("dropout", 6, "6.4.1", "Dropout", "", ())
    ws = workspace(tmp_path, dropout="class Dropout:\n    pass\n")
    text = "\n".join(compare_lines(capsys, dropout, ws, 200))
    assert "the project's: scratch.book.layers.Dropout" in text
    assert "# its base class scratch.dropout.Dropout, whose methods it inherits" in text


def test_compare_without_the_learners_file_says_to_run_start(tmp_path):
    assert_usage_error(run_script("practice.py", "compare", "affine", "--dir", tmp_path / "ws"),
                       "affine.py does not exist: python scripts/practice.py start affine")


def test_compare_narrower_than_two_columns_is_one_line(tmp_path):
    ws = workspace(tmp_path, affine=GOOD["affine"])
    assert_usage_error(run_script("practice.py", "compare", "affine", "--dir", ws, "--width", MIN_WIDTH - 1),
                       f"at least {MIN_WIDTH}")
