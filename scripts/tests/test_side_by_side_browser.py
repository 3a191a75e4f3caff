"""The side-by-side site as a person sees it: rendered by headless Chromium, screenshotted and measured.

A module fixture runs the Affine parity tests with ``DLFS_PARITY_REPORT``
set (a real report) and builds the site from it with
``scripts/side_by_side.py``. Chromium then

* takes screenshots of the index and of the Affine page (1280x900), checked
  to be real, non-blank PNG images of that size;
* loads a copy of a page with a small script appended (the site itself has
  no JavaScript) that measures the layout with ``getBoundingClientRect``
  after the load and writes it into the DOM as JSON; ``--dump-dom`` returns
  it. The copy sits beside the original (``_measure-<page>``, removed
  afterwards), so its stylesheet and relative links are the site's.

What is checked is the design of ``scripts/toolkit/site/pages.py``'s stylesheet: in a
wide window the code columns of each method row (NumPy, PyTorch and, where
the book has its own version, the book) stand side by side, equally wide,
in that order, under their column heads; nothing overflows sideways (the
page, each ``pre``, the tables); in a window narrower than 760 px the
columns stack. A page made broken on purpose shows that the checks catch
what they look for. Every failure message carries the measurements.

Needs Chromium (``apt-get install chromium``); skipped where there is none.
"""
import html
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from .script_support import ONE_THREAD, PNG_SIGNATURE, REPO_ROOT, run_script, succeeded

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
BROWSER = next((path for path in map(shutil.which, BROWSERS) if path), None)
if BROWSER is None:
    pytest.skip("chromium not found: apt-get install chromium (or put chromium-browser or google-chrome on PATH)",
                allow_module_level=True)

WIDE, HEIGHT, NARROW = 1280, 900, 700  # the stylesheet stacks the columns below 760 px
SIDES = ("scratch", "reference", "book")
TWO_COLUMN_COMPONENT, THREE_COLUMN_COMPONENT = "Relu", "Affine"  # the book: reuses scratch's / has its own
PX = 1.0  # layout slack, in CSS pixels (sub-pixel rounding)

# Run in the page after the load: the layout, as JSON in <pre id="layout-result">.
MEASURE_JS = """
window.addEventListener("load", function () {
  function box(e) {
    var b = e.getBoundingClientRect();
    return {left: b.left, right: b.right, top: b.top, bottom: b.bottom, width: b.width};
  }
  function side(e) {
    return ["scratch", "reference", "book"].filter(function (s) { return e.classList.contains(s); })[0] || "?";
  }
  var root = document.documentElement, code = document.querySelector("section.code");
  var h1 = document.querySelector("h1");
  var result = {
    innerWidth: window.innerWidth, clientWidth: root.clientWidth, scrollWidth: root.scrollWidth,
    h1: h1 ? h1.textContent : null, codeClass: code ? code.className : null,
    heads: Array.from(document.querySelectorAll(".column-heads > .head")).map(function (h) {
      return Object.assign({side: side(h)}, box(h));
    }),
    rows: Array.from(document.querySelectorAll("div.columns")).map(function (row) {
      return {method: row.getAttribute("data-method"), box: box(row),
              cols: Array.from(row.children).filter(function (c) { return c.classList.contains("col"); })
                .map(function (c) { return Object.assign({side: side(c)}, box(c)); })};
    }),
    pres: Array.from(document.querySelectorAll("pre")).map(function (p) {
      var col = p.closest(".col"), style = getComputedStyle(p);
      var padding = parseFloat(style.paddingTop) + parseFloat(style.paddingBottom);
      return {where: col ? side(col) + " " + p.getAttribute("data-origin")
                         : "section." + ((p.closest("section") || {}).className || "?"),
              scrollWidth: p.scrollWidth, clientWidth: p.clientWidth, fontSize: parseFloat(style.fontSize),
              lines: p.textContent.split("\\n").length,
              shownLines: Math.round((p.clientHeight - padding) / parseFloat(style.lineHeight))};
    }),
    tables: Array.from(document.querySelectorAll("table")).map(function (t) {
      return Object.assign({cls: t.className, scrollWidth: t.scrollWidth}, box(t));
    }),
    links: Array.from(document.querySelectorAll("a[href]")).map(function (a) { return a.getAttribute("href"); })
  };
  var out = document.createElement("pre");
  out.id = "layout-result";
  out.textContent = JSON.stringify(result);
  document.body.appendChild(out);
});
"""


