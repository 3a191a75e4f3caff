"""Run the book's own chapter scripts on ``scratch.book`` and check that they print the book's numbers.

``scratch.book`` claims to be the book exactly: take one of the book's
official scripts (github.com/oreilly-japan/deep-learning-from-scratch,
``ch02`` .. ``ch08``), change only its import lines, and it prints what the
book's code prints under the same ``np.random.seed``::

    from common.layers import *              ->  from scratch.book import *
    from dataset.mnist import load_mnist     ->  from scratch.book import load_mnist
    from two_layer_net import TwoLayerNet    ->  from scratch.book.ch04 import TwoLayerNet   (chapter 4)
                                                 from scratch.book import TwoLayerNet        (chapter 5)
    from simple_convnet import SimpleConvNet ->  from scratch.book import SimpleConvNet   (also deep_convnet,
                                                 layer_naive, and_gate, or_gate, nand_gate)
    import pickle                            ->  from scratch.book import safe_pickle as pickle

This script checks that claim. For each script it

1. runs the book's original in a temporary copy of the book's code (its own
   ``common/`` and ``dataset/``; the MNIST files are handed to the book's
   ``dataset/mnist.py`` as the ``.gz`` files it would download, so it never
   goes online), from the script's chapter folder;
2. runs the rewritten script in another temporary folder that holds only the
   chapter's data files (the ``.pkl`` weights), no ``common/`` or ``dataset/``,
   so it can only use ``scratch.book``;
3. compares the two outputs line by line: the same lines, the same text
   around the numbers, every number within a relative tolerance (``--rtol``,
   default 1e-4). A gradient check (a script named ``*gradient_check.py``)
   prints ``key:difference`` lines whose differences are rounding noise
   (around 1e-10): each must agree within the tolerance or else be of the
   same order of magnitude (within a factor of 10) and below 1e-6 on both
   sides. Text is compared with runs of spaces collapsed (NumPy pads printed
   arrays to the width of their numbers). What the scripts plot is compared too
   (the data of every line and image shown by ``plt.show``), so a script that
   prints nothing, like ch06/optimizer_compare_naive.py, is still checked.

Both runs start from ``np.random.seed(--seed)`` (default 0), with matplotlib's
Agg backend and ``plt.show`` (and PIL's ``Image.show``) doing nothing but
recording the figures, one BLAS thread, and a time limit.

    python scripts/book_scripts.py --quick                       # all scripts, shortened: ~3 minutes
    python scripts/book_scripts.py ch05/gradient_check.py --show # one script, both outputs
    python scripts/book_scripts.py --rewrite /tmp/book-on-scratch # write the rewritten scripts to read and run

The book's code is found with ``--book-code DIR`` or ``$DLFS_BOOK_CODE_DIR``
(nothing is downloaded) and MNIST with ``--data-dir`` or ``$DLFS_DATA_DIR``.
The exit status is 0 when every script printed the same numbers, 1 when one
did not (or failed), 2 for a usage error.
"""
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import _common

REPO_ROOT = Path(__file__).resolve().parents[1]
BOOK_CODE_ENV = "DLFS_BOOK_CODE_DIR"
CHAPTERS = ("ch02", "ch03", "ch04", "ch05", "ch06", "ch07", "ch08")
MNIST_RAW_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                   "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
HEADER_END = "# --- end of header ---"

# The chapters' own modules that scripts import and scratch.book provides. They
# are not scripts themselves (running one prints nothing but and_gate's demo).
LOCAL_MODULES = ("two_layer_net", "layer_naive", "simple_convnet", "deep_convnet",
                 "and_gate", "or_gate", "nand_gate")

# What scratch.book's run must not import: the book's packages and the chapters' modules.
BOOK_MODULES = ("common", "dataset") + LOCAL_MODULES

# Gradient checks print key:difference lines whose differences are rounding noise.
GRADIENT_CHECK_SCRIPT = "gradient_check"
MAGNITUDE_FACTOR = 10.0
MAGNITUDE_CEILING = 1e-6

