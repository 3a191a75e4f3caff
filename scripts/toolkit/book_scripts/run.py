"""Running a book script both ways: the temporary folders, then each run in a process of its own.

The book's original runs in a temporary copy of the book's code (its own
``common/`` and ``dataset/``; the MNIST files are handed to the book's
``dataset/mnist.py`` as the ``.gz`` files it would download, so it never goes
online), from the script's chapter folder. The rewritten script runs in
another temporary folder that holds only the chapter's data files (the
``.pkl`` weights), no ``common/`` or ``dataset/``, so it can only use
``scratch.book``. Both start from ``np.random.seed(seed)``, with matplotlib's
Agg backend and ``plt.show`` (and PIL's ``Image.show``) recording the figures'
data instead of showing them, one BLAS thread, and a time limit.
"""
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..paths import write_text
from . import DEFAULT_RTOL, DEFAULT_TIMEOUT, REPO_ROOT
from .rewrite import BOOK_MODULES, NEEDS_FILE, book_text, chapter_of, data_files, scratch_text

MNIST_RAW_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                   "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")

# Runs a script as ``python script.py`` would, after np.random.seed(seed), with
# plt.show (and PIL's Image.show) replaced by a recorder of the figures' data.
RUNNER = r'''
import json, os, runpy, sys
script, seed, plot_path, forbidden = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4].split()
import numpy as np
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
try:
    from PIL import Image
    Image.Image.show = lambda self, *args, **kwargs: None
except ImportError:
    pass
shown = []

def floats(values):
    array = np.ma.filled(np.ma.asarray(values).astype(float), np.nan)
    return {"shape": list(array.shape), "values": array.ravel().tolist()}

def show(*args, **kwargs):
    for number in plt.get_fignums():
        figure = plt.figure(number)
        where = f"figure {len(shown) + 1}"
        record = {"figure": where, "items": []}
        for a, axes in enumerate(figure.axes, 1):
            for k, line in enumerate(axes.get_lines(), 1):
                record["items"].append({"what": f"axes {a} line {k} x", **floats(line.get_xdata())})
                record["items"].append({"what": f"axes {a} line {k} y", **floats(line.get_ydata())})
            for k, image in enumerate(axes.get_images(), 1):
                record["items"].append({"what": f"axes {a} image {k}", **floats(image.get_array())})
        shown.append(record)
    plt.close("all")
    with open(plot_path, "w") as f:
        json.dump(shown, f)

plt.show = show
sys.argv = [script]
sys.path[0] = os.path.dirname(script)
np.random.seed(seed)
try:
    runpy.run_path(script, run_name="__main__")
finally:
    used = sorted(name for name in sys.modules if name.split(".")[0] in forbidden)
    if used:
        sys.exit(f"BookCodeUsed: the script imported the book's own {', '.join(used)}")
'''


@dataclass
class Run:
    """One run of a script: its exit status, outputs, wall time and what it plotted."""

    returncode: int | None
    stdout: str
    stderr: str
    seconds: float
    plots: list = field(default_factory=list)
    timed_out: bool = False


def run_env(blas_threads, extra):
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0", "PYTHONIOENCODING": "utf-8",
           **{var: str(blas_threads) for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}}
    env.update(extra)
    return env


def run_script(script, seed, plot_path, env, timeout, forbidden=()):
    """Run ``script`` from its folder through RUNNER; a timeout is reported, not raised.

    The run fails if the script imported a module named in ``forbidden`` (for
    scratch.book's run: the book's common, dataset and network files).
    """
    script = Path(script)
    plot_path = Path(plot_path)
    if plot_path.exists():
        plot_path.unlink()
    command = [sys.executable, "-c", RUNNER, str(script), str(seed), str(plot_path), " ".join(forbidden)]
    start = time.perf_counter()
    try:
        done = subprocess.run(command, cwd=script.parent, env=env, capture_output=True, text=True,
                              encoding="utf-8", errors="replace", timeout=timeout)
    except subprocess.TimeoutExpired as err:
        out = err.stdout.decode("utf-8", "replace") if isinstance(err.stdout, bytes) else err.stdout or ""
        return Run(None, out, f"timed out after {timeout} s", time.perf_counter() - start, timed_out=True)
    seconds = time.perf_counter() - start
    plots = json.loads(plot_path.read_text()) if plot_path.exists() else []
    return Run(done.returncode, done.stdout, done.stderr, seconds, plots)


