"""Reading the book's ``.pkl`` weight files without running anything in them.

``scratch.safe_pickle`` is a restricted unpickler (the idea of
``torch.load(weights_only=True)``): only what NumPy arrays, scalars and dtypes
need, and plain containers. ``load_params`` reads the book's pickles through
it. Malicious payloads are proved real first (plain ``pickle`` in a child
process does create the marker file, in a temporary folder), then shown refused.
"""
import os
import pickle
import shlex
import subprocess
import sys
import tempfile
import time
import unittest
from collections import OrderedDict

import numpy as np
import pytest
import torch
from parameterized import parameterized

import reference
import reference.serialization
import scratch
import scratch.serialization
from conftest import book_code_file, book_weight_file, to_numpy
from scratch import safe_pickle

pytestmark = pytest.mark.filterwarnings("error")

LOADERS = [("scratch", scratch.serialization.load_params), ("reference", reference.serialization.load_params)]


# ---------------------------------------------------------------------------
# Malicious payloads: (row name, builder) where builder(folder) returns
# (callable, args, did_it_run); the pickle calls callable(*args) when loaded.
# ---------------------------------------------------------------------------

def _write_marker_code(folder):
    return f"open({os.path.join(folder, 'marker')!r}, 'w').close()"


def _marker_ran(folder):
    return lambda: os.path.exists(os.path.join(folder, "marker"))


def _os_system(folder):
    return os.system, (f"touch {shlex.quote(os.path.join(folder, 'marker'))}",), _marker_ran(folder)


def _popen(folder):
    return subprocess.Popen, ([sys.executable, "-c", _write_marker_code(folder)],), _marker_ran(folder)


def _eval(folder):
    return eval, (_write_marker_code(folder),), _marker_ran(folder)


def _exec(folder):
    return exec, (_write_marker_code(folder),), _marker_ran(folder)


def _os_remove(folder):
    canary = os.path.join(folder, "canary")
    with open(canary, "w") as f:
        f.write("still here")
    return os.remove, (canary,), lambda: not os.path.exists(canary)


def _numpy_runstring(folder):
    """A gadget inside NumPy itself: a module name starting with 'numpy' is not enough."""
    from numpy.testing._private.utils import runstring
    return runstring, (_write_marker_code(folder), {}), _marker_ran(folder)


PAYLOADS = [("os_system", _os_system), ("subprocess_popen", _popen), ("builtins_eval", _eval),
            ("builtins_exec", _exec), ("os_remove", _os_remove)]
try:
    from numpy.testing._private.utils import runstring  # noqa: F401 - only whether NumPy has it
    PAYLOADS.append(("numpy_runstring", _numpy_runstring))
except ImportError:
    pass

# GLOBAL opcode (protocol 2) and STACK_GLOBAL (protocol 4)
PAYLOAD_ROWS = [(f"{name}_protocol{protocol}", build, protocol)
                for name, build in PAYLOADS for protocol in (2, 4)]


class _Call:
    """Pickles as 'call ``function(*args)``' (what an attacker writes with __reduce__)."""

    def __init__(self, function, args):
        self.function, self.args = function, args

    def __reduce__(self):
        return self.function, self.args


def global_name(function):
    """The module.name a pickle of ``function`` names (pickle's own rule: __module__ and __qualname__)."""
    return f"{function.__module__}.{function.__qualname__}"


def malicious(obj, protocol):
    """``obj`` pickled; fix_imports off, so builtins stay 'builtins' in protocol 2 as well."""
    return pickle.dumps(obj, protocol=protocol, fix_imports=False)


def wait_a_little(ran, function):
    """Whether ``ran()`` is true, or becomes true within a second for a Popen'ed child (it needs a moment)."""
    if function is not subprocess.Popen:
        return ran()  # the other payloads would have run synchronously, inside the load
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        if ran():
            return True
        time.sleep(0.05)
    return ran()


PLAIN_LOAD = """
import pickle, subprocess, sys
with open(sys.argv[1], "rb") as f:
    result = pickle.load(f)
if isinstance(result, subprocess.Popen):
    result.wait()
"""


def assert_refusal_message(message, forbidden, path=None):
    assert "\n" not in message, f"not one line: {message!r}"
    assert forbidden in message, f"{forbidden!r} not named in {message!r}"
    assert "nothing of the file was run" in message, message
    if path is not None:
        assert path in message, f"{path!r} not named in {message!r}"


