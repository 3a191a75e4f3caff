"""Learn by diffing: every component in NumPy beside its PyTorch mirror, with the parity numbers beside the code.

    python scripts/side_by_side.py                  # the site: runs/side_by_side/index.html (open it in a browser)
    python scripts/side_by_side.py --run-tests      # run the parity suite first (it writes runs/parity_report.json)
    python scripts/side_by_side.py Affine           # one component in two columns in the terminal
    python scripts/side_by_side.py Adam --book      # NumPy beside the book's own version

The site has an index of every component (grouped by chapter, with the
book's section number, the largest error measured in float64 and float32
and whether it passed) and one page per component: the formula, the NumPy
code (``scratch``) and its PyTorch mirror (``reference``) aligned method by
method, the book's own version (``scratch.book``) as a third column where it
has one, the errors the parity suite measured, and what the docstrings say
of the book. The code shown is read from the imported objects
(``inspect.getsource``), so it is always the code that ran. The numbers come
from the parity suite's report (``DLFS_PARITY_REPORT=path.json``), never
typed in. No JavaScript, nothing fetched: the site works offline and prints.
"""
import toolkit  # noqa: F401 - first: a Python without the project's packages gets one line, exit 2
import os
import shutil
import sys
import time

from toolkit.cli import ArgumentParser, positive_int, run_main
from toolkit.paths import check_output
from toolkit.site.catalog import find_component
from toolkit.site.measured import DEFAULT_REPORT, load_report, missing_hint, run_tests

DEFAULT_OUT = os.path.join("runs", "side_by_side")


def parse_args(argv=None):
    parser = ArgumentParser(
        description="Every component of the book in NumPy (scratch) beside its PyTorch mirror (reference) and the "
                    "book's own version (scratch.book), with the errors the parity suite measured: a static site, "
                    "or one component in the terminal.")
    parser.add_argument("component", nargs="?",
                        help="print this component (e.g. Affine, Adam, im2col) in two columns in the terminal "
                             "instead of building the site")
    parser.add_argument("--out", metavar="DIR", default=None,
                        help=f"folder of the site (default {DEFAULT_OUT}); index.html is its first page")
    parser.add_argument("--report", metavar="PATH", default=None,
                        help=f"the parity suite's JSON report (default {DEFAULT_REPORT}); with --run-tests, where "
                             "the suite writes it")
    parser.add_argument("--run-tests", action="store_true",
                        help="run the parity suite first (python -m pytest parity_tests -q -p no:cacheprovider with "
                             "DLFS_PARITY_REPORT=<report>), then build")
    parser.add_argument("--pytest-args", metavar="ARGS", default=None,
                        help="with --run-tests: more pytest arguments, one string (--pytest-args=-x, "
                             "--pytest-args \"-x -k Affine\"); if it names test files or folders, those run instead "
                             "of all of parity_tests")
    parser.add_argument("--width", type=positive_int, default=None,
                        help="terminal mode: the line width (default: the terminal's)")
    parser.add_argument("--book", action="store_true",
                        help="terminal mode: the book's own version (scratch.book) on the right instead of PyTorch's")
    args = parser.parse_args(argv)
    if args.pytest_args is not None and not args.run_tests:
        parser.error("--pytest-args needs --run-tests")
    if args.component is None and (args.width is not None or args.book):
        parser.error("--width and --book are for one component in the terminal; name one (e.g. Affine)")
    if args.component is not None and args.out is not None:
        parser.error("--out is for the site; with a component name the page is printed to the terminal")
    return parser, args


def main():
    _, args = parse_args()
    report_path = args.report or DEFAULT_REPORT
    component = find_component(args.component) if args.component is not None else None
    out = args.out or DEFAULT_OUT
    if component is None:
        check_output("--out", os.path.join(out, "index.html"))
    if args.run_tests:
        if not report_path.endswith(".json"):
            raise ValueError(f"--report {report_path}: the parity suite writes its report only to a .json file")
        check_output("--report", report_path)
    elif args.report is not None and not os.path.isfile(args.report):
        raise ValueError(f"--report {args.report}: no such file; write it with python scripts/side_by_side.py "
                         f"--run-tests --report {args.report}, or leave --report out to build without numbers")

    status = run_tests(report_path, args.pytest_args) if args.run_tests else 0
    report = load_report(report_path) if os.path.isfile(report_path) else None
    hint = missing_hint(report_path)

    if component is not None:
        from toolkit.site import source, terminal

        width = args.width or shutil.get_terminal_size((100, 24)).columns
        lines = terminal.render(source.view(component), width, report, hint, book=args.book)
        sys.stdout.reconfigure(errors="replace")
        print("\n".join(lines))
    else:
        from toolkit.site import pages, source

        start = time.perf_counter()
        views = source.views_in_order()
        files = pages.write_site(out, views, report, hint)
        index = os.path.join(out, pages.INDEX_NAME)
        print(f"site written to {index} ({len(views)} component pages, {files} files) "
              f"in {time.perf_counter() - start:.1f} s")
        if report is None:
            print(f"note: {hint}")
    if status not in (0, None):
        print(f"the parity suite failed (pytest exit status {status}); the pages show which comparisons failed",
              file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    run_main(main)
