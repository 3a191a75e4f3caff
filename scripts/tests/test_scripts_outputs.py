"""What the scripts write, and when they find out they cannot.

* an output path that cannot be written (a read-only folder) is refused while
  the arguments are parsed, naming the option and the user's path, before any
  training or timing; a save that fails later names the user's path, not the
  temporary file;
* default figure names carry the backend, so a torch run keeps the scratch run's pictures;
* a figure of one weight scale, one trial or one epoch shows its points and its whole title;
* the progress bar is tqdm's: drawn on a terminal, ended before "interrupted", absent in a pipe.
"""
import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

import numpy as np
import pytest
from parameterized import parameterized

import scratch
import scratch.serialization
from mnist_support import requires_mnist
from .script_support import (ONE_THREAD, REPO_ROOT, assert_png, assert_usage_error, run_script,
                            succeeded, unwritable_folder)


def saved_weights(folder, cls_name):
    """A freshly initialised network's parameters, as ``save_params`` writes them."""
    path = folder / f"{cls_name}.npz"
    getattr(scratch, cls_name)(dtype=np.float32, seed=3).save_params(path)
    return path


# ---------------------------------------------------------------------------
# Unwritable outputs
# ---------------------------------------------------------------------------

# (script, option, file name under the folder, other arguments); the other arguments keep a
# run short where a script without the check would go on to train or time.
OUTPUTS = [
    ("train.py", "--save", "w.npz", ["--iters", "1", "--train-limit", "100", "--no-plot"]),
    ("train.py", "--plot", "curves.png", ["--iters", "1", "--train-limit", "100", "--save", "{tmp}/w.npz"]),
    ("benchmark.py", "--json", "bench.json", ["--models", "two_layer", "--repeats", "1", "--warmup", "0",
                                              "--inference-images", "0", "--no-memory", "--threads", "1"]),
    ("ch06_optimizer_paths.py", "--plot", "paths.png", ["--steps", "2"]),
    ("ch06_batch_norm_compare.py", "--plot", "bn.png", ["--scales", "1", "--epochs", "1", "--train-size", "100"]),
    ("ch07_visualize_filters.py", "--out-dir", "figures", ["--weights", "{tmp}/SimpleConvNet.npz"]),
    ("ch08_misclassified.py", "--out", "wrong.png", ["--weights", "{tmp}/DeepConvNet.npz", "--samples", "10"]),
]


@parameterized.expand([(f"{script}_{option}", script, option, name, other)
                       for script, option, name, other in OUTPUTS])
def test_unwritable_output_is_refused_before_any_work(_name, script, option, file_name, other):
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)  # for the arguments that must work
        saved_weights(tmp, "SimpleConvNet")
        saved_weights(tmp, "DeepConvNet")
        path = unwritable_folder(tmp) / "dlfs-test" / file_name
        started = time.perf_counter()
        result = run_script(script, option, path, *(arg.format(tmp=tmp) for arg in other))
    assert_usage_error(result, f"cannot write {option} {path}")
    assert "not writable" in result.stderr and ".tmp-" not in result.stderr
    assert time.perf_counter() - started < 30, "the check came after the work"


