"""The code of one component as it ran: read with ``inspect`` from the imported objects, aligned method by method.

``view(component)`` gives what the side-by-side pages show of a component:
its ``scratch`` object (NumPy), ``reference`` object (PyTorch) and, where
``scratch.book`` has its own, the book's; the rows of code (the class header
with its docstring, then one row per method, the same method of every side on
the same row); the formula (the first paragraph of the scratch docstring); and
the docstring paragraphs that say how the book differs; and, where
``scratch.fast`` has a faster subclass of the readable layer, that plug-in:
what it changes, what it buys in milliseconds, its own methods.

A row holds each side's method: its own (defined in the class body), else the
one it inherits from a class of the project (shown with the class it comes
from, or, when it is the very code of another column, named only), else
nothing. Rows are the methods defined in the displayed classes' bodies, and
for the book the methods of its mixins (``BookNetwork``), where it differs.
"""
import ast
import importlib
import inspect
import re
import textwrap
from dataclasses import dataclass, field

from .catalog import CATALOG, section_key

__all__ = ["SIDES", "SIDE_TITLES", "Cell", "Row", "Fast", "View", "view", "views_in_order"]

SIDES = ("scratch", "reference", "book")
SIDE_TITLES = {"scratch": "NumPy (scratch)", "reference": "PyTorch (reference)", "book": "The book (scratch.book)"}
_PACKAGES = {"scratch": "scratch", "reference": "reference", "book": "scratch.book"}
_PROJECT = ("scratch", "reference")

_MENTIONS_BOOK = re.compile(r"\bbook(?:'s)?\b", re.IGNORECASE)
_ITEM = re.compile(r"^\s*[*-] ")


@dataclass
class Cell:
    """One side's code in a row: ``text`` (None: nothing to show), read from ``origin``; ``note`` says
    where it comes from when the class inherits it."""

    text: str | None = None
    origin: str = ""
    note: str = ""


@dataclass
class Row:
    """'class' (the header and docstring), a method name, 'class attributes', or a function's name."""

    name: str
    cells: dict = field(default_factory=dict)


@dataclass
class Fast:
    """A component's fast plug-in (``scratch.fast``), shown in a section of its own: the class, what it
    changes (its docstring), what it buys (each measurement its docstrings and comments give, in
    milliseconds) and the code of the methods it overrides."""

    obj: object
    changes: str
    measured: list             # [paragraph], each naming milliseconds
    methods: list              # [Row] with one cell, side 'fast'


@dataclass
class View:
    component: object
    objects: dict              # side -> the object shown ('book' only where scratch.book has its own)
    book_status: str           # 'own', 'same' (scratch.book reuses scratch's object) or 'none'
    book_line: str
    rows: list
    formula: str
    notes: list                # [(where, paragraph)]
    fast: Fast | None = None   # where scratch.fast has a faster subclass of the component


def _qualname(obj):
    return f"{obj.__module__}.{obj.__qualname__}"


def _function(value):
    """The function behind a class attribute (method, static/class method, property getter), else None."""
    if isinstance(value, (staticmethod, classmethod)):
        value = value.__func__
    elif isinstance(value, property):
        value = value.fget
    return value if inspect.isfunction(value) else None


def _class_parts(cls):
    """The class source cut at its methods: (header, {method: text}, other statements' text).

    ``header`` is the class line, its docstring and whatever comes before the
    first method; each method's text runs from its first decorator to its
    last line, as ``inspect.getsource`` gives it.
    """
    source = inspect.getsource(cls)
    lines = source.splitlines(keepends=True)
    tree = ast.parse(textwrap.dedent(source))
    node = tree.body[0]
    if not isinstance(node, ast.ClassDef):
        raise ValueError(f"cannot parse the source of {_qualname(cls)}")
    methods, other, first = {}, [], None
    for stmt in node.body:
        start = min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", [])])
        text = "".join(lines[start - 1:stmt.end_lineno])
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            first = start if first is None else first
            methods[stmt.name] = methods[stmt.name] + "\n" + text if stmt.name in methods else text
        elif first is not None:
            other.append(text)
    header = "".join(lines[:first - 1]) if first is not None else source
    return header.rstrip() + "\n", methods, "".join(other)


def _package(klass):
    """'scratch.book', 'scratch', 'reference', or None for a class outside the project."""
    module = klass.__module__
    if module.startswith("scratch.book"):
        return "scratch.book"
    top = module.split(".")[0]
    return top if top in _PROJECT else None


def _is_network_base(klass):
    return klass.__module__.endswith(".network_base")


