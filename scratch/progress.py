"""A text progress bar for long runs: ``1200/6000 [#####...] loss 0.1234  812 it/s  2s elapsed, 6s left``."""
import math
import sys
import time

__all__ = ["ProgressBar"]


class ProgressBar:
    """Redrawn in place with ``\\r`` on a terminal, at most every ``interval`` seconds.

    Without a terminal (a log file, a pipe) nothing is drawn until ``close``
    writes the final line; ``enabled=False`` writes nothing at all, and
    ``force=True`` draws even without a terminal. ``clear()`` blanks the bar so
    that a line (an epoch's accuracies) can be printed; the next update
    redraws it.
    """

    WIDTH = 24

    def __init__(self, total, enabled=True, stream=None, interval=0.1, force=False):
        self.total, self.enabled, self.interval = max(int(total), 1), enabled, interval
        self.stream = sys.stderr if stream is None else stream
        self.live = enabled and (force or (hasattr(self.stream, "isatty") and self.stream.isatty()))
        self.start = time.perf_counter()
        self.last_draw = -math.inf
        self.drawn = 0  # characters on the current line
        self.n, self.loss = 0, None

    def _text(self):
        elapsed = time.perf_counter() - self.start
        rate = self.n / elapsed if elapsed > 0 else 0.0
        filled = int(self.WIDTH * self.n / self.total)
        bar = "#" * filled + "." * (self.WIDTH - filled)
        eta = (self.total - self.n) / rate if rate > 0 else 0.0
        loss = "" if self.loss is None else f" loss {self.loss:.4f}"
        return (f"{self.n:>{len(str(self.total))}}/{self.total} [{bar}]{loss}  {rate:.0f} it/s  "
                f"{elapsed:.0f}s elapsed, {eta:.0f}s left")

    def _draw(self):
        text = self._text()
        self.stream.write("\r" + text + " " * max(self.drawn - len(text), 0))
        self.stream.flush()
        self.drawn = len(text)

    def update(self, n, loss=None):
        """Record that ``n`` of ``total`` steps are done (and the latest loss); redraw if due."""
        self.n, self.loss = n, (None if loss is None else float(loss))
        now = time.perf_counter()
        if self.live and now - self.last_draw >= self.interval:
            self.last_draw = now
            self._draw()

    def clear(self):
        """Blank the bar so that a line can be printed; it comes back on the next update."""
        if self.live and self.drawn:
            self.stream.write("\r" + " " * self.drawn + "\r")
            self.stream.flush()
            self.drawn = 0
            self.last_draw = -math.inf

    def close(self, n=None, loss=None):
        """Write the final state and end the line."""
        if n is not None:
            self.n, self.loss = n, (self.loss if loss is None else float(loss))
        if self.enabled:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = 0
