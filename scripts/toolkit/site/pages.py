"""The side-by-side reader as a static site: an index, one page per component, one stylesheet.

Plain HTML and one CSS file (pygments' classes and a print stylesheet in
it), no JavaScript, nothing fetched from elsewhere: the site works offline
and prints. Every text is escaped (``html.escape``); the code is escaped by
pygments. Each file is written atomically.

Hooks for tests and a headless browser: the code of each method row is in
``div.columns`` (``data-method`` names the row) holding ``div.col.scratch``,
``div.col.reference`` and, where the book has its own version,
``div.col.book``; each shown source is a ``pre`` with ``data-origin`` (the
qualified name it was read from). The measured errors are in
``table.parity``, the index in ``table.index``, the questions page's list in
``table.questions`` (one row per question, ``id`` its name).
"""
import html
import inspect
import os
import textwrap

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

from .catalog import CHAPTERS, NOT_COMPONENTS
from ..questions import QUESTIONS
from ..paths import write_text
from .source import SIDE_TITLES

__all__ = ["CSS_NAME", "INDEX_NAME", "QUESTIONS_NAME", "page_name", "write_site"]

INDEX_NAME = "index.html"
QUESTIONS_NAME = "questions.html"
CSS_NAME = "site.css"
PYGMENTS_STYLE = "default"
_LEXER = PythonLexer(stripnl=False, ensurenl=False)
_FORMATTER = HtmlFormatter(nowrap=True, style=PYGMENTS_STYLE)
_REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

BASE_CSS = """\
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1b1b1b; background: #fff;
       margin: 0 auto; padding: 0.75rem 1rem 3rem; max-width: 1800px; line-height: 1.45; }
a { color: #0b57d0; }
nav.top { font-size: 0.9rem; display: flex; gap: 1rem; flex-wrap: wrap; border-bottom: 1px solid #ddd;
          padding-bottom: 0.4rem; }
h1 { font-size: 1.6rem; margin: 0.6rem 0 0.2rem; }
h2 { font-size: 1.2rem; margin: 1.6rem 0 0.5rem; border-bottom: 1px solid #eee; }
h3 { font-size: 1rem; margin: 1.1rem 0 0.3rem; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.subtitle { margin: 0; color: #444; }
.measured { background: #f1f6ff; border-left: 4px solid #0b57d0; padding: 0.4rem 0.7rem; }
.measured.none { background: #fff6e5; border-left-color: #b26a00; }
.book-status { font-style: italic; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; word-break: normal; margin: 0;
      font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
      font-size: 12.5px; line-height: 1.35; tab-size: 4; }
.formula pre, .notes pre { background: #fafafa; border: 1px solid #e4e4e4; border-radius: 4px; padding: 0.5rem 0.7rem; }
.column-heads, .columns { display: grid; grid-auto-flow: column; grid-auto-columns: minmax(0, 1fr); gap: 0.75rem; }
.column-heads { position: sticky; top: 0; background: #fff; padding: 0.3rem 0; border-bottom: 2px solid #ccc;
                z-index: 1; }
.head { font-weight: 600; font-size: 0.9rem; }
.head small { display: block; font-weight: normal; color: #555; overflow-wrap: anywhere; }
.col { min-width: 0; }
.code.three pre { font-size: 11.5px; }
.col pre { border: 1px solid #ddd; border-radius: 4px; padding: 0.45rem 0.55rem; }
.col.empty pre, .col.empty { color: #777; }
.origin { margin: 0 0 0.2rem; font-size: 0.78rem; color: #555; overflow-wrap: anywhere; }
.col.empty .origin, .col .origin.inherited { font-style: italic; }
table { border-collapse: collapse; margin: 0.4rem 0 1rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.2rem 0.55rem; text-align: left; vertical-align: top; }
thead th { border-bottom: 2px solid #aaa; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; }
td.not-measured, td.passed, td.failed, td.skipped { white-space: nowrap; }
tbody.chapter th { background: #f3f3f3; font-size: 1rem; padding-top: 0.5rem; }
.passed { color: #1b6e20; }
.FAILED, .failed { color: #b00020; font-weight: 700; }
.not-measured, .skipped { color: #7a5a00; }
.title { color: #444; }
.table-note { font-size: 0.8rem; color: #555; margin-top: -0.6rem; }
.notes .where { font-size: 0.8rem; color: #555; margin: 0.6rem 0 0.15rem; }
.fast .changes pre, .fast-method pre { background: #fafafa; border: 1px solid #e4e4e4; border-radius: 4px;
                                       padding: 0.5rem 0.7rem; }
.fast ul.measured-ms li { margin-bottom: 0.3rem; }
.fast > h3, .fast .changes h3 { font-family: inherit; }
.notes pre + pre { margin-top: 0.3rem; }
@media (max-width: 760px) { .column-heads, .columns { grid-auto-flow: row; } .column-heads { position: static; }
  table.index { display: block; overflow-x: auto; } }
@media print {
  nav.top { display: none; }
  body { max-width: none; padding: 0; font-size: 10pt; }
  pre { font-size: 7.5pt; }
  .column-heads { position: static; }
  .columns { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
  a { color: inherit; text-decoration: none; }
  .highlight, .col pre { background: none !important; }
}
"""