def _shown_classes(cls, side):
    """``cls`` and its bases from the same package (``_TorchOptimizer``, ``PlannedNetwork``, ``BookNetwork``)."""
    return [klass for klass in cls.__mro__ if _package(klass) == _PACKAGES[side]]


def _makes_a_row(klass, side, name, used):
    """Every method of a shown class makes a row, except those of a ``network_base`` class (``Network``,
    shared by every network): only those the other shown classes call, and the book's public overrides
    (``BookNetwork.accuracy``, ``save_params``, ...)."""
    if not _is_network_base(klass):
        return True
    return name in used or (side == "book" and not name.startswith("_"))


def _row_names(cls, side, parts, used):
    """The names of the rows ``cls`` makes: one list per shown class (``cls`` first), in the order of its body."""
    return [[name for name in parts[klass][1] if _makes_a_row(klass, side, name, used)]
            for klass in _shown_classes(cls, side)]


def _merge(orders):
    """One order of names from several: the first order, others' new names placed after the nearest name
    before them that is placed, else before the nearest one after them, else at the end."""
    merged = []
    for order in orders:
        for i, name in enumerate(order):
            if name in merged:
                continue
            before = [n for n in order[:i] if n in merged]
            after = [n for n in order[i + 1:] if n in merged]
            position = merged.index(before[-1]) + 1 if before else merged.index(after[0]) if after else len(merged)
            merged.insert(position, name)
    return merged


def _row_order(own, inherited):
    """The rows: the methods of the displayed classes' own bodies, merged, then those of their bases, with
    ``__init__`` first."""
    merged = _merge(own)
    merged += [name for name in _merge(inherited) if name not in merged]
    return sorted(merged, key=lambda name: name != "__init__")


def _defining_class(cls, name):
    """The class of the project in ``cls``'s MRO whose body defines ``name``, or None."""
    for klass in cls.__mro__:
        if name in vars(klass):
            return klass if klass.__module__.split(".")[0] in _PROJECT else None
    return None


def _class_rows(objects):
    parts, used = {}, set()
    for side, cls in objects.items():
        for klass in _shown_classes(cls, side):
            if klass not in parts:
                parts[klass] = _class_parts(klass)
            if not _is_network_base(klass):
                used.update(re.findall(r"\.(\w+)\b", inspect.getsource(klass)))
    orders = {side: _row_names(cls, side, parts, used) for side, cls in objects.items()}
    names = _row_order([lists[0] for lists in orders.values()], [o for lists in orders.values() for o in lists[1:]])
    rows = [Row("class", {side: Cell(parts[cls][0], _qualname(cls)) for side, cls in objects.items()})]
    for name in names:
        row = Row(name)
        shown = {}  # id of a function shown in this row -> the side showing it
        for side, cls in objects.items():
            klass = _defining_class(cls, name)
            func = _function(vars(klass)[name]) if klass is not None else None
            if func is None:
                row.cells[side] = Cell(note=f"{_qualname(cls)} has no {name}")
                continue
            if klass not in parts:
                parts[klass] = _class_parts(klass)
            origin = f"{_qualname(klass)}.{name}"
            if klass is cls:
                row.cells[side] = Cell(parts[klass][1][name], origin)
            elif id(func) in shown:
                row.cells[side] = Cell(None, origin, f"inherited from {_qualname(klass)}: the code of the "
                                                     f"{SIDE_TITLES[shown[id(func)]]} column")
            else:
                row.cells[side] = Cell(parts[klass][1][name], origin, f"inherited from {_qualname(klass)}")
            shown.setdefault(id(func), side)
        rows.append(row)
    others = {side: Cell(parts[cls][2], _qualname(cls)) if parts[cls][2] else Cell()
              for side, cls in objects.items()}
    if any(cell.text for cell in others.values()):
        rows.append(Row("class attributes", others))
    return rows


def _function_rows(objects, name):
    return [Row(name, {side: Cell(inspect.getsource(fn), _qualname(fn)) for side, fn in objects.items()})]


def _paragraphs(doc):
    return [p.strip("\n") for p in re.split(r"\n\s*\n", doc or "") if p.strip()]


def _items(paragraph):
    """A paragraph, or the items of a bulleted list (a lead-in line first, if any)."""
    items = []
    for line in paragraph.splitlines():
        if _ITEM.match(line) or not items:
            items.append(line)
        else:
            items[-1] += "\n" + line
    return items


def _lead(doc):
    """The first paragraph, and the indented block after it when it ends with ':' (the formula)."""
    paragraphs = _paragraphs(doc)
    if not paragraphs:
        return []
    lead = [paragraphs[0]]
    if paragraphs[0].rstrip().endswith(":") and len(paragraphs) > 1 and paragraphs[1].startswith(" "):
        lead.append(paragraphs[1])
    return lead


