"""The book's own chapter scripts, with only their import lines changed, print the book's numbers on scratch.book.

A differential test through ``scripts/book_scripts.py``: each script runs
twice under ``np.random.seed(0)``, as the book wrote it (in a temporary copy of
the book's code, from $DLFS_BOOK_CODE_DIR) and rewritten for ``scratch.book``
(in a folder without the book's ``common/`` or ``dataset/``), shortened by
the script's ``--quick`` substitutions, the same in both. What they print
must agree line by line, every number within 1e-4 relative, gradient-check
differences (rounding noise) within a factor of 10 and below 1e-6; what they
plot must agree too.

The scripts are chosen so that every part of ``scratch.book`` a book script
uses runs at least once:

* gates AND/OR/NAND (ch02/xor_gate); sigmoid, softmax, the book's pickle read
  safely (ch03/neuralnet_mnist_batch); softmax + cross-entropy and
  numerical_gradient (ch04/gradient_simplenet);
* networks: ch04's TwoLayerNet (ch04/train_neuralnet), ch05's TwoLayerNet
  (ch05/gradient_check, train_neuralnet), MultiLayerNet (optimizer_compare_mnist,
  hyperparameter_optimization, weight_init_compare), MultiLayerNetExtend with
  batch norm and with dropout (batch_norm_gradient_check, batch_norm_test,
  overfit_dropout), SimpleConvNet (ch07/gradient_check, train_convnet,
  visualize_filter: Convolution, Pooling, the book's params.pkl), DeepConvNet
  (ch08/half_float_network: the book's trained weights, float16; train_deepnet:
  training with dropout);
* layers: MulLayer, AddLayer (ch05/buy_apple_orange), Affine, Relu,
  SoftmaxWithLoss, BatchNormalization, Dropout, Convolution, Pooling;
* optimizers SGD, Momentum, AdaGrad, Adam (optimizer_compare_naive on f(x, y),
  optimizer_compare_mnist), Trainer with SGD and Adam; weight decay; He,
  Xavier and fixed initial scales (weight_init_compare, batch_norm_test);
  shuffle_dataset, smooth_curve.

No book script uses the Sigmoid layer, Nesterov or RMSprop (the parity tests
check those against PyTorch).

Skipped, with the reason, unless DLFS_BOOK_CODE_DIR and DLFS_DATA_DIR are set.
About 80 s on 2 idle cores (the two versions of a script run at the same time).
The rewriting tests need only the book's code.
"""
import os
import re
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import pytest
from parameterized import parameterized

from conftest import BOOK_CODE_ENV, book_code_file
from mnist_support import MNIST_DIR, MNIST_SKIP_REASON
from .script_support import ONE_THREAD, REPO_ROOT, assert_usage_error
from toolkit.book_scripts import compare as comparing
from toolkit.book_scripts import rewrite
from toolkit.book_scripts import run as running

SCRIPTS = [
    "ch02/xor_gate.py",
    "ch03/neuralnet_mnist_batch.py",
    "ch04/gradient_simplenet.py",
    "ch04/train_neuralnet.py",
    "ch05/buy_apple_orange.py",
    "ch05/gradient_check.py",
    "ch05/train_neuralnet.py",
    "ch06/batch_norm_gradient_check.py",
    "ch06/batch_norm_test.py",
    "ch06/hyperparameter_optimization.py",
    "ch06/optimizer_compare_naive.py",
    "ch06/optimizer_compare_mnist.py",
    "ch06/overfit_dropout.py",
    "ch06/weight_init_compare.py",
    "ch07/gradient_check.py",
    "ch07/train_convnet.py",
    "ch07/visualize_filter.py",
    "ch08/half_float_network.py",
    "ch08/train_deepnet.py",
]


def book_dir():
    """The book's code folder; skips when DLFS_BOOK_CODE_DIR is unset."""
    return Path(book_code_file("common/layers.py")).parents[1]


def describe(result):
    """Everything needed to see why a script's two runs disagreed."""
    lines = [f"{result.script}: {result.verdict}: {result.reason}"]
    if result.comparison is not None:
        lines += result.comparison.problems
    for side, run in (("book", result.book), ("scratch.book", result.scratch)):
        if run is not None:
            lines += [f"--- {side} stdout:", run.stdout[-3000:], f"--- {side} stderr:", run.stderr[-3000:]]
    return "\n".join(lines)


class TestBookScriptsOnScratchBook(unittest.TestCase):
    """Each script of SCRIPTS, --quick, prints (and plots) the book's numbers."""

    @classmethod
    def setUpClass(cls):
        if not MNIST_DIR:
            raise unittest.SkipTest(MNIST_SKIP_REASON)
        directory = book_dir()
        cls.work_dir = tempfile.TemporaryDirectory(prefix="book_scripts-test-")
        cls.setup = running.make_setup(directory, cls.work_dir.name, MNIST_DIR, download=False,
                                            seed=0, quick=True, timeout=300)

    @classmethod
    def tearDownClass(cls):
        cls.work_dir.cleanup()

    @parameterized.expand([(name.replace("/", "_").removesuffix(".py"), name) for name in SCRIPTS])
    def test_prints_the_books_numbers(self, _label, name):
        result = comparing.compare_script(self.setup, name)
        assert result.verdict == "same", describe(result)
        compared = result.comparison
        assert compared.numbers + compared.magnitudes + compared.plot_values > 0, \
            f"{name}: nothing was compared\n{describe(result)}"

    def test_rewritten_script_runs_without_the_books_code(self):
        script = running.scratch_run_script(self.setup, "ch08/half_float_network.py")
        folder = script.parent
        assert sorted(p.name for p in folder.iterdir()) == ["deep_convnet_params.pkl", "half_float_network.py"]
        for place in (folder, folder.parent):  # the script's folder and os.pardir, which it puts on sys.path
            assert not (place / "common").exists() and not (place / "dataset").exists()