DEFAULT_RTOL = 1e-4
DEFAULT_TIMEOUT = 3600

# Scripts that cannot run as they are: (file they need, relative to the book's code, why).
NEEDS_FILE = {
    "ch07/apply_filter.py": ("dataset/lena_gray.png",
                             "reads ../dataset/lena_gray.png, which the book's repository does not include"),
}

# --quick: textual substitutions made identically in the book's script and the
# rewritten one, each (old, new); every old must occur exactly once.
QUICK = {
    "ch04/train_neuralnet.py": [("iters_num = 10000", "iters_num = 601")],
    "ch05/train_neuralnet.py": [("iters_num = 10000", "iters_num = 601")],
    "ch06/batch_norm_gradient_check.py": [("hidden_size_list=[100, 100]", "hidden_size_list=[10, 10]")],
    "ch06/batch_norm_test.py": [
        ("max_epochs = 20", "max_epochs = 3"),
        ("weight_scale_list = np.logspace(0, -4, num=16)",
         "weight_scale_list = np.logspace(0, -4, num=16)[::5]"),
    ],
    "ch06/hyperparameter_optimization.py": [
        ("optimization_trial = 100", "optimization_trial = 3"),
        ("def __train(lr, weight_decay, epocs=50):", "def __train(lr, weight_decay, epocs=5):"),
    ],
    "ch06/optimizer_compare_mnist.py": [("max_iterations = 2000", "max_iterations = 201")],
    "ch06/weight_init_compare.py": [("max_iterations = 2000", "max_iterations = 201")],
    "ch06/overfit_dropout.py": [("epochs=301,", "epochs=11,")],
    "ch06/overfit_weight_decay.py": [("max_epochs = 201", "max_epochs = 11")],
    "ch07/train_convnet.py": [
        ("#x_train, t_train = x_train[:5000], t_train[:5000]", "x_train, t_train = x_train[:300], t_train[:300]"),
        ("#x_test, t_test = x_test[:1000], t_test[:1000]", "x_test, t_test = x_test[:300], t_test[:300]"),
        ("max_epochs = 20", "max_epochs = 1"),
    ],
    "ch08/half_float_network.py": [("sampled = 10000", "sampled = 300")],
    "ch08/misclassified_mnist.py": [
        ("#sampled = 1000\n#x_test = x_test[:sampled]\n#t_test = t_test[:sampled]",
         "sampled = 300\nx_test = x_test[:sampled]\nt_test = t_test[:sampled]"),
    ],
    "ch08/train_deepnet.py": [
        ("(x_train, t_train), (x_test, t_test) = load_mnist(flatten=False)\n",
         "(x_train, t_train), (x_test, t_test) = load_mnist(flatten=False)\n"
         "x_train, t_train = x_train[:200], t_train[:200]\n"
         "x_test, t_test = x_test[:200], t_test[:200]\n"),
        ("epochs=20,", "epochs=1,"),
    ],
}

DESCRIPTION = """Run the book's chapter scripts (ch02-ch08 of Deep Learning from Scratch) twice,
as the book wrote them and with only their import lines changed to scratch.book,
under the same np.random.seed, and compare what they print (and plot): the same
lines, every number within --rtol, gradient-check differences of the same order
of magnitude. Without --quick the scripts run in full, as the book wrote them:
seconds to a minute for most, a few minutes for ch06's trainings, about 8 for
ch06/hyperparameter_optimization.py and 5 for ch08/half_float_network.py
(2 cores), but ch07/train_convnet.py and ch08/train_deepnet.py train for 20
epochs on all of MNIST: about an hour and many hours on the book's code (raise
--timeout for them). --quick shortens the long scripts (fewer iterations,
epochs, images) by the same textual substitutions in both versions: all of them
in about 3 minutes. --rewrite DIR writes the rewritten scripts for you to read
and run."""

