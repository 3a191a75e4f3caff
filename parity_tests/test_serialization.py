"""Saving and loading parameters, and the chapter-3 network with the book's published weights.

The .npz format is shared by both backends (reference.serialization
re-exports scratch.serialization); the networks' ``save_params`` /
``load_params`` convert between arrays and tensors and must agree.
"""
import os
import pickle
import re
import tempfile

import numpy as np
import pytest
import torch
from parameterized import parameterized

import reference
import reference.serialization
import reference.three_layer_net
import reference.two_layer_net
import scratch.serialization
import scratch.three_layer_net
import scratch.two_layer_net
from conftest import DTYPES, assert_close, book_weight_file, make_rng, requires_book_weights, to_numpy
from mnist_support import requires_mnist, small_mnist

pytestmark = pytest.mark.filterwarnings("error")

BACKENDS = [("scratch", scratch), ("reference", reference)]
SIZES = dict(input_size=6, hidden_size=5, output_size=3)


def two_layer_net(module, dtype=np.float64, seed=0):
    return module.two_layer_net.TwoLayerNet(**SIZES, dtype=dtype, seed=seed)


class TestSaveLoad:
    @parameterized.expand([(f"{a}_to_{b}_{dt_name}", sa, sb, dt)
                           for a, sa in BACKENDS for b, sb in BACKENDS for dt_name, dt in DTYPES])
    def test_round_trip(self, _, saver, loader, dtype):
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "params.npz")
            source, target = two_layer_net(saver, dtype, seed=1), two_layer_net(loader, dtype, seed=2)
            source.save_params(path)
            assert os.listdir(directory) == ["params.npz"], "the atomic write left a temporary file behind"
            with np.load(path) as data:
                assert scratch.serialization.LAYOUT_KEY in data.files
            target.load_params(path)
            for name, value in source.params.items():
                loaded = to_numpy(target.params[name])
                assert loaded.dtype == dtype
                np.testing.assert_array_equal(loaded, to_numpy(value), err_msg=name)  # bit for bit
            x = make_rng().random((4, SIZES["input_size"])).astype(dtype)
            assert_close(source.predict(x), target.predict(x), dtype)
            if isinstance(target.params["W1"], torch.Tensor):
                assert all(p.requires_grad for p in target.params.values())

    def test_save_creates_directory_and_overwrites(self, tmp_path):
        path = tmp_path / "new" / "dir" / "params.npz"
        params = {"W1": np.ones((2, 3)), "b1": np.zeros(2)}
        scratch.serialization.save_params(path, params)
        scratch.serialization.save_params(path, {"W1": np.full((2, 3), 2.0), "b1": np.zeros(2)})
        assert sorted(os.listdir(path.parent)) == ["params.npz"]
        np.testing.assert_array_equal(scratch.serialization.load_params(path)["W1"], np.full((2, 3), 2.0))

    def test_failed_save_keeps_old_file_and_leaves_no_temporary(self, tmp_path, monkeypatch):
        path = tmp_path / "params.npz"
        scratch.serialization.save_params(path, {"W1": np.ones((2, 3))})

        def broken_savez(*args, **kwargs):
            raise OSError("disk full")

        monkeypatch.setattr(np, "savez", broken_savez)
        with pytest.raises(OSError, match="disk full"):
            scratch.serialization.save_params(path, {"W1": np.zeros((2, 3))})
        monkeypatch.undo()
        assert os.listdir(tmp_path) == ["params.npz"]
        np.testing.assert_array_equal(scratch.serialization.load_params(path)["W1"], np.ones((2, 3)))

    def test_book_layout_is_transposed(self, tmp_path):
        """A file without __layout__ is the book's: 2-D weights (in, out) become (out, in); the rest stays."""
        rng = make_rng()
        book = {"W1": rng.standard_normal((6, 5)), "b1": rng.standard_normal(5),
                "W2": rng.standard_normal((5, 3)), "b2": rng.standard_normal(3),
                "W_conv": rng.standard_normal((4, 1, 3, 3))}
        path = tmp_path / "book.npz"
        np.savez(path, **book)
        for module in (scratch.serialization, reference.serialization):
            loaded = module.load_params(path)
            assert set(loaded) == set(book)
            np.testing.assert_array_equal(loaded["W1"], book["W1"].T)
            np.testing.assert_array_equal(loaded["W2"], book["W2"].T)
            np.testing.assert_array_equal(loaded["b1"], book["b1"])
            np.testing.assert_array_equal(loaded["W_conv"], book["W_conv"])

    @parameterized.expand(DTYPES)
    def test_book_file_into_networks(self, _, dtype):
        """The book's TwoLayerNet computes x @ W1 with W1 (in, out): loading its file gives the same scores."""
        rng = make_rng()
        book = {"W1": rng.standard_normal((6, 5)), "b1": rng.standard_normal(5),
                "W2": rng.standard_normal((5, 3)), "b2": rng.standard_normal(3)}
        x = rng.random((4, 6)).astype(dtype)
        hidden = np.maximum(x.astype(np.float64) @ book["W1"] + book["b1"], 0)
        book_scores = (hidden @ book["W2"] + book["b2"]).astype(dtype)  # the book's predict
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "book.npz")
            np.savez(path, **book)
            ours = two_layer_net(scratch, dtype).load_params(path)
            theirs = two_layer_net(reference, dtype).load_params(path)
        assert_close(ours.predict(x), theirs.predict(x), dtype)
        assert_close(ours.predict(x), book_scores, dtype, rtol=100 * np.finfo(dtype).eps)

    def test_missing_file_names_the_path(self, tmp_path):
        path = str(tmp_path / "nowhere" / "params.npz")
        calls = [lambda: scratch.serialization.load_params(path),
                 lambda: reference.serialization.load_params(path),
                 lambda: two_layer_net(scratch).load_params(path),
                 lambda: two_layer_net(reference).load_params(path),
                 lambda: scratch.three_layer_net.ThreeLayerNet(path),
                 lambda: reference.three_layer_net.ThreeLayerNet(path)]
        for call in calls:
            with pytest.raises(FileNotFoundError) as info:
                call()
            assert path in str(info.value)

    def test_not_an_npz_file(self, tmp_path):
        path = tmp_path / "params.npz"
        path.write_text("not numpy")
        for module in (scratch, reference):
            with pytest.raises(ValueError) as info:
                two_layer_net(module).load_params(path)
            assert str(path) in str(info.value)

    @parameterized.expand([
        ("missing_key", lambda p: {k: v for k, v in p.items() if k != "b2"}, KeyError, "b2"),
        ("unexpected_key", lambda p: {**p, "W3": np.ones((2, 2))}, KeyError, "W3"),
        ("wrong_shape", lambda p: {**p, "b1": np.ones(4)}, ValueError, "b1"),
        ("wrong_shape_late", lambda p: {**p, "W2": np.ones((3, 4))}, ValueError, "W2"),
    ])
    def test_params_that_do_not_fit(self, _, edit, error, name):
        """Both backends refuse, name the parameter, and leave the network as it was (from a dict and from a file)."""
        good = {k: v + 1.0 for k, v in two_layer_net(scratch, seed=5).params.items()}
        bad = edit(good)
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "bad.npz")
            scratch.serialization.save_params(path, bad)
            for module in (scratch, reference):
                for source in (bad, path):
                    net = two_layer_net(module)
                    before = {k: to_numpy(v).copy() for k, v in net.params.items()}
                    with pytest.raises(error) as info:
                        net.load_params(source)
                    assert name in str(info.value)
                    for k, v in net.params.items():
                        np.testing.assert_array_equal(to_numpy(v), before[k],
                                                      err_msg=f"{module.__name__}: a failed load changed {k}")