# ---------------------------------------------------------------------------
# The rewriting: only import lines change (needs the book's code, not MNIST)
# ---------------------------------------------------------------------------

IMPORT = re.compile(r"^\s*(from\s+[\w.]+\s+import\s|import\s+pickle\b)")


def test_every_script_is_found():
    names = rewrite.discover_scripts(book_dir())
    assert set(SCRIPTS) <= set(names)
    assert "ch05/two_layer_net.py" not in names and "ch04/gradient_1d.py" not in names
    assert len(names) == 25, names


@parameterized.expand([(quick,) for quick in (False, True)])
def test_rewriting_touches_only_import_lines(quick):
    directory = book_dir()
    for name in rewrite.discover_scripts(directory):
        original = rewrite.book_text(directory, name, quick).split("\n")
        rewritten = rewrite.strip_header(rewrite.scratch_text(directory, name, quick)).split("\n")
        assert len(rewritten) == len(original), name
        changed = [(a, b) for a, b in zip(original, rewritten) if a != b]
        assert changed, f"{name}: no line rewritten"
        for old, new in changed:
            assert IMPORT.match(old), f"{name}: a line that is not an import changed: {old!r}"
            assert re.match(r"^\s*from scratch\.book(\.ch04)? import ", new), f"{name}: {old!r} -> {new!r}"
        text = "\n".join(rewritten)
        assert not re.search(r"^\s*(from\s+(common|dataset)\b|import\s+pickle\b)", text, re.M), name
        header = rewrite.scratch_text(directory, name, quick).partition(rewrite.HEADER_END)[0]
        for old, _ in changed:
            assert old.strip() in header, f"{name}: the header does not list {old!r}"


def test_chapter_4_and_5_networks_map_to_their_own_classes():
    directory = book_dir()
    ch04 = rewrite.strip_header(rewrite.scratch_text(directory, "ch04/train_neuralnet.py", False))
    ch05 = rewrite.strip_header(rewrite.scratch_text(directory, "ch05/train_neuralnet.py", False))
    assert "from scratch.book.ch04 import TwoLayerNet" in ch04
    assert "from scratch.book import TwoLayerNet" in ch05


def run_tool(*args, env=None):
    return subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "book_scripts.py"), *map(str, args)],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, **ONE_THREAD, **(env or {})})


def test_rewrite_writes_scripts_and_data_but_no_book_code(tmp_path):
    directory = book_dir()
    out = tmp_path / "rewritten"
    done = run_tool("--book-code", directory, "--rewrite", out, "ch03/neuralnet_mnist.py", "ch07/gradient_check.py")
    assert done.returncode == 0, done.stderr
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert files == ["LICENSE.md", "ch03/neuralnet_mnist.py", "ch03/sample_weight.pkl", "ch07/gradient_check.py",
                     "ch07/params.pkl"]
    assert not (out / "common").exists() and not (out / "dataset").exists()


def test_rewrite_refuses_a_folder_inside_the_repository():
    done = run_tool("--book-code", book_dir(), "--rewrite", REPO_ROOT / "runs" / "book")
    assert_usage_error(done, "inside the repository")


def test_missing_book_code_is_a_one_line_error():
    env = {key: value for key, value in os.environ.items() if key != BOOK_CODE_ENV}
    done = subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "book_scripts.py"), "--quick"],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, env=env)
    assert_usage_error(done, BOOK_CODE_ENV)


def test_quick_substitutions_each_match_once():
    directory = book_dir()
    for name in rewrite.QUICK:
        text = (directory / name).read_text(encoding="utf-8")
        assert rewrite.apply_quick(name, text) != text
    with pytest.raises(ValueError, match="expected"):
        rewrite.apply_quick("ch04/train_neuralnet.py", "iters_num = 20")


# ---------------------------------------------------------------------------
# The comparison (no data needed)
# ---------------------------------------------------------------------------

def compare(name, book, scratch, rtol=1e-4):
    return comparing.compare_outputs(name, book, scratch, rtol)


def test_numbers_within_rtol_agree_and_beyond_it_do_not():
    assert compare("ch05/train_neuralnet.py", "0.9 0.91\n", "0.90000001 0.91\n").same
    result = compare("ch05/train_neuralnet.py", "0.9 0.91\n", "0.9 0.9102\n")
    assert not result.same and result.differing_lines == [0]


def test_text_and_line_count_must_agree():
    assert not compare("x.py", "train acc:0.5\n", "test acc:0.5\n").same
    assert not compare("x.py", "a\nb\n", "a\n").same
    assert compare("x.py", "W1 [[ 0.5  -0.25]]\n", "W1 [[ 0.5 -0.25]]\n").same  # spacing of printed arrays
    assert compare("x.py", "{1: (np.uint8(9), np.int64(8))}\n", "{1: (np.uint8(9), np.int64(8))}\n").numbers == 3


def test_gradient_check_differences_compare_by_order_of_magnitude():
    assert compare("ch05/gradient_check.py", "W1:3.1e-10\nb1:2e-09\n", "W1:9.5e-10\nb1:4e-09\n").same
    assert not compare("ch05/gradient_check.py", "W1:3.1e-10\n", "W1:4e-09\n").same  # factor 13
    assert not compare("ch05/gradient_check.py", "W1:3e-07\n", "W1:2e-06\n").same   # above 1e-6
    assert compare("ch07/gradient_check.py", "W1 1.09e-06\n", "W1 1.0900001e-06\n").same  # within rtol
    assert not compare("ch05/train_neuralnet.py", "W1:3.1e-10\n", "W1:9.5e-10\n").same  # not a gradient check