EPILOG = f"""The book's code: --book-code DIR or ${BOOK_CODE_ENV} (a copy of
github.com/oreilly-japan/deep-learning-from-scratch, MIT licence). It is copied
to a temporary folder and never changed. Scripts skipped because they cannot run anywhere:
{'; '.join(f'{name}: {why}' for name, (_, why) in NEEDS_FILE.items())}. The table: lines printed,
numbers compared, plotted values compared, the largest relative difference
among those, the largest ratio between the two gradient-check differences of a
line (x1: the same), the seconds each run took (both at the same time, unless
--sequential), the verdict."""


# ---------------------------------------------------------------------------
# Finding the book's code and its scripts
# ---------------------------------------------------------------------------

def find_book_code(directory=None):
    """The book's code folder: ``directory``, else $DLFS_BOOK_CODE_DIR; checked to hold common/ and ch05/."""
    directory = directory or os.environ.get(BOOK_CODE_ENV)
    if not directory:
        raise ValueError(f"where is the book's code? pass --book-code DIR or set {BOOK_CODE_ENV} "
                         "(a copy of github.com/oreilly-japan/deep-learning-from-scratch)")
    path = Path(directory).expanduser().resolve()
    for needed in ("common/layers.py", "dataset/mnist.py", "ch05/two_layer_net.py"):
        if not (path / needed).is_file():
            raise FileNotFoundError(f"{path} is not the book's code: {needed} is missing")
    return path


def chapter_of(name):
    return name.split("/")[0]


def target_module(module, chapter):
    """The scratch.book module that replaces ``module`` in a script of ``chapter``, or None."""
    if module == "common" or module.startswith("common.") or module == "dataset.mnist":
        return "scratch.book"
    if module == "two_layer_net" and chapter == "ch04":
        return "scratch.book.ch04"  # chapter 4's sigmoid network; scratch.book.TwoLayerNet is chapter 5's
    if module in LOCAL_MODULES:
        return "scratch.book"
    return None


FROM_IMPORT = re.compile(r"^(?P<indent>[ \t]*)from[ \t]+(?P<module>[\w.]+)[ \t]+import[ \t]+"
                         r"(?P<names>[^#\n]*?)(?P<tail>[ \t]*(?:#.*)?)$")
IMPORT_PICKLE = re.compile(r"^(?P<indent>[ \t]*)import[ \t]+pickle(?P<tail>[ \t]*(?:#.*)?)$")


def rewrite_line(line, chapter):
    """``line`` with its import rewritten to scratch.book, or None when it is not one of the mapped imports."""
    match = FROM_IMPORT.match(line)
    if match:
        module = target_module(match["module"], chapter)
        if module is None:
            return None
        return f"{match['indent']}from {module} import {match['names']}{match['tail']}"
    match = IMPORT_PICKLE.match(line)
    if match:
        return f"{match['indent']}from scratch.book import safe_pickle as pickle{match['tail']}"
    return None


def rewrite_imports(text, chapter):
    """(text with the import lines rewritten, [(line number, old line, new line), ...])."""
    lines = text.split("\n")
    changes = []
    for number, line in enumerate(lines, 1):
        new = rewrite_line(line, chapter)
        if new is not None:
            changes.append((number, line, new))
            lines[number - 1] = new
    return "\n".join(lines), changes


def is_script(book_dir, name):
    """A chapter script that imports the book's common/, dataset/ or one of the chapter's network files."""
    path = Path(book_dir) / name
    if path.stem in LOCAL_MODULES or not path.is_file():
        return False
    text = path.read_text(encoding="utf-8")
    return any(FROM_IMPORT.match(line) and target_module(FROM_IMPORT.match(line)["module"], chapter_of(name))
               for line in text.split("\n"))


def discover_scripts(book_dir):
    """Every ch02-ch08 script ``is_script`` accepts, as 'ch05/gradient_check.py', in order."""
    names = []
    for chapter in CHAPTERS:
        for path in sorted((Path(book_dir) / chapter).glob("*.py")):
            name = f"{chapter}/{path.name}"
            if is_script(book_dir, name):
                names.append(name)
    return names


