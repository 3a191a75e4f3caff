"""Helpers for the tests that run the command-line scripts as a learner would, in a subprocess.

The tests that look inside a script import it, and the package ``toolkit``, by name: pytest's
``pythonpath`` setting (pyproject.toml) puts ``scripts/`` on ``sys.path`` as ``python scripts/x.py`` does.
"""
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# One BLAS thread per script: on a busy 2-core machine an oversubscribed BLAS is many times slower.
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def run_script(name, *args, timeout=120):
    """Run ``python scripts/<name> args`` from the repository root; return the CompletedProcess."""
    env = {**os.environ, **ONE_THREAD}
    return subprocess.run([sys.executable, os.path.join("scripts", name), *map(str, args)],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout, env=env)


def succeeded(result):
    """The script's stdout, after checking that it exited 0 without a traceback."""
    assert result.returncode == 0, f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout


def assert_usage_error(result, words):
    """Exit status 2 and exactly one line on stderr, ``error: ...`` containing ``words``."""
    assert result.returncode == 2, f"exit {result.returncode}: {result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert words in lines[0], lines[0]
    assert result.stdout == ""


def assert_png(path, min_size=5000):
    """``path`` is a PNG file of a plausible size."""
    path = Path(path)
    assert path.is_file(), f"{path} was not written"
    with open(path, "rb") as f:
        assert f.read(8) == PNG_SIGNATURE, f"{path} is not a PNG file"
    assert path.stat().st_size > min_size, f"{path} is suspiciously small ({path.stat().st_size} bytes)"


def unwritable_folder(tmp_path):
    """A folder in which no file can be created, as a read-only folder is for its user.

    A non-root user gets a folder without write permission; root writes
    through permissions, so for root it is /sys (sysfs refuses new files even
    to root). Skips if neither refuses a file here.
    """
    import pytest
    import tempfile

    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    for candidate in (folder, Path("/sys")):
        try:
            fd, probe = tempfile.mkstemp(dir=candidate)
        except OSError:
            return candidate
        os.close(fd)
        os.unlink(probe)
    pytest.skip("no folder refuses new files here (root without a read-only /sys)")
