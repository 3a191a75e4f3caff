"""Smoke tests of the chapter-6 experiment scripts (``scripts/ch06_*.py``), run as a user runs them.

Tiny sizes keep each run to a second or two (NumPy's BLAS and torch on one
thread each, since the machine is shared):

* every script answers ``--help``; bad arguments end with exit code 2 and
  one line ``error: ...``;
* the optimizer paths with both backends reach the points of the book's
  own update rules, and the figure is written;
* the activation statistics show what the book's figures show;
* the MNIST experiments (skipped unless DLFS_DATA_DIR is set) print their
  tables and figures; the same seed prints the same numbers.
"""
import re
import tempfile
from pathlib import Path

from parameterized import parameterized

from mnist_support import requires_mnist
from .script_support import PNG_SIGNATURE, assert_usage_error, run_script, succeeded

SCRIPTS = ["ch06_optimizer_compare.py", "ch06_optimizer_paths.py", "ch06_weight_init_compare.py",
           "ch06_activation_histograms.py", "ch06_batch_norm_compare.py", "ch06_overfit_regularization.py",
           "ch06_hyperparameter_search.py"]


def table_rows(stdout, first_cells):
    """{first cell: the other cells} of the table lines whose first cell is one of ``first_cells``."""
    rows = {}
    for line in stdout.splitlines():
        cells = line.split()
        if cells and cells[0] in first_cells:
            rows[cells[0]] = cells[1:]
    assert sorted(rows) == sorted(first_cells), f"rows {sorted(rows)} in\n{stdout}"
    return rows


def assert_png(path):
    assert Path(path).read_bytes()[:8] == PNG_SIGNATURE
    assert not [p for p in Path(path).parent.iterdir() if p.name.startswith(".tmp-")]


# ---------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------

@parameterized.expand([(script,) for script in SCRIPTS])
def test_help(script):
    stdout = succeeded(run_script(script, "--help"))
    assert stdout.startswith("usage:") and "--backend" in stdout and "--seed" in stdout and "--plot" in stdout


@parameterized.expand([
    ("zero_iters", "ch06_optimizer_compare.py", ["--iters", "0"], "positive integer"),
    ("unknown_backend", "ch06_optimizer_paths.py", ["--backend", "jax"], "invalid choice"),
    ("negative_seed", "ch06_weight_init_compare.py", ["--seed", "-1"], "integer >= 0"),
    ("text_layers", "ch06_activation_histograms.py", ["--layers", "five"], "positive integer"),
    ("zero_scales", "ch06_batch_norm_compare.py", ["--scales", "0"], "positive integer"),
    ("dropout_ratio_one", "ch06_overfit_regularization.py", ["--dropout-ratio", "1"], "[0, 1)"),
    ("validation_rate", "ch06_hyperparameter_search.py", ["--validation-rate", "0"], "(0, 1)"),
    ("unknown_option", "ch06_hyperparameter_search.py", ["--trails", "3"], "unrecognized arguments"),
])
def test_bad_argument_is_one_line_and_exit_2(_name, script, args, words):
    assert_usage_error(run_script(script, *args), words)


def test_plot_path_that_is_a_directory(tmp_path):
    assert_usage_error(run_script("ch06_optimizer_paths.py", "--plot", tmp_path), "is a directory")


def test_missing_mnist(tmp_path):
    result = run_script("ch06_optimizer_compare.py", "--data-dir", tmp_path, "--no-download", "--iters", "1")
    assert_usage_error(result, str(tmp_path / "MNIST" / "raw"))


# ---------------------------------------------------------------------------
# Without MNIST
# ---------------------------------------------------------------------------

@parameterized.expand([("scratch",), ("torch",)])
def test_optimizer_paths_follow_the_books_rules(backend):
    # Momentum's and Adam's formulas differ from the book's only in where eps
    # and lr sit; over 30 steps on f the points agree to 1e-4 (float32).
    with tempfile.TemporaryDirectory() as folder:
        plot = Path(folder) / "paths.png"
        options = ["--plot", plot] if backend == "scratch" else ["--no-plot", "--threads", "1"]  # one figure is enough
        stdout = succeeded(run_script("ch06_optimizer_paths.py", "--backend", backend, *options))
        assert plot.exists() == (backend == "scratch")
        if plot.exists():
            assert_png(plot)
    rows = table_rows(stdout, ["SGD", "Momentum", "AdaGrad", "Adam"])
    for name, (lr, x, y, f, book_x, book_y) in rows.items():
        assert abs(float(x) - float(book_x)) < 1e-4 and abs(float(y) - float(book_y)) < 1e-4, (name, rows[name])
        assert 0 <= float(f) < 0.2, (name, f)  # from f(-7, 2) = 6.45 to near the minimum


def test_activation_statistics_show_the_books_figures(tmp_path):
    stdout = succeeded(run_script("ch06_activation_histograms.py", "--samples", "200", "--plot",
                                  tmp_path / "hist.png"))
    stats = {}
    for line in stdout.splitlines():
        cells = line.split()
        if len(cells) >= 7 and cells[0] in ("sigmoid", "tanh", "relu"):
            stats[cells[0], cells[1]] = [tuple(map(float, cell.split("/"))) for cell in cells[2:7]]
    assert len(stats) == 12, stdout
    mean5, std5 = stats["sigmoid", "std=0.01"][4]
    assert abs(mean5 - 0.5) < 0.01 and std5 < 0.05          # figure 6-11: piled at 0.5
    assert stats["sigmoid", "std=1"][4][1] > 0.4             # figure 6-10: at 0 and 1
    assert stats["relu", "std=0.01"][4][1] < 1e-4            # figure 6-14: vanishing
    he = [std for _, std in stats["relu", "He"]]
    xavier = [std for _, std in stats["relu", "Xavier"]]
    assert max(he) / min(he) < 2 and xavier[4] < xavier[0] / 2  # He keeps the spread, Xavier shrinks it
    assert_png(tmp_path / "hist.png")