class TestMaliciousPickles(unittest.TestCase):

    @parameterized.expand(PAYLOAD_ROWS)
    def test_the_payload_is_real(self, _, build, protocol):
        """Plain pickle.load, in a child process and a temporary folder, does run it."""
        with tempfile.TemporaryDirectory() as folder:
            function, args, ran = build(folder)
            path = os.path.join(folder, "evil.pkl")
            with open(path, "wb") as f:
                f.write(malicious(_Call(function, args), protocol))
            assert not ran()
            result = subprocess.run([sys.executable, "-c", PLAIN_LOAD, path], cwd=folder,
                                    capture_output=True, text=True, timeout=60)
            assert result.returncode == 0, result.stderr
            assert ran(), "plain pickle.load did not run the payload: the refusal tests below would prove nothing"

    @parameterized.expand(PAYLOAD_ROWS)
    def test_loads_refuses(self, _, build, protocol):
        with tempfile.TemporaryDirectory() as folder:
            function, args, ran = build(folder)
            with self.assertRaises(safe_pickle.ForbiddenGlobalError) as info:
                safe_pickle.loads(malicious(_Call(function, args), protocol))
            assert isinstance(info.exception, pickle.UnpicklingError)
            assert_refusal_message(str(info.exception), global_name(function))
            assert not wait_a_little(ran, function), "the payload ran"

    @parameterized.expand(PAYLOAD_ROWS)
    def test_load_params_refuses(self, _, build, protocol):
        """From a .pkl file: a one-line ValueError naming the file and the global, in both backends."""
        with tempfile.TemporaryDirectory() as folder:
            function, args, ran = build(folder)
            path = os.path.join(folder, "params.pkl")
            with open(path, "wb") as f:
                f.write(malicious({"W1": np.ones((2, 3)), "b1": _Call(function, args)}, protocol))
            calls = [loader for _, loader in LOADERS] + [scratch.serialization.is_book_file,
                                                         safe_pickle.load]
            for call in calls:
                with self.assertRaises((ValueError, pickle.UnpicklingError)) as info:
                    call(path)
                assert_refusal_message(str(info.exception), global_name(function), path)
                if call is not safe_pickle.load:
                    assert isinstance(info.exception, ValueError)
                    assert isinstance(info.exception.__cause__, safe_pickle.ForbiddenGlobalError)
            assert not wait_a_little(ran, function), "the payload ran"

    @parameterized.expand([("protocol2", 2), ("protocol3", 3), ("protocol4", 4), ("protocol5", 5)])
    def test_payload_deep_inside_a_dict_of_arrays(self, _, protocol):
        """Arrays first, the payload nested deep after them: refused all the same, and no network changes."""
        with tempfile.TemporaryDirectory() as folder:
            function, args, ran = _os_system(folder)
            good = {name: to_numpy(value).T + 1.0 for name, value in scratch.SimpleConvNet(seed=3).params.items()}
            evil = {**good, "extra": {"layers": [np.zeros(3), OrderedDict(x=(np.ones(2), [_Call(function, args)]))]}}
            path = os.path.join(folder, "params.pkl")
            with open(path, "wb") as f:
                f.write(malicious(evil, protocol))
            with self.assertRaises(safe_pickle.ForbiddenGlobalError) as info:
                safe_pickle.loads(malicious(evil, protocol))
            assert_refusal_message(str(info.exception), global_name(function))
            for module in (scratch, reference):
                net = module.SimpleConvNet(seed=0)
                before = {k: to_numpy(v).copy() for k, v in net.params.items()}
                with self.assertRaises(ValueError) as info:
                    net.load_params(path)
                assert_refusal_message(str(info.exception), global_name(function), path)
                for k, v in net.params.items():
                    np.testing.assert_array_equal(to_numpy(v), before[k],
                                                  err_msg=f"{module.__name__}: a refused file changed {k}")
            assert not wait_a_little(ran, function), "the payload ran"

    @parameterized.expand([
        # globals of admitted modules, or admitted names with something appended, are refused too
        ("numpy_load", "numpy", "load"),
        ("numpy_frombuffer", "numpy", "frombuffer"),
        ("dotted_attribute", "numpy", "ndarray.__new__"),
        ("reconstruct_globals", "numpy._core.multiarray", "_reconstruct.__globals__"),
        ("codecs_decode", "_codecs", "decode"),
        ("getattr", "builtins", "getattr"),
        ("import", "builtins", "__import__"),
        ("old_builtins_eval", "__builtin__", "eval"),
        ("namedtuple", "collections", "namedtuple"),
        ("copyreg", "copyreg", "_reconstructor"),
        ("torch_load", "torch", "load"),
    ])
    def test_other_globals_are_refused(self, _, module, name):
        """Hand-written GLOBAL and STACK_GLOBAL instructions: never imported, never called."""
        args = pickle.dumps(("x",), protocol=2)[2:-1]  # a tuple, without PROTO and STOP
        as_global = b"\x80\x02c" + f"{module}\n{name}\n".encode() + args + b"R."
        as_stack_global = (b"\x80\x04" + b"X" + len(module).to_bytes(4, "little") + module.encode()
                           + b"X" + len(name).to_bytes(4, "little") + name.encode() + b"\x93" + args + b"R.")
        for data in (as_global, as_stack_global):
            with self.assertRaises(safe_pickle.ForbiddenGlobalError) as info:
                safe_pickle.loads(data)
            assert_refusal_message(str(info.exception), f"{module}.{name}")

    def test_builtins_open_for_writing_is_refused_and_the_file_stays(self):
        """``builtins.open(path, 'w')``, written opcode by opcode (``pickle.dumps`` would name ``io.open``).

        Loaded by plain pickle, it empties the file; refused here before anything runs.
        """
        def stream(path, protocol):
            args = pickle.dumps((path, "w"), protocol=protocol)[2:-1]  # the tuple, without PROTO and STOP
            if protocol == 2:
                return b"\x80\x02cbuiltins\nopen\n" + args + b"R."                        # GLOBAL
            return (b"\x80\x04\x8c\x08builtins\x94\x8c\x04open\x94\x93" + args + b"R.")  # STACK_GLOBAL

        for protocol in (2, 4):
            with tempfile.TemporaryDirectory() as folder:
                victim, evil = os.path.join(folder, "notes.txt"), os.path.join(folder, "evil.pkl")
                with open(evil, "wb") as f:
                    f.write(stream(victim, protocol))
                with open(victim, "w") as f:
                    f.write("a learner's notes")
                plain = subprocess.run([sys.executable, "-c", PLAIN_LOAD, evil], capture_output=True, text=True,
                                       timeout=60)
                assert plain.returncode == 0, plain.stderr
                assert os.path.getsize(victim) == 0, "plain pickle did not open the file for writing: proves nothing"
                with open(victim, "w") as f:
                    f.write("a learner's notes")
                for call in (safe_pickle.load, scratch.serialization.load_params, reference.serialization.load_params):
                    with self.assertRaises((safe_pickle.ForbiddenGlobalError, ValueError)) as info:
                        call(evil)
                    assert_refusal_message(str(info.exception), "builtins.open", evil)
                with open(victim) as f:
                    assert f.read() == "a learner's notes", f"protocol {protocol}: the file was opened for writing"

    def test_refusal_message_stays_on_one_line(self):
        """A STACK_GLOBAL name may hold any character; the message shows it escaped, on one line."""
        module, name = "os\nimport evil", "sys\rtem"
        data = (b"\x80\x04X" + len(module).to_bytes(4, "little") + module.encode()
                + b"X" + len(name).to_bytes(4, "little") + name.encode() + b"\x93.")
        with self.assertRaises(safe_pickle.ForbiddenGlobalError) as info:
            safe_pickle.loads(data)
        message = str(info.exception)
        assert "\n" not in message and "\r" not in message, repr(message)
        assert "os\\nimport evil.sys\\rtem" in message, message

    def test_codecs_encode_is_latin1_only(self):
        """``_codecs.encode`` is admitted for protocol 2's bytes, as encode(str, 'latin1') and nothing else."""
        def call(text, encoding):
            return b"\x80\x02c_codecs\nencode\n" + pickle.dumps((text, encoding), protocol=2)[2:-1] + b"R."
        assert safe_pickle.loads(call("\xff\x00a", "latin1")) == b"\xff\x00a"
        for encoding in ("rot13", "utf-8", "hex"):
            with self.assertRaises(pickle.UnpicklingError) as info:
                safe_pickle.loads(call("abc", encoding))
            assert "latin1" in str(info.exception) and "\n" not in str(info.exception)

    def test_persistent_ids_are_refused(self):
        with self.assertRaises(pickle.UnpicklingError) as info:
            safe_pickle.loads(b"\x80\x02X\x01\x00\x00\x00aQ.")  # BINPERSID
        assert "persistent" in str(info.exception)


