"""Practice mode: write each function and layer of the book yourself; the grader says what is wrong.

    python scripts/practice.py list                    # the tasks by chapter, with their status in ./practice
    python scripts/practice.py start affine            # writes practice/affine.py: the skeleton to fill in
    python scripts/practice.py check affine            # grades it against the book, PyTorch and numerical gradients
    python scripts/practice.py check --all             # every task of the workspace
    python scripts/practice.py train two_layer --with practice/   # chapter 5's network with your layers
    python scripts/practice.py compare affine          # your file beside the project's version

``check`` grades against the book's semantics (``scratch.book``) by default;
``--semantics pytorch`` grades against ``scratch`` (PyTorch's semantics, e.g.
Affine's W stored as (out, in)). Its exit code is 0 when every check passes.
"""
import toolkit  # noqa: F401 - first: a Python without the project's packages gets one line, exit 2
import os
import sys

from toolkit import cli
from toolkit.progress import add_progress_argument

DESCRIPTION = """Write the book's functions and layers yourself and have them graded against the
book, PyTorch and numerical gradients: list, start NAME, check NAME|--all, train two_layer
--with DIR, compare NAME."""


def make_parser():
    from toolkit.data import add_data_arguments

    parser = cli.ArgumentParser(prog="practice.py", description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True,
                                     parser_class=cli.ArgumentParser)

    def workspace(sub):
        sub.add_argument("--dir", default="practice", metavar="DIR",
                         help="the workspace: your files, one per task (default ./practice)")

    listing = commands.add_parser("list", help="the tasks by chapter and their status in the workspace")
    workspace(listing)
    start = commands.add_parser("start", help="write a task's skeleton into the workspace (never overwrites)")
    start.add_argument("name", metavar="NAME", help="the task (python scripts/practice.py list)")
    workspace(start)
    check = commands.add_parser("check", help="grade your file(s); exit code 0 when every check passes")
    check.add_argument("name", metavar="NAME", nargs="?", help="the task")
    check.add_argument("--all", action="store_true", help="every task (those not started are listed as such)")
    check.add_argument("--semantics", choices=["book", "pytorch"], default="book",
                       help="book: graded against scratch.book, the book's code (default); pytorch: against "
                            "scratch, the same NumPy code with PyTorch's semantics")
    workspace(check)
    train = commands.add_parser("train", help="train chapter 5's network with your layers swapped in")
    train.add_argument("model", choices=["two_layer"], help="two_layer: TwoLayerNet(784, 50, 10) of 5.7")
    train.add_argument("--with", dest="with_dir", default="practice", metavar="DIR",
                       help="the workspace whose layers to use (default ./practice)")
    train.add_argument("--iters", type=cli.positive_int, default=10000, help="iterations (default 10000, the book's)")
    train.add_argument("--seed", type=cli.non_negative_int, default=0, help="initial weights and minibatches")
    add_data_arguments(train, dataset=False)
    add_progress_argument(train)
    compare = commands.add_parser("compare", help="your file beside the project's version, in the terminal")
    compare.add_argument("name", metavar="NAME", help="the task")
    compare.add_argument("--width", type=cli.positive_int, default=None, help="columns (default: the terminal's)")
    workspace(compare)
    return parser


def parse_args(argv=None):
    parser = make_parser()
    args = parser.parse_args(argv)
    from toolkit.practice.tasks import find_task

    if args.command == "check" and (args.name is None) == (not args.all):
        parser.error("check takes a task NAME or --all (not both)")
    if getattr(args, "name", None) is not None:
        try:
            args.task = find_task(args.name)
        except ValueError as err:
            parser.error(cli.one_line(err))
    return args


def main(argv=None):
    args = parse_args(argv)
    from toolkit.practice import commands

    status = getattr(commands, args.command)(args)
    sys.exit(status or 0)


if __name__ == "__main__":
    cli.run_main(main)