# ---------------------------------------------------------------------------
# With MNIST
# ---------------------------------------------------------------------------

@requires_mnist
def test_optimizer_compare_same_seed_same_numbers(tmp_path):
    args = ["--iters", "21", "--report-every", "10", "--batch-size", "32"]
    first = succeeded(run_script("ch06_optimizer_compare.py", *args, "--plot", tmp_path / "oc.png"))
    second = succeeded(run_script("ch06_optimizer_compare.py", *args, "--no-plot"))
    numbers = lambda out: [line for line in out.splitlines() if re.match(r"^\s*(\d|SGD|Momentum|AdaGrad|Adam)", line)]  # noqa: E731
    assert numbers(first) == numbers(second) and len(numbers(first)) == 3 + 4
    rows = table_rows(first, ["0", "10", "20"])
    assert all(len(cells) == 4 and 0 < float(c) < 5 for cells in rows.values() for c in cells)
    assert "only 21 iterations ran" in first
    assert_png(tmp_path / "oc.png")
    other_seed = succeeded(run_script("ch06_optimizer_compare.py", *args, "--no-plot", "--seed", "1"))
    assert numbers(other_seed) != numbers(first)


@requires_mnist
def test_weight_init_compare_torch():
    stdout = succeeded(run_script("ch06_weight_init_compare.py", "--backend", "torch", "--threads", "1",
                                  "--iters", "2", "--batch-size", "32", "--report-every", "1", "--no-plot"))
    rows = table_rows(stdout, ["std=0.01", "Xavier", "He"])
    assert abs(float(rows["std=0.01"][0]) - 2.30) < 0.01  # std 0.01: the signal vanishes, loss stays ln 10
    assert rows["He"][1] == "0.16"  # the book's column


@requires_mnist
def test_batch_norm_compare(tmp_path):
    stdout = succeeded(run_script("ch06_batch_norm_compare.py", "--scales", "2", "--epochs", "2",
                                  "--train-size", "200", "--plot", tmp_path / "bn.png"))
    rows = table_rows(stdout, ["1/2", "2/2"])
    assert rows["1/2"][0] == "1" and rows["2/2"][0] == "0.0001"
    assert "(diverged)" in " ".join(rows["1/2"])  # weights N(0, 1) without batch norm overflow, as in the book
    assert_png(tmp_path / "bn.png")


@requires_mnist
def test_overfit_regularization(tmp_path):
    stdout = succeeded(run_script("ch06_overfit_regularization.py", "--train-size", "100", "--epochs", "3",
                                  "--dropout-epochs", "2", "--plot", tmp_path / "of.png"))
    rows = table_rows(stdout, ["none", "weight", "dropout"])
    assert rows["none"][0] == "3" and rows["dropout"][0] == "2"
    assert_png(tmp_path / "of.png")


@requires_mnist
def test_hyperparameter_search(tmp_path):
    stdout = succeeded(run_script("ch06_hyperparameter_search.py", "--trials", "3", "--epochs", "2",
                                  "--train-size", "100", "--top", "2", "--plot", tmp_path / "hp.png"))
    trials = re.findall(r"^val acc:([\d.]+) \| lr:([\d.e-]+), weight decay:([\d.e-]+)$", stdout, re.M)
    best = re.findall(r"^Best-(\d+)\(val acc:([\d.]+)\) \| lr:[\d.e-]+, weight decay:[\d.e-]+$", stdout, re.M)
    assert len(trials) == 3 and [k for k, _ in best] == ["1", "2"]
    assert all(1e-6 <= float(lr) <= 1e-2 and 1e-8 <= float(wd) <= 1e-4 for _, lr, wd in trials)
    assert float(best[0][1]) == max(float(acc) for acc, _, _ in trials)
    assert_png(tmp_path / "hp.png")



# ---------------------------------------------------------------------------
# --semantics book: scratch.book's layers and optimizers, same start
# ---------------------------------------------------------------------------

def test_book_semantics_needs_the_numpy_backend():
    assert_usage_error(run_script("ch06_batch_norm_compare.py", "--backend", "torch", "--semantics", "book"),
                       "scratch.book")


@requires_mnist
def test_batch_norm_compare_book_semantics_differs_only_with_batch_norm():
    """Same initial weights and minibatches both ways: without batch norm the book changes only the
    loss's +1e-7, which no gradient sees, so the accuracies are equal; with it they are not."""
    args = ["--scales", "2", "--epochs", "3", "--train-size", "300", "--dtype", "float64", "--no-plot"]
    pytorch = table_rows(succeeded(run_script("ch06_batch_norm_compare.py", *args)), ["1/2", "2/2"])
    book = table_rows(succeeded(run_script("ch06_batch_norm_compare.py", *args, "--semantics", "book")),
                      ["1/2", "2/2"])
    assert pytorch["2/2"][1] == book["2/2"][1]  # weight scale 1e-4, without batch norm
    assert pytorch["2/2"][2] != book["2/2"][2], (pytorch, book)  # with batch norm: eps 1e-6, biased running var


@requires_mnist
def test_overfit_regularization_book_semantics(tmp_path):
    stdout = succeeded(run_script("ch06_overfit_regularization.py", "--semantics", "book", "--train-size", "100",
                                  "--epochs", "2", "--dropout-epochs", "2", "--plot", tmp_path / "of.png"))
    assert "book semantics" in stdout
    rows = table_rows(stdout, ["none", "weight", "dropout"])
    assert rows["dropout"][0] == "2"
    assert_png(tmp_path / "of.png")
