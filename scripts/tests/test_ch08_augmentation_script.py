"""scripts/ch08_augmentation.py run as a user runs it: the figure of augmented digits (8.1.1).

* --help answers without data; bad options are one line ``error: ...``, exit 2, before any data is read;
* a tiny run writes a PNG and prints one line of drawn parameters per image;
* the same --seed prints the same parameters with both backends (and torch's images match
  NumPy's to float rounding); another seed prints other parameters.

The runs need MNIST and are skipped unless DLFS_DATA_DIR is set.
"""
import re

from parameterized import parameterized

from mnist_support import requires_mnist
from .script_support import assert_png, assert_usage_error, run_script, succeeded

SCRIPT = "ch08_augmentation.py"
TINY = ["--samples", "2", "--variants", "3"]


def drawn_parameters(stdout):
    """{test image index: its printed line of drawn parameters}."""
    return dict(re.findall(r"^test image (\d+) \(label \d\): (.*)$", stdout, re.M))


def test_help():
    stdout = succeeded(run_script(SCRIPT, "--help"))
    assert stdout.startswith("usage: ch08_augmentation.py")
    for option in ("--backend", "--seed", "--samples", "--variants", "--max-angle", "--max-shift",
                   "--scale-range", "--dataset", "--out"):
        assert option in stdout, option


@parameterized.expand([
    ("zero_variants", ["--variants", "0"], "argument --variants: expected a positive integer, got 0"),
    ("negative_angle", ["--max-angle", "-5"], "argument --max-angle: expected a number >= 0, got -5"),
    ("scale_range_reversed", ["--scale-range", "1.2", "0.8"], "--scale-range LOW HIGH needs LOW <= HIGH"),
    ("too_many_samples", ["--samples", "10001"], "--samples can be at most 10000, got 10001"),
    ("unknown_option", ["--angle", "5"], "unrecognized arguments: --angle 5"),
    ("unknown_backend", ["--backend", "jax"], "argument --backend: invalid choice"),
])
def test_bad_option_is_a_one_line_usage_error(_, args, words):
    assert_usage_error(run_script(SCRIPT, *args), words)


def test_output_path_is_checked_before_the_data_is_read(tmp_path):
    # a folder as --out: refused at once, though the data folder given is empty and may not be downloaded
    result = run_script(SCRIPT, "--out", tmp_path, "--data-dir", tmp_path / "no-mnist", "--no-download")
    assert_usage_error(result, f"--out {tmp_path} is a directory; give a file name")


@requires_mnist
def test_tiny_run_writes_a_png(tmp_path):
    png = tmp_path / "figures" / "augmented.png"
    stdout = succeeded(run_script(SCRIPT, *TINY, "--seed", "3", "--out", png))
    assert_png(png)
    assert f"saved {png}" in stdout
    lines = drawn_parameters(stdout)
    assert sorted(lines) == ["0", "1"], stdout
    assert "test image 0 (label 7)" in stdout  # MNIST's first test image is a 7
    for line in lines.values():
        draws = line.split(" | ")
        assert len(draws) == 3 and all(re.fullmatch(r"angle [+-]\d+\.\d shift \([+-]\d\.\d, [+-]\d\.\d\) "
                                                    r"scale \d\.\d\d", d) for d in draws), line


@requires_mnist
def test_same_seed_same_parameters_in_both_backends(tmp_path):
    def parameters(backend, seed):
        stdout = succeeded(run_script(SCRIPT, *TINY, "--backend", backend, "--seed", seed,
                                      "--max-angle", "15", "--out", tmp_path / f"{backend}-{seed}.png"))
        return drawn_parameters(stdout), stdout

    numpy_draw, _ = parameters("scratch", 7)
    torch_draw, torch_stdout = parameters("torch", 7)
    other_draw, _ = parameters("scratch", 8)
    assert len(numpy_draw) == 2 and numpy_draw == torch_draw
    assert all(numpy_draw[i] != other_draw[i] for i in numpy_draw)
    difference = float(re.search(r"NumPy backend's images for this seed differ by at most (\S+) ",
                                 torch_stdout).group(1))
    assert difference < 1e-4