def select_scripts(book_dir, names):
    """``names`` (or, when empty, every script) checked to be scripts of the book."""
    if not names:
        return discover_scripts(book_dir)
    selected = []
    for name in names:
        name = name.replace(os.sep, "/").strip("/")
        if name.startswith("./"):
            name = name[2:]
        if not (Path(book_dir) / name).is_file() or chapter_of(name) not in CHAPTERS:
            raise ValueError(f"no script {name} in the book's code (expected e.g. ch05/gradient_check.py)")
        if Path(name).stem in LOCAL_MODULES:
            raise ValueError(f"{name} is a module the chapter's scripts import (scratch.book provides it), "
                             "not a script")
        if not is_script(book_dir, name):
            raise ValueError(f"{name} imports nothing from common/, dataset/ or the chapter's network "
                             "files: there is nothing of scratch.book to compare")
        selected.append(name)
    return selected


def skip_reason(book_dir, name):
    """Why ``name`` cannot run (a file it reads is missing), or None."""
    needed = NEEDS_FILE.get(name)
    if needed and not (Path(book_dir) / needed[0]).exists():
        return needed[1]
    return None


# ---------------------------------------------------------------------------
# The two versions of a script
# ---------------------------------------------------------------------------

def apply_quick(name, text):
    """``text`` with the --quick substitutions for ``name``; ValueError if the book's text changed."""
    for old, new in QUICK.get(name, []):
        count = text.count(old)
        if count != 1:
            raise ValueError(f"--quick: expected {old!r} once in {name}, found it {count} times "
                             "(has the book's code changed?)")
        text = text.replace(old, new)
    return text


def book_text(book_dir, name, quick):
    """The book's script as it is run: its own text, shortened with --quick."""
    text = (Path(book_dir) / name).read_text(encoding="utf-8")
    return apply_quick(name, text) if quick else text


def header(name, changes, quick):
    """The comment at the top of a rewritten script: where it comes from and which lines changed."""
    lines = [f"# The book's {name} (Deep Learning from Scratch, MIT licence: see LICENSE.md of the",
             "# book's repository), written by scripts/book_scripts.py to run on scratch.book.",
             "# Only these import lines changed (line numbers of the book's file):"]
    width = max((len(old.strip()) for _, old, _ in changes), default=0)
    lines += [f"#   {number:3d}: {old.strip():{width}s}  ->  {new.strip()}" for number, old, new in changes]
    if quick and QUICK.get(name):
        lines.append("# and, for a quick run (scripts/book_scripts.py --quick), in the book's script too:")
        lines += [f"#   {old!r}  ->  {new!r}" for old, new in QUICK[name]]
    lines += ["# Run it from its folder with the repository on PYTHONPATH and MNIST where scratch.book finds it:",
              f"#   cd {chapter_of(name)} && DLFS_DATA_DIR=/path/to/data PYTHONPATH=/path/to/repo python "
              f"{name.split('/')[1]}", HEADER_END]
    return "\n".join(lines) + "\n"


def scratch_text(book_dir, name, quick):
    """The script rewritten for scratch.book, with its header."""
    text, changes = rewrite_imports(book_text(book_dir, name, quick), chapter_of(name))
    return header(name, changes, quick) + text


def strip_header(text):
    """A rewritten script without its header (what remains differs from the book's only in import lines)."""
    head, sep, rest = text.partition(HEADER_END + "\n")
    return rest if sep else text


def data_files(book_dir, chapter):
    """The chapter's files other than Python code: the book's pickled weights."""
    folder = Path(book_dir) / chapter
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix not in (".py", ".pyc"))


