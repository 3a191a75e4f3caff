"""scripts/side_by_side.py: the side-by-side reader, built from a small real parity run.

A module fixture runs three small parity test classes with
``DLFS_PARITY_REPORT`` set (a real report, written by the suite) and builds
the site from it; the tests read the pages back. Nothing here is typed in:
the expected code is ``inspect.getsource`` of the imported objects, the
expected numbers are those of the report the run wrote.
"""
import importlib
import inspect
import json
import os
import re
import textwrap
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

import reference
import scratch
import scratch.book
import scratch.fast
from .script_support import ONE_THREAD, REPO_ROOT, assert_usage_error, run_script, succeeded, \
    unwritable_folder
from toolkit.site import catalog

# Small test classes whose comparisons the report records: a layer with a book variant, and a chapter-8 layer.
MEASURED_TESTS = ["parity_tests/test_layers.py::TestAffine", "parity_tests/test_book_variants.py::TestAffine",
                  "parity_tests/test_chapter8_layers.py::TestTanh"]
VOID = {"meta", "link", "br", "hr", "img", "input", "col", "wbr"}


# ---------------------------------------------------------------------------
# A minimal DOM, enough to find elements by tag and class
# ---------------------------------------------------------------------------

class Node:
    def __init__(self, tag, attrs, parent=None):
        self.tag, self.attrs, self.parent, self.children = tag, dict(attrs), parent, []

    @property
    def classes(self):
        return set((self.attrs.get("class") or "").split())

    def text(self):
        return "".join(child if isinstance(child, str) else child.text() for child in self.children)

    def find_all(self, tag=None, cls=()):
        cls = {cls} if isinstance(cls, str) else set(cls)
        for child in self.children:
            if isinstance(child, Node):
                if (tag is None or child.tag == tag) and cls <= child.classes:
                    yield child
                yield from child.find_all(tag, cls)

    def find(self, tag=None, cls=()):
        return next(self.find_all(tag, cls), None)


class TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = self.current = Node("#document", {})

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        assert node is not None, f"</{tag}> closes nothing"
        self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse(path):
    builder = TreeBuilder()
    builder.feed(Path(path).read_text(encoding="utf-8"))
    builder.close()
    assert builder.current is builder.root, f"{path}: unclosed <{builder.current.tag}>"
    return builder.root


def resolve(qualname):
    """The object named 'scratch.layers.Affine.backward': the longest importable module, then attributes."""
    parts = qualname.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ModuleNotFoundError:
            continue
        for name in parts[i:]:
            obj = getattr(obj, name)
        return obj
    raise AssertionError(f"cannot resolve {qualname}")


def book_has_own(name):
    book = getattr(scratch.book, name, None)
    return book is not None and book is not getattr(scratch, name)


def error_text(value):
    return "0" if value == 0 else f"{value:.2e}"


