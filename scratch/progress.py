"""A small text progress bar for long training runs (no dependencies)."""
import sys
import time

__all__ = ["ProgressBar"]


class ProgressBar:
    """``bar.update(i, loss=...)`` redraws ``[#####-----] i/total  loss 0.123  45.6 it/s`` on one line.

    It draws only on a terminal (or when ``force=True``) and at most ten times
    a second; ``close()`` ends the line.
    """

    def __init__(self, total, width=30, stream=None, force=False, label=""):
        self.total = max(int(total), 1)
        self.width = width
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = force or getattr(self.stream, "isatty", lambda: False)()
        self.label = label
        self.start = time.perf_counter()
        self._last_draw = 0.0
        self._drawn = False

    def update(self, done, **values):
        if not self.enabled:
            return
        now = time.perf_counter()
        if done < self.total and now - self._last_draw < 0.1:
            return
        self._last_draw = now
        filled = int(self.width * done / self.total)
        rate = done / max(now - self.start, 1e-9)
        extras = "  ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in values.items())
        line = f"\r{self.label}[{'#' * filled}{'-' * (self.width - filled)}] {done}/{self.total}  {extras}  {rate:.1f} it/s"
        self.stream.write(line)
        self.stream.flush()
        self._drawn = True

    def close(self):
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False