def write_text(path, text):
    """Write ``text`` to ``path`` atomically (a temporary file in the same folder, then a rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def inside(path, folder):
    path, folder = Path(path).resolve(), Path(folder).resolve()
    return path == folder or folder in path.parents


def write_rewritten(book_dir, names, out_dir, quick):
    """--rewrite: each script rewritten for scratch.book under out_dir/chNN/, with the chapter's data files."""
    out_dir = Path(out_dir).expanduser().resolve()
    if inside(out_dir, REPO_ROOT):
        raise ValueError(f"--rewrite {out_dir} is inside the repository; the book's code does not belong "
                         "there, choose a folder outside it")
    for chapter in sorted({chapter_of(name) for name in names}):
        for path in data_files(book_dir, chapter):
            (out_dir / chapter).mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, out_dir / chapter / path.name)
    if (Path(book_dir) / "LICENSE.md").is_file():
        shutil.copy2(Path(book_dir) / "LICENSE.md", out_dir / "LICENSE.md")
    for name in names:
        write_text(out_dir / name, scratch_text(book_dir, name, quick))
        print(f"wrote {out_dir / name}")


# ---------------------------------------------------------------------------
# Running a script
# ---------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------
# The temporary folders
# ---------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------
# Comparing the outputs
# ---------------------------------------------------------------------------

# A number not glued to a word: 'W1' and 'np.uint8' hold none, '1e-10', '-0.5', 'nan' are numbers.
NUMBER = re.compile(r"(?<![\w.])[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf)(?![\w.])")
KEY_VALUE = re.compile(r"^\s*[A-Za-z_]\w*\s*[: ]\s*\S+\s*$")  # 'W1:3.2e-10', 'W1 3.2e-10'


def split_numbers(line):
    """(the line's text with each number replaced by '#' and spaces collapsed, [numbers])."""
    numbers = [float(m.group()) for m in NUMBER.finditer(line)]
    text = " ".join(NUMBER.sub("#", line).split())
    return text, numbers


def relative_difference(a, b):
    """|a - b| / max(|a|, |b|); 0 for two equal values (nan with nan, inf with inf)."""
    if a == b or (a != a and b != b):
        return 0.0
    if a != a or b != b or abs(a) == float("inf") or abs(b) == float("inf"):
        return float("inf")
    return abs(a - b) / max(abs(a), abs(b))


def magnitude_ratio(a, b):
    """max / min of two non-negative differences (1 for two zeros, inf for one zero)."""
    a, b = abs(a), abs(b)
    if a == b:
        return 1.0
    return max(a, b) / min(a, b) if min(a, b) > 0 else float("inf")


@dataclass
class Comparison:
    """What comparing two outputs found."""

    lines: tuple = (0, 0)             # lines printed by the book's script and by scratch.book's
    numbers: int = 0                  # numbers compared with rtol
    magnitudes: int = 0               # gradient-check differences compared by order of magnitude
    plot_values: int = 0              # plotted values compared with rtol
    max_rel_diff: float = 0.0         # over the numbers and plotted values compared with rtol
    max_magnitude_ratio: float = 1.0  # over the gradient-check differences
    differing_lines: list = field(default_factory=list)  # 0-based line numbers
    problems: list = field(default_factory=list)         # descriptions, the first few

    @property
    def same(self):
        return not self.problems

    def problem(self, text):
        if len(self.problems) < 10:
            self.problems.append(text)
        elif len(self.problems) == 10:
            self.problems.append("...")


