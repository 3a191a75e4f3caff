"""Fixtures of the scripts' tests.

The parity suite's helpers that these tests share (the book's files, ``assert_close``, one torch
thread) come from ``parity_tests/conftest.py`` (on ``sys.path`` through pytest's ``pythonpath``
setting), not copies: a fixture imported here is available to every test of this folder.
"""
from conftest import one_torch_thread  # noqa: F401 - the parity suite's fixture, for test_plain_torch.py
