"""One component in the terminal: NumPy on the left, PyTorch (or the book) on the right, method by method.

Every line fits ``width`` characters: code lines too long for their column
are wrapped with a hanging indent, prose is wrapped at words. Plain text,
no colour, so that it can be piped or saved.
"""
import textwrap
from itertools import zip_longest

from .source import SIDE_TITLES

__all__ = ["MIN_WIDTH", "SEPARATOR", "render", "two_columns"]

MIN_WIDTH = 40
SEPARATOR = " | "


def _prose(text, width, indent=""):
    """Paragraph text wrapped at words; lines starting with spaces (formulas) are kept and hard-wrapped."""
    lines = []
    for line in text.splitlines() or [""]:
        if line.startswith(" "):
            lines += _code(line, width)
        else:
            lines += textwrap.wrap(line, width, initial_indent=indent, subsequent_indent=indent,
                                   break_long_words=True, break_on_hyphens=False) or [""]
    return lines


def _code(line, width):
    """A code line cut to ``width``, at a space where one is near the end; the continuations indented
    under the line's own indentation."""
    line = line.rstrip()
    indent = len(line) - len(line.lstrip(" "))
    hang = min(indent + 4, width // 2)
    pieces = []
    while len(line) > width:
        start = len(line) - len(line.lstrip(" "))
        cut = line.rfind(" ", start + 1, width + 1)
        if cut < max(start + 1, width * 2 // 3):
            cut = width
        pieces.append(line[:cut].rstrip())
        line = " " * hang + line[cut:].lstrip(" ")
    return pieces + [line]


def two_columns(left_lines, right_lines, width, titles):
    """Two sources side by side in lines of at most ``width`` characters: ``titles`` (left, right) above a
    rule, then each side's lines, code lines too long for their column wrapped as ``render`` wraps them."""
    if width < MIN_WIDTH:
        raise ValueError(f"the terminal is {width} columns wide; two columns need at least {MIN_WIDTH} (--width)")
    col = (width - len(SEPARATOR)) // 2
    heads = (_prose(titles[0], col), _prose(titles[1], col))
    lines = [f"{a:<{col}}{SEPARATOR}{b}".rstrip() for a, b in zip_longest(*heads, fillvalue="")]
    lines.append("-" * width)
    left = [piece for line in left_lines for piece in _code(line.expandtabs(4), col)]
    right = [piece for line in right_lines for piece in _code(line.expandtabs(4), col)]
    lines += [f"{a:<{col}}{SEPARATOR}{b}".rstrip() for a, b in zip_longest(left, right, fillvalue="")]
    return lines


def _cell(cell, width):
    if cell is None or cell.text is None:
        return _prose(f"({cell.note if cell is not None and cell.note else 'not defined'})", width)
    head = _prose(f"# {cell.note or cell.origin}", width)
    body = textwrap.dedent(cell.text.expandtabs(4)).rstrip("\n").splitlines()
    return head + [piece for line in body for piece in _code(line, width)]


def _numbers(view, report, missing_hint, width):
    if report is None:
        return _prose(f"No parity numbers were measured. {missing_hint}", width)
    lines = _prose(f"Measured {report.provenance()}.", width)
    groups = [("NumPy vs PyTorch", view.component.labels)]
    if view.component.book_labels:
        groups.append(("the book vs PyTorch", view.component.book_labels))
    for what, labels in groups:
        if not labels:
            lines += _prose(f"{what}: no parity test measures {view.component.name} directly.", width)
            continue
        summary = report.summary(labels)
        errors = "; ".join(f"{dtype} {entry['max_error']:.2e}" for dtype, entry in summary["dtypes"].items())
        t = summary["tests"]
        lines += _prose(f"{what}: {summary['status']}" + (f", largest relative error {errors}" if errors else "")
                        + f" ({t['passed']} tests passed, {t['failed']} failed, {t['skipped']} skipped; "
                        f"labels {', '.join(labels)})", width)
    return lines


def render(view, width, report, missing_hint, book=False):
    """The component as lines of at most ``width`` characters (``book``: the book's version on the right)."""
    if width < MIN_WIDTH:
        raise ValueError(f"the terminal is {width} columns wide; two columns need at least {MIN_WIDTH} (--width)")
    c = view.component
    right = "book" if book else "reference"
    if book and "book" not in view.objects:
        raise ValueError(f"--book: {view.book_line}")
    col = (width - len(SEPARATOR)) // 2
    lines = _prose(f"{c.heading}: {c.title} ({c.kind}, chapter {c.chapter})", width)
    lines += ["=" * width]
    lines += _prose(view.formula, width) + [""]
    lines += _prose(view.book_line, width)
    if not book and "book" in view.objects:
        lines += _prose("(--book shows it on the right instead of PyTorch's)", width)
    lines += [""]
    heads = (_prose(SIDE_TITLES["scratch"], col), _prose(SIDE_TITLES[right], col))
    for a, b in zip_longest(*heads, fillvalue=""):
        lines.append(f"{a:<{col}}{SEPARATOR}{b}".rstrip())
    for row in view.rows:
        lines.append(f"-- {row.name} ".ljust(width, "-")[:width])
        left, other = _cell(row.cells.get("scratch"), col), _cell(row.cells.get(right), col)
        for a, b in zip_longest(left, other, fillvalue=""):
            lines.append(f"{a:<{col}}{SEPARATOR}{b}".rstrip())
    lines += ["-" * width] + _fast_lines(view, width) + _numbers(view, report, missing_hint, width)
    return lines


def _fast_lines(view, width):
    """The fast plug-in in a few lines: its name and what it buys (its code is on the site's page)."""
    fast = view.fast
    if fast is None:
        return []
    name = f"{fast.obj.__module__}.{fast.obj.__qualname__}"
    lines = _prose(f"Fast plug-in: {name}, what the networks compute with by default (readable=True: the "
                   f"code above). Its code and what it changes are on the site's page. What it buys:", width)
    for text in fast.measured:
        lines += _prose(f"* {text}", width, indent="  ")
    return lines + ["-" * width]
