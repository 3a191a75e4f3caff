"""Comparing what the two runs printed and plotted, and one script's verdict.

Line by line: the same lines, the same text around the numbers, every number
within a relative tolerance (``rtol``). A gradient check (a script named
``*gradient_check.py``) prints ``key:difference`` lines whose differences are
rounding noise (around 1e-10): each must agree within the tolerance or else be
of the same order of magnitude (within a factor of 10) and below 1e-6 on both
sides. Text is compared with runs of spaces collapsed (NumPy pads printed
arrays to the width of their numbers). The data of every line and image shown
by ``plt.show`` is compared too, so a script that prints nothing, like
ch06/optimizer_compare_naive.py, is still checked.
"""
import re
from dataclasses import asdict, dataclass, field

from .rewrite import skip_reason
from .run import Run, run_both

# Gradient checks print key:difference lines whose differences are rounding noise.
GRADIENT_CHECK_SCRIPT = "gradient_check"

MAGNITUDE_FACTOR = 10.0

MAGNITUDE_CEILING = 1e-6

# A number not glued to a word: 'W1' and 'np.uint8' hold none, '1e-10', '-0.5', 'nan' are numbers.
NUMBER = re.compile(r"(?<![\w.])[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf)(?![\w.])")

KEY_VALUE = re.compile(r"^\s*[A-Za-z_]\w*\s*[: ]\s*\S+\s*$")  # 'W1:3.2e-10', 'W1 3.2e-10'


def split_numbers(line):
    """(the line's text with each number replaced by '#' and spaces collapsed, [numbers])."""
    numbers = [float(m.group()) for m in NUMBER.finditer(line)]
    text = " ".join(NUMBER.sub("#", line).split())
    return text, numbers


def relative_difference(a, b):
    """|a - b| / max(|a|, |b|); 0 for two equal values (nan with nan, inf with inf)."""
    if a == b or (a != a and b != b):
        return 0.0
    if a != a or b != b or abs(a) == float("inf") or abs(b) == float("inf"):
        return float("inf")
    return abs(a - b) / max(abs(a), abs(b))


def magnitude_ratio(a, b):
    """max / min of two non-negative differences (1 for two zeros, inf for one zero)."""
    a, b = abs(a), abs(b)
    if a == b:
        return 1.0
    return max(a, b) / min(a, b) if min(a, b) > 0 else float("inf")


@dataclass
class Comparison:
    """What comparing two outputs found."""

    lines: tuple = (0, 0)             # lines printed by the book's script and by scratch.book's
    numbers: int = 0                  # numbers compared with rtol
    magnitudes: int = 0               # gradient-check differences compared by order of magnitude
    plot_values: int = 0              # plotted values compared with rtol
    max_rel_diff: float = 0.0         # over the numbers and plotted values compared with rtol
    max_magnitude_ratio: float = 1.0  # over the gradient-check differences
    differing_lines: list = field(default_factory=list)  # 0-based line numbers
    problems: list = field(default_factory=list)         # descriptions, the first few

    @property
    def same(self):
        return not self.problems

    def problem(self, text):
        if len(self.problems) < 10:
            self.problems.append(text)
        elif len(self.problems) == 10:
            self.problems.append("...")


def compare_line(comparison, index, book, scratch, rtol, magnitude):
    """Compare one line of each output; record the numbers and any problem in ``comparison``."""
    text_a, nums_a = split_numbers(book)
    text_b, nums_b = split_numbers(scratch)
    if text_a != text_b or len(nums_a) != len(nums_b):
        comparison.differing_lines.append(index)
        comparison.problem(f"line {index + 1}: text differs: {book.strip()!r} vs {scratch.strip()!r}")
        return
    by_magnitude = magnitude and KEY_VALUE.match(book) and len(nums_a) == 1
    bad = False
    for a, b in zip(nums_a, nums_b):
        diff = relative_difference(a, b)
        if by_magnitude:  # close enough, or noise of the same order
            ratio = magnitude_ratio(a, b)
            comparison.magnitudes += 1
            comparison.max_magnitude_ratio = max(comparison.max_magnitude_ratio, ratio)
            bad |= not (diff <= rtol or (
                ratio <= MAGNITUDE_FACTOR and abs(a) < MAGNITUDE_CEILING and abs(b) < MAGNITUDE_CEILING))
        else:
            comparison.numbers += 1
            comparison.max_rel_diff = max(comparison.max_rel_diff, diff)
            bad |= not diff <= rtol
    if bad:
        comparison.differing_lines.append(index)
        rule = (f"neither within rtol nor within a factor of {MAGNITUDE_FACTOR:g} and below "
                f"{MAGNITUDE_CEILING:g}" if by_magnitude
                else f"relative difference above {rtol:g}")
        comparison.problem(f"line {index + 1}: {book.strip()!r} vs {scratch.strip()!r} ({rule})")