def compare_line(comparison, index, book, scratch, rtol, magnitude):
    """Compare one line of each output; record the numbers and any problem in ``comparison``."""
    text_a, nums_a = split_numbers(book)
    text_b, nums_b = split_numbers(scratch)
    if text_a != text_b or len(nums_a) != len(nums_b):
        comparison.differing_lines.append(index)
        comparison.problem(f"line {index + 1}: text differs: {book.strip()!r} vs {scratch.strip()!r}")
        return
    by_magnitude = magnitude and KEY_VALUE.match(book) and len(nums_a) == 1
    bad = False
    for a, b in zip(nums_a, nums_b):
        diff = relative_difference(a, b)
        if by_magnitude:  # close enough, or noise of the same order
            ratio = magnitude_ratio(a, b)
            comparison.magnitudes += 1
            comparison.max_magnitude_ratio = max(comparison.max_magnitude_ratio, ratio)
            bad |= not (diff <= rtol or (
                ratio <= MAGNITUDE_FACTOR and abs(a) < MAGNITUDE_CEILING and abs(b) < MAGNITUDE_CEILING))
        else:
            comparison.numbers += 1
            comparison.max_rel_diff = max(comparison.max_rel_diff, diff)
            bad |= not diff <= rtol
    if bad:
        comparison.differing_lines.append(index)
        rule = (f"neither within rtol nor within a factor of {MAGNITUDE_FACTOR:g} and below "
                f"{MAGNITUDE_CEILING:g}" if by_magnitude
                else f"relative difference above {rtol:g}")
        comparison.problem(f"line {index + 1}: {book.strip()!r} vs {scratch.strip()!r} ({rule})")


def compare_plots(comparison, book, scratch, rtol):
    """Compare the data of the figures the two runs showed."""
    if len(book) != len(scratch):
        comparison.problem(f"the book's script showed {len(book)} figures, scratch.book's {len(scratch)}")
    for fig_a, fig_b in zip(book, scratch):
        items_a = {item["what"]: item for item in fig_a["items"]}
        items_b = {item["what"]: item for item in fig_b["items"]}
        if list(items_a) != list(items_b):
            comparison.problem(f"{fig_a['figure']}: different lines or images plotted")
            continue
        for what, a in items_a.items():
            b = items_b[what]
            if a["shape"] != b["shape"]:
                comparison.problem(f"{fig_a['figure']} {what}: shape {a['shape']} vs {b['shape']}")
                continue
            diffs = [relative_difference(x, y) for x, y in zip(a["values"], b["values"])]
            comparison.plot_values += len(diffs)
            worst = max(diffs, default=0.0)
            comparison.max_rel_diff = max(comparison.max_rel_diff, worst)
            if not worst <= rtol:
                comparison.problem(f"{fig_a['figure']} {what}: plotted values differ (max relative "
                                   f"difference {worst:.3g})")


def compare_outputs(name, book, scratch, rtol, book_plots=(), scratch_plots=()):
    """Compare the book's output with scratch.book's, line by line, then the plots (see the module)."""
    lines_a, lines_b = book.splitlines(), scratch.splitlines()
    comparison = Comparison(lines=(len(lines_a), len(lines_b)))
    if len(lines_a) != len(lines_b):
        comparison.problem(f"the book's script printed {len(lines_a)} lines, scratch.book's {len(lines_b)}")
    magnitude = GRADIENT_CHECK_SCRIPT in name
    for index, (a, b) in enumerate(zip(lines_a, lines_b)):
        compare_line(comparison, index, a, b, rtol, magnitude)
    compare_plots(comparison, list(book_plots), list(scratch_plots), rtol)
    return comparison


# ---------------------------------------------------------------------------
# One script, start to end
# ---------------------------------------------------------------------------

@dataclass
class Result:
    """The verdict on one script: 'same', 'DIFFERENT', 'ERROR' or 'skipped', and the details."""

    script: str
    verdict: str
    reason: str = ""
    book_seconds: float | None = None
    scratch_seconds: float | None = None
    comparison: Comparison | None = None
    book: Run | None = None
    scratch: Run | None = None

    def summary(self):
        """A dict for --json (outputs included, plots left out)."""
        out = {"script": self.script, "verdict": self.verdict, "reason": self.reason,
               "book_seconds": self.book_seconds, "scratch_seconds": self.scratch_seconds}
        if self.comparison is not None:
            out.update({key: value for key, value in asdict(self.comparison).items() if key != "differing_lines"})
            out["differing_lines"] = self.comparison.differing_lines[:50]
        for side in ("book", "scratch"):
            run = getattr(self, side)
            if run is not None:
                out[f"{side}_returncode"] = run.returncode
                out[f"{side}_stdout"] = run.stdout
                out[f"{side}_stderr_tail"] = run.stderr[-2000:]
        return out


