"""Run the book's own chapter scripts on ``scratch.book`` and check that they print the book's numbers.

``scratch.book`` claims to be the book exactly: take one of the book's
official scripts (github.com/oreilly-japan/deep-learning-from-scratch,
``ch02`` .. ``ch08``), change only its import lines, and it prints what the
book's code prints under the same ``np.random.seed``::

    from common.layers import *              ->  from scratch.book import *
    from dataset.mnist import load_mnist     ->  from scratch.book import load_mnist
    from two_layer_net import TwoLayerNet    ->  from scratch.book.ch04 import TwoLayerNet   (chapter 4)
                                                 from scratch.book import TwoLayerNet        (chapter 5)
    from simple_convnet import SimpleConvNet ->  from scratch.book import SimpleConvNet   (also deep_convnet,
                                                 layer_naive, and_gate, or_gate, nand_gate)
    import pickle                            ->  from scratch.book import safe_pickle as pickle

This script checks that claim. For each script it

1. runs the book's original in a temporary copy of the book's code (its own
   ``common/`` and ``dataset/``; the MNIST files are handed to the book's
   ``dataset/mnist.py`` as the ``.gz`` files it would download, so it never
   goes online), from the script's chapter folder;
2. runs the rewritten script in another temporary folder that holds only the
   chapter's data files (the ``.pkl`` weights), no ``common/`` or ``dataset/``,
   so it can only use ``scratch.book``;
3. compares the two outputs line by line: the same lines, the same text
   around the numbers, every number within a relative tolerance (``--rtol``,
   default 1e-4). A gradient check (a script named ``*gradient_check.py``)
   prints ``key:difference`` lines whose differences are rounding noise
   (around 1e-10): each must agree within the tolerance or else be of the
   same order of magnitude (within a factor of 10) and below 1e-6 on both
   sides. Text is compared with runs of spaces collapsed (NumPy pads printed
   arrays to the width of their numbers). What the scripts plot is compared too
   (the data of every line and image shown by ``plt.show``), so a script that
   prints nothing, like ch06/optimizer_compare_naive.py, is still checked.

Both runs start from ``np.random.seed(--seed)`` (default 0), with matplotlib's
Agg backend and ``plt.show`` (and PIL's ``Image.show``) doing nothing but
recording the figures, one BLAS thread, and a time limit.

    python scripts/book_scripts.py --quick                       # all scripts, shortened: ~3 minutes
    python scripts/book_scripts.py ch05/gradient_check.py --show # one script, both outputs
    python scripts/book_scripts.py --rewrite /tmp/book-on-scratch # write the rewritten scripts to read and run

The book's code is found with ``--book-code DIR`` or ``$DLFS_BOOK_CODE_DIR``
(nothing is downloaded) and MNIST with ``--data-dir`` or ``$DLFS_DATA_DIR``.
The exit status is 0 when every script printed the same numbers, 1 when one
did not (or failed), 2 for a usage error.
"""
import toolkit  # noqa: F401 - first: a Python without the project's packages gets one line, exit 2
import shutil
import sys
import tempfile
from pathlib import Path

from toolkit.book_scripts import BOOK_CODE_ENV, DEFAULT_RTOL, DEFAULT_TIMEOUT
from toolkit.book_scripts.compare import compare_script
from toolkit.book_scripts.report import COLUMNS, report, show_outputs, table_row, write_json
from toolkit.book_scripts.rewrite import NEEDS_FILE, find_book_code, select_scripts, write_rewritten
from toolkit.book_scripts.run import make_setup
from toolkit.cli import ArgumentParser, non_negative_int, positive_float, positive_int, run_main
from toolkit.data import add_data_arguments

DESCRIPTION = """Run the book's chapter scripts (ch02-ch08 of Deep Learning from Scratch) twice,
as the book wrote them and with only their import lines changed to scratch.book,
under the same np.random.seed, and compare what they print (and plot): the same
lines, every number within --rtol, gradient-check differences of the same order
of magnitude. Without --quick the scripts run in full, as the book wrote them:
seconds to a minute for most, a few minutes for ch06's trainings, about 8 for
ch06/hyperparameter_optimization.py and 5 for ch08/half_float_network.py
(2 cores), but ch07/train_convnet.py and ch08/train_deepnet.py train for 20
epochs on all of MNIST: about an hour and many hours on the book's code (raise
--timeout for them). --quick shortens the long scripts (fewer iterations,
epochs, images) by the same textual substitutions in both versions: all of them
in about 3 minutes. --rewrite DIR writes the rewritten scripts for you to read
and run."""