# ---------------------------------------------------------------------------
# Chromium, PNG files, the index's links
# ---------------------------------------------------------------------------

def chromium(profile, *args, timeout=120):
    """Run headless Chromium with its own profile folder; the CompletedProcess (stdout: bytes)."""
    command = [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--no-default-browser-check", "--disable-extensions", f"--user-data-dir={profile}", *args]
    result = subprocess.run(command, capture_output=True, timeout=timeout)
    assert result.returncode == 0, (f"{' '.join(command)}: exit {result.returncode}\n"
                                    f"{result.stderr.decode(errors='replace')[-3000:]}")
    return result


def png_facts(data):
    """Width, height and, of the decompressed image data, the number of distinct byte values and the share of
    bytes other than 0 and 255 (a blank page, filtered or not, is almost all 0s and 255s)."""
    assert data[:8] == PNG_SIGNATURE, f"not a PNG file (starts {data[:8]!r})"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13, f"the first chunk is {kind!r}, not IHDR"
    width, height = struct.unpack(">II", data[16:24])
    idat, at = [], 8
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        if kind == b"IDAT":
            idat.append(data[at + 8:at + 8 + length])
        at += 12 + length
    pixels = zlib.decompress(b"".join(idat))
    counts = [pixels.count(bytes([value])) for value in range(256)]
    return {"width": width, "height": height, "bytes": len(data), "distinct": sum(1 for c in counts if c),
            "inked": 1 - (counts[0] + counts[255]) / len(pixels)}


def blank_problems(facts):
    problems = []
    if facts["distinct"] < 64:
        problems.append(f"only {facts['distinct']} distinct byte values in the image data")
    if facts["inked"] < 0.005:
        problems.append(f"only {facts['inked']:.2%} of the image data is neither 0 nor 255")
    return problems


class LinkRows(HTMLParser):
    """The index's links, by the id of the table row (the component's name) that holds them."""

    def __init__(self):
        super().__init__()
        self.row, self.links = None, {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr":
            self.row = attrs.get("id")
        elif tag == "a" and self.row is not None and "href" in attrs:
            self.links.setdefault(self.row, attrs["href"])


# ---------------------------------------------------------------------------
# Measuring a page in the browser, and judging what was measured
# ---------------------------------------------------------------------------

def measure(profile, page, width, extra_css=""):
    """The layout of ``page`` (a Path) in a ``width`` x 900 window, measured by MEASURE_JS in a copy of it."""
    text = page.read_text(encoding="utf-8")
    assert text.count("</body>") == 1 and text.count("</head>") == 1, f"{page}: no single </head> and </body>"
    if extra_css:
        text = text.replace("</head>", f"<style>{extra_css}</style>\n</head>")
    text = text.replace("</body>", f"<script>{MEASURE_JS}</script>\n</body>")
    copy = page.with_name(f"_measure-{page.name}")
    assert not copy.exists(), f"{copy} is in the way"
    copy.write_text(text, encoding="utf-8")
    try:
        dom = chromium(profile, f"--window-size={width},{HEIGHT}", "--virtual-time-budget=5000", "--dump-dom",
                       copy.as_uri()).stdout.decode("utf-8")
    finally:
        copy.unlink()
    found = re.search(r'<pre id="layout-result">(.*?)</pre>', dom, re.DOTALL)
    assert found, f"{page.name}: the measuring script wrote nothing; the DOM ends:\n{dom[-2000:]}"
    return json.loads(html.unescape(found.group(1)))


def summary(m):
    """What was measured, in a few lines: for the failure messages and pytest -s."""
    lines = [f"window {m['innerWidth']} px (content {m['clientWidth']}), document scrollWidth {m['scrollWidth']}; "
             f"h1 {m['h1']!r}; {m['codeClass']}"]
    if m["heads"]:
        lines.append("heads: " + ", ".join(f"{h['side']} {h['left']:.0f}-{h['right']:.0f}" for h in m["heads"]))
    for row in m["rows"]:
        lines.append(f"row {row['method']!r} {row['box']['left']:.0f}-{row['box']['right']:.0f}: " + ", ".join(
            f"{c['side']} x {c['left']:.0f}-{c['right']:.0f} y {c['top']:.0f}-{c['bottom']:.0f}"
            for c in row["cols"]))
    for p in m["pres"]:
        lines.append(f"pre {p['where']}: scrollWidth {p['scrollWidth']} clientWidth {p['clientWidth']}, "
                     f"{p['fontSize']:g}px, {p['lines']} lines shown on {p['shownLines']}")
    for t in m["tables"]:
        lines.append(f"table.{t['cls']}: x {t['left']:.0f}-{t['right']:.0f}, scrollWidth {t['scrollWidth']}")
    return "\n".join(lines)


def page_fits(m):
    """The page does not scroll sideways and every table's box is inside the window."""
    problems = []
    if m["scrollWidth"] > m["clientWidth"]:
        problems.append(f"the page scrolls sideways: scrollWidth {m['scrollWidth']} > {m['clientWidth']} px")
    for t in m["tables"]:
        if t["left"] < -PX or t["right"] > m["clientWidth"] + PX:
            problems.append(f"table.{t['cls']} does not fit the window: x {t['left']:.0f}-{t['right']:.0f} "
                            f"in {m['clientWidth']} px")
    return problems


def overflow_problems(m):
    """Anything wider than the window or than its box: the page itself, a ``pre``, a table."""
    problems = page_fits(m)
    for p in m["pres"]:
        if p["scrollWidth"] > p["clientWidth"] + 1:
            problems.append(f"pre ({p['where']}) overflows: scrollWidth {p['scrollWidth']} > "
                            f"clientWidth {p['clientWidth']}")
    for t in m["tables"]:
        if t["scrollWidth"] > t["width"] + 1:
            problems.append(f"table.{t['cls']} overflows its own box: scrollWidth {t['scrollWidth']} > "
                            f"{t['width']:.0f} px")
    return problems


def columns_in_order(row, sides, problems):
    """True if the row holds exactly ``sides``' columns in that order, else a problem noted."""
    found = [c["side"] for c in row["cols"]]
    if found != list(sides):
        problems.append(f"row {row['method']!r}: columns {found}, expected {list(sides)}")
        return False
    return True


def side_by_side_problems(m, sides):
    """The wide design: each method row holds ``sides`` in that order, side by side, equal, under the heads."""
    problems, n = [], len(sides)
    least = 0.4 if n == 2 else 0.28  # of the row's width (an equal share is 0.49 or 0.32 with the gaps)
    heads = [h["side"] for h in m["heads"]]
    if heads != list(sides):
        problems.append(f"column heads {heads}, expected {list(sides)}")
    if not m["rows"]:
        problems.append("no div.columns rows")
    for row in m["rows"]:
        name, cols, box = row["method"], row["cols"], row["box"]
        if not columns_in_order(row, sides, problems):
            continue
        for c in cols:
            if abs(c["top"] - cols[0]["top"]) > 2:
                problems.append(f"row {name!r}: {c['side']} starts at y {c['top']:.0f}, "
                                f"{cols[0]['side']} at {cols[0]['top']:.0f}: not side by side")
            if c["width"] < least * box["width"]:
                problems.append(f"row {name!r}: {c['side']} is {c['width']:.0f} px of a {box['width']:.0f} px row "
                                f"(< {least:.0%})")
            if abs(c["width"] - cols[0]["width"]) > 2:
                problems.append(f"row {name!r}: {c['side']} is {c['width']:.0f} px wide, {cols[0]['side']} "
                                f"{cols[0]['width']:.0f}: not equal columns")
            if c["left"] < box["left"] - PX or c["right"] > box["right"] + PX:
                problems.append(f"row {name!r}: {c['side']} sticks out of its row")
        for left, right in zip(cols, cols[1:]):
            if left["right"] > right["left"] + PX:
                problems.append(f"row {name!r}: {left['side']} (x to {left['right']:.0f}) overlaps or is not left "
                                f"of {right['side']} (x from {right['left']:.0f})")
        if heads == list(sides):
            for h, c in zip(m["heads"], cols):
                if abs(h["left"] - c["left"]) > PX or abs(h["width"] - c["width"]) > PX:
                    problems.append(f"row {name!r}: {c['side']} column (x {c['left']:.0f}, {c['width']:.0f} px) is "
                                    f"not under its head (x {h['left']:.0f}, {h['width']:.0f} px)")
    return problems


def stacked_problems(m, sides):
    """The narrow design (max-width 760px): each column takes the row's width, one below the other."""
    problems = []
    for row in m["rows"]:
        name, cols, box = row["method"], row["cols"], row["box"]
        if not columns_in_order(row, sides, problems):
            continue
        for c in cols:
            if c["width"] < box["width"] - 2 * PX:
                problems.append(f"row {name!r}: {c['side']} is {c['width']:.0f} px of a {box['width']:.0f} px row")
        for above, below in zip(cols, cols[1:]):
            if below["top"] < above["bottom"] - PX:
                problems.append(f"row {name!r}: {below['side']} (y from {below['top']:.0f}) is not below "
                                f"{above['side']} (y to {above['bottom']:.0f})")
    return problems


def judged(problems, m):
    return "\n".join(problems) + "\n--- measured ---\n" + summary(m)


# ---------------------------------------------------------------------------
# Fixtures: a real report from a small run, the site, the pages to look at
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def site(tmp_path_factory):
    work = tmp_path_factory.mktemp("browser")
    report = work / "report.json"
    env = {**os.environ, **ONE_THREAD, "DLFS_PARITY_REPORT": str(report)}
    result = subprocess.run([sys.executable, "-m", "pytest", "parity_tests/test_layers.py", "-k", "Affine", "-q",
                             "-p", "no:cacheprovider"], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert report.is_file(), f"the suite wrote no report:\n{result.stdout[-3000:]}"
    out = work / "site"
    succeeded(run_script("side_by_side.py", "--report", report, "--out", out, timeout=300))
    assert (out / "index.html").is_file()
    return out


@pytest.fixture(scope="module")
def profile(tmp_path_factory):
    return tmp_path_factory.mktemp("chromium-profile")


@pytest.fixture(scope="module")
def page_of(site):
    """The page of a component, found by following the index's link in the component's row."""
    parser = LinkRows()
    parser.feed((site / "index.html").read_text(encoding="utf-8"))

    def page(name):
        assert name in parser.links, f"the index has no row for {name} (rows: {sorted(parser.links)})"
        path = site / parser.links[name]
        assert path.is_file(), f"the index links {name} to {parser.links[name]}, which is not there"
        return path
    return page


@pytest.fixture(scope="module")
def narrow_affine(profile, page_of):
    m = measure(profile, page_of(THREE_COLUMN_COMPONENT), NARROW)
    print(f"\n{THREE_COLUMN_COMPONENT} at {NARROW} px:\n{summary(m)}")
    return m


# ---------------------------------------------------------------------------
# Screenshots
# ---------------------------------------------------------------------------

def test_the_blank_check_rejects_a_blank_image():
    width, height = 1280, 900
    rows = b"".join(b"\x00" + b"\xff" * (3 * width) for _ in range(height))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    white = (PNG_SIGNATURE + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
             + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    facts = png_facts(white)
    assert (facts["width"], facts["height"]) == (width, height)
    assert len(blank_problems(facts)) == 2, facts


@pytest.mark.parametrize("component", [None, THREE_COLUMN_COMPONENT], ids=["index", THREE_COLUMN_COMPONENT])
def test_screenshot_is_a_full_width_picture_of_the_page(site, profile, page_of, tmp_path, component):
    page = site / "index.html" if component is None else page_of(component)
    png = tmp_path / f"{page.stem}.png"
    chromium(profile, "--hide-scrollbars", f"--window-size={WIDE},{HEIGHT}", f"--screenshot={png}", page.as_uri())
    assert png.is_file(), f"chromium wrote no screenshot of {page.name}"
    facts = png_facts(png.read_bytes())
    print(f"\n{png}: {facts}")
    assert (facts["width"], facts["height"]) == (WIDE, HEIGHT), facts
    assert not blank_problems(facts), (blank_problems(facts), facts)


# ---------------------------------------------------------------------------
# Layout in a wide window
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("component, sides", [(TWO_COLUMN_COMPONENT, SIDES[:2]), (THREE_COLUMN_COMPONENT, SIDES)],
                         ids=["two-columns", "three-columns"])
def test_code_columns_stand_side_by_side_and_nothing_overflows(site, profile, page_of, component, sides):
    page = page_of(component)
    m = measure(profile, page, WIDE)
    print(f"\n{page.name} at {WIDE} px:\n{summary(m)}")
    assert m["h1"] and m["h1"].endswith(component), judged([f"h1 {m['h1']!r}"], m)
    assert m["codeClass"] == f"code {'two' if len(sides) == 2 else 'three'}", judged(["section.code"], m)
    problems = side_by_side_problems(m, sides) + overflow_problems(m)
    if component == THREE_COLUMN_COMPONENT:  # it has numbers in the report: its table must be there
        if [t["cls"] for t in m["tables"]].count("parity") < 1:
            problems.append("no table.parity")
    small = [p for p in m["pres"] if p["fontSize"] < 11]
    problems += [f"pre ({p['where']}) in {p['fontSize']:g}px type" for p in small]
    missing = [href for href in m["links"] if not (page.parent / href.split("#")[0]).is_file()]
    problems += [f"link to {href}: no such file" for href in missing]
    assert not problems, judged(problems, m)


def test_index_fits_the_window_and_every_link_leads_to_a_page(site, profile):
    m = measure(profile, site / "index.html", WIDE)
    print(f"\nindex.html at {WIDE} px:\n{summary(m)}")
    problems = overflow_problems(m)
    if [t["cls"] for t in m["tables"]] != ["index"]:
        problems.append(f"tables {[t['cls'] for t in m['tables']]}, expected one table.index")
    pages = sorted(p.name for p in site.glob("*.html") if p.name != "index.html")
    if sorted(m["links"]) != pages:
        problems.append(f"links {len(m['links'])}, pages {len(pages)}: not one link per page "
                        f"({sorted(set(pages) ^ set(m['links']))[:10]})")
    problems += [f"link to {href}: no such file" for href in m["links"] if not (site / href).is_file()]
    assert not problems, judged(problems, m)


# ---------------------------------------------------------------------------
# Layout in a narrow window: the stylesheet stacks the columns
# ---------------------------------------------------------------------------

def test_in_a_narrow_window_the_columns_stack_and_the_code_wraps(narrow_affine):
    m = narrow_affine
    problems = stacked_problems(m, SIDES)
    problems += [p for p in overflow_problems(m) if p.startswith("pre ")]
    assert not problems, judged(problems, m)


@pytest.mark.parametrize("component", [THREE_COLUMN_COMPONENT, None], ids=[THREE_COLUMN_COMPONENT, "index"])
def test_in_a_narrow_window_the_tables_fit(site, profile, page_of, narrow_affine, component):
    m = narrow_affine if component else measure(profile, site / "index.html", NARROW)
    problems = page_fits(m)
    assert not problems, judged(problems, m)


# ---------------------------------------------------------------------------
# The checks can fail: a page broken on purpose
# ---------------------------------------------------------------------------

BROKEN_CSS = (".columns { display: block; } .col { width: 300px; } "  # columns stacked and narrow
              "pre { white-space: pre; overflow-wrap: normal; } "  # code that does not wrap
              "table.parity { min-width: 1500px; }")  # a table wider than the window


def test_the_checks_catch_a_page_broken_on_purpose(profile, page_of):
    m = measure(profile, page_of(THREE_COLUMN_COMPONENT), WIDE, extra_css=BROKEN_CSS)
    problems = side_by_side_problems(m, SIDES) + overflow_problems(m)
    text = "\n".join(problems)
    for words in ("not side by side", "overflows: scrollWidth", "the page scrolls sideways",
                  "table.parity does not fit", "not under its head"):
        assert words in text, f"the broken page was not caught ({words!r}):\n{judged(problems, m)}"