class TestRefusedContents:
    """Whatever the reader (load_params, a network, ThreeLayerNet), a file's bad contents are refused by name."""

    @parameterized.expand([("nan", np.nan, "1 NaN and 0 infinite"), ("inf", np.inf, "0 NaN and 1 infinite"),
                           ("minus_inf", -np.inf, "0 NaN and 1 infinite")])
    def test_non_finite_weights(self, _, value, words):
        with tempfile.TemporaryDirectory() as directory:
            params = {k: np.asarray(v) for k, v in two_layer_net(scratch).params.items()}
            params["W2"][1, 2] = value
            npz, pkl = os.path.join(directory, "w.npz"), os.path.join(directory, "w.pkl")
            scratch.serialization.save_params(npz, params)
            with open(pkl, "wb") as f:
                pickle.dump(params, f, protocol=2)
            for path in (npz, pkl):
                for load in (scratch.serialization.load_params, two_layer_net(scratch).load_params,
                             two_layer_net(reference).load_params):
                    with pytest.raises(ValueError) as info:
                        load(path)
                    assert str(info.value) == (f"{path}: parameter 'W2' holds {words} values; weights like "
                                               f"these only compute NaN, so the file is refused")

    def test_non_finite_weights_of_the_chapter3_network(self, tmp_path):
        path = tmp_path / "sample_weight.npz"
        rng = make_rng()
        np.savez(path, **{f"W{k}": rng.standard_normal(shape) for k, shape in ((1, (784, 50)), (2, (50, 100)),
                                                                               (3, (100, 10)))},
                 **{f"b{k}": np.full(n, np.nan) for k, n in ((1, 50), (2, 100), (3, 10))})
        for network in (scratch.three_layer_net.ThreeLayerNet, reference.three_layer_net.ThreeLayerNet):
            with pytest.raises(ValueError, match=re.escape(f"{path}: parameter 'b1' holds 50 NaN and 0 infinite")):
                network(path)


