"""The subcommands of ``scripts/practice.py``: list, start, check (train and compare have modules of their own)."""
from .grader import describe, grade  # noqa: F401 - describe is part of what a check prints
from .task import CheckFailed
from .tasks import TASKS
from .workspace import FAILING, NOT_STARTED, PASSING, load, start as write_skeleton, status

__all__ = ["list", "start", "check", "train", "compare"]

MARKS = {PASSING: "passing", FAILING: "FAILING", NOT_STARTED: "not started"}


def list(args):  # noqa: A001 - the subcommand's name
    """The tasks by chapter: name, the book's name and section, the status in the workspace."""
    chapter = None
    for task in TASKS:
        if task.chapter != chapter:
            chapter = task.chapter
            print(f"\nchapter {chapter}")
        print(f"  {task.name:<22} {task.book_name:<22} {task.section:<7} {MARKS[status(args.dir, task)]}")
    print(f"\nworkspace {args.dir}; start one: python scripts/practice.py start NAME")


def start(args):
    path = write_skeleton(args.dir, args.task)
    print(f"wrote {path}: fill in what raises NotImplementedError, then "
          f"python scripts/practice.py check {args.task.name}")


def check(args):
    """Grade one task (or all): a verdict per check; at the first failure, the diagnosis. Exit 1 if any fails."""
    tasks = TASKS if args.all else (args.task,)
    failed = 0
    for task in tasks:
        failed += not _check_one(args, task, quiet_if_missing=args.all)
    if args.all:
        print(f"\n{len(tasks) - failed} of {len(tasks)} tasks pass")
    return 1 if failed else 0


def _check_one(args, task, quiet_if_missing):
    header = f"{task.name} ({task.book_name}, {task.section}), graded against " + \
        ("the book (scratch.book)" if args.semantics == "book" else "PyTorch's semantics (scratch)")
    if quiet_if_missing and status_is_missing(args.dir, task):
        print(f"{task.name:<22} not started")
        return False
    print(header)
    try:
        learner, path = load(args.dir, task)
    except CheckFailed as failure:
        print(f"  FAIL  {failure.message}")
        return False
    verdicts = grade(task, learner, args.semantics, path)
    for verdict in verdicts:
        print(f"  {'ok  ' if verdict.ok else 'FAIL'}  {verdict.check}")
        if not verdict.ok:
            print_failure(verdict.failure)
    passed = all(v.ok for v in verdicts) and len(verdicts) == len(task.checks)
    if passed:
        print(f"  all {len(verdicts)} checks pass")
    return passed


def status_is_missing(folder, task):
    import os

    from .workspace import task_path
    return not os.path.isfile(task_path(folder, task))


def print_failure(failure):
    """The failure's message, the likely mistake and the book's line, the expected and received values."""
    print(f"        {failure.message}")
    if failure.mistake is not None:
        print(f"        likely mistake: {failure.mistake.name}: {failure.mistake.why}")
    if failure.book_line:
        print(f"        the book: {failure.book_line}")
    if failure.expected is not None:
        print(f"        expected: {failure.expected}")
        print(f"        received: {failure.received}")


def train(args):
    from .training import train_two_layer

    return train_two_layer(args)


def compare(args):
    from .compare import show

    return show(args)
