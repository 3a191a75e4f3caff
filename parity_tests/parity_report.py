"""The parity suite's measured errors, kept for ``DLFS_PARITY_REPORT``.

Every ``assert_close`` records its comparison here under (component, dtype,
quantity): the component is 'layers.Affine' for a test in
``test_layers.py::TestAffine`` (or what the test names), the quantity is
the ``what`` of the comparison with its step or sample number dropped
('dW', 'loss', 'running_var'). The record keeps the largest relative error
(max |a - b| / max |b|), the tolerance, how many comparisons were made and
how many failed.

Under pytest-xdist each worker measures its share; the controller merges the
workers' records (``exported``, ``merge``) before it prints or writes.

``DLFS_PARITY_REPORT=1`` prints the largest error per component and dtype
at the end of the run; ``DLFS_PARITY_REPORT=path.json`` also writes
everything, with the time, the versions and the test outcomes, as JSON
(atomically), which ``scripts/side_by_side.py`` reads.
"""
import datetime
import json
import os
import platform
import re
import sys

from scratch.serialization import write_atomically

FORMAT = 1
ENV = "DLFS_PARITY_REPORT"
WORKER_OUTPUT = "parity_records"  # the key of a pytest-xdist worker's records in its workeroutput

# (component, dtype name, quantity) -> {"max_error", "rtol", "checks", "failures"}
RECORDS = {}
# component -> {"passed": n, "failed": n, "skipped": n}: the outcomes of the tests measuring it
OUTCOMES = {}

_NUMBERED = re.compile(r"\s*\b(step|batch|sample|k=)\s*\d+\b|\s+\d+$")


def quantity_name(what):
    """'dW1 step 3' -> 'dW1', 'loss 12' -> 'loss', '' -> 'value': what was compared, not when."""
    name = _NUMBERED.sub("", str(what)).strip(" :")
    return name or "value"


def component_of(nodeid):
    """'layers.Affine' for 'parity_tests/test_layers.py::TestAffine::test_x', 'gates' for a module-level test."""
    parts = nodeid.split(" ")[0].split("::")
    module = os.path.basename(parts[0]).removesuffix(".py").removeprefix("test_")
    if len(parts) > 2:
        return f"{module}.{parts[1].removeprefix('Test')}"
    return module


def record(component, dtype_name, what, error, rtol, passed, atol=None):
    """Keep one comparison: the largest error so far of (component, dtype, quantity).

    ``atol`` is the absolute bound a test gave explicitly (None: rtol * max |expected|).
    """
    _add((component, dtype_name, quantity_name(what)), float(error), float(rtol),  # float(): a NumPy scalar too
         None if atol is None else float(atol), checks=1, failures=0 if passed else 1)


def _add(key, error, rtol, atol, checks, failures):
    """Fold ``checks`` comparisons (``failures`` of them failed) into the record of ``key``."""
    entry = RECORDS.setdefault(key, {"max_error": 0.0, "rtol": 0.0, "atol": None, "checks": 0, "failures": 0})
    entry["max_error"] = max(entry["max_error"], error)
    entry["rtol"] = max(entry["rtol"], rtol)
    if atol is not None:
        entry["atol"] = max(entry["atol"] or 0.0, atol)
    entry["checks"] += checks
    entry["failures"] += failures


def exported():
    """``RECORDS`` as rows [component, dtype, quantity, entry]: what a pytest-xdist worker hands back."""
    return [[*key, dict(entry)] for key, entry in RECORDS.items()]


def merge(rows):
    """Add another process's ``exported()`` rows to ``RECORDS``: the controller of a pytest-xdist run
    gathers what each worker measured, so the report is the same as one process would write."""
    for component, dtype_name, quantity, entry in rows:
        _add((component, dtype_name, quantity), entry["max_error"], entry["rtol"], entry["atol"], entry["checks"],
             entry["failures"])


def count_outcome(nodeid, outcome):
    """Count a test's outcome ('passed', 'failed', 'skipped') for the component its id names."""
    counts = OUTCOMES.setdefault(component_of(nodeid), {"passed": 0, "failed": 0, "skipped": 0})
    counts[outcome] += 1


def largest_errors():
    """{(component, dtype): largest error over its quantities}: the printed summary."""
    found = {}
    for (component, dtype, _), entry in RECORDS.items():
        found[(component, dtype)] = max(found.get((component, dtype), 0.0), entry["max_error"])
    return found


def as_json():
    """Everything measured, as the JSON document ``DLFS_PARITY_REPORT=path.json`` writes."""
    import numpy
    import torch

    components = {}
    for (component, dtype, quantity), entry in sorted(RECORDS.items()):
        per_dtype = components.setdefault(component, {}).setdefault(
            dtype, {"max_error": 0.0, "rtol": 0.0, "passed": True, "quantities": {}})
        per_dtype["quantities"][quantity] = {**entry, "passed": entry["failures"] == 0}
        per_dtype["max_error"] = max(per_dtype["max_error"], entry["max_error"])
        per_dtype["rtol"] = max(per_dtype["rtol"], entry["rtol"])
        per_dtype["passed"] = per_dtype["passed"] and entry["failures"] == 0
    totals = {"passed": 0, "failed": 0, "skipped": 0}
    for counts in OUTCOMES.values():
        for outcome, n in counts.items():
            totals[outcome] += n
    return {
        "format": FORMAT,
        "measured_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "versions": {"python": platform.python_version(), "numpy": numpy.__version__, "torch": torch.__version__},
        "command": " ".join(["pytest", *sys.argv[1:]]),
        "tests": totals,
        "outcomes": dict(sorted(OUTCOMES.items())),
        "components": components,
    }


def write(path):
    """Write ``as_json()`` to ``path`` atomically (the project's own ``write_atomically``)."""
    document = json.dumps(as_json(), indent=1).encode("utf-8")
    write_atomically(path, lambda f: f.write(document))


def destination():
    """The JSON path ``DLFS_PARITY_REPORT`` names, or None ('1' or unset: print only)."""
    value = os.environ.get(ENV, "")
    return value if value.endswith(".json") else None
