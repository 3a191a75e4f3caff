"""Grading a piece of learner code in-process, as ``scripts/practice.py check`` does.

``grade_source(task_name, source, folder)`` writes ``source`` as the learner's
file of the task into ``folder`` and returns the verdicts; ``failure_of`` the
first failed verdict's failure. The tests feed deliberately wrong
implementations and assert the named mistake.
"""
import textwrap

from toolkit.practice.grader import grade
from toolkit.practice.tasks import find_task
from toolkit.practice.workspace import load, task_path


def grade_source(task_name, source, folder, semantics="book"):
    """The verdicts of ``source`` written as the learner's file of ``task_name`` in ``folder``."""
    task = find_task(task_name)
    path = task_path(str(folder), task)
    with open(path, "w") as f:
        f.write(textwrap.dedent(source))
    learner, path = load(str(folder), task)
    return grade(task, learner, semantics, path)


def passes(verdicts, task_name):
    """True when every check of the task ran and passed."""
    return len(verdicts) == len(find_task(task_name).checks) and all(v.ok for v in verdicts)


def failure_of(verdicts):
    """The failure of the failed verdict (there must be one)."""
    failed = [v for v in verdicts if not v.ok]
    assert failed, "every check passed: the mistake went unnoticed"
    return failed[0].failure


def mistake_named(verdicts):
    """The name of the mistake the first failure names (None if it names none)."""
    failure = failure_of(verdicts)
    return failure.mistake.name if failure.mistake is not None else None


def solution_source(task_name, semantics="book"):
    """A learner file that is the project's own implementation: scratch.book's (book) or scratch's (pytorch)."""
    task = find_task(task_name)
    package = "scratch.book" if semantics == "book" else "scratch"
    return f"from {package} import {task.book_name}  # the project's own solution\n"
