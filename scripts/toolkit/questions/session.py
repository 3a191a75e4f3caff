"""What every question's experiment shares: its options, data, tables, conclusions, JSON and figure.

A question's module has one function, ``run(session)``. It measures with
``session.backend`` (``scratch`` or ``reference``, chosen by ``--backend``)
or ``session.book`` (``scratch.book``), sizes its work with
``session.size(quick=..., full=...)``, and reports through the session:

    session.record(key, value)      a measured number (or list, dict) under a descriptive key: the --json file
    session.table(title, header, rows)   a table, printed now and kept for --markdown
    session.conclude(key, holds, claim, otherwise)
                                    the conclusion the numbers support: ``claim`` when ``holds``, else
                                    ``otherwise`` (what the measurement says instead), never both
    session.figure(draw, ...)       ``draw(fig)`` on a new matplotlib figure, saved to --plot

The wall time, the options, the versions and every conclusion go into the
JSON file beside the measurements.
"""
import json
import math
import time

import numpy as np

from .. import backends
from ..data import load_data
from ..experiments import print_table
from ..figures import new_figure, save_figure
from ..paths import write_text
from ..progress import progress_bar, say

__all__ = ["Session", "to_json"]


def to_json(value):
    """``value`` with NumPy scalars and arrays, tuples and non-finite floats made JSON's (NaN as null)."""
    if isinstance(value, dict):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if isinstance(value, np.ndarray):
        return to_json(value.tolist())
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return value if math.isfinite(value) else None
    return value


class Session:
    """One run of one question (``scripts/questions.py NAME``): the options and what was measured."""

    def __init__(self, question, args):
        self.question = question
        self.args = args
        self.quick = args.quick
        self.seed = args.seed
        self.backend_name = args.backend
        self.measured = {}
        self.conclusions = {}
        self.tables = []
        self._backend = None
        self._mnist = {}
        self._started = time.perf_counter()

    # -- what computes --------------------------------------------------------------------------

    @property
    def backend(self):
        """``scratch`` or ``reference`` (--backend scratch / torch), imported on first use."""
        if self._backend is None:
            self._backend = backends.load_backend(self.backend_name, self.args.threads)
        return self._backend

    @property
    def torch(self):
        """True with --backend torch: the backend computes with tensors."""
        return backends.BACKENDS[self.backend_name].torch

    @property
    def book(self):
        """``scratch.book``: the book's code as written."""
        import scratch.book

        return scratch.book

    def to_numpy(self, x):
        """A NumPy array for a tensor or an array."""
        return backends.to_numpy(x)

    def no_grad(self):
        """A context without autograd graphs with the torch backend (for numbers only reported)."""
        return backends.no_grad(self.backend_name)

    # -- sizes, seeds, data ---------------------------------------------------------------------

    def size(self, quick, full):
        """``quick`` with --quick, else ``full``."""
        return quick if self.quick else full

    def rng(self, *stream):
        """A NumPy generator seeded by ``[--seed, *stream]``: one independent stream per purpose."""
        return np.random.default_rng([self.seed, *stream])

    def mnist(self, train_size=None, test_size=None, dtype="float32", flatten=True):
        """MNIST as ``(x_train, t_train), (x_test, t_test)``: pixels in [0, 1], integer labels.

        The first ``train_size`` training and ``test_size`` test images (all when None).
        """
        key = (dtype, flatten)
        if key not in self._mnist:
            class Options:  # what load_data reads of the parsed arguments
                data_dir, download, dataset = self.args.data_dir, self.args.download, "mnist"
            Options.dtype = dtype
            self._mnist[key] = load_data(Options, flatten=flatten)
        (x_train, t_train), (x_test, t_test) = self._mnist[key]
        for size, images, option in ((train_size, x_train, "training"), (test_size, x_test, "test")):
            if size is not None and size > len(images):
                raise ValueError(f"{self.question.name} asks for {size} {option} images; MNIST has {len(images)}")
        return (x_train[:train_size], t_train[:train_size]), (x_test[:test_size], t_test[:test_size])

    def progress(self, total, description=None, unit="it"):
        """A progress bar over ``total`` steps (a ``with`` block; ``advance`` it with ``bar.update()``)."""
        return progress_bar(total, not self.args.no_progress, unit=unit, desc=description, leave=False)

    # -- reporting ------------------------------------------------------------------------------

    def say(self, *lines):
        """Print lines (above a progress bar, if one is drawn)."""
        say(*lines)

    def record(self, key, value):
        """Keep ``value`` (numbers, lists, dicts, arrays) under ``key`` for the JSON file; returns ``value``."""
        self.measured[key] = to_json(value)
        return value

    def table(self, title, header, rows):
        """Print ``title`` and the table (cells already formatted as strings or numbers), and keep it."""
        rows = [[str(cell) for cell in row] for row in rows]
        say("", title)
        print_table([str(cell) for cell in header], rows)
        self.tables.append((title, [str(cell) for cell in header], rows))

    def conclude(self, key, holds, claim, otherwise):
        """State what the numbers support: ``claim`` if ``holds``, else ``otherwise``, marked as contrary.

        ``claim`` is the expected conclusion, ``otherwise`` what the measurement says instead; both cite the
        numbers. Recorded under ``conclusions[key]`` with ``holds``.
        """
        holds = bool(holds)
        text = claim if holds else otherwise
        self.conclusions[key] = {"holds": holds, "text": text}
        say(("answer: " if holds else "contrary to the expected answer: ") + text)

    def figure(self, draw, **figure_options):
        """Unless --no-plot, ``draw(fig)`` on a new figure (``figure_options`` go to it) and save it to --plot."""
        if self.args.no_plot:
            return
        fig = new_figure(**figure_options)
        draw(fig)
        save_figure(fig, self.args.plot)

    # -- the files ------------------------------------------------------------------------------

    def wall_time(self):
        """Seconds since the session started."""
        return time.perf_counter() - self._started

    def result(self):
        """Everything the --json file holds."""
        return to_json({
            "question": self.question.name,
            "chapter": self.question.chapter,
            "backend": self.backend_name,
            "seed": self.seed,
            "quick": self.quick,
            "versions": backends.versions(self.backend_name),
            "wall_time_s": round(self.wall_time(), 2),
            "measured": self.measured,
            "conclusions": self.conclusions,
        })

    def markdown(self):
        """The tables and conclusions as Markdown (for docs/questions.md)."""
        def line(cells):  # a | inside a cell ("max |x|") would split it: escaped
            return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

        lines = []
        for title, header, rows in self.tables:
            lines += [f"**{title}**", "", line(header), "|" + "|".join("---:" for _ in header) + "|"]
            lines += [line(row) for row in rows]
            lines.append("")
        for conclusion in self.conclusions.values():
            mark = "" if conclusion["holds"] else "(contrary to the expected answer) "
            lines.append(f"- {mark}{conclusion['text']}")
        return "\n".join(lines) + "\n"

    def write_files(self):
        """The --json and --markdown files, written atomically."""
        if self.args.json:
            write_text(self.args.json, json.dumps(self.result(), indent=1, ensure_ascii=False) + "\n")
            print(f"saved measurements: {self.args.json}")
        if self.args.markdown:
            write_text(self.args.markdown, self.markdown())
            print(f"saved tables: {self.args.markdown}")