def esc(text):
    return html.escape(str(text), quote=True)


def page_name(view):
    """The page's file name: '<scratch module>.<name>.html' (unique even where names differ only by case)."""
    module = view.objects["scratch"].__module__.rsplit(".", 1)[-1]
    return f"{module}.{view.component.name}.html"


def _stylesheet():
    """pygments' classes first, so that the rules of this site (line height, print) come after them and win."""
    return (f"/* pygments, style '{PYGMENTS_STYLE}' */\n{_FORMATTER.get_style_defs('.highlight')}\n\n"
            f"/* the side-by-side reader */\n{BASE_CSS}")


def _document(title, body):
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{esc(title)}</title>\n<link rel=\"stylesheet\" href=\"{CSS_NAME}\">\n</head>\n"
            f"<body>\n{body}\n</body>\n</html>\n")


def _error(value):
    return "0" if value == 0 else f"{value:.2e}"


def _measured_line(report, missing_hint):
    if report is None:
        return f'<p class="measured none">No parity numbers were measured. {esc(missing_hint)}</p>'
    t = report.tests
    counts = ", ".join(f"{t.get(k, 0)} {k}" for k in ("passed", "failed", "skipped"))
    return (f'<p class="measured">Numbers measured {esc(report.provenance())}: {esc(counts)} tests '
            f'(report {esc(report.path)}).</p>')


def _source_file(obj):
    path = inspect.getsourcefile(obj)
    line = inspect.getsourcelines(obj)[1]
    return f"{os.path.relpath(path, _REPO)}, line {line}"


def _cell(side, cell):
    classes = f"col {side}"
    if cell.text is None:
        text = cell.note or "(not defined)"
        return f'<div class="{classes} empty"><p class="origin">{esc(text)}</p></div>'
    if cell.note:
        origin = f'<p class="origin inherited">{esc(cell.note)}</p>'
    else:
        origin = f'<p class="origin">{esc(cell.origin)}</p>'
    text = textwrap.dedent(cell.text).rstrip("\n")  # a method from column 0, as the terminal shows it
    code = highlight(text, _LEXER, _FORMATTER).rstrip("\n")  # pygments ends the last line
    return (f'<div class="{classes}">{origin}<pre class="highlight" data-origin="{esc(cell.origin)}">'
            f'{code}</pre></div>')


def _code_section(view):
    sides = list(view.objects)
    heads = "".join(f'<div class="head {side}">{esc(SIDE_TITLES[side])}'
                    f'<small>{esc(view.objects[side].__module__)}.{esc(view.objects[side].__qualname__)} '
                    f'({esc(_source_file(view.objects[side]))})</small></div>' for side in sides)
    width = "three" if len(sides) == 3 else "two"
    parts = [f'<section class="code {width}"><h2>The code, side by side</h2>\n<div class="column-heads">{heads}</div>']
    for i, row in enumerate(view.rows):
        cells = "".join(_cell(side, row.cells[side]) for side in sides)
        parts.append(f'<section class="method" id="row-{i}"><h3>{esc(row.name)}</h3>\n'
                     f'<div class="columns" data-method="{esc(row.name)}">{cells}</div></section>')
    parts.append("</section>")
    return "\n".join(parts)


def _tolerance(rtol, atol=None):
    """The tolerance as the test gave it: 'rtol 1e-10', 'atol 0.002' (a bound of its own), or both."""
    parts = ([f"rtol {rtol:g}"] if rtol else []) + ([f"atol {atol:.3g}"] if atol is not None else [])
    return ", ".join(parts) or "exact"


