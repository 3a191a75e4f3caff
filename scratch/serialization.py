"""Saving and loading network parameters as ``.npz`` files, in the book's key names.

Files this project writes carry a ``__layout__`` entry saying that every
2-D weight is stored (out_features, in_features), like ``nn.Linear``. The
book's published weights have no such entry: their 2-D weights are stored
(in, out), because the book computes x @ W; they are transposed on loading.

``save_params(path, params, config)`` can store the network's configuration
(a JSON object, e.g. ``{"model": "two_layer", "hidden_size": 50, "activation":
"relu"}``) in a ``__config__`` entry beside ``__layout__``; ``load_config``
reads it back (None for files without one, such as the book's), so that a
script can build the right network, or refuse a conflicting one, before it
loads the weights.

``load_params`` also reads the book's own pickle files (``ch07/params.pkl``,
a dict of arrays, always in the book's layout) through ``safe_pickle``, which
refuses any global beyond what NumPy arrays need: no code in a file is run.
The kind of file is decided by its content (.npz: a zip, b"PK"; a pickle:
b"\\x80"), not by its suffix. Inside an .npz pickles are never read
(``allow_pickle=False``); ``save_params`` writes .npz only.

Every problem with a file is one ``ValueError`` naming the file and what is
wrong: not an .npz (empty, text, a single-array .npy), a damaged zip (an
interrupted copy), an entry that is not a numeric array, or weights holding
NaN or infinity (they would only ever compute NaN).
"""
import json
import os
import pickle
import tempfile
import zipfile
import zlib

import numpy as np

from . import safe_pickle

__all__ = ["save_params", "load_params", "load_config", "is_book_file", "write_atomically", "LAYOUT_KEY", "CONFIG_KEY"]

LAYOUT_KEY = "__layout__"
CONFIG_KEY = "__config__"
_OUR_LAYOUT = "out_in"
_NPZ_MAGIC = b"PK"       # an .npz is a zip file
_NPY_MAGIC = b"\x93NUMPY"  # a single array saved by np.save
_PICKLE_MAGIC = b"\x80"  # the PROTO opcode that starts every pickle of protocol 2 or later
_NUMERIC_KINDS = "biuf"  # bool, signed and unsigned integers, floats


def save_params(path, params, config=None):
    """Write ``params`` (name -> array) to ``path`` atomically: a crash never leaves half a file.

    ``config``: an optional dict of JSON values (the network's configuration), stored as ``__config__``.
    """
    path = os.fspath(path)
    arrays = {name: np.asarray(value) for name, value in params.items()}
    arrays[LAYOUT_KEY] = np.array(_OUR_LAYOUT)
    if config is not None:
        arrays[CONFIG_KEY] = np.array(json.dumps(config, sort_keys=True))
    write_atomically(path, lambda f: np.savez(f, **arrays))


def write_atomically(path, write):
    """Call ``write(binary file)`` on a temporary file beside ``path``, then rename it to ``path``.

    An error names ``path`` (not the temporary file) and leaves no temporary behind.
    """
    directory = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=os.path.splitext(path)[1])
    except OSError as err:
        raise type(err)(f"cannot write {path}: {err.strerror or err}") from err
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes the file private; give it the usual permissions
        os.replace(tmp, path)
    except BaseException as err:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(err, OSError):
            raise type(err)(f"cannot write {path}: {err.strerror or err}") from err
        raise