# ---------------------------------------------------------------------------
# What is admitted: arrays, scalars, dtypes, plain containers
# ---------------------------------------------------------------------------

# The allow-list, written out: safe_pickle's docstring names exactly these. A name added to
# ADMITTED_GLOBALS (``builtins.open``, say) fails test_the_allow_list_is_exactly_the_documented_one.
NUMPY_ADMITTED = {("numpy", "ndarray"), ("numpy", "dtype")} | {
    (f"{core}.{module}", name) for core in ("numpy.core", "numpy._core")
    for module, name in (("multiarray", "_reconstruct"), ("multiarray", "scalar"), ("numeric", "_frombuffer"))}
CONTAINERS_ADMITTED = {("collections", "OrderedDict")} | {
    (module, name) for module in ("builtins", "__builtin__")
    for name in ("bytes", "bytearray", "set", "frozenset", "complex")}
DOCUMENTED_GLOBALS = NUMPY_ADMITTED | CONTAINERS_ADMITTED | {("_codecs", "encode")}


def every_global_of(module_names):
    """(module, name) of every attribute of these modules: functions, classes, modules, constants."""
    import importlib

    names = set()
    for module_name in module_names:
        module = importlib.import_module(module_name)
        names |= {(module_name, name) for name in dir(module)}
    return names