def _parity_table(report, labels, caption):
    rows = report.rows(labels)
    if not rows:
        return ""
    body = "".join(
        f'<tr><td>{esc(r["label"])}</td><td>{esc(r["dtype"])}</td><td>{esc(r["quantity"])}</td>'
        f'<td class="num">{_error(r["max_error"])}</td><td class="num">{_tolerance(r["rtol"], r["atol"])}</td>'
        f'<td class="num">{r["checks"]}</td>'
        f'<td class="{"passed" if r["passed"] else "failed"}">{"yes" if r["passed"] else "NO"}</td></tr>'
        for r in rows)
    unnamed = any(r["quantity"] == "value" for r in rows)
    note = ('<p class="table-note">"value": a comparison the test does not name; "atol": a test that '
            "judges |a - b| against an absolute bound of its own (a truncation error, say) besides or "
            "instead of the relative tolerance.</p>") if unnamed or any(r["atol"] is not None for r in rows) else ""
    return (f'<table class="parity"><caption>{esc(caption)}</caption><thead><tr><th>component label</th>'
            '<th>dtype</th><th>quantity</th><th class="num">largest relative error</th>'
            '<th class="num">tolerance</th><th class="num">checks</th><th>passed</th></tr></thead>'
            f'<tbody>{body}</tbody></table>{note}')


def _tests_sentence(report, labels):
    summary = report.summary(labels)
    t = summary["tests"]
    names = ", ".join(labels)
    if summary["status"] == "not measured":
        return f"Not measured in this report: no test of {names} ran."
    counts = f"{t['passed']} passed, {t['failed']} failed, {t['skipped']} skipped"
    if summary["status"] == "skipped":
        return f"The tests of {names} were all skipped in this run ({counts}; pytest -rs says why)."
    if summary["dtypes"]:
        return f"Tests of {names}: {counts}."
    return (f"Tests of {names}: {counts}; they compare by their own checks (exact equality, or a check "
            "outside assert_close), so the report has no errors to show.")


def _numbers_section(view, report, missing_hint):
    component = view.component
    parts = ['<section class="numbers"><h2>Measured parity</h2>']
    if report is None:
        parts.append(f"<p>No numbers: {esc(missing_hint)}</p>")
    else:
        groups = [(component.labels, "NumPy (scratch) against PyTorch (reference)")]
        if component.book_labels:
            groups.append((component.book_labels, "The book's version (scratch.book) against PyTorch with the "
                                                  "book's semantics"))
        for labels, caption in groups:
            if not labels:
                parts.append(f"<p>{esc(caption)}: no parity test measures {esc(component.name)} directly.</p>")
                continue
            parts.append(_parity_table(report, labels, caption))
            parts.append(f"<p>{esc(_tests_sentence(report, labels))}</p>")
    parts.append("</section>")
    return "\n".join(parts)


def _notes_section(view):
    if not view.notes:
        return ('<section class="notes"><h2>How the book differs</h2>'
                "<p>The docstrings name no difference from the book.</p></section>")
    items, last = [], None
    for where, text in view.notes:
        if where != last:
            items.append(f'<p class="where">{esc(where)}</p>')
            last = where
        items.append(f"<pre>{esc(text)}</pre>")
    items = "".join(items)
    return f'<section class="notes"><h2>How the book differs</h2>{items}</section>'


def _fast_section(view):
    """The fast plug-in, where there is one: what it changes, what it buys, its own methods' code."""
    fast = view.fast
    if fast is None:
        return ""
    name = f"{fast.obj.__module__}.{fast.obj.__qualname__}"
    measured = "".join(f"<li>{esc(text)}</li>" for text in fast.measured) or "<li>(no measurement given)</li>"
    methods = "".join(
        f'<section class="fast-method"><h3>{esc(row.name)}</h3><p class="origin">{esc(row.cells["fast"].origin)}</p>'
        f'<pre class="highlight" data-origin="{esc(row.cells["fast"].origin)}">'
        f'{highlight(textwrap.dedent(row.cells["fast"].text).rstrip(chr(10)), _LEXER, _FORMATTER).rstrip(chr(10))}'
        f"</pre></section>" for row in fast.methods)
    return (f'<section class="fast" id="fast"><h2>The fast plug-in: {esc(name)}</h2>'
            f"<p>The networks compute with this subclass of the readable layer above by default "
            f"(<code>readable=True</code> builds the readable one); the parity suite proves the two equal. "
            f"Source: {esc(_source_file(fast.obj))}.</p>"
            f'<div class="changes"><h3>What it changes</h3><pre>{esc(fast.changes)}</pre></div>'
            f'<h3>What it buys</h3><ul class="measured-ms">{measured}</ul>'
            f"<h3>Its code (the methods it overrides)</h3>{methods}</section>")


