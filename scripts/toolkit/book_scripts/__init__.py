"""The book-script checker behind ``scripts/book_scripts.py``: the book's chapter scripts run on ``scratch.book``.

    rewrite   find the book's code and its scripts; rewrite their import lines for scratch.book (--quick too)
    run       the temporary copies (the book's code with MNIST; a folder per rewritten script) and the runs
    compare   the two outputs line by line and the plotted values; one script's verdict
    report    the table, both outputs side by side, the JSON report

See the command's docstring for what is checked and how.
"""
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
BOOK_CODE_ENV = "DLFS_BOOK_CODE_DIR"
CHAPTERS = ("ch02", "ch03", "ch04", "ch05", "ch06", "ch07", "ch08")
DEFAULT_RTOL = 1e-4
DEFAULT_TIMEOUT = 3600
