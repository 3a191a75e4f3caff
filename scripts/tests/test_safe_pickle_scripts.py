"""evaluate.py reads the book's pickles safely: a malicious one is refused on one line (its payload never runs),
and the book's own score what the book says. (The safe unpickler itself: parity_tests/test_safe_pickle.py,
whose payload builders these tests reuse.)"""
import os
import tempfile
import unittest

import numpy as np
from parameterized import parameterized

from conftest import book_code_file
from mnist_support import requires_mnist
from .script_support import assert_usage_error, run_script, succeeded
from test_safe_pickle import _Call, _os_system, global_name, malicious


class TestScripts(unittest.TestCase):

    def test_evaluate_refuses_a_malicious_pickle(self):
        with tempfile.TemporaryDirectory() as folder:
            function, args, ran = _os_system(folder)
            path = os.path.join(folder, "params.pkl")
            with open(path, "wb") as f:
                f.write(malicious({"W1": np.ones(2), "b1": _Call(function, args)}, 4))
            result = run_script("evaluate.py", "--model", "simple_convnet", "--weights", path)
            assert_usage_error(result, global_name(function))
            assert path in result.stderr and "nothing of the file was run" in result.stderr
            assert not ran(), "the payload ran"

    @parameterized.expand([
        ("three_layer", "ch03/sample_weight.pkl", "three_layer", 0.9352),
        ("simple_convnet", "ch07/params.pkl", "simple_convnet", 0.9600),
        ("deep_convnet", "ch08/deep_convnet_params.pkl", "deep_convnet", 0.9797),
    ])
    @requires_mnist
    def test_evaluate_scores_the_book_pickles_like_the_book(self, _, pkl, model, accuracy):
        stdout = succeeded(run_script("evaluate.py", "--model", model, "--weights", book_code_file(pkl),
                                      timeout=300))
        assert f"accuracy: {accuracy:.4f}" in stdout, stdout

    @parameterized.expand([
        ("ch07_as_two_layer", "ch07/params.pkl", "two_layer", "simple_convnet"),
        ("ch08_as_simple_convnet", "ch08/deep_convnet_params.pkl", "simple_convnet", "deep_convnet"),
        ("ch03_as_deep_convnet", "ch03/sample_weight.pkl", "deep_convnet", "three_layer"),
    ])
    def test_a_wrong_model_names_the_network_the_file_fits(self, _, pkl, wrong, right):
        result = run_script("evaluate.py", "--model", wrong, "--weights", book_code_file(pkl), "--no-download")
        assert_usage_error(result, "parameters do not fit this network: missing [")
        assert result.stderr.rstrip().endswith(f"(the file fits --model {right})"), result.stderr
