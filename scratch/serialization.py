"""Saving and loading network parameters as ``.npz`` files, in the book's key names.

Files this project writes carry a ``__layout__`` entry saying that every
2-D weight is stored (out_features, in_features), like ``nn.Linear``. The
book's published weights have no such entry: their 2-D weights are stored
(in, out), because the book computes x @ W; they are transposed on loading.

``load_params`` also reads the book's own pickle files (``ch07/params.pkl``,
a dict of arrays, always in the book's layout) through ``safe_pickle``, which
refuses any global beyond what NumPy arrays need: no code in a file is run.
The kind of file is decided by its content (.npz: a zip, b"PK"; a pickle:
b"\x80"), not by its suffix. Inside an .npz pickles are never read
(``allow_pickle=False``); ``save_params`` writes .npz only.
"""
import os
import pickle
import tempfile
import zipfile

import numpy as np

from . import safe_pickle

__all__ = ["save_params", "load_params", "is_book_file", "LAYOUT_KEY"]

LAYOUT_KEY = "__layout__"
_OUR_LAYOUT = "out_in"
_NPZ_MAGIC = b"PK"       # an .npz is a zip file
_PICKLE_MAGIC = b"\x80"  # the PROTO opcode that starts every pickle of protocol 2 or later


def save_params(path, params):
    """Write ``params`` (name -> array) to ``path`` atomically: a crash never leaves half a file."""
    path = os.fspath(path)
    arrays = {name: np.asarray(value) for name, value in params.items()}
    arrays[LAYOUT_KEY] = np.array(_OUR_LAYOUT)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes the file private; give it the usual permissions
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _file_kind(path):
    """'npz' or 'pickle', from the file's first bytes; a one-line ValueError for anything else."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no parameter file at {path}")
    with open(path, "rb") as f:
        head = f.read(2)
    if head.startswith(_NPZ_MAGIC):
        return "npz"
    if head.startswith(_PICKLE_MAGIC):
        return "pickle"
    found = "it is empty" if not head else f"it starts with {head!r}"
    raise ValueError(f"{path} is neither an .npz file nor a pickle ({found})")


def _read_npz(path, names_only=False):
    """The arrays of an .npz (or only its names), never unpickling; a one-line ValueError for a bad file."""
    try:  # np.load of a path leaks the open file when the zip is corrupt: open it here
        with open(path, "rb") as f, np.load(f, allow_pickle=False) as data:
            return list(data.files) if names_only else {name: data[name] for name in data.files}
    except (ValueError, EOFError, zipfile.BadZipFile) as err:
        reason = " ".join(str(err).split()) or type(err).__name__
        raise ValueError(f"{path} is not a valid .npz parameter file ({reason})") from err


def _read_pickle(path):
    """The book's pickle: a dict of str -> numeric NumPy arrays, read by ``safe_pickle``."""
    try:
        with open(path, "rb") as f:
            data = safe_pickle.load(f)
    except pickle.UnpicklingError as err:  # ForbiddenGlobalError included: it names the global
        message = " ".join(str(err).split())
        raise ValueError(message if path in message else f"{path}: {message}") from err
    if not isinstance(data, dict):
        raise ValueError(f"{path} holds a pickled {type(data).__name__}, not a dict of parameter arrays")
    for name, value in data.items():
        if not isinstance(name, str):
            raise ValueError(f"{path} holds a parameter named {name!r}; names must be strings")
        if not isinstance(value, np.ndarray) or value.dtype.kind not in "biufc":
            what = f"a {value.dtype} array" if isinstance(value, np.ndarray) else f"a {type(value).__name__}"
            raise ValueError(f"{path}: parameter {name!r} is {what}, not a numeric NumPy array")
    return dict(data)


def is_book_file(path):
    """True for a file in the book's layout (no ``__layout__`` entry, or a pickle): 2-D weights stored (in, out)."""
    path = os.fspath(path)
    if _file_kind(path) == "pickle":
        _read_pickle(path)  # the same checks, and errors, as load_params
        return True
    return LAYOUT_KEY not in _read_npz(path, names_only=True)


def load_params(path):
    """Read a parameter file (.npz, or the book's pickle) into a dict of arrays, 2-D weights as (out, in)."""
    path = os.fspath(path)
    if _file_kind(path) == "pickle":
        arrays = _read_pickle(path)
        book_layout = True
    else:
        arrays = _read_npz(path)
        book_layout = LAYOUT_KEY not in arrays
        arrays.pop(LAYOUT_KEY, None)
    if book_layout:
        arrays = {name: (a.T.copy() if a.ndim == 2 and name.startswith("W") else a)
                  for name, a in arrays.items()}
    return arrays