def failure(run):
    """Why a run failed (timeout, exit status and the last line of stderr), or None."""
    if run.timed_out:
        return run.stderr
    if run.returncode != 0:
        last = run.stderr.strip().splitlines()[-1] if run.stderr.strip() else ""
        return f"exit {run.returncode}: {last}"
    return None


def compare_script(setup, name):
    """Run ``name`` both ways and compare (see the module); a Result, never an exception for a failing script."""
    reason = skip_reason(setup.book_dir, name)
    if reason:
        return Result(name, "skipped", reason)
    book, scratch = run_both(setup, name)
    result = Result(name, "same", book_seconds=book.seconds, scratch_seconds=scratch.seconds,
                    book=book, scratch=scratch)
    failed = [f"{side}: {why}" for side, why in (("book", failure(book)), ("scratch.book", failure(scratch))) if why]
    if failed:
        result.verdict, result.reason = "ERROR", "; ".join(failed)
        return result
    result.comparison = compare_outputs(name, book.stdout, scratch.stdout, setup.rtol, book.plots, scratch.plots)
    if not result.comparison.same:
        result.verdict, result.reason = "DIFFERENT", result.comparison.problems[0]
    return result


# ---------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------

COLUMNS = f"{'script':38s} {'lines':>5s} {'numbers':>7s} {'plotted':>7s} {'max rel diff':>12s} " \
          f"{'grad ratio':>10s} {'book s':>8s} {'scratch s':>9s}  verdict"


def seconds_text(value):
    return f"{value:8.1f}" if value is not None else f"{'-':>8s}"


def table_row(result):
    c = result.comparison
    if c is None:
        numbers = f"{'-':>5s} {'-':>7s} {'-':>7s} {'-':>12s} {'-':>10s}"
    else:
        lines = str(c.lines[0]) if c.lines[0] == c.lines[1] else f"{c.lines[0]}/{c.lines[1]}"
        ratio = f"x{c.max_magnitude_ratio:.4g}" if c.magnitudes else "-"
        numbers = (f"{lines:>5s} {c.numbers + c.magnitudes:7d} {c.plot_values:7d} {c.max_rel_diff:12.2e} "
                   f"{ratio:>10s}")
    verdict = result.verdict + (f": {result.reason}" if result.reason else "")
    return (f"{result.script:38s} {numbers} {seconds_text(result.book_seconds)} "
            f"{seconds_text(result.scratch_seconds):>9s}  {verdict}")


def show_outputs(result):
    """Both outputs one after the other, '!' marking the lines that differ."""
    differing = set(result.comparison.differing_lines) if result.comparison else set()
    for side, run in (("book", result.book), ("scratch.book", result.scratch)):
        if run is None:
            continue
        print(f"----- {result.script}: {side} -----")
        for index, line in enumerate(run.stdout.splitlines()):
            print(f"{'!' if index in differing else ' '} {line}")
        if run.returncode != 0 and run.stderr:
            print(run.stderr.rstrip())
    print()


def write_json(path, data):
    """Write ``data`` as JSON to ``path`` atomically."""
    write_text(path, json.dumps(data, indent=2, allow_nan=True) + "\n")


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------

