"""DLFS_PARITY_REPORT: the suite's measured errors, printed or written as JSON for side_by_side.py.

A real pytest run in a subprocess (the layer tests of Affine) writes the
JSON: the component, both dtypes, the quantities compared, errors inside
the tolerances, the versions and the test counts. A test comparing two
arrays that differ makes the report say so (failed, the error measured).
"""
import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import parity_report

REPO_ROOT = Path(__file__).resolve().parents[1]


def run_pytest(report, *args, cwd=REPO_ROOT):
    env = {**os.environ, parity_report.ENV: str(report), "OPENBLAS_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *map(str, args)],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("what, name", [
    ("dW", "dW"), ("W1 step 3", "W1"), ("loss 12", "loss"), ("", "value"), ("scratch k=2", "scratch"),
    ("batch 4", "value"), ("b2 running_var", "b2 running_var"), ("out: ", "out"),
])
def test_quantity_names_drop_the_step_number(what, name):
    assert parity_report.quantity_name(what) == name


def test_component_names_come_from_the_test_id():
    assert parity_report.component_of("parity_tests/test_layers.py::TestAffine::test_x_0 (call)") == "layers.Affine"
    assert parity_report.component_of("parity_tests/test_gates.py::test_and") == "gates"


def test_a_real_run_writes_the_errors_it_measured(tmp_path):
    report = tmp_path / "report" / "parity.json"
    result = run_pytest(report, "parity_tests/test_layers.py", "-k", "Affine")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"parity report written to {report}" in result.stdout
    data = json.loads(report.read_text())
    assert data["format"] == parity_report.FORMAT
    assert abs(datetime.datetime.fromisoformat(data["measured_at"])
               - datetime.datetime.now(datetime.timezone.utc)) < datetime.timedelta(minutes=10)
    assert data["versions"]["numpy"] == np.__version__ and "torch" in data["versions"]
    passed = int(result.stdout.strip().splitlines()[-1].split(" passed")[0].split()[-1])
    assert data["tests"]["passed"] == passed > 0 and data["tests"]["failed"] == 0
    affine = data["components"]["layers.Affine"]
    assert set(affine) == {"float64", "float32"}
    for dtype, tol in (("float64", 1e-10), ("float32", 1e-5)):
        entry = affine[dtype]
        assert entry["passed"] is True and 0 <= entry["max_error"] <= tol and entry["rtol"] == tol
        assert {"dx", "dW", "db"} <= set(entry["quantities"]), entry["quantities"]
        assert all(q["checks"] > 0 and q["failures"] == 0 for q in entry["quantities"].values())
    assert affine["float32"]["max_error"] > affine["float64"]["max_error"]  # float32 rounds more
    assert not list(report.parent.glob(".tmp-*"))


def test_a_failed_comparison_is_reported_as_failed(tmp_path):
    (tmp_path / "test_wrong.py").write_text(
        "import numpy as np\n"
        "from conftest import assert_close\n"
        "def test_off_by_a_millionth():\n"
        "    assert_close(np.ones(3) * (1 + 1e-6), np.ones(3), np.float64, what='dx', component='demo.Layer')\n"
        "def test_exact():\n"
        "    assert_close(np.ones(3), np.ones(3), np.float64, what='out step 2', component='demo.Layer')\n"
        "def test_numpy_scalar_tolerances():\n"
        "    x = np.ones(3, np.float32)\n"
        "    assert_close(x, x, np.float32, rtol=4 * np.finfo(np.float32).eps, atol=np.float32(1e-6),\n"
        "                 what='y', component='demo.Layer')\n")
    report = tmp_path / "parity.json"
    env_path = f"{REPO_ROOT / 'parity_tests'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"
    os.environ["PYTHONPATH"], saved = env_path, os.environ.get("PYTHONPATH")
    try:
        result = run_pytest(report, "-p", "conftest", tmp_path / "test_wrong.py", cwd=tmp_path)
    finally:
        if saved is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = saved
    assert result.returncode == 1, result.stdout + result.stderr
    data = json.loads(report.read_text())
    layer = data["components"]["demo.Layer"]["float64"]
    assert layer["passed"] is False
    assert layer["quantities"]["dx"]["failures"] == 1 and layer["quantities"]["dx"]["passed"] is False
    assert layer["quantities"]["dx"]["max_error"] == pytest.approx(1e-6, rel=1e-6)
    assert layer["quantities"]["out"] == {"max_error": 0.0, "rtol": 1e-10, "atol": None, "checks": 1,
                                          "failures": 0, "passed": True}
    y = data["components"]["demo.Layer"]["float32"]["quantities"]["y"]
    assert y["rtol"] == pytest.approx(4 * np.finfo(np.float32).eps) and y["atol"] == pytest.approx(1e-6)
    assert data["tests"] == {"passed": 2, "failed": 1, "skipped": 0}


def test_the_records_of_several_processes_merge_into_one_report(monkeypatch):
    """What pytest-xdist's workers measured, merged by the controller, is what one process records."""
    calls = [("layers.Affine", "float64", "dW step 1", 1e-12, 1e-10, True, None),
             ("layers.Affine", "float64", "dW step 2", 3e-12, 1e-10, True, 1e-9),
             ("layers.Affine", "float32", "loss", 2e-6, 1e-5, False, None),
             ("gates", "float64", "", 0.0, 0.0, True, None)]
    monkeypatch.setattr(parity_report, "RECORDS", {})
    for call in calls:
        parity_report.record(*call)
    one_process = parity_report.RECORDS
    workers = []
    for share in (calls[::2], calls[1::2]):
        monkeypatch.setattr(parity_report, "RECORDS", {})
        for call in share:
            parity_report.record(*call)
        workers.append(parity_report.exported())
    monkeypatch.setattr(parity_report, "RECORDS", {})
    for rows in workers:
        parity_report.merge(json.loads(json.dumps(rows)))  # as execnet hands them over: plain lists and dicts
    assert parity_report.RECORDS == one_process
    assert one_process[("layers.Affine", "float64", "dW")] == {"max_error": 3e-12, "rtol": 1e-10, "atol": 1e-9,
                                                              "checks": 2, "failures": 0}


def test_a_run_under_xdist_writes_the_same_report(tmp_path):
    """pytest -n 2: the controller writes every worker's measurements, as a run in one process does."""
    pytest.importorskip("xdist", reason="pytest-xdist is not installed")
    tests = ["parity_tests/test_gates.py", "parity_tests/test_functions.py"]
    one, two = tmp_path / "one.json", tmp_path / "two.json"
    assert run_pytest(one, *tests).returncode == 0
    assert run_pytest(two, "-n", "2", *tests).returncode == 0
    reports = [json.loads(path.read_text()) for path in (one, two)]
    for report in reports:
        del report["measured_at"], report["command"]
    assert reports[0]["components"] and reports[0] == reports[1]
