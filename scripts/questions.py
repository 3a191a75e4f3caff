"""The study notes' questions, each answered by an experiment that measures the answer.

    python scripts/questions.py                       # list the questions
    python scripts/questions.py hidden-activation     # run one: tables, conclusions, a figure
    python scripts/questions.py rmsprop --quick --backend torch --json runs/rmsprop.json

``--quick`` finishes in about a minute on 2 cores with the same conclusion;
the full run gives the numbers docs/questions.md reports. Each conclusion is
stated only when the measurement supports it; otherwise the script says what
the measurement shows instead. The experiments live in
``scripts/toolkit/questions/``, one module per question.
"""
import toolkit  # noqa: F401 - first: a Python without the project's packages gets one line, exit 2

from toolkit import backends, cli, figures, questions
from toolkit.data import add_data_arguments
from toolkit.experiments import print_table
from toolkit.paths import check_output
from toolkit.progress import add_progress_argument

DESCRIPTION = """Answer a question of the study notes by experiment: the measured tables, the
conclusion they support, and a figure. Without NAME, list the questions."""


def make_parser():
    parser = cli.ArgumentParser(prog="questions.py", description=DESCRIPTION)
    parser.add_argument("name", nargs="?", metavar="NAME", help="the question to run (none: list them)")
    parser.add_argument("--quick", action="store_true",
                        help="smaller sizes: about a minute on 2 cores, the same conclusions")
    backends.add_backend_argument(parser)
    parser.add_argument("--seed", type=cli.non_negative_int, default=0,
                        help="seeds every draw: weights, minibatches, samples (default 0)")
    parser.add_argument("--json", metavar="PATH", default=None, help="write every measured number to PATH (JSON)")
    parser.add_argument("--markdown", metavar="PATH", default=None,
                        help="write the tables and conclusions to PATH as Markdown")
    parser.add_argument("--plot", metavar="PATH", default=None,
                        help="where to save the figure (default runs/questions/NAME-<backend>[-quick].png)")
    parser.add_argument("--no-plot", action="store_true", help="do not draw the figure")
    backends.add_threads_argument(parser)
    add_data_arguments(parser, dataset=False)
    add_progress_argument(parser)
    return parser


def parse_args(argv=None):
    parser = make_parser()
    args = parser.parse_args(argv)
    if args.name is None:
        return args
    try:
        question = questions.find_question(args.name)
    except ValueError as err:
        parser.error(cli.one_line(err))
    if args.backend not in question.backends:
        parser.error(f"{question.name} measures the book's NumPy code (scratch.book), so it runs with "
                     f"--backend {' or '.join(question.backends)}, not {args.backend}")
    args.question = question
    if args.plot is None:
        args.plot = f"runs/questions/{question.name}-{args.backend}{'-quick' if args.quick else ''}.png"
    if not args.no_plot:
        figures.require_matplotlib(parser, "drawing the figure", ", or pass --no-plot")
    for option in ("json", "markdown", "plot"):
        path = getattr(args, option)
        if path is not None and not (option == "plot" and args.no_plot):
            try:
                check_output(f"--{option}", path)
            except ValueError as err:
                parser.error(cli.one_line(err))
    return args


def list_questions():
    """The table of questions: name, chapter, the notes' words and the English."""
    rows = [[q.name, str(q.chapter), "hard" if q.kind == "hard" else "wondered", q.korean, q.english]
            for q in questions.QUESTIONS]
    print("The study notes' questions (✓ 궁금한 점: wondered, ✓ 어려웠던 점: hard), each answered by experiment:\n")
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("  ".join(f"{cell:<{w}}" for cell, w in zip(row[:3], widths)) + "  " + row[3])
        print(" " * (sum(widths) + 6) + row[4])
    print("\nrun one: python scripts/questions.py NAME [--quick] [--backend scratch|torch] [--json PATH] [--plot PATH]")


def main(argv=None):
    args = parse_args(argv)
    if args.name is None:
        list_questions()
        return
    from toolkit.questions.session import Session

    question = args.question
    session = Session(question, args)
    print(f"{question.name} (chapter {question.chapter}): {question.english}\n  {question.korean}")
    print(f"backend {args.backend}, seed {args.seed}{', quick' if args.quick else ''}")
    questions.load_module(question).run(session)
    print(f"\nwall time {session.wall_time():.1f} s")
    session.write_files()


if __name__ == "__main__":
    cli.run_main(main)
