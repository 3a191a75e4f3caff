"""The learner's workspace (``./practice`` by default): their files, the skeletons, each task's status."""
import importlib.util
import os
import sys

from ..paths import write_text
from .task import CheckFailed

__all__ = ["DEFAULT_DIR", "task_path", "start", "load", "status"]

DEFAULT_DIR = "practice"
NOT_STARTED, PASSING, FAILING = "not started", "passing", "failing"


def task_path(folder, task):
    return os.path.join(folder, task.file_name)


def start(folder, task):
    """Write ``task``'s skeleton to ``folder/<name>.py``; never over an existing file. Returns the path."""
    path = task_path(folder, task)
    if os.path.exists(path):
        raise ValueError(f"{path} exists: it is your work, so start does not overwrite it "
                         f"(check it with: python scripts/practice.py check {task.name})")
    write_text(path, task.skeleton)
    return path


def load(folder, task):
    """The learner's ``task.book_name`` from ``folder/<name>.py``: a CheckFailed names what stops it loading.

    The workspace folder is on ``sys.path`` while the file loads, so that one
    practice file can import another (``from softmax import softmax``).
    """
    path = task_path(folder, task)
    if not os.path.isfile(path):
        raise CheckFailed(f"{path} does not exist: python scripts/practice.py start {task.name} writes its skeleton")
    spec = importlib.util.spec_from_file_location(f"practice_{task.name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, os.path.abspath(folder))
    try:
        spec.loader.exec_module(module)
    except SyntaxError as err:
        raise CheckFailed(f"{path} does not compile: {err.msg} at line {err.lineno}") from None
    except Exception as err:  # noqa: BLE001 - the learner's module may raise anything while loading
        raise CheckFailed(f"{path} raised {type(err).__name__} while loading: {err}") from None
    finally:
        sys.path.remove(os.path.abspath(folder))
        forget_workspace_modules(folder)
    if not hasattr(module, task.book_name):
        raise CheckFailed(f"{path} defines no {task.book_name}: the grader looks for the book's name")
    return getattr(module, task.book_name), path


def forget_workspace_modules(folder):
    """Drop from ``sys.modules`` what a learner's file imported from the workspace (``from softmax import
    softmax``): the next load, of an edited file or another folder, imports it afresh."""
    folder = os.path.abspath(folder)
    for name, module in list(sys.modules.items()):
        origin = getattr(module, "__file__", None)
        if origin and os.path.dirname(os.path.abspath(origin)) == folder:
            del sys.modules[name]


def status(folder, task, semantics="book"):
    """'not started' (no file), 'passing' (every check passes) or 'failing'."""
    from .grader import grade

    if not os.path.isfile(task_path(folder, task)):
        return NOT_STARTED
    try:
        learner, path = load(folder, task)
    except CheckFailed:
        return FAILING
    verdicts = grade(task, learner, semantics, path)
    return PASSING if verdicts and all(v.ok for v in verdicts) and len(verdicts) == len(task.checks) else FAILING
