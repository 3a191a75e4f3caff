"""The two versions of a book script: the book's own text (shortened with --quick) and the rewritten one.

Only import lines change::

    from common.layers import *              ->  from scratch.book import *
    from dataset.mnist import load_mnist     ->  from scratch.book import load_mnist
    from two_layer_net import TwoLayerNet    ->  from scratch.book.ch04 import TwoLayerNet   (chapter 4)
                                                 from scratch.book import TwoLayerNet        (chapter 5)
    from simple_convnet import SimpleConvNet ->  from scratch.book import SimpleConvNet   (also deep_convnet,
                                                 layer_naive, and_gate, or_gate, nand_gate)
    import pickle                            ->  from scratch.book import safe_pickle as pickle
"""
import os
import re
import shutil
from pathlib import Path

from ..paths import write_text
from . import BOOK_CODE_ENV, CHAPTERS, REPO_ROOT

HEADER_END = "# --- end of header ---"

# The chapters' own modules that scripts import and scratch.book provides. They
# are not scripts themselves (running one prints nothing but and_gate's demo).
LOCAL_MODULES = ("two_layer_net", "layer_naive", "simple_convnet", "deep_convnet",
                 "and_gate", "or_gate", "nand_gate")

# What scratch.book's run must not import: the book's packages and the chapters' modules.
BOOK_MODULES = ("common", "dataset") + LOCAL_MODULES

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