def _file_kind(path):
    """'npz' or 'pickle', from the file's first bytes; a one-line ValueError for anything else."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no parameter file at {path}")
    with open(path, "rb") as f:
        head = f.read(len(_NPY_MAGIC))
    if head.startswith(_NPZ_MAGIC):
        return "npz"
    if head.startswith(_PICKLE_MAGIC):
        return "pickle"
    if head == _NPY_MAGIC:
        raise ValueError(f"{path} is neither an .npz file nor a pickle: it is an .npy file (one array, "
                         f"from np.save), not named parameters (np.savez)")
    found = "it is empty" if not head else f"it starts with {head[:2]!r}"
    raise ValueError(f"{path} is neither an .npz file nor a pickle ({found})")


def _read_npz(path, names_only=False):
    """The entries of an .npz (or only their names), never unpickling; a one-line ValueError for a bad file."""
    try:  # np.load of a path leaks the open file when the zip is corrupt: open it here
        with open(path, "rb") as f, np.load(f, allow_pickle=False) as data:
            if names_only:
                return list(data.files)
            return {name: _npz_entry(path, data, name) for name in data.files}
    except (EOFError, zipfile.BadZipFile, zlib.error) as err:
        raise ValueError(f"{path} is not a valid .npz parameter file: it is damaged, perhaps cut short by "
                         f"an interrupted copy ({_reason(err)})") from err
    except ValueError as err:
        if str(path) in str(err):
            raise
        raise ValueError(f"{path} is not a valid .npz parameter file ({_reason(err)})") from err


def _npz_entry(path, data, name):
    """One entry of an open .npz: an array; an object array (pickled Python objects) is refused, never read."""
    try:
        value = data[name]
    except ValueError as err:
        if "allow_pickle" in str(err):
            raise ValueError(f"{path}: entry {name!r} holds Python objects (an object array), "
                             f"not numbers; such entries are never loaded") from err
        raise
    if not isinstance(value, np.ndarray):  # a zip member that is not an .npy array
        raise ValueError(f"{path}: entry {name!r} is not a NumPy array (is this an .npz file?)")
    return value


def _reason(err):
    """An exception's message on one line (its type's name if it has none)."""
    return " ".join(str(err).split()) or type(err).__name__


def _read_pickle(path):
    """The book's pickle: a dict of str -> NumPy arrays, read by ``safe_pickle``."""
    try:
        with open(path, "rb") as f:
            data = safe_pickle.load(f)
    except pickle.UnpicklingError as err:  # ForbiddenGlobalError included: it names the global
        message = _reason(err)
        raise ValueError(message if path in message else f"{path}: {message}") from err
    if not isinstance(data, dict):
        raise ValueError(f"{path} holds a pickled {type(data).__name__}, not a dict of parameter arrays")
    for name in data:
        if not isinstance(name, str):
            raise ValueError(f"{path} holds a parameter named {name!r}; names must be strings")
    return dict(data)


def _check_arrays(path, arrays):
    """Every parameter is a numeric array holding only finite values; else a ValueError naming it."""
    for name, value in arrays.items():
        if not isinstance(value, np.ndarray) or value.dtype.kind not in _NUMERIC_KINDS:
            what = f"a {value.dtype} array" if isinstance(value, np.ndarray) else f"a {type(value).__name__}"
            raise ValueError(f"{path}: parameter {name!r} is {what}, not a numeric NumPy array")
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            nan, inf = int(np.isnan(value).sum()), int(np.isinf(value).sum())
            raise ValueError(f"{path}: parameter {name!r} holds {nan} NaN and {inf} infinite values; "
                             f"weights like these only compute NaN, so the file is refused")


def is_book_file(path):
    """True for a file in the book's layout (no ``__layout__`` entry, or a pickle): 2-D weights stored (in, out)."""
    path = os.fspath(path)
    if _file_kind(path) == "pickle":
        _check_arrays(path, _read_pickle(path))  # the same checks, and errors, as load_params
        return True
    return LAYOUT_KEY not in _read_npz(path, names_only=True)


def load_config(path):
    """The configuration ``save_params`` stored in ``path`` (a dict), or None if it has none (the book's files)."""
    path = os.fspath(path)
    if _file_kind(path) == "pickle" or CONFIG_KEY not in _read_npz(path, names_only=True):
        return None
    try:
        with open(path, "rb") as f, np.load(f, allow_pickle=False) as data:
            config = json.loads(str(data[CONFIG_KEY]))
    except (ValueError, EOFError, zipfile.BadZipFile, zlib.error) as err:
        raise ValueError(f"{path}: its {CONFIG_KEY} entry is not a JSON object ({_reason(err)})") from err
    if not isinstance(config, dict):
        raise ValueError(f"{path}: its {CONFIG_KEY} entry is not a JSON object but {type(config).__name__}")
    return config


def load_params(path):
    """Read a parameter file (.npz, or the book's pickle) into a dict of arrays, 2-D weights as (out, in).

    Refuses (ValueError naming the file and the entry) a file that is not one,
    entries that are not numeric arrays, and weights holding NaN or infinity.
    """
    path = os.fspath(path)
    if _file_kind(path) == "pickle":
        arrays = _read_pickle(path)
        book_layout = True
    else:
        arrays = _read_npz(path)
        book_layout = LAYOUT_KEY not in arrays
        arrays.pop(LAYOUT_KEY, None)
        arrays.pop(CONFIG_KEY, None)
    _check_arrays(path, arrays)
    if book_layout:
        arrays = {name: (a.T.copy() if a.ndim == 2 and name.startswith("W") else a)
                  for name, a in arrays.items()}
    return arrays
