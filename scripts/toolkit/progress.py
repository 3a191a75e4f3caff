"""The scripts' progress bar on stderr (tqdm), and printing above it."""
import sys

from tqdm import tqdm

__all__ = ["add_progress_argument", "progress_bar", "advance", "say"]


def add_progress_argument(parser):
    """--no-progress: the bar is drawn on a terminal unless it is given."""
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress bar on stderr (none is drawn without a terminal either)")


def progress_bar(total, enabled=True, unit="it", **options):
    """A ``tqdm`` bar over ``total`` steps on stderr, drawn only on a terminal; ``options`` go to tqdm.

    Into a pipe or a log file it writes nothing (tqdm's ``disable=None``), and
    nothing at all when not ``enabled`` (--no-progress). Use it in a ``with``
    block: however the block ends, even by Ctrl-C, the bar's line is ended
    first, so an error or "interrupted" starts a line of its own.
    """
    return tqdm(total=total, disable=None if enabled else True, file=sys.stderr, unit=unit,
                dynamic_ncols=True, **options)


def advance(bar, loss):
    """One more iteration done, with the latest loss shown beside the bar."""
    bar.set_postfix_str(f"loss {loss:.4f}", refresh=False)
    bar.update()


def say(*lines):
    """Print lines on stdout above the progress bar (tqdm clears it, then redraws it)."""
    with tqdm.external_write_mode(file=sys.stdout):
        for line in lines:
            print(line, flush=True)
