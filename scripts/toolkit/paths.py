"""Output files of the scripts: checked before the work starts, written atomically.

``check_output`` uses the standard library only (``benchmark.py`` must set
thread counts before NumPy loads), so every script can check its output paths
while it parses its arguments: a run of twenty minutes is not thrown away at
the end by a folder it cannot write to. The writing itself is
``scratch.serialization.write_atomically``, the project's one.
"""
import os
import tempfile

__all__ = ["check_output", "write_text", "write_bytes"]


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


def write_text(path, text):
    """Write ``text`` (UTF-8) to ``path`` atomically, with the project's one ``write_atomically``
    (``scratch.serialization``: a temporary file beside ``path``, then a rename; an error names ``path``)."""
    write_bytes(path, text.encode("utf-8"))


def write_bytes(path, data):
    """Write ``data`` to ``path`` atomically (see ``write_text``)."""
    from scratch.serialization import write_atomically  # imports NumPy: only when a file is written

    write_atomically(path, lambda f: f.write(data))