def mnist_raw_dir(data_dir, download):
    """``data_dir/MNIST/raw`` with the four IDX files, fetched through scratch.mnist if allowed and missing."""
    from scratch import mnist

    root = Path(data_dir or mnist.default_data_dir()).expanduser().resolve()
    raw = root / "MNIST" / "raw"
    if any(not (raw / name).is_file() for name in MNIST_RAW_FILES):
        mnist.load_mnist(root=root, download=download)  # a clear FileNotFoundError when it cannot
    return raw


def prepare_book_copy(book_dir, raw_dir, work_dir):
    """A copy of the book's code in work_dir/book, MNIST in it as the .gz files and mnist.pkl the book makes."""
    copy = Path(work_dir) / "book"
    shutil.copytree(book_dir, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "mnist.pkl", ".git"))
    for name in MNIST_RAW_FILES:
        with open(Path(raw_dir) / name, "rb") as src, gzip.open(copy / "dataset" / f"{name}.gz", "wb",
                                                               compresslevel=1) as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    done = subprocess.run([sys.executable, "-c", "from dataset.mnist import init_mnist; init_mnist()"],
                          cwd=copy, capture_output=True, text=True, env=run_env(1, {}))
    if done.returncode != 0 or not (copy / "dataset" / "mnist.pkl").is_file():
        raise OSError(f"the book's dataset/mnist.py could not make mnist.pkl: {done.stderr.strip()[-300:]}")
    return copy


@dataclass
class Setup:
    """Where things are, and how to run: what ``compare_script`` needs."""

    book_dir: Path          # the book's code, never changed
    book_copy: Path         # its temporary copy, with MNIST
    work_dir: Path          # for the rewritten scripts and the recorded plots
    data_dir: Path          # the folder holding MNIST/raw, for scratch.book
    seed: int = 0
    rtol: float = DEFAULT_RTOL
    quick: bool = False
    timeout: float = DEFAULT_TIMEOUT
    blas_threads: int = 1
    parallel: bool = True


def make_setup(book_dir, work_dir, data_dir=None, download=True, **options):
    """Copy the book's code into work_dir and return the Setup (slow part: MNIST to the book's pickle, ~10 s)."""
    raw = mnist_raw_dir(data_dir, download)
    book_copy = prepare_book_copy(book_dir, raw, work_dir)
    return Setup(Path(book_dir), book_copy, Path(work_dir), raw.parent.parent, **options)


def book_run_script(setup, name):
    """The book's script in the copy, ready to run: the chapter's data files restored (a script may overwrite them)."""
    chapter = chapter_of(name)
    for path in data_files(setup.book_dir, chapter):
        shutil.copy2(path, setup.book_copy / chapter / path.name)
    script = setup.book_copy / name
    write_text(script, book_text(setup.book_dir, name, setup.quick))
    return script


def scratch_run_script(setup, name):
    """The rewritten script in a fresh folder of its own with only the chapter's data files."""
    runs = setup.work_dir / "scratch_book"
    runs.mkdir(exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=name.replace("/", "-").removesuffix(".py") + "-", dir=runs))
    for path in data_files(setup.book_dir, chapter_of(name)):
        shutil.copy2(path, folder / path.name)
    needed = NEEDS_FILE.get(name)
    if needed:  # e.g. ../dataset/lena_gray.png: the file alone, beside the folder as in the book
        target = folder.parent / needed[0]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(setup.book_dir / needed[0], target)
    script = folder / name.split("/")[1]
    write_text(script, scratch_text(setup.book_dir, name, setup.quick))
    return script


def run_both(setup, name):
    """(book's Run, scratch.book's Run) of ``name``, at the same time unless ``setup.parallel`` is off."""
    plots = setup.work_dir / "plots"
    plots.mkdir(exist_ok=True)
    stem = name.replace("/", "-").removesuffix(".py")
    jobs = [(book_run_script(setup, name), plots / f"{stem}-book.json", run_env(setup.blas_threads, {}), ()),
            (scratch_run_script(setup, name), plots / f"{stem}-scratch.json",
             run_env(setup.blas_threads, {"PYTHONPATH": str(REPO_ROOT), "DLFS_DATA_DIR": str(setup.data_dir)}),
             BOOK_MODULES)]
    if not setup.parallel:
        return tuple(run_script(script, setup.seed, plot, env, setup.timeout, forbidden)
                     for script, plot, env, forbidden in jobs)
    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(run_script, script, setup.seed, plot, env, setup.timeout, forbidden)
                   for script, plot, env, forbidden in jobs]
        return tuple(f.result() for f in futures)
