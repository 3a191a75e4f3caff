"""Running a task's checks on the learner's code: verdicts, comparisons, diagnoses.

Each check is a function ``check(grader)`` whose docstring's first line names
it. It calls the learner's code through ``grader.call`` (an exception there
becomes a verdict naming the line of the learner's file) and compares with
``grader.compare`` (a shape or value that differs becomes a verdict showing the
expected and received values, and naming the first of the check's mistakes
that explains what was received). The first failure stops the task.
"""
import os
import sys
import traceback
from dataclasses import dataclass

import numpy as np

from .task import CheckFailed

__all__ = ["Grader", "Verdict", "describe", "first_match", "grade"]

TOLERANCE = {np.dtype(np.float64): 1e-10, np.dtype(np.float32): 1e-5}


@dataclass
class Verdict:
    """The outcome of one check."""

    check: str
    ok: bool
    failure: CheckFailed = None


def describe(value, most=6):
    """'shape (2, 3) float64: [0.1 -0.5 ...]' for an array or tensor; repr otherwise."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray) or np.isscalar(value):
        array = np.asarray(value)
        numbers = np.array2string(array.ravel()[:most], precision=6, separator=" ", max_line_width=200)
        more = " ..." if array.size > most else ""
        return f"shape {array.shape} {array.dtype}: {numbers[:-1]}{more}]"
    return repr(value)


def _same(received, expected, rtol):
    """True when ``received`` has ``expected``'s shape and values (within ``rtol`` of its largest entry)."""
    try:
        received = np.asarray(received.detach().cpu().numpy() if hasattr(received, "detach") else received)
    except Exception:  # noqa: BLE001 - anything that is not an array is simply not the same
        return False
    expected = np.asarray(expected)
    if received.shape != expected.shape or received.dtype.kind not in "fiub":
        return False
    scale = max(float(np.max(np.abs(expected))) if expected.size else 0.0, 1e-300)
    with np.errstate(invalid="ignore", over="ignore"):
        return bool(np.all(np.abs(received.astype(np.float64) - expected.astype(np.float64)) <= rtol * scale))


class Grader:
    """What a task's checks use: the learner's object, the semantics, the comparisons and the diagnoses."""

    def __init__(self, task, learner, semantics, path):
        self.task = task
        self.learner = learner      # the learner's function or class
        self.semantics = semantics  # "book" or "pytorch"
        self.path = path

    @property
    def expected(self):
        """The package the learner's code is graded against: ``scratch.book`` (book) or ``scratch`` (pytorch)."""
        import scratch
        import scratch.book

        return scratch.book if self.semantics == "book" else scratch

    @staticmethod
    def rng(*stream):
        """A generator seeded by the task's stream: the same inputs on every check."""
        return np.random.default_rng([20, *stream])

    @staticmethod
    def tolerance(dtype):
        """1e-10 relative in float64, 1e-5 in float32 (the parity suite's)."""
        return TOLERANCE.get(np.dtype(dtype), 1e-10)

    def call(self, what, function, *args, mistakes=(), **kwargs):
        """``function(*args, **kwargs)`` from the learner's code; an exception becomes a failed check.

        The failure names the line of the learner's file where it happened and
        the first of ``mistakes`` whose ``matches(exception)`` is true.
        """
        try:
            return function(*args, **kwargs)
        except CheckFailed:
            raise
        except NotImplementedError:
            raise CheckFailed(f"{what}: not written yet ({self._where()} raises NotImplementedError)") from None
        except Exception as err:  # noqa: BLE001 - the learner's code may raise anything
            where = self._where()
            mistake = first_match(mistakes, err)
            raise CheckFailed(f"{what} raised {type(err).__name__}: {err} ({where})", mistake=mistake) from None

    def _where(self):
        """'line 12 of practice/affine.py: self.dW = ...', the last frame of the learner's file in the traceback."""
        frames = [f for f in traceback.extract_tb(sys.exc_info()[2])
                  if os.path.abspath(f.filename) == os.path.abspath(self.path)]
        if not frames:
            return f"in code called from {self.path}"
        frame = frames[-1]
        return f"line {frame.lineno} of {self.path}: {(frame.line or '').strip()}"

    def compare(self, what, received, expected, mistakes=(), book_line=None, rtol=None):
        """Fail unless ``received`` equals ``expected`` (shape, and values within ``rtol`` relative).

        On a difference, the first of ``mistakes`` that ``matches(received)`` is named.
        """
        expected = np.asarray(expected)
        rtol = self.tolerance(expected.dtype) if rtol is None else rtol
        if received is None:
            raise CheckFailed(f"{what} is None: a method that computes a value must return it",
                              expected=describe(expected), received="None", book_line=book_line)
        if _same(received, expected, rtol):
            return
        mistake = first_match(mistakes, received)
        shape = getattr(received, "shape", None)
        difference = "shapes" if shape is not None and tuple(shape) != expected.shape else "values"
        raise CheckFailed(f"{what}: the {difference} differ (tolerance {rtol:g} relative)",
                          expected=describe(expected), received=describe(received), mistake=mistake,
                          book_line=book_line)

    def require(self, condition, message, mistake=None, book_line=None):
        """Fail with ``message`` unless ``condition``."""
        if not condition:
            raise CheckFailed(message, mistake=mistake, book_line=book_line)

    @staticmethod
    def numerical_gradient(f, x, h=1e-5):
        """d f / d x by central differences in float64, written here (not the learner's)."""
        x = np.array(x, dtype=np.float64)
        grad = np.zeros_like(x)
        for index in np.ndindex(x.shape):
            saved = x[index]
            x[index] = saved + h
            up = f(x)
            x[index] = saved - h
            down = f(x)
            x[index] = saved
            grad[index] = (up - down) / (2 * h)
        return grad


def first_match(mistakes, received):
    """The first mistake whose ``matches(received)`` is true (a predicate that fails counts as false)."""
    for mistake in mistakes:
        try:
            if mistake.matches(received):
                return mistake
        except Exception:  # noqa: BLE001 - a predicate on an odd value is simply no match
            continue
    return None


def check_name(check):
    """A check's name: its docstring's first line."""
    return (check.__doc__ or check.__name__).strip().splitlines()[0]


def grade(task, learner, semantics, path):
    """Run ``task``'s checks on ``learner`` in order, stopping at the first failure; the verdicts."""
    grader = Grader(task, learner, semantics, path)
    verdicts = []
    for check in task.checks:
        try:
            with np.errstate(all="ignore"):
                check(grader)
        except CheckFailed as failure:
            verdicts.append(Verdict(check_name(check), False, failure))
            break
        verdicts.append(Verdict(check_name(check), True))
    return verdicts
