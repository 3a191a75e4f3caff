"""``compare NAME``: the learner's file beside the project's version, in the terminal.

Left, the learner's ``practice/NAME.py`` as it is; right, the project's
implementation of the task's book name: ``scratch.book``'s (the book's
semantics, what ``check`` grades against by default). Where ``scratch.book``
re-exports ``scratch``'s object (``Relu``, ``softmax``, the gates ...), that
is the code shown, and the title says so; a class built on a project base
class (the book's ``Dropout`` on ``scratch.dropout.Dropout``) is shown with
its bases, whose methods it inherits. Lines are wrapped as the side-by-side
renderer wraps them (``toolkit.site.terminal``), to ``--width`` columns.
"""
import inspect
import os
import shutil

from ..site.terminal import two_columns
from .workspace import task_path

__all__ = ["project_object", "project_sources", "show"]


def project_object(task):
    """The project's object for ``task``: ``scratch.book.<book_name>``, else ``scratch.<book_name>``."""
    import scratch
    import scratch.book

    for package in (scratch.book, scratch):
        if hasattr(package, task.book_name):
            return getattr(package, task.book_name)
    raise ValueError(f"the project has no {task.book_name} to compare {task.name} with")


def _name(obj):
    return f"{obj.__module__}.{obj.__qualname__}"


def project_sources(obj):
    """[(qualified name, source)] of ``obj`` and, for a class, of its bases from the project (nearest first)."""
    shown = [klass for klass in obj.__mro__ if klass.__module__.split(".")[0] == "scratch"] \
        if inspect.isclass(obj) else [obj]
    sources = []
    for item in shown:
        try:
            sources.append((_name(item), inspect.getsource(item)))
        except (OSError, TypeError):
            sources.append((_name(item), "(its source is not available)\n"))
    return sources


def show(args):
    """Print the learner's file beside the project's version; a missing file is a one-line error."""
    task = args.task
    path = task_path(args.dir, task)
    if not os.path.isfile(path):
        raise ValueError(f"{path} does not exist: python scripts/practice.py start {task.name} writes its skeleton")
    with open(path, encoding="utf-8", errors="replace") as f:
        mine = f.read().splitlines()
    obj = project_object(task)
    sources = project_sources(obj)
    right = []
    for number, (name, source) in enumerate(sources):
        if number:
            right += ["", f"# its base class {name}, whose methods it inherits"]
        right += source.rstrip("\n").splitlines()
    title = f"the project's: {_name(obj)}"
    if not obj.__module__.startswith("scratch.book"):
        title += f" (scratch.book re-exports it as {task.book_name})"
    width = args.width or shutil.get_terminal_size((100, 24)).columns
    lines = two_columns(mine, right, width, (f"yours: {path}", title))
    header = f"{task.name}: the book's {task.book_name} ({task.section}, chapter {task.chapter})"
    print("\n".join([header[:width], "=" * width] + lines))
    return 0