def test_output_under_a_file_is_refused(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = run_script("train.py", "--save", blocker / "w.npz", "--iters", "1", "--train-limit", "100")
    assert_usage_error(result, f"cannot write --save {blocker / 'w.npz'}: {blocker} is a file, not a folder")


def test_failed_save_names_the_users_path(tmp_path):
    """A folder that turns unwritable during a run: the error names the file asked for, not the temporary."""
    from toolkit import paths
    target = unwritable_folder(tmp_path) / "dlfs-test" / "w.npz"
    for save in (lambda: scratch.serialization.save_params(target, {"W1": np.ones((2, 2))}),
                 lambda: paths.write_bytes(target, b"x"), lambda: paths.write_text(target, "x")):
        with pytest.raises(OSError) as info:
            save()
        assert str(info.value).startswith(f"cannot write {target}: "), info.value
        assert ".tmp-" not in str(info.value)


# ---------------------------------------------------------------------------
# Default figure names
# ---------------------------------------------------------------------------

def test_default_figure_names_carry_the_backend(tmp_path):
    import ch06_optimizer_paths as paths
    for argv, expected in ((["--backend", "scratch"], "ch06_optimizer_paths-scratch.png"),
                           (["--backend", "torch"], "ch06_optimizer_paths-torch.png"),
                           (["--semantics", "book"], "ch06_optimizer_paths-scratch-book.png")):
        assert paths.parse_args(argv).plot == os.path.join("runs", expected)

    weights = saved_weights(tmp_path, "SimpleConvNet")
    import ch07_visualize_filters as filters
    args = filters.parse_args(["--weights", str(weights), "--backend", "torch", "--out-dir", str(tmp_path)])
    assert (args.filters_png, args.maps_png) == (str(tmp_path / "ch07_filters-torch.png"),
                                                 str(tmp_path / "ch07_feature_maps-torch.png"))

    import ch08_misclassified as wrong
    args = wrong.parse_args(["--weights", str(saved_weights(tmp_path, "DeepConvNet")), "--backend", "torch"])
    assert args.out == os.path.join("runs", "ch08_misclassified-torch.png")


# ---------------------------------------------------------------------------
# Figures of one scale, one trial, one epoch
# ---------------------------------------------------------------------------

def assert_readable(fig):
    """Every curve of every visible panel shows (two points or a marker), and the title fits the figure."""
    fig.canvas.draw()
    for ax in fig.axes:
        if ax.get_visible():
            for line in ax.get_lines():
                assert len(line.get_xdata()) > 1 or line.get_marker() not in ("", "None", None), \
                    f"{line.get_label()} in {ax.get_title()!r}: one point and no marker draws nothing"
    title = fig._suptitle.get_window_extent()
    assert title.x0 >= 0 and title.x1 <= fig.bbox.width, \
        f"the title spans x {title.x0:.0f}..{title.x1:.0f} of a figure {fig.bbox.width:.0f} wide"


def test_batch_norm_figure_of_one_scale_and_one_epoch():
    import ch06_batch_norm_compare as script
    title = "train accuracy with and without batch norm (scratch backend, book semantics)"
    assert_readable(script.grid_figure([1.0], [{"batch norm": [0.4], "normal": [0.1]}], title))
    two = [{"batch norm": [0.1, 0.4], "normal": [0.1, 0.2]}] * 2
    assert_readable(script.grid_figure([1.0, 1e-4], two, title))


def test_hyperparameter_figure_of_one_trial_and_one_epoch():
    import ch06_hyperparameter_search as script
    best = [{"lr": 1e-3, "weight_decay": 1e-6, "val": [0.3], "train": [0.4]}]
    assert_readable(script.best_figure(best, "best 1 of 1 trials (scratch backend, book semantics)"))


@requires_mnist
def test_one_scale_one_epoch_runs_draw_their_figures(tmp_path):
    succeeded(run_script("ch06_batch_norm_compare.py", "--scales", "1", "--epochs", "1", "--train-size", "100",
                         "--plot", tmp_path / "bn.png"))
    succeeded(run_script("ch06_hyperparameter_search.py", "--trials", "1", "--epochs", "1", "--train-size", "100",
                         "--top", "1", "--plot", tmp_path / "hp.png"))
    assert_png(tmp_path / "bn.png")
    assert_png(tmp_path / "hp.png")


# ---------------------------------------------------------------------------
# The progress bar (tqdm)
# ---------------------------------------------------------------------------

def read_until(fd, pattern, seconds):
    """What ``fd`` yields until ``pattern`` appears in it (or ``seconds`` pass, or it closes)."""
    text, deadline = "", time.monotonic() + seconds
    while not re.search(pattern, text) and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the other end closed
                break
            if not chunk:
                break
            text += chunk.decode(errors="replace")
    return text


def restore_ctrl_c():
    """In the child before it starts: SIGINT back to its default, as a terminal's foreground job has it.

    A test run started in the background (``pytest ... &`` from a script, as some CI runners
    do) ignores SIGINT, children inherit that, and Python then installs no KeyboardInterrupt.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@requires_mnist
def test_interrupt_on_a_terminal_ends_the_bar_first(tmp_path):
    """stderr on a terminal: tqdm draws the bar; Ctrl-C ends its line before 'interrupted'."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))  # a terminal 120 columns wide
    process = subprocess.Popen([sys.executable, "scripts/train.py", "--iters", "100000", "--train-limit", "500",
                                "--no-plot", "--save", str(tmp_path / "w.npz")],
                               cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=slave,
                               env={**os.environ, **ONE_THREAD}, preexec_fn=restore_ctrl_c)
    os.close(slave)
    try:
        drawn = read_until(master, r"[1-9]\d*/100000 \[", 60)  # inside the loop: some iterations done
        assert re.search(r"[1-9]\d*/100000 \[.*it/s", drawn), f"no bar on the terminal: {drawn!r}"
        process.send_signal(signal.SIGINT)
        # read (drain the terminal) before waiting: a full terminal buffer would block the
        # script's last writes, and it could never exit
        text = drawn + read_until(master, r"interrupted", 60)
        assert process.wait(timeout=60) == 130
    finally:
        process.kill()
        os.close(master)
    lines = [line.strip("\r") for line in text.replace("\r\n", "\n").split("\n")]
    assert "interrupted" in lines, f"'interrupted' does not start a line of its own: {text[-300:]!r}"


@requires_mnist
def test_no_bar_into_a_pipe(tmp_path):
    result = run_script("train.py", "--iters", "20", "--train-limit", "200", "--no-plot",
                        "--save", tmp_path / "w.npz")
    succeeded(result)
    assert result.stderr == ""