EPILOG = f"""The book's code: --book-code DIR or ${BOOK_CODE_ENV} (a copy of
github.com/oreilly-japan/deep-learning-from-scratch, MIT licence). It is copied
to a temporary folder and never changed. Scripts skipped because they cannot run anywhere:
{'; '.join(f'{name}: {why}' for name, (_, why) in NEEDS_FILE.items())}. The table: lines printed,
numbers compared, plotted values compared, the largest relative difference
among those, the largest ratio between the two gradient-check differences of a
line (x1: the same), the seconds each run took (both at the same time, unless
--sequential), the verdict."""


def parse_args(argv=None):
    parser = ArgumentParser(prog="book_scripts.py", description=DESCRIPTION, epilog=EPILOG)
    parser.add_argument("scripts", nargs="*", metavar="SCRIPT",
                        help="scripts of the book, e.g. ch05/gradient_check.py (default: every ch02-ch08 "
                             "script that imports from common/, dataset/ or its chapter's network files)")
    parser.add_argument("--book-code", metavar="DIR", default=None,
                        help=f"the book's code (default: ${BOOK_CODE_ENV})")
    add_data_arguments(parser, dataset=False)  # the book's scripts read MNIST only
    parser.add_argument("--quick", action="store_true",
                        help="shorten the long scripts (fewer iterations, epochs, images), identically in "
                             "both versions")
    parser.add_argument("--seed", type=non_negative_int, default=0,
                        help="np.random.seed before each script runs (default 0)")
    parser.add_argument("--rtol", type=positive_float, default=DEFAULT_RTOL,
                        help=f"relative tolerance for each number (default {DEFAULT_RTOL:g})")
    parser.add_argument("--timeout", type=positive_float, default=DEFAULT_TIMEOUT,
                        help=f"seconds each run of a script may take (default {DEFAULT_TIMEOUT})")
    parser.add_argument("--blas-threads", type=positive_int, default=1,
                        help="BLAS threads of each run (default 1)")
    parser.add_argument("--sequential", action="store_true",
                        help="run the book's version and scratch.book's one after the other, not at the "
                             "same time (steadier timings, twice the wall time)")
    parser.add_argument("--show", action="store_true", help="print both outputs, '!' marking differing lines")
    parser.add_argument("--json", metavar="PATH", help="write the results (and outputs) to PATH as JSON")
    parser.add_argument("--rewrite", metavar="DIR",
                        help="write the selected scripts, import lines rewritten for scratch.book, to "
                             "DIR/chNN/ (with the chapter's .pkl files) and exit without running anything")
    parser.add_argument("--keep-temp", action="store_true", help="keep the temporary folder and say where")
    return parser.parse_args(argv)


def run_all(args, book_dir, names):
    """Compare every script of ``names``, printing the table as it goes; the list of Results."""
    work_dir = Path(tempfile.mkdtemp(prefix="book_scripts-"))
    results = []
    try:
        print(f"preparing a copy of the book's code with MNIST in {work_dir} ...", flush=True)
        setup = make_setup(book_dir, work_dir, args.data_dir, args.download, seed=args.seed, rtol=args.rtol,
                           quick=args.quick, timeout=args.timeout, blas_threads=args.blas_threads,
                           parallel=not args.sequential)
        print(f"book: {book_dir}   seed {args.seed}   rtol {args.rtol:g}   "
              f"{'--quick' if args.quick else 'full runs'}\n\n{COLUMNS}", flush=True)
        for name in names:
            result = compare_script(setup, name)
            results.append(result)
            print(table_row(result), flush=True)
            if args.json:
                write_json(args.json, report(args, book_dir, results))
        if args.show:
            print()
            for result in results:
                show_outputs(result)
    finally:
        if args.keep_temp:
            print(f"temporary files kept in {work_dir}")
        else:
            shutil.rmtree(work_dir, ignore_errors=True)
    return results


def main(argv=None):
    args = parse_args(argv)
    book_dir = find_book_code(args.book_code)
    names = select_scripts(book_dir, args.scripts)
    if args.rewrite:
        write_rewritten(book_dir, names, args.rewrite, args.quick)
        return
    results = run_all(args, book_dir, names)
    counts = {verdict: sum(r.verdict == verdict for r in results) for verdict in ("same", "DIFFERENT", "ERROR",
                                                                                  "skipped")}
    print("\n" + ", ".join(f"{n} {verdict}" for verdict, n in counts.items() if n))
    if args.json:
        print(f"wrote {args.json}")
    if counts["DIFFERENT"] or counts["ERROR"]:
        sys.exit(1)


if __name__ == "__main__":
    run_main(main)
