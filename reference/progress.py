"""A small text progress bar for long training runs: backend-neutral, re-exported from ``scratch``."""
from scratch.progress import ProgressBar

__all__ = ["ProgressBar"]
