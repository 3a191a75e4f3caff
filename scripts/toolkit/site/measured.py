"""The parity suite's measured errors (``DLFS_PARITY_REPORT=path.json``), as the side-by-side reader shows them.

The report (``parity_tests/parity_report.py`` writes it) holds, per component
label and dtype, the largest relative error of each compared quantity, its
tolerance, how many checks were made and whether all passed, and per label the
outcomes of the tests (passed, failed, skipped). Here the labels a catalog
entry names (``catalog``) are turned into table rows and a one-line status.

Standard library only. ``run_tests`` runs the suite that writes the report.
"""
import json
import os
import shlex
import subprocess
import sys

from .catalog import parse_label

__all__ = ["FORMAT", "DEFAULT_REPORT", "Report", "load_report", "missing_hint", "run_tests"]

FORMAT = 1
DEFAULT_REPORT = os.path.join("runs", "parity_report.json")  # where scripts/test.sh has the suite write it
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
PYTEST = ["-m", "pytest", "parity_tests", "-q", "-p", "no:cacheprovider"]
NOT_MEASURED = "not measured"


def _fail(path, what):
    raise ValueError(f"{path} is not a parity report ({what}); write one with "
                     "DLFS_PARITY_REPORT=path.json python -m pytest parity_tests")


def load_report(path):
    """The report at ``path`` as a ``Report``; a one-line ValueError if it is not one."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except json.JSONDecodeError as err:
        _fail(path, f"invalid JSON: {err.msg} at line {err.lineno}")
    except UnicodeDecodeError:
        _fail(path, "not UTF-8 text")
    if not isinstance(data, dict):
        _fail(path, "not a JSON object")
    if data.get("format") != FORMAT:
        _fail(path, f"format {data.get('format')!r}, expected {FORMAT}")
    for key, kind in (("components", dict), ("outcomes", dict), ("versions", dict), ("measured_at", str)):
        if not isinstance(data.get(key), kind):
            _fail(path, f"no {key!r}")
    return Report(os.fspath(path), data)


def _dtype_order(dtype):
    return {"float64": 0, "float32": 1}.get(dtype, 2), dtype


class Report:
    """A loaded parity report: the errors of a label list, and a status per component."""

    def __init__(self, path, data):
        self.path = path
        self.data = data

    @property
    def measured_at(self):
        return self.data["measured_at"]

    @property
    def versions(self):
        return self.data["versions"]

    @property
    def tests(self):
        return self.data.get("tests", {})

    def provenance(self):
        """'2026-11-28T07:41:34+00:00 with NumPy 2.4.6 and PyTorch 2.14.1 (Python 3.11.7)'."""
        v = self.versions
        python = f" (Python {v['python']})" if "python" in v else ""
        return f"{self.measured_at} with NumPy {v.get('numpy', '?')} and PyTorch {v.get('torch', '?')}{python}"

    def rows(self, labels):
        """One dict per (label, dtype, quantity) measured: label (as the catalog writes it), dtype,
        quantity, max_error, rtol, checks, failures, passed; float64 first, then float32, then others."""
        found = []
        for text in labels:
            label, prefix = parse_label(text)
            for dtype, entry in self.data["components"].get(label, {}).items():
                for quantity, q in entry.get("quantities", {}).items():
                    if prefix is not None and quantity != prefix and not quantity.startswith(prefix + " "):
                        continue
                    found.append({"label": text, "dtype": dtype, "quantity": quantity,
                                  "max_error": float(q["max_error"]), "rtol": float(q["rtol"]),
                                  "atol": None if q.get("atol") is None else float(q["atol"]),
                                  "checks": int(q["checks"]), "failures": int(q.get("failures", 0)),
                                  "passed": bool(q["passed"])})
        return sorted(found, key=lambda row: (_dtype_order(row["dtype"]), row["label"], row["quantity"]))

    def outcomes(self, labels):
        """{"passed": n, "failed": n, "skipped": n} of the tests whose default label is among ``labels``."""
        totals = {"passed": 0, "failed": 0, "skipped": 0}
        for label in {parse_label(text)[0] for text in labels}:
            for outcome, n in self.data["outcomes"].get(label, {}).items():
                totals[outcome] = totals.get(outcome, 0) + int(n)
        return totals

    def summary(self, labels):
        """{"dtypes": {dtype: {"max_error", "passed"}}, "tests": outcomes, "status": one of 'passed',
        'FAILED', 'tests passed, no errors recorded', 'skipped', 'not measured'}."""
        dtypes = {}
        rows = self.rows(labels)
        for row in rows:
            entry = dtypes.setdefault(row["dtype"], {"max_error": 0.0, "passed": True})
            entry["max_error"] = max(entry["max_error"], row["max_error"])
            entry["passed"] = entry["passed"] and row["passed"]
        tests = self.outcomes(labels)
        if tests["failed"] or not all(entry["passed"] for entry in dtypes.values()):
            status = "FAILED"
        elif rows:
            status = "passed"
        elif tests["passed"]:
            status = "tests passed, no errors recorded"
        elif tests["skipped"]:
            status = "skipped"
        else:
            status = NOT_MEASURED
        return {"dtypes": dict(sorted(dtypes.items(), key=lambda kv: _dtype_order(kv[0]))), "tests": tests,
                "status": status}


def missing_hint(report):
    """What to do when there is no report at ``report``."""
    return (f"No report at {report}: run python scripts/side_by_side.py --run-tests (or "
            f"DLFS_PARITY_REPORT={report} python -m pytest parity_tests), then build again.")


def _names_tests(pytest_args):
    """True if the extra pytest arguments name tests to run (a file, folder or node id that exists)."""
    return any(not arg.startswith("-") and os.path.exists(os.path.join(REPO_ROOT, arg.split("::")[0]))
               for arg in pytest_args)


def run_tests(report, pytest_args):
    """Run the parity suite writing ``report``; pytest's exit status. A ValueError if no report was written."""
    extra = shlex.split(pytest_args or "")
    command = [sys.executable, *PYTEST, *extra]
    if _names_tests(extra):
        command.remove("parity_tests")
    path = os.path.abspath(report)
    before = os.stat(path).st_mtime_ns if os.path.exists(path) else None
    print(f"running the parity suite: DLFS_PARITY_REPORT={report} python {' '.join(command[1:])}", flush=True)
    status = subprocess.run(command, cwd=REPO_ROOT, env={**os.environ, "DLFS_PARITY_REPORT": path}).returncode
    after = os.stat(path).st_mtime_ns if os.path.exists(path) else None
    if after is None or after == before:
        raise ValueError(f"the parity suite (pytest exit status {status}) wrote no report to {report}; it writes "
                         "one only when a test compared numbers (see pytest's output above)")
    return status
