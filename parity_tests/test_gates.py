"""Parity of the perceptron gates (chapter 2): truth tables in both backends, for scalars and arrays."""
import numpy as np
import pytest
import torch
from parameterized import parameterized

import reference.gates as R
import scratch.gates as S
from conftest import assert_exact, assert_same_error, to_numpy

pytestmark = pytest.mark.filterwarnings("error")

INPUTS = [(0, 0), (1, 0), (0, 1), (1, 1)]
TRUTH_TABLES = {  # outputs for INPUTS, 2.3 and 2.5
    "AND": [0, 0, 0, 1],
    "NAND": [1, 1, 1, 0],
    "OR": [0, 1, 1, 1],
    "XOR": [0, 1, 1, 0],
}
INPUT_DTYPES = [("int64", np.int64), ("float64", np.float64), ("float32", np.float32), ("bool", np.bool_)]


class TestGates:
    @parameterized.expand([(gate, gate) for gate in TRUTH_TABLES])
    def test_truth_table_scalars(self, _, gate):
        for (x1, x2), expected in zip(INPUTS, TRUTH_TABLES[gate]):
            ours, theirs = getattr(S, gate)(x1, x2), getattr(R, gate)(x1, x2)
            assert isinstance(theirs, torch.Tensor)
            assert int(ours) == expected, f"scratch {gate}({x1}, {x2}) = {ours}"
            assert int(theirs) == expected, f"reference {gate}({x1}, {x2}) = {theirs}"
            assert np.ndim(ours) == theirs.ndim == 0
            assert_exact(np.asarray(ours), theirs, what=gate)

    @parameterized.expand([(f"{gate}_{dt_name}", gate, dt) for gate in TRUTH_TABLES for dt_name, dt in INPUT_DTYPES])
    def test_truth_table_arrays(self, _, gate, dtype):
        """All four input pairs at once, as a vector and as a 2x2 grid; NumPy arrays and tensors."""
        x1 = np.array([a for a, _ in INPUTS]).astype(dtype)
        x2 = np.array([b for _, b in INPUTS]).astype(dtype)
        expected = np.array(TRUTH_TABLES[gate], dtype=np.int64)
        for shape in ((4,), (2, 2)):
            a, b = x1.reshape(shape), x2.reshape(shape)
            ours = getattr(S, gate)(a, b)
            theirs = to_numpy(getattr(R, gate)(a, b))
            from_tensors = to_numpy(getattr(R, gate)(torch.from_numpy(a), torch.from_numpy(b)))
            for result in (ours, theirs, from_tensors):
                assert result.dtype == np.int64
                np.testing.assert_array_equal(result, expected.reshape(shape))

    def test_xor_of_lists(self):
        """2.5.2: plain Python lists work like arrays."""
        np.testing.assert_array_equal(S.XOR([0, 1, 0, 1], [0, 0, 1, 1]), [0, 1, 1, 0])
        np.testing.assert_array_equal(to_numpy(R.XOR([0, 1, 0, 1], [0, 0, 1, 1])), [0, 1, 1, 0])

    def test_shape_mismatch(self):
        assert_same_error(lambda: S.AND(np.zeros(3), np.zeros(4)), lambda: R.AND(np.zeros(3), np.zeros(4)),
                          ValueError, match="shape")