def _page(view, report, missing_hint, previous, following):
    c = view.component
    nav = [f'<a href="{INDEX_NAME}">All components</a>', f'<a href="{QUESTIONS_NAME}">Questions</a>']
    if previous is not None:
        nav.append(f'<a href="{esc(page_name(previous))}" rel="prev">&larr; {esc(previous.component.heading)}</a>')
    if following is not None:
        nav.append(f'<a href="{esc(page_name(following))}" rel="next">{esc(following.component.heading)} &rarr;</a>')
    body = [
        f'<nav class="top">{"".join(nav)}</nav>',
        f"<header><h1>{esc(c.heading)}</h1>",
        f'<p class="subtitle">{esc(c.title)} &middot; {esc(c.kind)} &middot; chapter {c.chapter}: '
        f"{esc(CHAPTERS[c.chapter])}</p>",
        _measured_line(report, missing_hint), "</header>",
        f'<section class="formula"><h2>Formula</h2><pre>{esc(view.formula or "(no docstring)")}</pre></section>',
        f'<p class="book-status {esc(view.book_status)}">{esc(view.book_line)}'
        f'{" It is the third column." if view.book_status == "own" else ""}</p>',
        _code_section(view),
        _fast_section(view),
        _numbers_section(view, report, missing_hint),
        _notes_section(view),
        _asked_about(view),
    ]
    return _document(f"{c.heading} - side by side", "\n".join(body))


def _asked_about(view):
    """The study notes' questions whose experiments use this component, linked to the Questions page."""
    asked = [q for q in QUESTIONS if view.component.name in q.components]
    if not asked:
        return ""
    items = "".join(f'<li><a href="{QUESTIONS_NAME}#{esc(q.name)}">{esc(q.name)}</a>: {esc(q.english)}</li>'
                    for q in asked)
    return f'<section class="asked"><h2>Questions it answers</h2><ul>{items}</ul></section>'


def _questions(views):
    """The Questions page: each question of the study notes, its command and the components it involves."""
    pages = {view.component.name: page_name(view) for view in views}
    rows = []
    for q in QUESTIONS:
        links = ", ".join(f'<a href="{esc(pages[name])}">{esc(name)}</a>' if name in pages else esc(name)
                          for name in q.components)
        backends = " / ".join(q.backends)
        rows.append(f'<tr id="{esc(q.name)}"><td class="section">{q.chapter}</td>'
                    f'<td><code>{esc(q.name)}</code></td>'
                    f'<td><span lang="ko">{esc(q.korean)}</span><br>{esc(q.english)}</td>'
                    f'<td><code>python scripts/questions.py {esc(q.name)}</code><br>'
                    f'<span class="title">--backend {esc(backends)}</span></td><td>{links}</td></tr>')
    table = ('<table class="questions"><thead><tr><th>chapter</th><th>question</th><th>the notes\' words</th>'
             f'<th>the experiment</th><th>components</th></tr></thead><tbody>{"".join(rows)}</tbody></table>')
    body = [
        f'<nav class="top"><a href="{INDEX_NAME}">All components</a></nav>',
        "<header><h1>The learner's questions, answered by experiment</h1>",
        '<p class="subtitle">The study notes end each chapter with what the learner wondered about '
        "(✓ 궁금한 점) and what was hard (✓ 어려웠던 점). "
        "Each question has an experiment that measures the answer.</p></header>",
        "<p>Run one with <code>python scripts/questions.py NAME</code> (<code>--quick</code>: about a "
        "minute); it prints the measured tables and the conclusion they support, and draws a figure. "
        "docs/questions.md has every full run's numbers, figures and answers. The components link to their "
        "side-by-side pages.</p>",
        table,
    ]
    return _document("Questions - side by side", "\n".join(body))


