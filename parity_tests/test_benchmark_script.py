"""scripts/benchmark.py runs end to end on a tiny setting and writes what it prints to JSON."""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(*args):
    return subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "benchmark.py"), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)


def test_tiny_benchmark_writes_json(tmp_path):
    out = tmp_path / "bench.json"
    result = run("--models", "two_layer", "--repeats", "2", "--warmup", "1", "--inference-images", "50",
                 "--threads", "1", "--json", str(out))
    assert result.returncode == 0, result.stderr
    assert "two_layer" in result.stdout and "x " in result.stdout
    report = json.loads(out.read_text())
    row = report["results"][0]
    assert row["model"] == "two_layer" and row["threads"] == 1 and row["dtype"] == "float32"
    for key in ("step_ms", "inference_ms", "peak_mib"):
        assert row[key]["scratch"] > 0 and row[key]["torch"] > 0, key
    assert abs(row["step_ratio"] - row["step_ms"]["scratch"] / row["step_ms"]["torch"]) < 1e-12


def test_bad_model_is_a_one_line_error():
    result = run("--models", "no_such_net")
    assert result.returncode == 2 and result.stderr.startswith("error: unknown model")
    assert len(result.stderr.strip().splitlines()) == 1
