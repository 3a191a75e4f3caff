"""Figures: matplotlib without pyplot (no display, no global state), saved atomically.

matplotlib is imported only when a figure is drawn, so ``--help`` answers at once.
"""
import importlib.util

from scratch.serialization import write_atomically

__all__ = ["require_matplotlib", "new_figure", "suptitle", "marker_for", "save_png", "save_figure"]


def require_matplotlib(parser, what="drawing", otherwise=""):
    """A usage error now, while parsing, if matplotlib is missing: '<what> needs matplotlib (pip install
    matplotlib)<otherwise>', e.g. otherwise=', or pass --no-plot'."""
    if importlib.util.find_spec("matplotlib") is None:
        parser.error(f"{what} needs matplotlib (pip install matplotlib){otherwise}")


def new_figure(layout="constrained", **kwargs):
    """A matplotlib ``Figure`` drawn by the Agg canvas (no display, no pyplot state).

    ``layout=None`` skips constrained layout, which takes seconds on a grid of dozens of panels.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(layout=layout, **kwargs)
    FigureCanvasAgg(fig)
    return fig


def suptitle(fig, title):
    """``fig.suptitle(title)``, the figure widened if the title would not fit (a grid of one or two panels)."""
    text = fig.suptitle(title)
    needed = text.get_window_extent(fig.canvas.get_renderer()).width / fig.dpi + 0.5  # inches, with margins
    if needed > fig.get_figwidth():
        fig.set_figwidth(needed)
    return text


def marker_for(points):
    """A marker for a curve of a single point (a line through one point draws nothing), else none."""
    return "o" if len(points) < 2 else ""


def save_png(figure, path):
    """Write a matplotlib ``Figure`` to ``path`` as PNG, atomically (a temporary file in the same folder,
    then a rename)."""
    write_atomically(path, lambda f: figure.savefig(f, format="png"))


def save_figure(fig, path):
    """Save atomically (``save_png``) and say where."""
    save_png(fig, path)
    print(f"saved figure: {path}")
