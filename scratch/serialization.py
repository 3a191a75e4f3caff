"""Saving and loading network parameters as ``.npz`` files, in the book's key names.

Files this project writes carry a ``__layout__`` entry saying that every
2-D weight is stored (out_features, in_features), like ``nn.Linear``. The
book's published weights have no such entry: their 2-D weights are stored
(in, out), because the book computes x @ W; they are transposed on loading.
Pickles are never read (``allow_pickle=False``).
"""
import os
import tempfile

import numpy as np

__all__ = ["save_params", "load_params", "is_book_file", "LAYOUT_KEY"]

LAYOUT_KEY = "__layout__"
_OUR_LAYOUT = "out_in"


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


def is_book_file(path):
    """True for a file in the book's layout (no ``__layout__`` entry): 2-D weights stored (in, out)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no parameter file at {path}")
    with np.load(path, allow_pickle=False) as data:
        return LAYOUT_KEY not in data.files


def load_params(path):
    """Read a parameter file into a dict of arrays, 2-D weights as (out, in)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no parameter file at {path}")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except ValueError as err:
        raise ValueError(f"{path} is not a valid .npz parameter file ({err})") from err
    book_layout = LAYOUT_KEY not in arrays
    arrays.pop(LAYOUT_KEY, None)
    if book_layout:
        arrays = {name: (a.T.copy() if a.ndim == 2 and name.startswith("W") else a)
                  for name, a in arrays.items()}
    return arrays
