"""The practice tasks, one module per chapter; ``TASKS`` in the book's order.

A chapter module defines ``TASKS``, a tuple of ``Task`` (see ``../task.py``):
the skeleton the learner starts from, and the checks that grade it.
"""
import difflib
import importlib

__all__ = ["TASKS", "by_name", "find_task"]

CHAPTERS = ("ch2", "ch3", "ch4", "ch5", "ch6", "ch7")

TASKS = tuple(task for chapter in CHAPTERS for task in importlib.import_module(f"{__name__}.{chapter}").TASKS)


def by_name():
    return {task.name: task for task in TASKS}


def find_task(name):
    """The task named ``name``; a ValueError naming the close ones otherwise."""
    tasks = by_name()
    key = name.lower().replace("-", "_")
    if key in tasks:
        return tasks[key]
    close = difflib.get_close_matches(key, list(tasks), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise ValueError(f"unknown task {name!r}{hint} (python scripts/practice.py list shows them)")