class TestConfiguration:
    """save_params(..., config=) keeps the network's configuration beside the weights."""

    def test_round_trip(self, tmp_path):
        path = tmp_path / "w.npz"
        config = {"model": "two_layer", "hidden_size": 5, "activation": "sigmoid"}
        scratch.serialization.save_params(path, two_layer_net(scratch).params, config=config)
        assert scratch.serialization.load_config(path) == config
        assert sorted(scratch.serialization.load_params(path)) == ["W1", "W2", "b1", "b2"]
        two_layer_net(reference).load_params(path)  # the entry is not a parameter

    def test_files_without_one(self, tmp_path):
        ours, book = tmp_path / "ours.npz", tmp_path / "book.npz"
        scratch.serialization.save_params(ours, {"W1": np.ones((2, 3))})
        np.savez(book, W1=np.ones((3, 2)))
        assert scratch.serialization.load_config(ours) is None
        assert scratch.serialization.load_config(book) is None

    @parameterized.expand([("not_json", "{model: two_layer"), ("not_an_object", "[1, 2]")])
    def test_a_damaged_entry_is_named(self, _, text):
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "w.npz")
            np.savez(path, W1=np.ones((2, 3)), __layout__=np.array("out_in"), __config__=np.array(text))
            with pytest.raises(ValueError, match=f"^{re.escape(path)}: its __config__ entry is not a JSON object"):
                scratch.serialization.load_config(path)


BOOK_WEIGHTS = "ch03_sample_weight.npz"
NETWORKS = [("scratch", scratch.three_layer_net.ThreeLayerNet), ("reference", reference.three_layer_net.ThreeLayerNet)]


@requires_book_weights
class TestThreeLayerNetBookWeights:
    @parameterized.expand(DTYPES)
    def test_predictions_agree(self, _, dtype):
        """3.6.2: the book's 784-50-100-10 sigmoid network, same weights file, same scores in both backends."""
        path = book_weight_file(BOOK_WEIGHTS)
        ours = scratch.three_layer_net.ThreeLayerNet(path, dtype=dtype)
        theirs = reference.three_layer_net.ThreeLayerNet(path, dtype=dtype)
        assert ours.params["W1"].shape == (50, 784) and tuple(theirs.params["W1"].shape) == (50, 784)
        x = make_rng().random((64, 784)).astype(dtype)
        y_ours, y_theirs = ours.predict(x), theirs.predict(x)
        assert_close(y_ours, y_theirs, dtype)
        np.testing.assert_array_equal(np.argmax(y_ours, axis=1), np.argmax(to_numpy(y_theirs), axis=1))
        assert_close(y_ours.sum(axis=1), np.ones(64, dtype=dtype), dtype, rtol=10 * np.finfo(dtype).eps)

    def test_book_layout_matches_book_formula(self):
        """The file stores W1 as (784, 50): the network's x W1^T equals the book's x @ W1."""
        path = book_weight_file(BOOK_WEIGHTS)
        with np.load(path) as raw:
            W1, b1 = raw["W1"], raw["b1"]
        x = make_rng().random((3, 784)).astype(np.float32)
        ours = scratch.three_layer_net.ThreeLayerNet(path, dtype=np.float32)
        assert_close(x @ ours.params["W1"].T + ours.params["b1"], x @ W1 + b1, np.float32)

    @parameterized.expand(DTYPES)
    @requires_mnist
    def test_mnist_accuracy(self, _, dtype):
        """3.6.2: 'Accuracy: 0.9352' on the 10000 test images, in both backends."""
        path = book_weight_file(BOOK_WEIGHTS)
        _, (x_test, t_test) = small_mnist(n_train=1, n_test=10000, dtype=dtype)
        for name, network in NETWORKS:
            accuracy = network(path, dtype=dtype).accuracy(x_test, t_test, batch_size=100)
            assert accuracy == 0.9352, f"{name} {np.dtype(dtype).name}: accuracy {accuracy}"