def sample_arrays():
    rng = np.random.default_rng(7)
    return {
        "W1": rng.standard_normal((4, 3)).astype(np.float32),
        "b1": rng.standard_normal(3).astype(np.float32),
        "W2": rng.standard_normal((2, 3, 5, 5)),                      # float64, 4-D
        "W3": np.asfortranarray(rng.standard_normal((6, 2))),         # Fortran order
        "counts": rng.integers(-9, 9, size=(2, 2, 2)).astype(np.int64),
        "small": np.arange(5, dtype=np.int32),
        "bytes_": np.arange(7, dtype=np.uint8),
        "flags": np.array([True, False]),
        "zero_d": np.array(2.5),
        "empty": np.zeros((0, 3), dtype=np.float32),
    }


def assert_same_arrays(loaded, expected, what=""):
    assert list(loaded) == list(expected), f"{what}: keys {list(loaded)} != {list(expected)}"
    for name, value in expected.items():
        got = loaded[name]
        assert isinstance(got, np.ndarray), f"{what} {name}: {type(got).__name__}"
        assert got.dtype == value.dtype, f"{what} {name}: dtype {got.dtype} != {value.dtype}"
        assert got.shape == value.shape, f"{what} {name}: shape {got.shape} != {value.shape}"
        np.testing.assert_array_equal(got, value, err_msg=f"{what} {name}")


ALL_PROTOCOLS = [(f"protocol{p}", p) for p in range(2, pickle.HIGHEST_PROTOCOL + 1)]


class TestAllowList(unittest.TestCase):

    def test_the_allow_list_is_exactly_the_documented_one(self):
        admitted = set(safe_pickle.ADMITTED_GLOBALS)
        assert admitted == DOCUMENTED_GLOBALS, (f"admitted but not documented: {sorted(admitted - DOCUMENTED_GLOBALS)}; "
                                                f"documented but not admitted: {sorted(DOCUMENTED_GLOBALS - admitted)}")

    def test_each_admitted_name_stands_for_what_it_says(self):
        """The classes are the classes themselves; the functions are NumPy's own or the latin-1 encoder."""
        import builtins
        import collections

        for (module, name), value in safe_pickle.ADMITTED_GLOBALS.items():
            if (module, name) in CONTAINERS_ADMITTED:
                owner = collections if module == "collections" else builtins
                assert value is getattr(owner, name), (module, name, value)
            elif name in ("ndarray", "dtype"):
                assert value is getattr(np, name), (module, name, value)
            elif (module, name) == ("_codecs", "encode"):
                assert value.__module__ == "scratch.safe_pickle", value  # the restricted wrapper
            else:
                assert callable(value) and value.__module__.startswith("numpy"), (module, name, value)
                assert value.__name__ == name, (module, name, value)

    def test_every_other_global_of_these_modules_is_refused(self):
        """By structure, not by a list of bad names: every attribute of these modules (function, class,
        submodule, constant) is refused unless the documented list holds it."""
        candidates = every_global_of(["builtins", "os", "io", "subprocess", "shutil", "pickle", "codecs",
                                      "_codecs", "collections", "copyreg", "numpy", "numpy.lib.npyio"])
        core = every_global_of(["numpy._core.multiarray", "numpy._core.numeric"])  # NumPy 1 names them numpy.core
        candidates |= core | {(module.replace("numpy._core", "numpy.core"), name) for module, name in core}
        refused = 0
        for module, name in sorted(candidates):
            data = b"\x80\x02c" + f"{module}\n{name}\n".encode() + b"."
            if (module, name) in DOCUMENTED_GLOBALS:
                safe_pickle.loads(data)
                continue
            with self.assertRaises(safe_pickle.ForbiddenGlobalError, msg=f"{module}.{name} was admitted"):
                safe_pickle.loads(data)
            refused += 1
        assert refused > 1000, f"only {refused} globals tried"