def _status_cell(status):
    css = {"passed": "passed", "FAILED": "failed", "not measured": "not-measured", "skipped": "skipped"}.get(status, "")
    return f'<td class="{css}">{esc(status)}</td>'


def _book_cell(view, report, word):
    """'own version', with the book version's own parity status and errors where the report has them."""
    if view.book_status != "own" or report is None or not view.component.book_labels:
        return word
    summary = report.summary(view.component.book_labels)
    errors = ", ".join(f"{dtype} {_error(entry['max_error'])}" for dtype, entry in summary["dtypes"].items())
    return f"{word} ({summary['status']}{': ' + errors if errors else ''})"


def _index(views, report, missing_hint):
    book_words = {"own": "own version", "same": "reuses scratch's", "none": "\u2014"}
    groups = []
    for chapter, title in CHAPTERS.items():
        rows = []
        for view in (v for v in views if v.component.chapter == chapter):
            c = view.component
            cells = [f'<td class="section">{esc(c.section)}</td>',
                     f'<td><a href="{esc(page_name(view))}">{esc(c.name)}</a> '
                     f'<span class="title">{esc(c.title)}</span></td>', f"<td>{esc(c.kind)}</td>"]
            if report is None:
                cells += ['<td class="num">\u2014</td>', '<td class="num">\u2014</td>', _status_cell("not measured")]
            else:
                summary = report.summary(c.labels)
                for dtype in ("float64", "float32"):
                    entry = summary["dtypes"].get(dtype)
                    cells.append(f'<td class="num">{_error(entry["max_error"]) if entry else chr(0x2014)}</td>')
                cells.append(_status_cell(summary["status"]))
            cells.append(f"<td>{esc(_book_cell(view, report, book_words[view.book_status]))}</td>")
            rows.append(f'<tr id="{esc(c.name)}">{"".join(cells)}</tr>')
        if rows:
            groups.append(f'<tbody class="chapter"><tr><th colspan="7" scope="rowgroup">Chapter {chapter}: '
                          f'{esc(title)}</th></tr>{"".join(rows)}</tbody>')
    table = ('<table class="index"><thead><tr><th>section</th><th>component</th><th>kind</th>'
             '<th class="num">largest error, float64</th><th class="num">largest error, float32</th>'
             f'<th>parity</th><th>the book</th></tr></thead>{"".join(groups)}</table>')
    others = "".join(f"<li><code>{esc(name)}</code>: {esc(reason)}</li>"
                     for name, reason in sorted(NOT_COMPONENTS.items()))
    body = [
        f'<nav class="top"><a href="{QUESTIONS_NAME}">Questions: the learner\'s questions, answered by '
        f"experiment</a></nav>",
        "<header><h1>Deep Learning from Scratch, side by side</h1>",
        '<p class="subtitle">Every component in NumPy (scratch) beside its PyTorch mirror (reference), '
        "and the book's own version (scratch.book) where it differs, with the errors the parity suite "
        "measured between them.</p>",
        _measured_line(report, missing_hint), "</header>",
        "<p>The largest error is max |NumPy - PyTorch| / max |PyTorch| over every comparison of the "
        "component's tests. The tolerance is 1e-10 in float64 and 1e-5 in float32, except where a test "
        "sets its own (central differences, whole training runs): each page lists the tolerance of each "
        "quantity. A dash: this report has no errors for it (its tests compare exactly, or did not run).</p>",
        table,
        f"<h2>Not shown</h2><p>Public names of scratch that are not components:</p><ul>{others}</ul>",
    ]
    return _document("Deep Learning from Scratch, side by side", "\n".join(body))


def _write(path, text):
    write_text(path, text)


def write_site(out_dir, views, report, missing_hint):
    """Write the stylesheet, one page per view and the index into ``out_dir``; the number of files written."""
    _write(os.path.join(out_dir, CSS_NAME), _stylesheet())
    for i, view in enumerate(views):
        previous = views[i - 1] if i > 0 else None
        following = views[i + 1] if i + 1 < len(views) else None
        _write(os.path.join(out_dir, page_name(view)), _page(view, report, missing_hint, previous, following))
    _write(os.path.join(out_dir, INDEX_NAME), _index(views, report, missing_hint))
    _write(os.path.join(out_dir, QUESTIONS_NAME), _questions(views))
    return len(views) + 3
