"""``scripts/practice.py``: the command (list, start, check, exit codes) and the grader's core on Affine.

Each chapter's tasks have their own test file (``test_practice_ch<N>.py``): the project's own solution
passes, and each classic mistake is named.
"""
import pytest

from toolkit.practice.tasks import TASKS
from .practice_support import grade_source, mistake_named, passes, solution_source
from .script_support import assert_usage_error, run_script, succeeded

GOOD_AFFINE = """
    import numpy as np

    class Affine:
        def __init__(self, W, b):
            self.W, self.b = W, b

        def forward(self, x):
            self.original_x_shape = x.shape
            self.x = x.reshape(x.shape[0], -1)
            return np.dot(self.x, self.W) + self.b

        def backward(self, dout):
            dx = np.dot(dout, self.W.T)
            self.dW = np.dot(self.x.T, dout)
            self.db = np.sum(dout, axis=0)
            return dx.reshape(*self.original_x_shape)
"""


def test_task_names_are_unique_and_lower_snake_case():
    names = [task.name for task in TASKS]
    assert len(names) == len(set(names))
    assert all(name == name.lower() and " " not in name for name in names)


def test_list_on_an_untouched_workspace_says_not_started(tmp_path):
    stdout = succeeded(run_script("practice.py", "list", "--dir", tmp_path / "ws"))
    for task in TASKS:
        assert f"{task.name} " in stdout
    assert stdout.count("not started") == len(TASKS)


def test_check_all_on_an_untouched_workspace_reports_not_started_and_exit_1(tmp_path):
    result = run_script("practice.py", "check", "--all", "--dir", tmp_path / "ws")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stdout.count("not started") == len(TASKS)
    assert f"0 of {len(TASKS)} tasks pass" in result.stdout


def test_start_writes_the_skeleton_and_never_overwrites(tmp_path):
    ws = tmp_path / "ws"
    stdout = succeeded(run_script("practice.py", "start", "affine", "--dir", ws))
    assert "wrote" in stdout and (ws / "affine.py").is_file()
    (ws / "affine.py").write_text("# my work\n")
    assert_usage_error(run_script("practice.py", "start", "affine", "--dir", ws), "exists")
    assert (ws / "affine.py").read_text() == "# my work\n"


def test_a_fresh_skeleton_fails_with_not_written_yet_and_exit_1(tmp_path):
    ws = tmp_path / "ws"
    succeeded(run_script("practice.py", "start", "affine", "--dir", ws))
    result = run_script("practice.py", "check", "affine", "--dir", ws)
    assert result.returncode == 1 and "not written yet" in result.stdout and "NotImplementedError" in result.stdout


def test_a_correct_affine_passes_with_exit_0(tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "affine.py").write_text(GOOD_AFFINE.replace("\n    ", "\n"))
    stdout = succeeded(run_script("practice.py", "check", "affine", "--dir", ws))
    assert "all 6 checks pass" in stdout


@pytest.mark.parametrize("argv, words", [
    (["check"], "NAME or --all"),
    (["check", "afine"], "did you mean affine"),
    (["start"], "NAME"),
    (["train", "three_layer"], "invalid choice"),
])
def test_bad_arguments_are_one_line(argv, words):
    assert_usage_error(run_script("practice.py", *argv), words)


def test_a_file_that_does_not_compile_is_named(tmp_path):
    verdicts_path = tmp_path / "affine.py"
    verdicts_path.write_text("class Affine(\n")
    result = run_script("practice.py", "check", "affine", "--dir", tmp_path)
    assert result.returncode == 1 and "does not compile" in result.stdout and "line 1" in result.stdout


@pytest.mark.parametrize("semantics", ["book", "pytorch"])
def test_the_projects_own_affine_passes(tmp_path, semantics):
    assert passes(grade_source("affine", solution_source("affine", semantics), tmp_path, semantics), "affine")


@pytest.mark.parametrize("mistake, wrong, right", [
    ("W used transposed", "np.dot(self.x, self.W) + self.b", "np.dot(self.x, self.W.T) + self.b"),
    ("dW transposed", "self.dW = np.dot(self.x.T, dout)", "self.dW = np.dot(dout.T, self.x)"),
    ("db not summed over the batch", "self.db = np.sum(dout, axis=0)", "self.db = dout"),
    ("dx not restored to the input's shape", "return dx.reshape(*self.original_x_shape)", "return dx"),
])
def test_each_affine_mistake_is_named(tmp_path, mistake, wrong, right):
    source = GOOD_AFFINE.replace(wrong, right)
    assert source != GOOD_AFFINE
    assert mistake_named(grade_source("affine", source, tmp_path)) == mistake


def test_a_module_one_practice_file_imports_is_read_afresh_from_each_workspace(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    for folder, body in ((first, GOOD_AFFINE), (second, GOOD_AFFINE.replace("self.dW = np.dot(self.x.T, dout)",
                                                                            "self.dW = np.dot(dout.T, self.x)"))):
        folder.mkdir()
        (folder / "my_affine.py").write_text(body.replace("\n    ", "\n"))
    source = "from my_affine import Affine\n"
    assert passes(grade_source("affine", source, first), "affine")
    assert mistake_named(grade_source("affine", source, second)) == "dW transposed"
