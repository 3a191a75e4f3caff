"""Reading pickles without running their code: NumPy arrays and plain containers only.

Why: a pickle is a small program. Its GLOBAL / STACK_GLOBAL instructions
import any callable by name (``os.system``, ``builtins.eval``,
``subprocess.Popen``) and REDUCE calls it with arguments from the file, so
plain ``pickle.load`` of an untrusted file runs whatever its author chose.
The book publishes its trained weights as pickles (``ch03/sample_weight.pkl``,
``ch07/params.pkl``, ``ch08/deep_convnet_params.pkl``: dicts of NumPy arrays).

The idea is PyTorch's ``torch.load(weights_only=True)``: an unpickler whose
``find_class`` admits a short list of globals and refuses every other one
*before* it is imported or called. Admitted:

- what NumPy arrays, scalars and dtypes need: ``numpy.ndarray``,
  ``numpy.dtype``, ``numpy.core.multiarray._reconstruct`` and
  ``numpy.core.multiarray.scalar`` (and their ``numpy._core`` names of
  NumPy 2; either spelling loads with either NumPy), ``numpy._core.numeric._frombuffer``
  (arrays in protocol 5), and ``_codecs.encode`` restricted to latin-1 (how
  protocols 0-2 store bytes);
- plain containers and scalars: dict, list, tuple, str, int, float, bool and
  None need no global at all; ``collections.OrderedDict`` and the builtins
  bytes, bytearray, set, frozenset and complex (older protocols name them).

Anything else raises ``ForbiddenGlobalError`` (a ``pickle.UnpicklingError``)
naming the global and the file; the refused global is never imported, so
nothing the file asks for is run. Any other failure (a truncated or corrupt
stream) raises ``pickle.UnpicklingError`` naming the file. Writing pickles
is safe, so ``dump`` / ``dumps`` are plain ``pickle``'s: a script's
``import pickle`` can become ``import scratch.safe_pickle as pickle``.
"""
import codecs
import collections
import io
import os
import pickle

import numpy as np

__all__ = ["load", "loads", "dump", "dumps", "ForbiddenGlobalError", "UnpicklingError", "PickleError",
           "PicklingError", "HIGHEST_PROTOCOL", "DEFAULT_PROTOCOL", "ADMITTED_GLOBALS"]

PickleError, PicklingError, UnpicklingError = pickle.PickleError, pickle.PicklingError, pickle.UnpicklingError
HIGHEST_PROTOCOL, DEFAULT_PROTOCOL = pickle.HIGHEST_PROTOCOL, pickle.DEFAULT_PROTOCOL


class ForbiddenGlobalError(pickle.UnpicklingError):
    """The pickle names a global outside ``ADMITTED_GLOBALS``; it was neither imported nor called."""


def _latin1_encode(text, encoding="utf-8", errors="strict"):
    """``_codecs.encode`` as protocols 0-2 use it, ``encode(str, 'latin1')`` -> bytes; no other codec."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1") or errors != "strict":
        raise pickle.UnpicklingError(f"_codecs.encode is admitted only as encode(str, 'latin1'), "
                                     f"not with {type(text).__name__} and {encoding!r}")
    return codecs.encode(text, "latin1")


def _numpy_globals():
    """The functions NumPy's own pickles call, taken from the installed NumPy (no private import)."""
    reconstruct = np.empty(0).__reduce__()[0]           # numpy(._)core.multiarray._reconstruct
    scalar = np.float64(0).__reduce__()[0]              # numpy(._)core.multiarray.scalar
    frombuffer = np.zeros(1).__reduce_ex__(5)[0]        # numpy(._)core.numeric._frombuffer
    admitted = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype}
    for core in ("numpy.core", "numpy._core"):          # NumPy 1 writes numpy.core, NumPy 2 numpy._core
        admitted[(f"{core}.multiarray", "_reconstruct")] = reconstruct
        admitted[(f"{core}.multiarray", "scalar")] = scalar
        admitted[(f"{core}.numeric", "_frombuffer")] = frombuffer
    return admitted


# (module, name) -> the object it stands for: the complete list of what a pickle may name.
ADMITTED_GLOBALS = {
    **_numpy_globals(),
    ("_codecs", "encode"): _latin1_encode,
    ("collections", "OrderedDict"): collections.OrderedDict,
    **{(module, kind.__name__): kind for module in ("builtins", "__builtin__")  # __builtin__: protocols 0-2
       for kind in (bytes, bytearray, set, frozenset, complex)},
}


def _shown(text, limit=120):
    """``text`` safe to print on one line: repr when it holds control characters, cut when long."""
    text = str(text)
    if not text.isprintable():
        text = ascii(text)[1:-1]
    return text if len(text) <= limit else text[:limit] + "..."


class _RestrictedUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` whose ``find_class`` looks names up in ``ADMITTED_GLOBALS`` only."""

    def __init__(self, file, source, **kwargs):
        super().__init__(file, **kwargs)
        self.source = source

    def find_class(self, module, name):
        try:
            return ADMITTED_GLOBALS[(module, name)]
        except (KeyError, TypeError):
            raise ForbiddenGlobalError(
                f"{self.source}: refused to load the global {_shown(module)}.{_shown(name)} (only NumPy "
                "arrays, scalars, dtypes and plain containers are admitted); nothing of the file was run"
            ) from None

    def persistent_load(self, pid):
        raise pickle.UnpicklingError(f"{self.source}: persistent ids are not supported")


def _source_name(file):
    name = getattr(file, "name", None)
    return _shown(os.fsdecode(name)) if isinstance(name, (str, bytes, os.PathLike)) else "<pickle stream>"


def _load(file, source, encoding, errors):
    try:
        return _RestrictedUnpickler(file, source, encoding=encoding, errors=errors).load()
    except ForbiddenGlobalError:
        raise
    except pickle.UnpicklingError as err:
        message = " ".join(str(err).split())
        if message.startswith(f"{source}:"):
            raise
        raise pickle.UnpicklingError(f"{source}: not a valid pickle ({message})") from err
    except (EOFError, ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError,
            UnicodeError) as err:  # a truncated or corrupt stream, or bad arguments to an admitted global
        message = " ".join(str(err).split()) or type(err).__name__
        reason = "it ends too early" if isinstance(err, EOFError) else _shown(message, 200)
        raise pickle.UnpicklingError(f"{source}: not a valid pickle ({reason})") from err


def load(file, *, encoding="ASCII", errors="strict"):
    """Unpickle from a binary file object (or a path), admitting only ``ADMITTED_GLOBALS``."""
    if isinstance(file, (str, bytes, os.PathLike)):
        with open(file, "rb") as f:
            return _load(f, _source_name(f), encoding, errors)
    return _load(file, _source_name(file), encoding, errors)


def loads(data, *, encoding="ASCII", errors="strict"):
    """Unpickle from bytes, admitting only ``ADMITTED_GLOBALS``."""
    return _load(io.BytesIO(data), "<pickle data>", encoding, errors)


def dump(obj, file, protocol=None, **kwargs):
    """``pickle.dump``: writing runs nothing of anyone else's."""
    pickle.dump(obj, file, protocol, **kwargs)


def dumps(obj, protocol=None, **kwargs):
    """``pickle.dumps``."""
    return pickle.dumps(obj, protocol, **kwargs)