def _formula(obj):
    lead = _lead(inspect.getdoc(obj))
    if "module docstring" in " ".join(lead):
        lead += _lead(inspect.getmodule(obj).__doc__ and inspect.cleandoc(inspect.getmodule(obj).__doc__))
    return "\n\n".join(lead)


def _module_notes(module, name, book_only):
    """The paragraphs of a module's docstring about the component: all of them if the module is the
    component's alone (``__all__`` is its one name), else the list items or paragraphs that name it;
    ``book_only``: only those that mention the book."""
    names = re.compile(rf"\b{re.escape(name)}\b")
    dedicated = list(getattr(module, "__all__", ())) == [name]
    found = []
    for paragraph in _paragraphs(inspect.cleandoc(module.__doc__ or "")):
        for item in ([paragraph] if dedicated else _items(paragraph)):
            if (dedicated or names.search(item)) and (not book_only or _MENTIONS_BOOK.search(item)):
                found.append(item)
    return found


def _notes(component, objects, formula):
    """(where, paragraph) of the docstrings that say how the book differs, without repeats."""
    found, seen = [], set(formula.split("\n\n"))

    def keep(where, texts):
        for text in texts:
            if text not in seen:
                seen.add(text)
                found.append((where, text))

    for side in ("scratch", "reference"):
        obj = objects[side]
        keep(f"{_qualname(obj)} docstring",
             [p for p in _paragraphs(inspect.getdoc(obj)) if _MENTIONS_BOOK.search(p)])
        module = inspect.getmodule(obj)
        keep(f"{module.__name__} module docstring", _module_notes(module, component.name, book_only=True))
    if "book" in objects:
        module = inspect.getmodule(objects["book"])
        keep(f"{module.__name__} module docstring", _module_notes(module, component.name, book_only=False))
    return found


_MILLISECONDS = re.compile(r"\d ms\b")


def _comment_blocks(source):
    """The runs of consecutive comment lines in ``source``, each joined into one paragraph."""
    blocks, current = [], []
    for line in source.splitlines() + [""]:
        text = line.strip()
        if text.startswith("#"):
            current.append(text.lstrip("#").strip())
            continue
        if current:
            blocks.append(" ".join(current))
            current = []
    return blocks


def _fast(name, readable):
    """The ``Fast`` of the component, if ``scratch.fast`` has a subclass of the readable ``readable``."""
    fast = getattr(importlib.import_module("scratch.fast"), name, None)
    if not (inspect.isclass(fast) and inspect.isclass(readable) and issubclass(fast, readable)):
        return None
    _, methods, _ = _class_parts(fast)
    module_doc = inspect.cleandoc(inspect.getmodule(fast).__doc__ or "")
    texts = _paragraphs(inspect.getdoc(fast)) + _comment_blocks(inspect.getsource(fast)) + _paragraphs(module_doc)
    measured = [" ".join(text.split()) for text in texts if _MILLISECONDS.search(text)]
    rows = [Row(method, {"fast": Cell(text, f"{_qualname(fast)}.{method}")}) for method, text in methods.items()]
    return Fast(fast, inspect.getdoc(fast) or "", list(dict.fromkeys(measured)), rows)


def view(component):
    """The ``View`` of a catalog ``Component``: its objects, rows of code, formula and book notes."""
    packages = {side: importlib.import_module(package) for side, package in _PACKAGES.items()}
    objects = {side: getattr(packages[side], component.name) for side in ("scratch", "reference")}
    book = getattr(packages["book"], component.name, None)
    scratch_name = f"scratch.{component.name}"
    if book is None:
        status, line = "none", f"scratch.book has no {component.name}: the book's code has no version of its own."
    elif book is objects["scratch"]:
        status, line = "same", (f"The book's version is {scratch_name} itself: scratch.book reuses it unchanged "
                                f"(scratch.book.{component.name} is {_qualname(book)}).")
    else:
        status, line = "own", f"The book has its own version: scratch.book.{component.name} ({_qualname(book)})."
        objects["book"] = book
    if inspect.isclass(objects["scratch"]):
        rows = _class_rows(objects)
    else:
        rows = _function_rows(objects, component.name)
    formula = _formula(objects["scratch"])
    return View(component, objects, status, line, rows, formula, _notes(component, objects, formula),
                _fast(component.name, objects["scratch"]))


def views_in_order():
    """A ``View`` of every catalog entry, by chapter and section: the site's pages in order."""
    components = sorted(CATALOG, key=lambda c: (c.chapter, section_key(c.section)))
    return [view(c) for c in components]
