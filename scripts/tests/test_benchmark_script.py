"""scripts/benchmark.py: scratch, reference and plain PyTorch, each timed in its own process.

A tiny run end to end (the table and the JSON agree, every side timed, the ratios are the
quotients, each side's value is the median of its rounds), the four sides starting from the
same weights (in process), and one-line errors for bad arguments. The captioner: its seeded
batch, a tiny run of ``--models captioner``, its four sides captioning alike, and its place
in the default list.
"""
import importlib.util
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


def test_captioner_batch_is_seeded_pictures_and_captions_of_every_length():
    from scratch.captioner import check_captions
    from toolkit import benchmark
    images, captions = benchmark.batch("captioner", "float32", 100)
    assert images.shape == (100, 1, 28, 140) and images.dtype == np.float32
    assert 0 <= images.min() and images.max() < 1
    lengths = check_captions(captions, n=100)[1]  # digits 0..9, each padded with -1 at its end
    assert captions.shape == (100, 5) and set(lengths.tolist()) == {1, 2, 3, 4, 5}
    again = benchmark.batch("captioner", "float32", 100)
    assert np.array_equal(images, again[0]) and np.array_equal(captions, again[1])
    assert not np.array_equal(captions, benchmark.batch("captioner", "float32", 100, seed=1)[1])


def test_captioner_row_has_four_sides_and_their_ratios(tmp_path):
    result = run("--models", "captioner", "--repeats", "1", "--rounds", "1", "--warmup", "0",
                 "--inference-images", "16", "--batch-size", "4", "--threads", "1", "--no-memory",
                 "--json", str(tmp_path / "bench.json"))
    assert result.returncode == 0, result.stderr
    [row] = json.loads((tmp_path / "bench.json").read_text())["results"]
    assert row["model"] == "captioner" and row["batch_size"] == 4 and row["repeats"] == 1
    for timing in ("step", "inference"):
        ms, ratio = row[f"{timing}_ms"], row[f"{timing}_ratio"]
        assert all(ms[side] > 0 for side in SIDES), row
        for side in ("scratch", "readable", "reference"):
            assert ratio[f"{side}/plain"] == pytest.approx(ms[side] / ms["plain"], rel=1e-12)
    lines = result.stdout.splitlines()
    [step_line] = [line for line in lines if line.startswith("captioner ") and "train step" in line]
    [infer_line] = [line for line in lines if "infer 16 img" in line]
    for line in (step_line, infer_line):
        numbers = line.split("img" if "img" in line else "step")[1].split()
        assert len(numbers) == 7, line
        ms, ratios = [float(n) for n in numbers[:4]], [float(n.rstrip("x")) for n in numbers[4:]]
        assert all(value > 0 for value in ms), line
        for ratio, side_ms in zip(ratios, ms[:3]):
            assert ratio == pytest.approx(side_ms / ms[3], abs=0.01 + 0.01 * ratio), line


def test_captioner_sides_caption_alike():
    """The four sides, built as their workers build them, from the same weights, score the greedy captions
    of scratch's seed network alike (as well as it scores its own), and still alike after two steps."""
    from toolkit import benchmark
    import reference
    import scratch
    model = "captioner"
    seed_network = benchmark.build(scratch, model, "float64")
    assert (seed_network.hidden_size, seed_network.readable) == (256, False)
    for name, factor in (("W_h", 5.0), ("W_key", 5.0), ("weight_hh", 5.0), ("W_out", 5.0)):  # captions that
        seed_network.params[name] *= factor                                                      # differ by picture
    seed_network.params["b_out"][10] += 6.5  # <end> (scratch.captioner.END) more likely: captions that stop
    x, t = benchmark.batch(model, "float64", 8)
    x_test = benchmark.batch(model, "float64", 40, seed=1)[0]
    t_test = seed_network.generate(x_test)
    assert len({tuple(row) for row in t_test.tolist()}) > 5
    own = seed_network.accuracy(x_test, t_test)  # below 1: a full caption (6 digits) said no <end>
    assert own > 0.5
    sides = [benchmark.book_side(scratch, model, "float64", x, t, seed_network),
             benchmark.book_side(scratch, model, "float64", x, t, seed_network, readable=True),
             benchmark.book_side(reference, model, "float64", x, t, seed_network),
             benchmark.plain_side(model, "float64", x, t, seed_network)]
    assert sides[1][1].__self__.readable and not sides[0][1].__self__.readable
    assert [inference(x_test, t_test) for _, inference in sides] == [own] * 4
    for _ in range(2):
        for step, _ in sides:
            step()
    accuracies = [inference(x_test, t_test) for _, inference in sides]
    assert len(set(accuracies)) == 1 and accuracies[0] != own, (own, accuracies)  # changed, alike


def test_the_default_models_include_the_captioner():
    spec = importlib.util.spec_from_file_location("benchmark_script", os.path.join(ROOT, "scripts", "benchmark.py"))
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    from toolkit import benchmark
    assert script.parse_args([]).models == list(benchmark.MODELS)
    assert benchmark.MODELS[-1] == "captioner" and "simple_convnet" in benchmark.MODELS
    assert script.parse_args(["--models", "captioner"]).models == ["captioner"]


@pytest.mark.parametrize("args, words", [(["--models", "no_such_net"], "error: unknown model"),
                                         (["--rounds", "0"], "error: --rounds must be at least 1")])
def test_bad_arguments_are_one_line_errors(args, words):
    result = run(*args)
    assert result.returncode == 2 and result.stderr.startswith(words), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