# ---------------------------------------------------------------------------
# Fixtures: a real report from a small run, and the site built from it
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def report(tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "parity_report.json"
    env = {**os.environ, **ONE_THREAD, "DLFS_PARITY_REPORT": str(path)}
    result = subprocess.run([sys.executable, "-m", "pytest", *MEASURED_TESTS, "-q", "-p", "no:cacheprovider"],
                            cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert path.is_file(), f"the suite wrote no report:\n{result.stdout[-3000:]}"
    return path, json.loads(path.read_text())


@pytest.fixture(scope="module")
def site(report, tmp_path_factory):
    out = tmp_path_factory.mktemp("site") / "site"
    stdout = succeeded(run_script("side_by_side.py", "--out", out, "--report", report[0], timeout=300))
    assert re.search(r"site written to .*index\.html .* in \d+\.\d s", stdout), stdout
    return out


@pytest.fixture(scope="module")
def pages(site):
    return {path.name: parse(path) for path in site.glob("*.html")}


def component_pages(pages):
    """{component name: page tree} from the index's links."""
    index = pages["index.html"]
    found = {}
    for row in index.find("table", "index").find_all("tr"):
        link = row.find("a")
        if link is not None:
            found[link.text()] = pages[link.attrs["href"]]
    return found


def expected_summary(data, labels):
    """{dtype: largest error} over the report entries of ``labels`` (``label[Prefix]`` keeps its quantities)."""
    found = {}
    for text in labels:
        label, prefix = catalog.parse_label(text)
        for dtype, entry in data["components"].get(label, {}).items():
            for quantity, q in entry["quantities"].items():
                if prefix is None or quantity == prefix or quantity.startswith(prefix + " "):
                    found[dtype] = max(found.get(dtype, 0.0), q["max_error"])
    return found


# ---------------------------------------------------------------------------
# The catalog
# ---------------------------------------------------------------------------

def test_catalog_covers_every_public_class_and_function_of_scratch():
    public = {name for name in scratch.__all__
              if inspect.isclass(getattr(scratch, name)) or inspect.isfunction(getattr(scratch, name))}
    names = [c.name for c in catalog.CATALOG]
    assert len(names) == len(set(names)), "a component is listed twice"
    listed, excluded = set(names), set(catalog.NOT_COMPONENTS)
    assert not listed & excluded, f"both a component and not one: {sorted(listed & excluded)}"
    assert not public - listed - excluded, f"neither in the catalog nor explained: {sorted(public - listed - excluded)}"
    assert not excluded - public, f"NOT_COMPONENTS names what scratch does not export: {sorted(excluded - public)}"
    assert all(reason.strip() for reason in catalog.NOT_COMPONENTS.values())


def test_every_catalog_entry_exists_in_scratch_and_reference():
    for c in catalog.CATALOG:
        ours, theirs = getattr(scratch, c.name, None), getattr(reference, c.name, None)
        assert ours is not None and theirs is not None, f"{c.name} is missing from scratch or reference"
        assert ours is not theirs, f"reference.{c.name} is scratch's object: nothing to compare"
        assert inspect.isclass(ours) == inspect.isclass(theirs), c.name
        assert c.kind in catalog.KINDS and c.chapter in catalog.CHAPTERS and c.title, c
        assert catalog.section_key(c.section)[0] == c.chapter, c


def test_catalog_sections_agree_with_the_docstrings():
    """Where the first paragraph of the docstring cites a section, '(5.6.2)', the catalog gives it or a subsection."""
    for c in catalog.CATALOG:
        first = (inspect.getdoc(getattr(scratch, c.name)) or "").split("\n\n")[0]
        cited = [s for s in re.findall(r"\((\d\.\d+(?:\.\d+)?)\b", first) if int(s[0]) in catalog.CHAPTERS]
        if cited:
            assert any(c.section == s or c.section.startswith(s + ".") for s in cited), (c.name, c.section, cited)


def known_labels():
    """The report labels the tests can produce: default ones (module, module.Class; the scripts' tests give
    outcomes) and ``component=`` ones (f-strings as prefixes), and each test module's text (to look up
    quantity prefixes)."""
    labels, prefixes, texts = set(), set(), {}
    for path in [*(REPO_ROOT / "parity_tests").glob("test_*.py"), *(REPO_ROOT / "scripts" / "tests").glob("test_*.py")]:
        module = path.stem.removeprefix("test_")
        text = texts[module] = path.read_text(encoding="utf-8")
        if re.search(r"^def test_", text, re.MULTILINE):
            labels.add(module)
        labels.update(f"{module}.{name}" for name in re.findall(r"^class Test(\w+)", text, re.MULTILINE))
        labels.update(re.findall(r"component=\"([\w.]+)\"", text))
        labels.update(re.findall(r"(?:assert_sum_close|_close)\([^\n]*\"([a-z_0-9]+\.\w+)\"\)", text))
        prefixes.update(re.findall(r"component=f\"([\w.]+)\{", text))
    return labels, prefixes, texts


def test_every_catalog_label_is_one_the_parity_tests_produce():
    labels, prefixes, texts = known_labels()
    assert "layers.Affine" in labels and "optimizers" in labels and "properties.Convolution" in labels
    for c in catalog.CATALOG:
        for text in c.labels + c.book_labels:
            label, quantity = catalog.parse_label(text)
            assert label in labels or any(label.startswith(p) for p in prefixes), \
                f"{c.name}: no test class, module or component= gives the label {label!r}"
            if quantity is not None:
                assert quantity in texts[label.split(".")[0]], f"{c.name}: {quantity!r} not in the tests of {label}"


# ---------------------------------------------------------------------------
# The site
# ---------------------------------------------------------------------------

def test_every_component_has_a_page_and_every_link_resolves(site, pages):
    by_component = component_pages(pages)
    assert set(by_component) == {c.name for c in catalog.CATALOG}
    for c in catalog.CATALOG:
        assert by_component[c.name].find("h1").text() == f"{c.section} {c.name}"
    names = [path.name.lower() for path in site.iterdir()]
    assert len(names) == len(set(names)), "two files differ only by case"
    for name, tree in pages.items():
        assert tree.find("script") is None, f"{name} has a script"
        for link in tree.find_all("link"):
            assert link.attrs["href"] == "site.css", (name, link.attrs)
        for a in tree.find_all("a"):
            target = a.attrs["href"].split("#")[0]
            assert not re.match(r"\w+:", target), f"{name} links outside the site: {target}"
            assert (site / target).is_file(), f"{name} links to {target}, which does not exist"


def test_the_questions_page_lists_each_question_with_its_components_linked_both_ways(pages):
    from toolkit.questions import QUESTIONS

    assert pages["index.html"].find("a").attrs["href"] == "questions.html"
    table = pages["questions.html"].find("table", "questions")
    rows = {row.attrs["id"]: row for row in table.find_all("tr") if "id" in row.attrs}
    assert list(rows) == [q.name for q in QUESTIONS]
    by_component = component_pages(pages)
    for q in QUESTIONS:
        text = rows[q.name].text()
        assert q.korean in text and q.english in text and f"python scripts/questions.py {q.name}" in text
        links = {a.text(): a.attrs["href"] for a in rows[q.name].find_all("a")}
        assert list(links) == list(q.components), q.name
        for name, href in links.items():
            assert pages[href] is by_component[name]
            back = [a.attrs["href"] for a in pages[href].find("section", "asked").find_all("a")]
            assert f"questions.html#{q.name}" in back, (name, back)


def test_the_stylesheet_wraps_code_in_its_column_highlights_and_prints(site):
    css = (site / "site.css").read_text()
    assert "white-space: pre-wrap" in css and "overflow-wrap: anywhere" in css
    assert "@media print" in css
    assert ".highlight .k" in css  # pygments' classes (keywords), written into the site's own stylesheet
    assert "url(" not in css and "@import" not in css


def test_index_lists_every_component_by_chapter_with_its_errors(pages, report):
    _, data = report
    index = pages["index.html"].find("table", "index")
    chapters = [group.find("th").text() for group in index.find_all("tbody", "chapter")]
    assert chapters == [f"Chapter {n}: {title}" for n, title in catalog.CHAPTERS.items()]
    rows = {row.attrs["id"]: row for row in index.find_all("tr") if "id" in row.attrs}
    measured = 0
    for c in catalog.CATALOG:
        cells = [td.text() for td in rows[c.name].find_all("td")]
        assert cells[0] == c.section
        expected = expected_summary(data, c.labels)
        assert cells[3] == (error_text(expected["float64"]) if "float64" in expected else "\u2014"), c.name
        assert cells[4] == (error_text(expected["float32"]) if "float32" in expected else "\u2014"), c.name
        if expected:
            measured += 1
            assert cells[5] == "passed", (c.name, cells)
        assert cells[6].startswith("own version" if book_has_own(c.name) else
                                   "reuses scratch's" if hasattr(scratch.book, c.name) else "\u2014"), c.name
        book_errors = expected_summary(data, c.book_labels)
        for dtype, error in book_errors.items():
            assert f"{dtype} {error_text(error)}" in cells[6], (c.name, cells[6])
    assert measured >= 2, "the small run measured nothing the index shows"


def test_each_page_shows_both_implementations_method_by_method(pages):
    for name, page in component_pages(pages).items():
        rows = list(page.find_all("div", "columns"))
        assert rows, f"{name}: no code"
        sides = {"scratch", "reference"} | ({"book"} if book_has_own(name) else set())
        for row in rows:
            method = row.attrs["data-method"]
            cols = [child for child in row.children if isinstance(child, Node)]
            assert {side for col in cols for side in col.classes & {"scratch", "reference", "book"}} == sides, \
                (name, method)
            assert all("col" in col.classes for col in cols) and len(cols) == len(sides), (name, method)
            for pre in row.find_all("pre"):
                origin = pre.attrs["data-origin"]
                expected_name = name if method in ("class", "class attributes") else method
                assert origin.rsplit(".", 1)[-1] == expected_name, f"{name}: row {method} shows {origin}"
        assert rows[0].attrs["data-method"] == (name if inspect.isfunction(getattr(scratch, name)) else "class")


def test_the_backward_row_holds_both_backward_methods(pages):
    page = component_pages(pages)["Affine"]
    row = next(r for r in page.find_all("div", "columns") if r.attrs["data-method"] == "backward")
    origins = {side: row.find("div", ("col", side)).find("pre").attrs["data-origin"]
               for side in ("scratch", "reference", "book")}
    assert origins == {"scratch": "scratch.layers.Affine.backward", "reference": "reference.layers.Affine.backward",
                       "book": "scratch.book.layers.Affine.backward"}
    texts = {side: row.find("div", ("col", side)).find("pre").text() for side in origins}
    assert "dout @ self.W" in texts["scratch"] and "backprop(" in texts["reference"]


def test_the_code_shown_is_the_code_that_ran(pages):
    shown = 0
    for name, page in pages.items():
        for row in page.find_all("div", "columns"):
            for pre in row.find_all("pre"):
                obj, text = resolve(pre.attrs["data-origin"]), pre.text()
                source = inspect.getsource(obj)
                if row.attrs["data-method"] == "class":  # the class line and docstring, up to the first method
                    assert text and source.startswith(text), f"{name}: {pre.attrs['data-origin']}"
                    assert re.match(r"\s*(@|def |async def )", source[len(text):].lstrip("\n")) or \
                        len(text) >= len(source.rstrip()), f"{name}: the header of {pre.attrs['data-origin']} is cut"
                elif row.attrs["data-method"] == "class attributes":  # statements between the methods
                    assert all(line in source for line in text.splitlines()), name
                else:
                    assert text == textwrap.dedent(source).rstrip("\n"), \
                        f"{name}: {pre.attrs['data-origin']} differs from its source"
                shown += 1
    assert shown > 4 * len(catalog.CATALOG)


def test_pages_carry_the_measured_numbers_and_where_they_come_from(pages, report):
    _, data = report
    for name, page in pages.items():
        if name == "questions.html":  # the study notes' questions: experiments, no parity numbers
            continue
        line = page.find("p", "measured")
        assert line is not None, name
        for fact in (data["measured_at"], f"NumPy {data['versions']['numpy']}", f"PyTorch {data['versions']['torch']}"):
            assert fact in line.text(), f"{name}: {fact!r} not in {line.text()!r}"
    by_component = component_pages(pages)
    with_numbers = 0
    for c in catalog.CATALOG:
        tables = list(by_component[c.name].find_all("table", "parity"))
        for labels in (c.labels, c.book_labels):
            if expected_summary(data, labels):
                table = tables.pop(0)
                rows = [[td.text() for td in tr.find_all("td")] for tr in table.find("tbody").find_all("tr")]
                assert {row[1] for row in rows} >= {"float64", "float32"}, c.name
                for label_text, dtype, quantity, error, rtol, checks, passed in rows:
                    q = data["components"][catalog.parse_label(label_text)[0]][dtype]["quantities"][quantity]
                    assert error == error_text(q["max_error"]) and checks == str(q["checks"]), (c.name, quantity)
                    assert passed == ("yes" if q["passed"] else "NO")
                with_numbers += 1
        assert not tables, f"{c.name}: a numbers table without numbers in the report"
    assert with_numbers >= 3  # Affine, the book's Affine, Tanh


def test_how_the_book_differs_quotes_the_docstrings(pages):
    page = component_pages(pages)["Affine"]
    notes = page.find("section", "notes")
    text = notes.text()
    assert "the book stores the transpose" in text  # scratch.Affine's docstring
    assert all(re.search(r"\bbook", pre.text(), re.IGNORECASE) or "Affine" in pre.text()
               for pre in notes.find_all("pre"))
    same = component_pages(pages)["Relu"].find("p", "book-status")
    assert "reuses it unchanged" in same.text()


# ---------------------------------------------------------------------------
# The terminal, the missing report, --run-tests and the errors
# ---------------------------------------------------------------------------

def two_column_lines(stdout, width):
    lines = stdout.splitlines()
    assert lines and all(len(line) <= width for line in lines), max(lines, key=len)
    col = (width - 3) // 2
    return [(line[:col], line[col + 3:]) for line in lines if line[col:col + 3] == " | "]


def test_terminal_shows_both_sides_within_the_width(report):
    stdout = succeeded(run_script("side_by_side.py", "Affine", "--width", "100", "--report", report[0]))
    pairs = two_column_lines(stdout, 100)
    assert any(left.strip() == "def backward(self, dout):" and right.strip() == "def backward(self, dout):"
               for left, right in pairs), stdout
    assert any("x @ self.W.T" in left for left, _ in pairs) and any("F.linear" in right for _, right in pairs)
    assert report[1]["measured_at"] in stdout and "largest relative error" in stdout


def test_terminal_shows_im2col_beside_conv2d_and_the_fast_plug_in(report):
    """The readable convolution (im2col, one product, col2im) beside F.conv2d; the fast plug-in after them."""
    stdout = succeeded(run_script("side_by_side.py", "Convolution", "--width", "120", "--report", report[0]))
    rows = {}  # method -> (left column, right column)
    for chunk in re.split(r"^-- ", stdout, flags=re.MULTILINE)[1:]:
        method, body = chunk.split(" ", 1)
        lines = body.splitlines()[1:]  # a right column that ends first leaves lines without " | "
        rows[method] = ("\n".join(line[:58] for line in lines), "\n".join(line[61:] for line in lines))
    assert "im2col(" in rows["forward"][0] and "F.conv2d(" in rows["forward"][1], rows["forward"]
    assert "col2im(" in rows["backward"][0] and "backprop(" in rows["backward"][1], rows["backward"]
    assert "Fast plug-in: scratch.fast.convolution.Convolution" in stdout
    assert re.search(r"\d -> \d+\.\d ms", stdout), stdout


def test_the_fast_plug_ins_have_their_own_section(pages):
    """Every class of scratch.fast has a section on its component's page: what it changes, the
    milliseconds it buys, the code of each method it overrides; components without one have none."""
    pages_by_name = component_pages(pages)
    for name, page in pages_by_name.items():
        section = page.find("section", "fast")
        if name not in scratch.fast.__all__:
            assert section is None, f"{name} has a fast section but no plug-in"
            continue
        fast = getattr(scratch.fast, name)
        assert section is not None, f"{name}: no section for {fast.__module__}.{name}"
        assert f"{fast.__module__}.{name}" in section.find("h2").text()
        assert inspect.getdoc(fast).splitlines()[0] in section.find("div", "changes").text()
        items = [item.text() for item in section.find("ul", "measured-ms").find_all("li")]
        assert items and all(re.search(r"\d ms", text) for text in items), (name, items)
        shown = {pre.attrs["data-origin"].rsplit(".", 1)[-1] for pre in section.find_all("pre")
                 if "data-origin" in pre.attrs}
        methods = {method for method, value in vars(fast).items()
                   if inspect.isfunction(value) or isinstance(value, (staticmethod, classmethod))}
        assert shown == methods, (name, shown)
    assert set(scratch.fast.__all__) <= set(pages_by_name)


def test_run_tests_writes_the_report_then_shows_it(tmp_path):
    path = tmp_path / "report.json"
    stdout = succeeded(run_script("side_by_side.py", "Tanh", "--width", "90", "--run-tests", "--report", path,
                                  "--pytest-args", "parity_tests/test_chapter8_layers.py::TestTanh", timeout=300))
    data = json.loads(path.read_text())
    assert "chapter8_layers.Tanh" in data["components"]
    assert data["measured_at"] in stdout
    largest = max(q["max_error"] for q in data["components"]["chapter8_layers.Tanh"]["float64"]["quantities"].values())
    assert f"float64 {largest:.2e}" in stdout
    two_column_lines(stdout[stdout.index("8.2.1 Tanh"):], 90)


def test_without_a_report_the_site_says_how_to_measure(tmp_path):
    from toolkit.site import measured, source
    from toolkit.site import pages as site_module

    views = [source.view(catalog.by_name()[name]) for name in ("Affine", "relu")]
    hint = measured.missing_hint("runs/parity_report.json")
    site_module.write_site(tmp_path, views, None, hint)
    for name in ("index.html", site_module.page_name(views[0]), site_module.page_name(views[1])):
        line = parse(tmp_path / name).find("p", "measured")
        assert "none" in line.classes and "No parity numbers were measured" in line.text()
        assert "--run-tests" in line.text()
        assert parse(tmp_path / name).find("table", "parity") is None


def test_unknown_component_lists_close_matches():
    result = run_script("side_by_side.py", "Afine")
    assert_usage_error(result, "unknown component 'Afine'")
    assert "Affine" in result.stderr


def test_a_missing_report_given_is_an_error(tmp_path):
    missing = tmp_path / "nowhere.json"
    assert_usage_error(run_script("side_by_side.py", "--out", tmp_path / "site", "--report", missing), "no such file")
    assert not (tmp_path / "site").exists()


def test_a_report_that_is_not_one_is_an_error(tmp_path):
    path = tmp_path / "report.json"
    path.write_text(json.dumps({"format": 1, "components": {}}))
    assert_usage_error(run_script("side_by_side.py", "--out", tmp_path / "site", "--report", path),
                       "is not a parity report")


def test_an_unwritable_out_is_an_error(tmp_path):
    folder = unwritable_folder(tmp_path)
    assert_usage_error(run_script("side_by_side.py", "--out", folder / "site"), "cannot write --out")
