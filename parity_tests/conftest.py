"""Shared helpers for the parity tests: tolerances, comparison, seeded generators, book weights.

``assert_close(actual, expected, dtype)`` is the one comparison every parity
test uses: ``actual`` from the NumPy backend, ``expected`` from the PyTorch
backend (PyTorch's semantics is the truth). Tolerances are fixed by dtype:
rtol 1e-10 for float64, 1e-5 for float32.

Set DLFS_PARITY_REPORT=1 to print, at the end of the run, the largest
relative error each component showed; DLFS_PARITY_REPORT=path.json also
writes every measured error as JSON (``parity_report``), which
``scripts/side_by_side.py`` shows beside the code.
"""
import os

import numpy as np
import pytest
import torch

import parity_report

__all__ = ["DTYPES", "RTOL", "to_numpy", "max_rel_error", "assert_close", "assert_exact", "assert_same_error",
           "make_rng", "share_dropout_masks", "BOOK_WEIGHTS_ENV", "requires_book_weights", "book_weight_file",
           "BOOK_CODE_ENV", "book_code_file"]

# (name, dtype) rows for ``parameterized.expand``: every numeric test runs in both.
DTYPES = [("float64", np.float64), ("float32", np.float32)]

RTOL = {np.dtype(np.float64): 1e-10, np.dtype(np.float32): 1e-5}

SEED = 20240611

def to_numpy(x):
    """A NumPy array for a tensor (detached), array or scalar."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def max_rel_error(actual, expected):
    """max |actual - expected| / max |expected| (the plain difference when ``expected`` is all 0)."""
    a = to_numpy(actual).astype(np.float64)
    b = to_numpy(expected).astype(np.float64)
    diff = float(np.max(np.abs(a - b), initial=0.0))
    scale = float(np.max(np.abs(b), initial=0.0))
    return diff / scale if scale > 0 else diff


def _component():
    """'layers.Affine' for parity_tests/test_layers.py::TestAffine::..., from pytest's own variable."""
    return parity_report.component_of(os.environ.get("PYTEST_CURRENT_TEST", "unknown"))


def assert_close(actual, expected, dtype, rtol=None, atol=None, what="", check_dtype=True,
                 component=None):
    """Assert |actual - expected| <= atol + rtol * |expected| elementwise, shapes equal.

    ``rtol`` defaults to 1e-10 (float64) or 1e-5 (float32). ``atol`` defaults to
    rtol * max|expected|: the rounding error of a sum or product of many terms
    scales with the size of the terms, not with the (possibly cancelled)
    result, so an element near 0 is judged against the array's magnitude.
    An ``expected`` of all zeros must then be matched exactly.
    With ``check_dtype`` both sides must have ``dtype`` (float32 stays float32).
    """
    dtype = np.dtype(dtype)
    a, b = to_numpy(actual), to_numpy(expected)
    label = f"{what}: " if what else ""
    assert a.shape == b.shape, f"{label}shape {a.shape} != {b.shape}"
    if check_dtype:
        assert a.dtype == dtype, f"{label}first result is {a.dtype}, expected {dtype}"
        assert b.dtype == dtype, f"{label}second result is {b.dtype}, expected {dtype}"
    rtol = RTOL[dtype] if rtol is None else rtol
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    scale = float(np.max(np.abs(b64), initial=0.0))
    explicit_atol = atol
    atol = rtol * scale if atol is None else atol
    err = max_rel_error(a64, b64)
    bad = ~(np.abs(a64 - b64) <= atol + rtol * np.abs(b64))
    parity_report.record(component or _component(), dtype.name, what, err, rtol, passed=not np.any(bad),
                         atol=explicit_atol)
    if np.any(bad):
        i = np.unravel_index(np.argmax(np.where(bad, np.abs(a64 - b64), -1)), a.shape) if a.ndim else ()
        raise AssertionError(
            f"{label}{int(bad.sum())} of {a.size} elements differ (rtol {rtol:g}, atol {atol:g}); "
            f"worst at {i}: {a64[i]!r} vs {b64[i]!r}; max relative error {err:.3g}")


def assert_exact(actual, expected, what="", component=None, dtype_name=None):
    """Assert the two results are identical (shape, dtype, every element): for pure copies and draws
    (im2col, dropout masks, gates), where rounding has no part. Recorded for DLFS_PARITY_REPORT with
    tolerance 0, under ``dtype_name`` (default: the results' dtype)."""
    a, b = to_numpy(actual), to_numpy(expected)
    label = f"{what}: " if what else ""
    assert a.shape == b.shape, f"{label}shape {a.shape} != {b.shape}"
    assert a.dtype == b.dtype, f"{label}dtype {a.dtype} != {b.dtype}"
    equal = np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
    err = max_rel_error(a, b) if a.dtype.kind in "fciu" else float(not equal)
    parity_report.record(component or _component(), dtype_name or a.dtype.name, what, err, 0.0, passed=equal)
    np.testing.assert_array_equal(a, b, err_msg=label, strict=True)


def assert_same_error(call_scratch, call_reference, expected=(ValueError, TypeError), match=None):
    """Both calls raise the same exception class, one of ``expected``; returns the two errors."""
    errors = []
    for call in (call_scratch, call_reference):
        with pytest.raises(expected) as info:
            call()
        if match is not None:
            assert match in str(info.value).lower(), f"{match!r} not in the message {str(info.value)!r}"
        errors.append(info.value)
    assert type(errors[0]) is type(errors[1]), \
        f"NumPy backend raised {type(errors[0]).__name__}, PyTorch backend {type(errors[1]).__name__}"
    return errors