def compare_plots(comparison, book, scratch, rtol):
    """Compare the data of the figures the two runs showed."""
    if len(book) != len(scratch):
        comparison.problem(f"the book's script showed {len(book)} figures, scratch.book's {len(scratch)}")
    for fig_a, fig_b in zip(book, scratch):
        items_a = {item["what"]: item for item in fig_a["items"]}
        items_b = {item["what"]: item for item in fig_b["items"]}
        if list(items_a) != list(items_b):
            comparison.problem(f"{fig_a['figure']}: different lines or images plotted")
            continue
        for what, a in items_a.items():
            b = items_b[what]
            if a["shape"] != b["shape"]:
                comparison.problem(f"{fig_a['figure']} {what}: shape {a['shape']} vs {b['shape']}")
                continue
            diffs = [relative_difference(x, y) for x, y in zip(a["values"], b["values"])]
            comparison.plot_values += len(diffs)
            worst = max(diffs, default=0.0)
            comparison.max_rel_diff = max(comparison.max_rel_diff, worst)
            if not worst <= rtol:
                comparison.problem(f"{fig_a['figure']} {what}: plotted values differ (max relative "
                                   f"difference {worst:.3g})")


def compare_outputs(name, book, scratch, rtol, book_plots=(), scratch_plots=()):
    """Compare the book's output with scratch.book's, line by line, then the plots (see the module)."""
    lines_a, lines_b = book.splitlines(), scratch.splitlines()
    comparison = Comparison(lines=(len(lines_a), len(lines_b)))
    if len(lines_a) != len(lines_b):
        comparison.problem(f"the book's script printed {len(lines_a)} lines, scratch.book's {len(lines_b)}")
    magnitude = GRADIENT_CHECK_SCRIPT in name
    for index, (a, b) in enumerate(zip(lines_a, lines_b)):
        compare_line(comparison, index, a, b, rtol, magnitude)
    compare_plots(comparison, list(book_plots), list(scratch_plots), rtol)
    return comparison


@dataclass
class Result:
    """The verdict on one script: 'same', 'DIFFERENT', 'ERROR' or 'skipped', and the details."""

    script: str
    verdict: str
    reason: str = ""
    book_seconds: float | None = None
    scratch_seconds: float | None = None
    comparison: Comparison | None = None
    book: Run | None = None
    scratch: Run | None = None

    def summary(self):
        """A dict for --json (outputs included, plots left out)."""
        out = {"script": self.script, "verdict": self.verdict, "reason": self.reason,
               "book_seconds": self.book_seconds, "scratch_seconds": self.scratch_seconds}
        if self.comparison is not None:
            out.update({key: value for key, value in asdict(self.comparison).items() if key != "differing_lines"})
            out["differing_lines"] = self.comparison.differing_lines[:50]
        for side in ("book", "scratch"):
            run = getattr(self, side)
            if run is not None:
                out[f"{side}_returncode"] = run.returncode
                out[f"{side}_stdout"] = run.stdout
                out[f"{side}_stderr_tail"] = run.stderr[-2000:]
        return out


def failure(run):
    """Why a run failed (timeout, exit status and the last line of stderr), or None."""
    if run.timed_out:
        return run.stderr
    if run.returncode != 0:
        last = run.stderr.strip().splitlines()[-1] if run.stderr.strip() else ""
        return f"exit {run.returncode}: {last}"
    return None


def compare_script(setup, name):
    """Run ``name`` both ways and compare (see the module); a Result, never an exception for a failing script."""
    reason = skip_reason(setup.book_dir, name)
    if reason:
        return Result(name, "skipped", reason)
    book, scratch = run_both(setup, name)
    result = Result(name, "same", book_seconds=book.seconds, scratch_seconds=scratch.seconds,
                    book=book, scratch=scratch)
    failed = [f"{side}: {why}" for side, why in (("book", failure(book)), ("scratch.book", failure(scratch))) if why]
    if failed:
        result.verdict, result.reason = "ERROR", "; ".join(failed)
        return result
    result.comparison = compare_outputs(name, book.stdout, scratch.stdout, setup.rtol, book.plots, scratch.plots)
    if not result.comparison.same:
        result.verdict, result.reason = "DIFFERENT", result.comparison.problems[0]
    return result
