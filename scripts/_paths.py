"""Output files of the scripts: checked before the work starts, written atomically.

Standard library only (``benchmark.py`` must set thread counts before NumPy
loads), so every script can check its output paths while it parses its
arguments: a run of twenty minutes is not thrown away at the end by a folder
it cannot write to.
"""
import os
import tempfile

__all__ = ["check_output", "write_atomically"]


def _nearest_existing(folder):
    """``folder`` or its nearest ancestor that exists (what the folders to be made would go into)."""
    while not os.path.exists(folder):
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    return folder


def check_output(option, path):
    """Raise a one-line ValueError unless the file ``path`` (given as ``option``) can be written.

    It must not be a folder, and the nearest existing folder on its way must
    take a new file: the check writes, then removes, an empty temporary file
    there (``os.access`` says yes to root even on a read-only mount).
    """
    if os.path.isdir(path):
        raise ValueError(f"{option} {path} is a directory; give a file name")
    folder = _nearest_existing(os.path.dirname(os.path.abspath(path)))
    if not os.path.isdir(folder):
        raise ValueError(f"cannot write {option} {path}: {folder} is a file, not a folder")
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    except OSError as err:
        raise ValueError(f"cannot write {option} {path}: the folder {folder} is not writable "
                         f"({err.strerror or err})") from None
    os.close(fd)
    os.unlink(probe)


def write_atomically(path, write, binary=True):
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it to ``path``.

    A crash never leaves half a file; an error names ``path`` (not the
    temporary file) and leaves no temporary behind.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=os.path.splitext(path)[1])
    except OSError as err:
        raise type(err)(f"cannot write {path}: {err.strerror or err}") from err
    try:
        with os.fdopen(fd, "wb" if binary else "w") as f:
            write(f)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes the file private (0600)
        os.replace(tmp, path)
    except BaseException as err:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(err, OSError):
            raise type(err)(f"cannot write {path}: {err.strerror or err}") from err
        raise
