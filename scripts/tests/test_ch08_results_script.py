"""scripts/ch08_results.py: chapter 8's results table and learning curves, built from train.py histories.

* every row's train.py command is valid: train.py's own parser accepts it and
  it writes its files under --out, named after the row;
* the report reads real histories (tiny train.py runs saved under two rows'
  names): each row shows the history's final test accuracy, best epoch and
  wall time, the rest are listed as not trained yet; results.md and the
  figure are written;
* with no history at all it is one line ``error: ...``.
"""
import json
import shlex
import shutil

import pytest

from mnist_support import requires_mnist
from .script_support import assert_png, assert_usage_error, run_script, succeeded

SCRIPT = "ch08_results.py"
TINY = ["--iters", "4", "--batch-size", "8", "--train-limit", "64", "--eval-samples", "8", "--no-progress",
        "--no-plot"]


def test_every_row_is_a_valid_train_command(tmp_path):
    from toolkit import chapter8 as results
    import train
    assert len(set(results.RUN_NAMES)) == len(results.RUNS)
    import scratch
    from scratch import serialization

    for run in results.RUNS:
        if "{out}" in run.options:  # it starts from another row's weights: give it real ones
            other = run.options.split("{out}/")[1].split()[0]
            serialization.save_params(tmp_path / other, dict(scratch.ResNet().params), config={"model": run.model})
        command = results.train_command(run, str(tmp_path))
        args = train.parse_args(command[2:] + ["--no-plot"])  # argparse exits on a bad option
        assert args.backend == "scratch" and args.seed == run.seed
        assert args.model == run.model and args.dataset == run.dataset
        assert args.history == str(tmp_path / f"{run.name}.json")
        assert (args.augment is True) == ("-augment" in run.name or "-flip" in run.name), run.name
        assert (args.channels is not None) == ("_wide-" in run.name), run.name  # a wider network says so
        if args.channels is not None:
            assert run.network == f"{run.model} " + "-".join(map(str, args.channels))
        if "{out}" in run.options:  # starts from another row's weights, under the same --out
            assert args.init_weights.startswith(str(tmp_path)), args.init_weights


def test_print_commands_prints_one_train_command_per_row():
    from toolkit import chapter8 as results
    lines = succeeded(run_script(SCRIPT, "--print-commands", "--out", "somewhere")).strip().splitlines()
    assert len(lines) == len(results.RUNS)
    for line, run in zip(lines, results.RUNS):
        words = shlex.split(line)
        assert words[1].endswith("train.py") and words[words.index("--model") + 1] == run.model
        assert words[-1] == f"somewhere/{run.name}.npz" or f"somewhere/{run.name}.npz" in words


def test_no_histories_is_an_error(tmp_path):
    assert_usage_error(run_script(SCRIPT, "--out", tmp_path), "no run histories under")


@requires_mnist
def test_the_report_shows_what_the_histories_hold(tmp_path):
    out = tmp_path / "ch08"
    out.mkdir()
    for model, name, extra in (("lenet", "lenet-mnist", []), ("resnet", "resnet-mnist-augment", ["--augment"])):
        succeeded(run_script("train.py", "--model", model, *TINY, *extra, "--save", tmp_path / f"{model}.npz"))
        shutil.copy(tmp_path / f"{model}.json", out / f"{name}.json")
        if model == "lenet":  # resnet's weights are left out: its row shows '?' parameters
            shutil.copy(tmp_path / f"{model}.npz", out / f"{name}.npz")
    stdout = succeeded(run_script(SCRIPT, "--out", out, "--figure", tmp_path / "curves.png"))
    rows = {line.split("|")[1].strip() + line.split("|")[4].strip(): line
            for line in stdout.splitlines() if line.startswith("| ") and "---" not in line}
    for model, augmentation, name in (("lenet", "-", "lenet-mnist"),
                                      ("resnet", "±10°, ±2 px, ×0.9-1.1", "resnet-mnist-augment")):
        history = json.loads((out / f"{name}.json").read_text())
        row = rows[model + augmentation]
        assert f"**{history['test_acc'][-1]:.4f}**" in row
        assert f"{history['train_acc'][-1]:.4f}" in row
        assert f"{history['training_time_s']:.0f} s" in row
    import scratch
    lenet_parameters = sum(p.size for p in scratch.LeNet().params.values())
    assert rows["lenet-"].split("|")[2].strip() == f"{lenet_parameters:,}"
    assert rows["resnet±10°, ±2 px, ×0.9-1.1"].split("|")[2].strip() == "?"
    assert "not trained yet: two_layer-mnist" in stdout
    assert "resnet-mnist," in stdout.split("not trained yet:")[1]  # the plain one is missing
    table = (out / "results.md").read_text()
    assert table.count("\n") == 2 + 2 and "lenet" in table and "resnet" in table
    assert_png(tmp_path / "curves.png")


@pytest.mark.parametrize("bad", ["not-a-run"])
def test_unknown_run_names_are_refused(tmp_path, bad):
    assert_usage_error(run_script(SCRIPT, "--out", tmp_path, "--run", bad), "invalid choice")
