"""Chapter 8's results table: every network trained with train.py, and what depth and augmentation buy.

Each row of ``RUNS`` is one train.py command (the scratch backend, float32,
seed 0); the run writes its weights, curves and a JSON history under
``--out``. ``--run`` trains the rows whose history is missing (one after
the other: ``--run NAME ...`` picks rows, ``--print-commands`` shows them
to start by hand); the report then reads the histories and writes
``results.md`` (the table: final test accuracy, best epoch, wall time) and
``learning_curves.png`` (test accuracy per epoch of the chapter-8 networks
on MNIST, and the Fashion-MNIST runs beside them).

    python scripts/ch08_results.py --print-commands
    python scripts/ch08_results.py --run resnet-mnist-augment
    python scripts/ch08_results.py            # the report from the histories found
"""
import toolkit  # noqa: F401 - first: a Python without the project's packages gets one line, exit 2
import os
import shlex

from toolkit import cli, data, paths
from toolkit.chapter8 import RUN_NAMES, RUNS, data_options, load_histories, plot, run_missing, table, train_command

DESCRIPTION = """Train the networks of chapter 8 on MNIST and Fashion-MNIST (train.py, scratch
backend) and report the final test accuracies and wall times as a Markdown
table and the learning curves as one figure. Without --run it only reports
the runs whose histories exist under --out."""


def parse_args(argv=None):
    parser = cli.ArgumentParser(prog="ch08_results.py", description=DESCRIPTION)
    parser.add_argument("--out", metavar="DIR", default=os.path.join("runs", "ch08"),
                        help="where the runs' weights, curves and histories go (default runs/ch08)")
    parser.add_argument("--run", nargs="*", choices=RUN_NAMES, default=None, metavar="NAME",
                        help="train the named rows (all rows if none is named) whose history is missing; "
                             f"names: {', '.join(RUN_NAMES)}")
    parser.add_argument("--print-commands", action="store_true",
                        help="print the train.py command of every row and stop")
    parser.add_argument("--figure", metavar="PATH", default=None,
                        help="where to draw the learning curves (default <--out>/learning_curves.png)")
    data.add_data_arguments(parser, dataset=False)
    args = parser.parse_args(argv)
    if args.figure is not None:
        paths.check_output("--figure", args.figure)
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.print_commands:
        for run in RUNS:
            print(shlex.join(train_command(run, args.out) + data_options(args)))
        return
    if args.run is not None:
        run_missing(args, args.run)
    histories = load_histories(args.out)
    if not histories:
        cli.fail(f"no run histories under {args.out}: train them first with --run")
    missing = [run.name for run in RUNS if run.name not in histories]
    text = table(histories, args.out)
    print(text, end="")
    if missing:
        print(f"(not trained yet: {', '.join(missing)})")
    results = os.path.join(args.out, "results.md")
    paths.write_text(results, text)
    print(f"saved table: {results}")
    figure = args.figure or os.path.join(args.out, "learning_curves.png")
    plot(figure, histories)
    print(f"saved figure: {figure}")


if __name__ == "__main__":
    cli.run_main(main)
