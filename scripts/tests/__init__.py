"""The tests of the command-line scripts and of their package ``toolkit``, apart from the parity suite.

A package, so that its ``conftest.py`` (imported as ``tests.conftest``) and the
parity suite's (imported as ``conftest``) never take each other's place. These
tests import their own helpers relatively (``from .script_support import ...``),
and ``toolkit``, the commands, ``mnist_support`` and the parity suite's
``conftest`` helpers by name, through pytest's ``pythonpath`` setting.
"""