class TestRoundTrip(unittest.TestCase):

    @parameterized.expand(ALL_PROTOCOLS)
    def test_dict_of_arrays(self, _, protocol):
        params = sample_arrays()
        loaded = safe_pickle.loads(safe_pickle.dumps(params, protocol=protocol))
        assert type(loaded) is dict
        assert_same_arrays(loaded, params, f"protocol {protocol}")
        assert all(a.flags.writeable for a in loaded.values()), "a loaded array is read-only"

    def test_default_protocol_and_file_objects(self):
        params = sample_arrays()
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "params.pkl")
            with open(path, "wb") as f:
                safe_pickle.dump(params, f)
            with open(path, "rb") as f:
                assert_same_arrays(safe_pickle.load(f), params, "file object")
            assert_same_arrays(safe_pickle.load(path), params, "path")
        assert_same_arrays(safe_pickle.loads(safe_pickle.dumps(params)), params, "dumps")

    @parameterized.expand([(f"protocol{p}", p) for p in range(0, pickle.HIGHEST_PROTOCOL + 1)])
    def test_scalars_dtypes_and_containers(self, _, protocol):
        """Everything a plain pickle.loads gives for these, safe_pickle gives too (protocols 0 and 1 included)."""
        value = {"f64": np.float64(1.5), "f32": np.float32(-2.25), "i64": np.int64(7), "bool": np.bool_(True),
                 "dtype": np.dtype("<f4"), "record_dtype": np.dtype([("a", "<f4"), ("b", "<i8")]),
                 "records": np.zeros(2, dtype=[("a", "<f4"), ("b", "<i8")]), "complex": np.array([1 + 2j]),
                 "big_endian": np.arange(3, dtype=">f8"),  # NumPy itself makes it native below protocol 5
                 "ordered": OrderedDict(b=1, a=2), "list": [1, 2.5, "x", None, True], "tuple": (1, (2, 3)),
                 "bytes": b"\xff\x00", "empty_bytes": b"", "bytearray": bytearray(b"ab"), "set": {1, 2},
                 "frozenset": frozenset({3}), "py_complex": 1 - 1j, "big_int": 2 ** 100, "str": "päd"}
        data = pickle.dumps(value, protocol=protocol)
        loaded, plain = safe_pickle.loads(data), pickle.loads(data)
        assert list(loaded) == list(plain)
        for key in plain:
            a, b = loaded[key], plain[key]
            assert type(a) is type(b), f"{key}: {type(a).__name__} != {type(b).__name__}"
            if isinstance(b, np.ndarray):
                assert a.dtype == b.dtype and a.shape == b.shape, key
                np.testing.assert_array_equal(a, b, err_msg=key)
            else:
                assert a == b, f"{key}: {a!r} != {b!r}"

    @parameterized.expand([("numpy_core", "numpy.core"), ("numpy__core", "numpy._core")])
    def test_both_numpy_module_names(self, _, core):
        """NumPy 1 writes numpy.core..., NumPy 2 numpy._core...: either loads, with no warning."""
        def call(module, name, args):
            return b"\x80\x03c" + f"{module}\n{name}\n".encode() + pickle.dumps(args, protocol=3)[2:-1] + b"R."
        reconstructed = safe_pickle.loads(call(f"{core}.multiarray", "_reconstruct", (np.ndarray, (0,), b"b")))
        assert isinstance(reconstructed, np.ndarray) and reconstructed.shape == (0,)
        scalar = safe_pickle.loads(call(f"{core}.multiarray", "scalar", (np.dtype("<f8"), np.float64(2.5).tobytes())))
        assert type(scalar) is np.float64 and scalar == 2.5
        array = safe_pickle.loads(call(f"{core}.numeric", "_frombuffer",
                                       (bytearray(np.arange(4.0).tobytes()), np.dtype("<f8"), (2, 2), "C")))
        np.testing.assert_array_equal(array, np.arange(4.0).reshape(2, 2))

    @parameterized.expand(ALL_PROTOCOLS)
    def test_load_params_transposes_like_a_book_npz(self, _, protocol):
        """A .pkl holds the book's layout: load_params gives exactly what it gives for the same .npz."""
        params = sample_arrays()
        with tempfile.TemporaryDirectory() as folder:
            pkl, npz = os.path.join(folder, "params.pkl"), os.path.join(folder, "params.npz")
            with open(pkl, "wb") as f:
                pickle.dump(params, f, protocol=protocol)
            np.savez(npz, **params)
            for name, load in LOADERS:
                from_pickle, from_npz = load(pkl), load(npz)
                assert_same_arrays(from_pickle, from_npz, f"{name} protocol {protocol}")
                np.testing.assert_array_equal(from_pickle["W1"], params["W1"].T)  # (in, out) -> (out, in)
                np.testing.assert_array_equal(from_pickle["W2"], params["W2"])    # 4-D: as stored
                np.testing.assert_array_equal(from_pickle["counts"], params["counts"])
            assert scratch.serialization.is_book_file(pkl)


