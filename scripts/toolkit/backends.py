"""The one backend registry: which package computes, and what a script needs to run on it.

    scratch  the NumPy implementation (package ``scratch``), PyTorch's semantics
    torch    its PyTorch mirror (package ``reference``)
    book     the book's code exactly (``scratch.book``), reached with the chapter-6
             experiments' ``--semantics book`` (``BookSemantics``), not with --backend

NumPy is imported at module level, torch only with the torch backend, so
``--help`` and bad arguments answer at once.
"""
import contextlib
import importlib
import sys
from dataclasses import dataclass

import numpy as np

__all__ = ["Backend", "BACKENDS", "CHOICES", "add_backend_argument", "add_threads_argument", "load_backend", "BookSemantics", "no_grad",
           "to_numpy", "versions"]


@dataclass(frozen=True)
class Backend:
    """One backend: the package it imports and whether ``--backend`` offers it."""

    package: str
    summary: str
    option: bool = True  # a choice of --backend (book is chosen by --semantics book)
    torch: bool = False  # computes with torch tensors (threads, no_grad, versions)


BACKENDS = {
    "scratch": Backend("scratch", "the NumPy implementation"),
    "torch": Backend("reference", "its PyTorch mirror (package reference)", torch=True),
    "book": Backend("scratch.book", "the book's code as written (scratch.book)", option=False),
}
CHOICES = tuple(sorted(name for name, backend in BACKENDS.items() if backend.option))


def add_backend_argument(parser, extra=()):
    """--backend among ``CHOICES`` (and ``extra`` choices, e.g. 'both'), default scratch."""
    described = "; ".join(f"{name}: {BACKENDS[name].summary}" for name in CHOICES)
    parser.add_argument("--backend", choices=[*CHOICES, *extra], default="scratch",
                        help=f"{described}. Default: scratch")


def add_threads_argument(parser):
    """--threads: torch's intra-op threads (``load_backend``'s ``threads``)."""
    from .cli import positive_int

    parser.add_argument("--threads", type=positive_int, default=None,
                        help="torch backend: torch.set_num_threads(N) (default: torch's own choice)")


def load_backend(name, threads=None):
    """What backend ``name`` computes with: its package (``BookSemantics`` for book).

    ``threads`` sets torch's intra-op threads; NumPy's BLAS takes its own from the environment.
    """
    if name == "book":
        return BookSemantics()
    backend = importlib.import_module(BACKENDS[name].package)
    if threads is not None:
        if BACKENDS[name].torch:
            import torch
            torch.set_num_threads(threads)
        else:
            print("note: --threads only applies to the torch backend; NumPy's BLAS takes "
                  "OPENBLAS_NUM_THREADS / OMP_NUM_THREADS from the environment", file=sys.stderr)
    return backend


class BookSemantics:
    """The book backend: ``scratch.book``'s classes, called as the scripts call the other backends.

    Networks take the scripts' ``dtype=`` and ``seed=`` and start from the
    initial weights ``scratch``'s network draws for that seed (turned to the
    book's (in, out) layout), so that a figure drawn both ways differs only by
    the semantics, not by the draw. Optimizers are the book's; ``Trainer`` is
    ``scratch``'s loop (minibatches from ``seed``) driving the book's optimizers.
    Names the book does not change (``relu``, ``init_weight``, ...) are ``scratch``'s.
    """

    def __init__(self):
        import scratch
        import scratch.book as book

        self.scratch, self.book = scratch, book

        class Trainer(scratch.Trainer):
            optimizer_module = book.optimizer

        self.Trainer = Trainer

    def __getattr__(self, name):
        return getattr(self.book if name in self.book.__all__ else self.scratch, name)

    def _same_start(self, name, args, kwargs, seed):
        book_network = getattr(self.book, name)(*args, **kwargs)
        twin = getattr(self.scratch, name)(*args, **kwargs, dtype="float64", seed=seed)
        book_network.load_params({key: (value.T if value.ndim == 2 and key.startswith("W") else value)
                                  for key, value in twin.params.items()})
        return book_network

    def MultiLayerNet(self, *args, dtype="float64", seed=None, **kwargs):  # noqa: N802 - a class's name
        return self._same_start("MultiLayerNet", args, kwargs, seed)

    def MultiLayerNetExtend(self, *args, dtype="float64", seed=None, **kwargs):  # noqa: N802
        return self._same_start("MultiLayerNetExtend", args, kwargs, seed)


def no_grad(backend_name):
    """A context in which the torch backend builds no autograd graph (for a loss only reported)."""
    if BACKENDS[backend_name].torch:
        import torch
        return torch.no_grad()
    return contextlib.nullcontext()


def to_numpy(x):
    """A NumPy array for a tensor (detached, on the CPU) or an array: what every backend returns."""
    return x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)


def versions(backend_name):
    """{"numpy": ..., "torch": ...} (torch only for the torch backend): what a saved result ran on."""
    found = {"numpy": np.__version__}
    if BACKENDS[backend_name].torch:
        import torch
        found["torch"] = torch.__version__
    return found