def parse_args(argv=None):
    parser = _common.ArgumentParser(prog="book_scripts.py", description=DESCRIPTION, epilog=EPILOG)
    parser.add_argument("scripts", nargs="*", metavar="SCRIPT",
                        help="scripts of the book, e.g. ch05/gradient_check.py (default: every ch02-ch08 "
                             "script that imports from common/, dataset/ or its chapter's network files)")
    parser.add_argument("--book-code", metavar="DIR", default=None,
                        help=f"the book's code (default: ${BOOK_CODE_ENV})")
    _common.add_data_arguments(parser, dataset=False)  # the book's scripts read MNIST only
    parser.add_argument("--quick", action="store_true",
                        help="shorten the long scripts (fewer iterations, epochs, images), identically in "
                             "both versions")
    parser.add_argument("--seed", type=_common.non_negative_int, default=0,
                        help="np.random.seed before each script runs (default 0)")
    parser.add_argument("--rtol", type=_common.positive_float, default=DEFAULT_RTOL,
                        help=f"relative tolerance for each number (default {DEFAULT_RTOL:g})")
    parser.add_argument("--timeout", type=_common.positive_float, default=DEFAULT_TIMEOUT,
                        help=f"seconds each run of a script may take (default {DEFAULT_TIMEOUT})")
    parser.add_argument("--blas-threads", type=_common.positive_int, default=1,
                        help="BLAS threads of each run (default 1)")
    parser.add_argument("--sequential", action="store_true",
                        help="run the book's version and scratch.book's one after the other, not at the "
                             "same time (steadier timings, twice the wall time)")
    parser.add_argument("--show", action="store_true", help="print both outputs, '!' marking differing lines")
    parser.add_argument("--json", metavar="PATH", help="write the results (and outputs) to PATH as JSON")
    parser.add_argument("--rewrite", metavar="DIR",
                        help="write the selected scripts, import lines rewritten for scratch.book, to "
                             "DIR/chNN/ (with the chapter's .pkl files) and exit without running anything")
    parser.add_argument("--keep-temp", action="store_true", help="keep the temporary folder and say where")
    return parser.parse_args(argv)


def run_all(args, book_dir, names):
    """Compare every script of ``names``, printing the table as it goes; the list of Results."""
    work_dir = Path(tempfile.mkdtemp(prefix="book_scripts-"))
    results = []
    try:
        print(f"preparing a copy of the book's code with MNIST in {work_dir} ...", flush=True)
        setup = make_setup(book_dir, work_dir, args.data_dir, args.download, seed=args.seed, rtol=args.rtol,
                           quick=args.quick, timeout=args.timeout, blas_threads=args.blas_threads,
                           parallel=not args.sequential)
        print(f"book: {book_dir}   seed {args.seed}   rtol {args.rtol:g}   "
              f"{'--quick' if args.quick else 'full runs'}\n\n{COLUMNS}", flush=True)
        for name in names:
            result = compare_script(setup, name)
            results.append(result)
            print(table_row(result), flush=True)
            if args.json:
                write_json(args.json, report(args, book_dir, results))
        if args.show:
            print()
            for result in results:
                show_outputs(result)
    finally:
        if args.keep_temp:
            print(f"temporary files kept in {work_dir}")
        else:
            shutil.rmtree(work_dir, ignore_errors=True)
    return results


def report(args, book_dir, results):
    return {"book_code": str(book_dir), "seed": args.seed, "rtol": args.rtol, "quick": args.quick,
            "magnitude_rule": {"factor": MAGNITUDE_FACTOR, "ceiling": MAGNITUDE_CEILING},
            "results": [result.summary() for result in results]}


def main(argv=None):
    args = parse_args(argv)
    book_dir = find_book_code(args.book_code)
    names = select_scripts(book_dir, args.scripts)
    if args.rewrite:
        write_rewritten(book_dir, names, args.rewrite, args.quick)
        return
    results = run_all(args, book_dir, names)
    counts = {verdict: sum(r.verdict == verdict for r in results) for verdict in ("same", "DIFFERENT", "ERROR",
                                                                                  "skipped")}
    print("\n" + ", ".join(f"{n} {verdict}" for verdict, n in counts.items() if n))
    if args.json:
        print(f"wrote {args.json}")
    if counts["DIFFERENT"] or counts["ERROR"]:
        sys.exit(1)


if __name__ == "__main__":
    _common.run_main(main)
