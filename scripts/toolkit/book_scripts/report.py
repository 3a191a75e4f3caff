"""What ``scripts/book_scripts.py`` prints and writes: the table, both outputs, the JSON report."""
import json

from ..paths import write_text
from .compare import MAGNITUDE_CEILING, MAGNITUDE_FACTOR

COLUMNS = f"{'script':38s} {'lines':>5s} {'numbers':>7s} {'plotted':>7s} {'max rel diff':>12s} " \
          f"{'grad ratio':>10s} {'book s':>8s} {'scratch s':>9s}  verdict"


def seconds_text(value):
    return f"{value:8.1f}" if value is not None else f"{'-':>8s}"


def table_row(result):
    c = result.comparison
    if c is None:
        numbers = f"{'-':>5s} {'-':>7s} {'-':>7s} {'-':>12s} {'-':>10s}"
    else:
        lines = str(c.lines[0]) if c.lines[0] == c.lines[1] else f"{c.lines[0]}/{c.lines[1]}"
        ratio = f"x{c.max_magnitude_ratio:.4g}" if c.magnitudes else "-"
        numbers = (f"{lines:>5s} {c.numbers + c.magnitudes:7d} {c.plot_values:7d} {c.max_rel_diff:12.2e} "
                   f"{ratio:>10s}")
    verdict = result.verdict + (f": {result.reason}" if result.reason else "")
    return (f"{result.script:38s} {numbers} {seconds_text(result.book_seconds)} "
            f"{seconds_text(result.scratch_seconds):>9s}  {verdict}")


def show_outputs(result):
    """Both outputs one after the other, '!' marking the lines that differ."""
    differing = set(result.comparison.differing_lines) if result.comparison else set()
    for side, run in (("book", result.book), ("scratch.book", result.scratch)):
        if run is None:
            continue
        print(f"----- {result.script}: {side} -----")
        for index, line in enumerate(run.stdout.splitlines()):
            print(f"{'!' if index in differing else ' '} {line}")
        if run.returncode != 0 and run.stderr:
            print(run.stderr.rstrip())
    print()


def write_json(path, data):
    """Write ``data`` as JSON to ``path`` atomically."""
    write_text(path, json.dumps(data, indent=2, allow_nan=True) + "\n")


def report(args, book_dir, results):
    return {"book_code": str(book_dir), "seed": args.seed, "rtol": args.rtol, "quick": args.quick,
            "magnitude_rule": {"factor": MAGNITUDE_FACTOR, "ceiling": MAGNITUDE_CEILING},
            "results": [result.summary() for result in results]}
