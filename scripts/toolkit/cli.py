"""Argument parsing for the scripts: one-line errors, the shared option types, ``run_main``.

Standard library only: ``benchmark.py`` parses its arguments before NumPy may load.
"""
import argparse
import math
import sys
import warnings

__all__ = ["EXIT_USAGE", "ArgumentParser", "fail", "one_line", "run_main", "positive_int", "non_negative_int",
           "positive_float", "non_negative_float"]

EXIT_USAGE = 2


def one_line(err):
    """The message of an exception on a single line (KeyError's quotes removed)."""
    text = err.args[0] if isinstance(err, KeyError) and len(err.args) == 1 else err
    return " ".join(str(text).split()) or type(err).__name__


def fail(message):
    """Print ``error: message`` on stderr and exit with status 2."""
    print(f"error: {' '.join(str(message).split())}", file=sys.stderr)
    sys.exit(EXIT_USAGE)


class ArgumentParser(argparse.ArgumentParser):
    """``argparse`` whose errors are one line, ``error: ...``, instead of usage plus message."""

    def error(self, message):
        fail(f"{message} (see {self.prog} --help)")


def one_line_warning(message, category, filename, lineno, line=None):
    """Warnings as one line, ``warning: ...``, like the errors (no source line)."""
    return f"warning: {' '.join(str(message).split())}\n"


def run_main(main):
    """Call ``main()``; turn the project's expected errors into one line and exit code 2.

    A package missing from this Python (``ModuleNotFoundError``) is one line too, saying how to
    reach the project's environment.
    """
    from . import ACTIVATE

    warnings.formatwarning = one_line_warning
    try:
        main()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except ModuleNotFoundError as err:
        fail(f"{err.name} not found: {sys.executable} is not the project's environment; {ACTIVATE}")
    except (OSError, ValueError, KeyError, FloatingPointError) as err:
        fail(one_line(err))


def _number(convert, accept, words):
    """An argparse type: ``convert(text)`` (int or float) for which ``accept(value)``, else the one-line
    error 'expected <words>, got ...'."""
    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {words}, got {text!r}") from None
        if not accept(value):
            raise argparse.ArgumentTypeError(f"expected {words}, got {text}")
        return value
    return parse


positive_int = _number(int, lambda value: value >= 1, "a positive integer")
non_negative_int = _number(int, lambda value: value >= 0, "an integer >= 0")
positive_float = _number(float, lambda value: math.isfinite(value) and value > 0, "a positive number")
non_negative_float = _number(float, lambda value: math.isfinite(value) and value >= 0, "a number >= 0")