# ---------------------------------------------------------------------------
# The book's own .pkl files
# ---------------------------------------------------------------------------

BOOK_FILES = [
    ("ch03", "ch03/sample_weight.pkl", "ch03_sample_weight.npz"),
    ("ch07", "ch07/params.pkl", "ch07_simple_convnet_params.npz"),
    ("ch08", "ch08/deep_convnet_params.pkl", "ch08_deep_convnet_params.npz"),
]


def book_network(backend, chapter, path):
    """The network a book file is for, in float64, loaded from ``path``."""
    if chapter == "ch03":
        return backend.ThreeLayerNet(path, dtype=np.float64)
    cls = backend.SimpleConvNet if chapter == "ch07" else backend.DeepConvNet
    return cls(dtype=np.float64, seed=0).load_params(path)


class TestBookPickles(unittest.TestCase):

    @parameterized.expand(BOOK_FILES)
    def test_pickle_holds_what_the_npz_holds(self, _, pkl, npz):
        """safe_pickle reads the book's file (protocol 3 or 4, numpy.core names) into the .npz's arrays."""
        raw = safe_pickle.load(book_code_file(pkl))
        with np.load(book_weight_file(npz), allow_pickle=False) as data:
            expected = {name: data[name] for name in data.files}
        assert type(raw) is dict
        assert sorted(raw) == sorted(expected)
        assert_same_arrays({k: raw[k] for k in expected}, expected, pkl)

    @parameterized.expand(BOOK_FILES)
    def test_load_params_equals_npz(self, _, pkl, npz):
        pkl_path, npz_path = book_code_file(pkl), book_weight_file(npz)
        assert scratch.serialization.is_book_file(pkl_path)
        for name, load in LOADERS:
            from_pickle, from_npz = load(pkl_path), load(npz_path)
            assert sorted(from_pickle) == sorted(from_npz)
            assert_same_arrays({k: from_pickle[k] for k in from_npz}, from_npz, f"{name} {pkl}")
        raw = safe_pickle.load(pkl_path)
        loaded = scratch.serialization.load_params(pkl_path)
        for key, value in raw.items():  # 2-D weights (in, out) -> (out, in); the rest as stored
            np.testing.assert_array_equal(loaded[key], value.T if value.ndim == 2 else value, err_msg=key)

    @parameterized.expand(BOOK_FILES)
    def test_networks_hold_the_same_parameters(self, chapter, pkl, npz):
        """scratch and reference networks (float64) loaded from the .pkl equal those loaded from the .npz."""
        pkl_path, npz_path = book_code_file(pkl), book_weight_file(npz)
        for backend in (scratch, reference):
            net_pkl, net_npz = book_network(backend, chapter, pkl_path), book_network(backend, chapter, npz_path)
            assert set(net_pkl.params) == set(net_npz.params)
            for name in net_npz.params:
                a, b = net_pkl.params[name], net_npz.params[name]
                if isinstance(b, torch.Tensor):
                    assert a.dtype == b.dtype == torch.float64, (name, a.dtype)
                    assert torch.equal(a, b), f"{backend.__name__} {name}"
                else:
                    assert a.dtype == b.dtype == np.float64, (name, a.dtype)
                    np.testing.assert_array_equal(a, b, err_msg=f"{backend.__name__} {name}")