def make_rng(seed=SEED):
    """A NumPy generator with a fixed seed (for parameterized tests, which cannot take fixtures)."""
    return np.random.default_rng(seed)


@pytest.fixture(scope="module")
def one_torch_thread():
    """Torch on one thread for a module of small tensors: faster than two threads fighting
    over a busy machine, and repeatable. Use with ``pytest.mark.usefixtures("one_torch_thread")``."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def rng():
    """A seeded NumPy generator: every run draws the same numbers."""
    return make_rng()


# The book's published weights (../shared/book-weights beside the checkout).
BOOK_WEIGHTS_ENV = "DLFS_BOOK_WEIGHTS_DIR"
BOOK_WEIGHTS_SKIP_REASON = (f"set {BOOK_WEIGHTS_ENV} to the directory holding the book's weights "
                            "(ch03_sample_weight.npz, ...; ../shared/book-weights beside the checkout)")

requires_book_weights = pytest.mark.skipif(not os.environ.get(BOOK_WEIGHTS_ENV),
                                           reason=BOOK_WEIGHTS_SKIP_REASON)


def _shared_file(env, skip_reason, relpath):
    """``$env/relpath``; skips when the variable is unset, fails when the file is missing."""
    directory = os.environ.get(env)
    if not directory:
        pytest.skip(skip_reason)
    path = os.path.join(directory, relpath)
    if not os.path.isfile(path):
        pytest.fail(f"{env}={directory} but {path} does not exist")
    return path


def book_weight_file(name):
    """Path of one of the book's weight files; skips when the variable is unset, fails when the file is missing."""
    return _shared_file(BOOK_WEIGHTS_ENV, BOOK_WEIGHTS_SKIP_REASON, name)


# The book's official code (../shared/book-code beside the checkout), for its .pkl weight files.
BOOK_CODE_ENV = "DLFS_BOOK_CODE_DIR"
BOOK_CODE_SKIP_REASON = (f"set {BOOK_CODE_ENV} to the directory holding the book's official code "
                         "(ch03/sample_weight.pkl, ...; ../shared/book-code beside the checkout)")


def book_code_file(relpath):
    """Path of a file of the book's code (``ch07/params.pkl``); skips when the variable is unset, fails when missing."""
    return _shared_file(BOOK_CODE_ENV, BOOK_CODE_SKIP_REASON, relpath)


class _OutcomeCounter:
    """Counts each test's outcome for the component it measures (a failure in setup counts too).

    A plugin of its own rather than this conftest's hook: a conftest's hooks see only the tests of
    its folder, a plugin every test of the run (the scripts' tests in scripts/tests too, e.g.
    book_scripts.BookScriptsOnScratchBook for the site's Trainer page), as pytest-xdist's controller
    does, which reports every worker's tests to every plugin.
    """

    @staticmethod
    def pytest_runtest_logreport(report):
        if report.when == "call" or report.outcome != "passed":
            parity_report.count_outcome(report.nodeid, report.outcome)


def pytest_configure(config):
    if not config.pluginmanager.has_plugin("parity_outcomes"):
        config.pluginmanager.register(_OutcomeCounter(), "parity_outcomes")


def pytest_sessionfinish(session):
    """A pytest-xdist worker hands what it measured to the controller (``pytest_testnodedown``)."""
    if hasattr(session.config, "workeroutput"):
        session.config.workeroutput[parity_report.WORKER_OUTPUT] = parity_report.exported()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """The controller of a pytest-xdist run adds each worker's measurements to its own (none: it runs no test)."""
    parity_report.merge(getattr(node, "workeroutput", {}).get(parity_report.WORKER_OUTPUT, []))


def pytest_terminal_summary(terminalreporter):
    """With DLFS_PARITY_REPORT set: the largest relative error per component and dtype (and the JSON).
    Under pytest-xdist only the controller, which has every worker's records, prints and writes."""
    if hasattr(terminalreporter.config, "workerinput"):
        return
    if not os.environ.get(parity_report.ENV) or not parity_report.RECORDS:
        return
    terminalreporter.section("largest parity errors (max |a-b| / max |b|)")
    for (component, dtype), err in sorted(parity_report.largest_errors().items()):
        terminalreporter.write_line(f"{component:45s} {dtype:8s} {err:.3e}")
    path = parity_report.destination()
    if path is not None:
        parity_report.write(path)
        terminalreporter.write_line(f"parity report written to {path}")


def share_dropout_masks(numpy_net, torch_net, seed=11):
    """The backends draw different masks; hand both the same ones (NumPy's forward runs first)."""
    rng = np.random.default_rng(seed)
    for name, layer in numpy_net.layers.items():
        if name.startswith("Dropout"):
            last = {}

            def numpy_forward(x, train_flg=True, _layer=layer, _last=last, _forward=layer.forward):
                _last["mask"] = rng.random(x.shape) >= _layer.dropout_ratio if train_flg else None
                return _forward(x, train_flg, mask=_last["mask"])

            def torch_forward(x, train_flg=True, _last=last, _forward=torch_net.layers[name].forward):
                return _forward(x, train_flg, mask=_last["mask"] if train_flg else None)

            layer.forward, torch_net.layers[name].forward = numpy_forward, torch_forward
