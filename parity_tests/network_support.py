"""Checks every chapter-8 network shares: saving, loading, its summary and its seeded initial weights."""
import tempfile

import numpy as np

from conftest import assert_close, to_numpy

__all__ = ["check_save_load_summary_and_seed"]


def check_save_load_summary_and_seed(numpy_cls, torch_cls, x):
    """Weights saved by the NumPy network load into both backends; the same scores and summary; a seed repeats."""
    a = numpy_cls(seed=1)
    with tempfile.TemporaryDirectory() as directory:
        path = f"{directory}/w.npz"
        a.save_params(path)
        for cls in (numpy_cls, torch_cls):
            b = cls(seed=2).load_params(path)
            for name in a.params:
                np.testing.assert_array_equal(a.params[name], to_numpy(b.params[name]))
    b = torch_cls(seed=2).load_params(a.params)
    assert_close(a.predict(x), b.predict(x), np.float32, what="scores after load")
    assert a.summary() == b.summary()
    assert f"{sum(p.size for p in a.params.values())} parameters" in a.summary()
    for cls in (numpy_cls, torch_cls):  # a seed gives the same initial weights every time
        first, second = cls(seed=5).params, cls(seed=5).params
        for name in first:
            np.testing.assert_array_equal(to_numpy(first[name]), to_numpy(second[name]))
