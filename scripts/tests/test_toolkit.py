"""The scripts' package: a Python outside the project's environment gets one line, the one backend
registry, the typed model configuration, the component suggestions, and no sys.path edits anywhere."""
import dataclasses
import re
import subprocess
import sys

import pytest

import scratch
from toolkit import backends, cli, models
from toolkit.site import catalog

from .script_support import REPO_ROOT, assert_usage_error, run_script

SCRIPTS = sorted(path.name for path in (REPO_ROOT / "scripts").glob("*.py"))


def without_site_packages(script, *args):
    """``python -S -E scripts/<script>``: this Python without its site-packages and PYTHONPATH, as a Python
    outside the project's environment is (no NumPy, tqdm or scratch); skips if it still finds them."""
    probe = subprocess.run([sys.executable, "-S", "-E", "-c", "import numpy"], capture_output=True)
    if probe.returncode == 0:
        pytest.skip(f"{sys.executable} finds NumPy even without its site-packages: no Python without it here")
    return subprocess.run([sys.executable, "-S", "-E", str(REPO_ROOT / "scripts" / script), *args],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("script", SCRIPTS)
def test_outside_the_environment_a_script_says_how_to_get_there(script):
    result = without_site_packages(script, "--help")
    assert_usage_error(result, "not found: ")
    assert "numpy, tqdm, scratch not found" in result.stderr
    assert "is not the project's environment; run `source .venv/bin/activate` first" in result.stderr
    assert "`bash scripts/test.sh` or `bash scripts/train.sh` creates .venv" in result.stderr


def test_a_package_missing_later_is_one_line_too(capsys):
    def main():
        import no_such_package_of_dlfs  # noqa: F401

    with pytest.raises(SystemExit) as info:
        cli.run_main(main)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: no_such_package_of_dlfs not found: ")
    assert "source .venv/bin/activate" in err


def test_one_backend_registry():
    assert list(backends.BACKENDS) == ["scratch", "torch", "book"]
    assert backends.CHOICES == ("scratch", "torch")  # --backend; book is --semantics book
    assert backends.load_backend("scratch") is scratch
    assert backends.load_backend("torch").__name__ == "reference"
    book = backends.load_backend("book")
    assert isinstance(book, backends.BookSemantics) and book.Adam.__module__.startswith("scratch.book")
    assert backends.versions("scratch").keys() == {"numpy"} and "torch" in backends.versions("torch")


def test_the_model_configuration_is_typed_and_frozen():
    import argparse

    options = argparse.Namespace(model="vgg", channels=[4, 6, 8], dtype="float64", seed=3, hidden_size=None,
                                 unrelated="ignored")
    config = models.ModelConfig.from_options(options)
    assert config == models.ModelConfig("vgg", channels=(4, 6, 8), dtype="float64", seed=3)
    assert config.hidden_size == 50 and config.stage_channels == [4, 6, 8]
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.seed = 4
    network = config.build(scratch)
    assert network.params["W1"].shape[0] == 4 and network.params["W1"].dtype == "float64"
    twin = models.ModelConfig("vgg", channels=(4, 6, 8), dtype="float64", seed=3).build(scratch)
    assert all((network.params[k] == twin.params[k]).all() for k in network.params)  # the seed's draw
    assert models.ModelConfig(model="resnet").stage_channels == list(models.DEFAULT_CHANNELS)
    assert models.trainable_models() == tuple(name for name in models.MODELS if name != "three_layer")


def test_a_beginning_is_suggested_before_look_alikes():
    names = catalog.by_name()
    assert catalog.suggestions("Conv", names)[0] == "Convolution"
    assert catalog.suggestions("pool", names)[0] == "Pooling"
    assert catalog.suggestions("Afine", names)[0] == "Affine"
    assert catalog.suggestions("zzzz", names) == []
    result = run_script("side_by_side.py", "Conv")
    assert_usage_error(result, "unknown component 'Conv'; close matches: Convolution,")


# The one deliberate edit: while a learner's practice file loads, its workspace is on sys.path (and removed
# after), so that one practice file imports another (from softmax import softmax), as the book's files do.
SYS_PATH_EDITS = {"scripts/toolkit/practice/workspace.py": 2}


def test_no_code_edits_sys_path():
    """The commands find toolkit as their neighbour, the tests through pytest's pythonpath."""
    edits = re.compile(r"sys\.path\.(insert|append|extend|remove)\(")
    found = {}
    for path in sorted((REPO_ROOT / "scripts").rglob("*.py")):
        count = sum(bool(edits.search(line)) for line in path.read_text(encoding="utf-8").splitlines())
        if count:
            found[str(path.relative_to(REPO_ROOT))] = count
    assert found == SYS_PATH_EDITS


def test_write_atomically_exists_once():
    definition = re.compile(r"^\s*def write_atomically\(", re.MULTILINE)
    defined = [str(path.relative_to(REPO_ROOT)) for folder in ("scratch", "reference", "scripts", "parity_tests")
               for path in sorted((REPO_ROOT / folder).rglob("*.py"))
               if definition.search(path.read_text(encoding="utf-8"))]
    assert defined == ["scratch/serialization.py"]


@pytest.mark.parametrize("runner", ["scripts/test.sh", ".ci/run"])
def test_the_suite_leaves_its_report_where_side_by_side_looks(runner):
    """The README's test command (and CI) set DLFS_PARITY_REPORT, by default to side_by_side.py's --report."""
    from toolkit.site import measured

    text = (REPO_ROOT / runner).read_text(encoding="utf-8")
    defaults = re.findall(r"^export DLFS_PARITY_REPORT=\$\{DLFS_PARITY_REPORT:-([^}]+)\}$", text, re.MULTILINE)
    assert defaults == [measured.DEFAULT_REPORT]
