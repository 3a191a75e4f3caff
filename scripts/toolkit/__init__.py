"""The machinery of the command-line scripts: ``scripts/*.py`` are thin commands over this package.

One module per concern:

    cli           the ArgumentParser with one-line errors, the shared option types, run_main
    backends      the one backend registry: scratch (NumPy), torch (reference/), book (scratch.book)
    models        the model registry, built from a typed ModelConfig
    data          --dataset / --data-dir / --download and loading MNIST or Fashion-MNIST
    weights       the configuration saved beside the weights, its checks, load_weights, network_state
    paths         output files: checked before the work starts, written atomically
    progress      the progress bar (tqdm) and printing above it
    figures       matplotlib figures without pyplot, saved atomically
    training      train.py's loop: divergence checks, learning-rate schedule, augmentation, initial weights
    history       train.py's histories (JSON): saved, read back, two compared (compare_runs.py)
    experiments   what the chapter-6 experiments share (options, MNIST subsets, the race of 6.1.8)
    chapter8      ch08_results.py's rows (train.py commands), table and learning curves
    benchmark     benchmark.py's machinery: the sides, the workers, the rounds, the table
    plain_torch   the benchmark's networks in plain PyTorch, its honest baseline
    profiling     profile_step.py's per-layer timer of a scratch training step
    site/         the side-by-side site: catalog, source, measured, terminal, pages
    book_scripts/ the book-script checker: rewrite, run, compare, report

A command finds this package as Python finds a script's neighbours (``python
scripts/train.py`` puts ``scripts/`` first on ``sys.path``); the tests find it
through pytest's ``pythonpath`` setting in pyproject.toml.

Importing the package first checks, with the standard library only (nothing is
imported, so ``benchmark.py`` can still set thread counts before NumPy loads),
that this Python is the project's environment: a script started with another
Python prints one line saying how to get there, and exits with status 2,
instead of a ``ModuleNotFoundError`` traceback.
"""
import importlib.util
import sys

# What every script imports; torch, matplotlib and pygments are checked where a script needs them.
REQUIRED = ("numpy", "tqdm", "scratch")
ACTIVATE = ("run `source .venv/bin/activate` first (`bash scripts/test.sh` or `bash scripts/train.sh` "
            "creates .venv)")


def missing_packages(names=REQUIRED):
    """The names in ``names`` that this Python cannot import."""
    return [name for name in names if importlib.util.find_spec(name) is None]


def outside_environment(missing):
    """The one line for a Python that lacks ``missing`` (names of packages)."""
    return (f"error: {', '.join(missing)} not found: {sys.executable} is not the project's environment; "
            f"{ACTIVATE}")


def check_environment():
    """Exit with status 2 and one line on stderr when this Python lacks what the scripts import."""
    missing = missing_packages()
    if missing:
        print(outside_environment(missing), file=sys.stderr)
        sys.exit(2)


check_environment()