# ---------------------------------------------------------------------------
# Files that are not parameter pickles: one-line errors naming the file
# ---------------------------------------------------------------------------

BAD_FILES = [
    ("empty", lambda: b"", "neither an .npz file nor a pickle"),
    ("text", lambda: b"W1 = [[0.1, 0.2]]\n", "neither an .npz file nor a pickle"),
    ("npy_file", lambda: b"\x93NUMPY\x01\x00", "neither an .npz file nor a pickle"),
    ("truncated_pickle", lambda: pickle.dumps(sample_arrays(), protocol=4)[:1000], "not a valid pickle"),
    ("only_the_header", lambda: b"\x80\x04", "not a valid pickle"),
    ("garbage_after_header", lambda: b"\x80\x04\xff\xfe\xfd", "not a valid pickle"),
    ("list", lambda: pickle.dumps([np.ones(2), np.zeros(3)]), "pickled list, not a dict"),
    ("array", lambda: pickle.dumps(np.ones(2)), "pickled ndarray, not a dict"),
    ("non_array_value", lambda: pickle.dumps({"W1": np.ones((2, 2)), "b1": [0.0, 0.0]}), "'b1' is a list"),
    ("scalar_value", lambda: pickle.dumps({"W1": np.ones((2, 2)), "b1": np.float64(0.0)}), "'b1' is a float64"),
    ("string_array", lambda: pickle.dumps({"W1": np.ones((2, 2)), "b1": np.array(["a"])}), "'b1' is a <U1 array"),
    ("object_array", lambda: pickle.dumps({"W1": np.array([1, "a"], dtype=object)}), "'W1' is a object array"),
    ("non_string_key", lambda: pickle.dumps({1: np.ones(2)}), "parameter named 1"),
    ("corrupt_zip", lambda: b"PK\x03\x04 not really a zip", "not a valid .npz parameter file"),
]


class TestBadFiles(unittest.TestCase):

    @parameterized.expand(BAD_FILES)
    def test_one_line_error_naming_the_file(self, _, content, words):
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "weights.pkl")
            with open(path, "wb") as f:
                f.write(content())
            calls = [loader for _, loader in LOADERS] + [scratch.serialization.is_book_file,
                                                         lambda p: scratch.SimpleConvNet().load_params(p),
                                                         lambda p: reference.SimpleConvNet().load_params(p),
                                                         lambda p: scratch.DeepConvNet().load_params(p),
                                                         lambda p: scratch.ThreeLayerNet(p)]
            for call in calls:
                with self.assertRaises(ValueError) as info:
                    call(path)
                message = str(info.exception)
                assert "\n" not in message, f"not one line: {message!r}"
                assert path in message, f"{path} not named in {message!r}"
                assert words in message, f"{words!r} not in {message!r}"

    def test_safe_pickle_errors_name_the_file(self):
        """safe_pickle itself: a pickle.UnpicklingError naming the file (an EOFError becomes one too)."""
        with tempfile.TemporaryDirectory() as folder:
            for content in (b"", b"\x80\x04", pickle.dumps(sample_arrays())[:-30]):
                path = os.path.join(folder, "bad.pkl")
                with open(path, "wb") as f:
                    f.write(content)
                with self.assertRaises(pickle.UnpicklingError) as info:
                    safe_pickle.load(path)
                assert path in str(info.exception) and "\n" not in str(info.exception), str(info.exception)

    def test_save_params_still_writes_npz(self):
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "params.pkl")  # the suffix does not matter: the content is a zip
            scratch.serialization.save_params(path, {"W1": np.ones((2, 3))})
            with open(path, "rb") as f:
                assert f.read(2) == b"PK"
            assert not scratch.serialization.is_book_file(path)
            np.testing.assert_array_equal(scratch.serialization.load_params(path)["W1"], np.ones((2, 3)))


if __name__ == "__main__":
    unittest.main()
