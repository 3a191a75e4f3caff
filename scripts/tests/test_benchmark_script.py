"""scripts/benchmark.py: scratch, reference and plain PyTorch, each timed in its own process.

A tiny run end to end (the table and the JSON agree, every side timed, the ratios are the
quotients, each side's value is the median of its rounds), the three sides starting from the
same weights (in process), and one-line errors for bad arguments.
"""
import json
import os
import subprocess
import sys

import numpy as np
import pytest


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SIDES = ("scratch", "readable", "reference", "plain")
TINY = ["--repeats", "2", "--warmup", "1", "--rounds", "2", "--inference-images", "50", "--threads", "1"]


def run(*args):
    return subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "benchmark.py"), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    result = run("--models", "two_layer", *TINY, "--json", str(out))
    assert result.returncode == 0, result.stderr
    return result.stdout, json.loads(out.read_text())


def test_json_has_three_sides_and_their_ratios(tiny_run):
    _, report = tiny_run
    assert report["rounds"] == 2 and report["threads"] == 1 and report["dtype"] == "float32"
    assert set(report["sides"]) == set(SIDES) and {"numpy", "torch", "python"} <= set(report["versions"])
    [row] = report["results"]
    assert row["model"] == "two_layer" and row["rounds"] == 2 and row["threads"] == 1
    for timing in ("step", "inference"):
        ms, rounds, ratio = row[f"{timing}_ms"], row[f"{timing}_ms_rounds"], row[f"{timing}_ratio"]
        for side in SIDES:
            assert ms[side] > 0, (timing, side)
            assert len(rounds[side]) == 2 and all(value > 0 for value in rounds[side]), (timing, side)
            assert ms[side] == pytest.approx(np.median(rounds[side]), rel=1e-12), (timing, side)
        assert ratio["scratch/plain"] == pytest.approx(ms["scratch"] / ms["plain"], rel=1e-12)
        assert ratio["readable/plain"] == pytest.approx(ms["readable"] / ms["plain"], rel=1e-12)
        assert ratio["reference/plain"] == pytest.approx(ms["reference"] / ms["plain"], rel=1e-12)
    assert set(row["peak_mib"]) == set(SIDES) and all(mib >= 0 for mib in row["peak_mib"].values())


def test_table_prints_what_the_json_holds(tiny_run):
    stdout, report = tiny_run
    row = report["results"][0]
    lines = stdout.splitlines()
    assert "plain PyTorch" in lines[0]  # the table says what "plain" means
    assert "scratch/plain" in lines[1] and "readable/plain" in lines[1] and "reference/plain" in lines[1]
    for timing, label in (("step", "train step"), ("inference", "infer 50 img")):
        [line] = [line for line in lines if label in line]
        numbers = line.split(label)[1].split()[:7]
        expected = [f"{row[f'{timing}_ms'][side]:.2f}" for side in SIDES]
        expected += [f"{row[f'{timing}_ratio'][name]:.2f}x" for name in ("scratch/plain", "readable/plain",
                                                                          "reference/plain")]
        assert numbers == expected, line
    assert lines[-1].startswith("saved: ") and lines[-1].endswith("bench.json")


@pytest.mark.parametrize("model", ["two_layer", "lenet", "resnet"])
def test_the_four_sides_start_from_the_same_weights(model):
    """Each side's inference, built as its worker builds it, gives the same accuracy, also after two steps."""
    from toolkit import benchmark
    import reference
    import scratch
    seed_network = benchmark.build(scratch, model, "float64")
    x, t = benchmark.batch(model, "float64", 8)
    x_test, t_test = benchmark.batch(model, "float64", 200, seed=1)
    sides = [benchmark.book_side(scratch, model, "float64", x, t, seed_network),
             benchmark.book_side(scratch, model, "float64", x, t, benchmark.build(scratch, model, "float64"),
                                 readable=True),
             benchmark.book_side(reference, model, "float64", x, t, benchmark.build(scratch, model, "float64")),
             benchmark.plain_side(model, "float64", x, t, benchmark.build(scratch, model, "float64"))]
    assert sides[0][1].__self__.readable is False
    assert sides[1][1].__self__.readable is (model != "two_layer")  # two_layer has no layer to choose
    for _ in range(2):
        accuracies = [inference(x_test, t_test) for _, inference in sides]
        assert len(set(accuracies)) == 1, accuracies
        for step, _ in sides:
            step()


@pytest.mark.parametrize("args, words", [(["--models", "no_such_net"], "error: unknown model"),
                                         (["--rounds", "0"], "error: --rounds must be at least 1")])
def test_bad_arguments_are_one_line_errors(args, words):
    result = run(*args)
    assert result.returncode == 2 and result.stderr.startswith(words), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
