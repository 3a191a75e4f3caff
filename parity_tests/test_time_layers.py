"""Parity of the layers over time (8.4): scratch.time_layers vs reference.time_layers, and both vs
PyTorch's own modules (``nn.Embedding``, ``nn.Linear``, ``F.cross_entropy(ignore_index=...)``,
``torch.nn.utils.clip_grad_norm_``): forward outputs and every gradient, float64 and float32,
T = 1, batch 1, padding positions, repeated words, clipping below and above the max norm.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from parameterized import parameterized

import reference.time_layers as R
import scratch.layers as SL
import scratch.time_layers as S
from conftest import DTYPES, assert_close, assert_same_error, make_rng, to_numpy

pytestmark = [pytest.mark.filterwarnings("error"), pytest.mark.usefixtures("one_torch_thread")]


def with_dtypes(cases):
    """Each (name, *args) case once per dtype: (name_dtype, *args, dtype)."""
    return [(f"{case[0]}_{dt_name}", *case[1:], dt) for case in cases for dt_name, dt in DTYPES]


# --- Embedding and TimeEmbedding

EMBEDDING_CASES = with_dtypes([
    ("scalar", ()), ("vector", (7,)), ("batch1_T1", (1, 1)), ("batch1", (1, 6)), ("T1", (5, 1)),
    ("sequences", (4, 6)), ("three_axes", (2, 3, 4)),
])


def embedding_setup(idx_shape, dtype, V=6, D=3, seed=0):
    rng = make_rng(seed)
    W = rng.standard_normal((V, D)).astype(dtype)
    idx = rng.integers(0, V, idx_shape)
    if idx.size > 2:
        idx.reshape(-1)[:3] = 2  # word 2 three times at least: its gradients must add up
    dout = rng.standard_normal(idx_shape + (D,)).astype(dtype)
    return W, idx, dout


def torch_embedding(W, idx, dout):
    """nn.Embedding with W as its weight: the output and weight.grad for dout."""
    module = torch.nn.Embedding(*W.shape, dtype=torch.from_numpy(W).dtype)
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(W))
    out = module(torch.from_numpy(np.asarray(idx)))
    out.backward(torch.from_numpy(dout))
    return out, module.weight.grad


class TestEmbedding:
    @parameterized.expand(EMBEDDING_CASES)
    def test_forward_backward(self, _, idx_shape, dtype):
        W, idx, dout = embedding_setup(idx_shape, dtype)
        keep = (W.copy(), idx.copy(), dout.copy())
        ours, theirs = S.Embedding(W), R.Embedding(W)
        module_out, module_dW = torch_embedding(W, idx, dout)
        out = ours.forward(idx)
        assert out.shape == idx.shape + (W.shape[1],)
        assert_close(out, theirs.forward(idx), dtype, what="out")
        assert_close(out, module_out, dtype, what="out vs nn.Embedding")
        for _ in range(2):  # a second backward gives the same: dW is not accumulated across calls
            assert ours.backward(dout) is None and theirs.backward(dout) is None
            assert_close(ours.dW, theirs.dW, dtype, what="dW")
            assert_close(ours.dW, module_dW, dtype, what="dW vs nn.Embedding")
        for value, kept in zip((W, idx, dout), keep):
            np.testing.assert_array_equal(value, kept)

    @parameterized.expand(DTYPES)
    def test_repeated_indices_accumulate(self, _, dtype):
        """dW[w] is the sum of dout over every occurrence of word w (np.add.at); the assignment
        dW[idx] = dout would keep one occurrence only, giving 1 instead of 3 for word 2."""
        W = np.zeros((4, 2), dtype=dtype)
        idx = np.array([2, 0, 2, 2])
        dout = np.ones((4, 2), dtype=dtype)
        expected = np.array([[1, 1], [0, 0], [3, 3], [0, 0]], dtype=dtype)
        for backend in (S, R):
            layer = backend.Embedding(W)
            layer.forward(idx)
            layer.backward(dout)
            assert_close(layer.dW, expected, dtype, what="dW")

    def test_uint_and_int32_indices(self):
        W, idx, dout = embedding_setup((3, 4), np.float64)
        for kind in (np.uint8, np.int32):
            ours, theirs = S.Embedding(W), R.Embedding(W)
            assert_close(ours.forward(idx.astype(kind)), theirs.forward(idx.astype(kind)), np.float64)
            ours.backward(dout), theirs.backward(dout)
            assert_close(ours.dW, theirs.dW, np.float64, what="dW")


TIME_EMBEDDING_CASES = with_dtypes([("batch1_T1", (1, 1)), ("batch1", (1, 7)), ("T1", (6, 1)),
                                    ("sequences", (5, 7))])


class TestTimeEmbedding:
    @parameterized.expand(TIME_EMBEDDING_CASES)
    def test_forward_backward(self, _, idx_shape, dtype):
        W, idx, dout = embedding_setup(idx_shape, dtype, V=9, D=4, seed=1)
        ours, theirs = S.TimeEmbedding(W), R.TimeEmbedding(W)
        module_out, module_dW = torch_embedding(W, idx, dout)
        out = ours.forward(idx)
        assert out.shape == idx_shape + (4,)
        assert_close(out, theirs.forward(idx), dtype, what="out")
        assert_close(out, module_out, dtype, what="out vs nn.Embedding")
        ours.backward(dout), theirs.backward(dout)
        assert_close(ours.dW, theirs.dW, dtype, what="dW")
        assert_close(ours.dW, module_dW, dtype, what="dW vs nn.Embedding")

    @parameterized.expand(DTYPES)
    def test_same_as_the_sequels_loop(self, _, dtype):
        """DLFS2's TimeEmbedding: one Embedding per step t, dW summed over the steps."""
        W, idx, dout = embedding_setup((3, 5), dtype, V=4, D=2, seed=2)
        layer = S.TimeEmbedding(W)
        out = layer.forward(idx)
        layer.backward(dout)
        dW = np.zeros_like(W)
        for t in range(idx.shape[1]):
            step = S.Embedding(W)
            assert_close(step.forward(idx[:, t]), out[:, t], dtype, what="out")
            step.backward(dout[:, t])
            dW += step.dW
        assert_close(layer.dW, dW, dtype, what="dW")


# --- TimeAffine

TIME_AFFINE_CASES = with_dtypes([("batch1_T1", (1, 1, 5), 3), ("batch1", (1, 6, 5), 3), ("T1", (4, 1, 5), 3),
                                 ("sequences", (4, 6, 5), 7), ("one_output", (4, 6, 5), 1)])


def time_affine_setup(x_shape, out_features, dtype):
    rng = make_rng(3)
    W = rng.standard_normal((out_features, x_shape[2])).astype(dtype)
    b = rng.standard_normal(out_features).astype(dtype)
    x = rng.standard_normal(x_shape).astype(dtype)
    dout = rng.standard_normal(x_shape[:2] + (out_features,)).astype(dtype)
    return W, b, x, dout


class TestTimeAffine:
    @parameterized.expand(TIME_AFFINE_CASES)
    def test_forward_backward(self, _, x_shape, out_features, dtype):
        W, b, x, dout = time_affine_setup(x_shape, out_features, dtype)
        keep = [a.copy() for a in (W, b, x, dout)]
        ours, theirs = S.TimeAffine(W, b), R.TimeAffine(W, b)
        linear = torch.nn.Linear(x_shape[2], out_features, dtype=torch.from_numpy(W).dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W)), linear.bias.copy_(torch.from_numpy(b))
        tx = torch.from_numpy(x).requires_grad_(True)
        module_out = linear(tx)
        module_out.backward(torch.from_numpy(dout))
        out = ours.forward(x)
        assert_close(out, theirs.forward(x), dtype, what="out")
        assert_close(out, module_out, dtype, what="out vs nn.Linear")
        for _ in range(2):
            dx = ours.backward(dout)
            assert dx.shape == x.shape
            assert_close(dx, theirs.backward(dout), dtype, what="dx")
            assert_close(ours.dW, theirs.dW, dtype, what="dW")
            assert_close(ours.db, theirs.db, dtype, what="db")
        assert_close(dx, tx.grad, dtype, what="dx vs nn.Linear")
        assert_close(ours.dW, linear.weight.grad, dtype, what="dW vs nn.Linear")
        assert_close(ours.db, linear.bias.grad, dtype, what="db vs nn.Linear")
        for value, kept in zip((W, b, x, dout), keep):
            np.testing.assert_array_equal(value, kept)

    @parameterized.expand(DTYPES)
    def test_same_as_affine_on_every_step(self, _, dtype):
        """Step t of TimeAffine is scratch.layers.Affine on x[:, t]; dW and db sum over the steps."""
        W, b, x, dout = time_affine_setup((3, 4, 5), 2, dtype)
        layer = S.TimeAffine(W, b)
        out = layer.forward(x)
        dx = layer.backward(dout)
        dW, db = np.zeros_like(W), np.zeros_like(b)
        for t in range(x.shape[1]):
            step = SL.Affine(W, b)
            assert_close(step.forward(x[:, t]), out[:, t], dtype, what="out")
            assert_close(step.backward(dout[:, t]), dx[:, t], dtype, what="dx")
            dW, db = dW + step.dW, db + step.db
        assert_close(layer.dW, dW, dtype, what="dW")
        assert_close(layer.db, db, dtype, what="db")


# --- TimeSoftmaxWithLoss

PAD = -100

LOSS_CASES = with_dtypes([
    # name, (N, T, V), padding, ignore_index, dout, logits
    ("no_padding", (4, 6, 10), "none", PAD, 1, "random"),
    ("padded_ends", (4, 6, 10), "ends", PAD, 1, "random"),
    ("padded_ends_dout2p5", (4, 6, 10), "ends", PAD, 2.5, "random"),
    ("batch1_T1", (1, 1, 10), "none", PAD, 1, "random"),
    ("batch1_padded", (1, 7, 10), "ends", PAD, 1, "random"),
    ("T1_padded", (5, 1, 10), "some", PAD, 1, "random"),
    ("pad_label_0", (4, 6, 10), "ends", 0, 1, "random"),
    ("extreme_padded", (4, 6, 10), "ends", PAD, 1, "extreme"),
])


def loss_setup(shape, padding, ignore_index, dtype, kind="random"):
    N, T, V = shape
    rng = make_rng(4)
    xs = rng.standard_normal(shape) * 3
    if kind == "extreme":
        xs[..., 0], xs[..., 1] = 1e4, -1e4
    ts = rng.integers(1 if ignore_index == 0 else 0, V, (N, T))
    if kind == "extreme":
        ts[:, ::2] = 1  # the true word at -1e4: a loss of about 2e4, finite
    if padding == "ends":  # sequence n keeps its first T - 1 - n words (at least one), the rest is padding
        for n in range(N):
            ts[n, max(T - 1 - n, 1):] = ignore_index
    elif padding == "some":
        ts[1::2] = ignore_index
    return xs.astype(dtype), ts


def cross_entropy(xs, ts, ignore_index, dout):
    """F.cross_entropy on the flattened positions, the loss and dxs from autograd."""
    x = torch.from_numpy(xs).requires_grad_(True)
    loss = F.cross_entropy(x.reshape(-1, xs.shape[2]), torch.from_numpy(ts).reshape(-1), ignore_index=ignore_index)
    loss.backward(torch.tensor(dout, dtype=x.dtype))
    return loss, x.grad


class TestTimeSoftmaxWithLoss:
    @parameterized.expand(LOSS_CASES)
    def test_forward_backward(self, _, shape, padding, ignore_index, dout, kind, dtype):
        xs, ts = loss_setup(shape, padding, ignore_index, dtype, kind)
        keep = (xs.copy(), ts.copy())
        ours, theirs = S.TimeSoftmaxWithLoss(ignore_index), R.TimeSoftmaxWithLoss(ignore_index)
        torch_loss, torch_dxs = cross_entropy(xs, ts, ignore_index, dout)
        loss = ours.forward(xs, ts)
        assert np.isfinite(loss)
        assert_close(loss, theirs.forward(xs, ts), dtype, what="loss")
        assert_close(loss, torch_loss, dtype, what="loss vs F.cross_entropy")
        assert_close(ours.y, theirs.y, dtype, what="softmax y")
        dout = np.asarray(dout, dtype=dtype)
        for _ in range(2):
            dxs = ours.backward(dout)
            assert_close(dxs, theirs.backward(dout), dtype, what="dxs")
        assert_close(dxs, torch_dxs, dtype, what="dxs vs F.cross_entropy")
        ignored = ts == ignore_index
        assert np.all(dxs[ignored] == 0), "ignored positions get no gradient"
        if padding != "none":
            assert ignored.any()
        for value, kept in zip((xs, ts), keep):
            np.testing.assert_array_equal(value, kept)

    @parameterized.expand(DTYPES)
    def test_padding_does_not_dilute_the_mean(self, _, dtype):
        """The loss is the mean over the real words only: SoftmaxWithLoss on just those rows."""
        xs, ts = loss_setup((4, 6, 10), "ends", PAD, dtype)
        keep = ts != PAD
        plain = SL.SoftmaxWithLoss()
        expected = plain.forward(xs[keep], ts[keep])
        for backend in (S, R):
            layer = backend.TimeSoftmaxWithLoss()
            assert_close(layer.forward(xs, ts), expected, dtype, what="loss")
            dxs = to_numpy(layer.backward())
            assert_close(dxs[keep], plain.backward(), dtype, what="dxs")

    @parameterized.expand(DTYPES)
    def test_every_position_ignored(self, _, dtype):
        """As F.cross_entropy's mean over no positions: the loss is NaN (0/0), the gradient all zeros."""
        xs, _ = loss_setup((2, 3, 5), "none", PAD, dtype)
        ts = np.full((2, 3), PAD)
        torch_loss, torch_dxs = cross_entropy(xs, ts, PAD, 1.0)
        assert torch.isnan(torch_loss)
        for backend in (S, R):
            layer = backend.TimeSoftmaxWithLoss()
            loss = to_numpy(layer.forward(xs, ts))
            assert loss.dtype == dtype and np.isnan(loss)
            dxs = to_numpy(layer.backward())
            assert dxs.dtype == dtype
            np.testing.assert_array_equal(dxs, to_numpy(torch_dxs))
            np.testing.assert_array_equal(dxs, 0)

    @parameterized.expand(DTYPES)
    def test_default_dout(self, _, dtype):
        xs, ts = loss_setup((3, 4, 6), "ends", PAD, dtype)
        ours, theirs = S.TimeSoftmaxWithLoss(), R.TimeSoftmaxWithLoss()
        ours.forward(xs, ts), theirs.forward(xs, ts)
        assert_close(ours.backward(), theirs.backward(), dtype, what="dxs")


# --- clip_grads

def gradients(dtype, scale, seed=5):
    rng = make_rng(seed)
    shapes = {"W_emb": (7, 3), "Wx": (8, 3), "Wh": (8, 2), "b": (8,), "W_out": (7, 2)}
    return {name: (rng.standard_normal(shape) * scale).astype(dtype) for name, shape in shapes.items()}


def global_norm(grads):
    return np.sqrt(sum(np.sum(g.astype(np.float64) ** 2) for g in grads.values() if g is not None))


CLIP_CASES = with_dtypes([("below", 0.1, 5.0), ("above", 3.0, 5.0), ("far_above", 1e3, 0.5),
                          ("zero_max_norm", 1.0, 0.0)])


class TestClipGrads:
    @parameterized.expand(CLIP_CASES)
    def test_clip(self, name, scale, max_norm, dtype):
        grads = gradients(dtype, scale)
        norm_before = global_norm(grads)
        assert (norm_before < max_norm) == name.startswith("below"), "the case clips as its name says"
        original = {k: g.copy() for k, g in grads.items()}
        arrays = dict(grads)
        theirs = {k: g.copy() for k, g in grads.items()}
        stand_ins = []
        for g in original.values():  # torch itself, on parameters with .grad set
            p = torch.zeros(g.shape, dtype=torch.from_numpy(g).dtype, requires_grad=True)
            p.grad = torch.from_numpy(g.copy())
            stand_ins.append(p)
        torch_norm = torch.nn.utils.clip_grad_norm_(stand_ins, max_norm)
        total = S.clip_grads(grads, max_norm)
        assert_close(total, R.clip_grads(theirs, max_norm), dtype, what="total norm")
        assert_close(total, torch_norm, dtype, what="total norm vs clip_grad_norm_")
        assert_close(total, np.asarray(norm_before, dtype=dtype), dtype, what="total norm vs definition")
        for (key, g), p in zip(grads.items(), stand_ins):
            assert g is arrays[key], "modified in place, not replaced"
            assert_close(g, theirs[key], dtype, what="clipped gradient")
            assert_close(g, p.grad, dtype, what="clipped gradient vs clip_grad_norm_")
        if norm_before < max_norm:
            for key, g in grads.items():
                np.testing.assert_array_equal(g, original[key])  # times 1: exactly unchanged
        else:
            expected = min(max_norm, norm_before)
            assert abs(global_norm(grads) - expected) <= 1e-4 * max(expected, 1e-6) + 1e-6

    @parameterized.expand(DTYPES)
    def test_tensors_and_missing_gradients(self, _, dtype):
        """The reference version takes tensors (its layers' gradients) too; a None gradient is skipped
        like a parameter without .grad."""
        grads = gradients(dtype, 3.0)
        grads["unused"] = None
        tensors = {k: None if g is None else torch.from_numpy(g.copy()) for k, g in grads.items()}
        total = S.clip_grads(grads, 1.0)
        assert_close(total, R.clip_grads(tensors, 1.0), dtype, what="total norm")
        assert grads["unused"] is None and tensors["unused"] is None
        for key, g in grads.items():
            if g is not None:
                assert_close(g, tensors[key], dtype, what="clipped gradient")

    def test_non_finite_gradient(self):
        """An infinite gradient makes the norm inf and the rate 0, as in PyTorch: inf * 0 = NaN there, 0 elsewhere."""
        grads = {"a": np.array([1.0, np.inf]), "b": np.array([2.0])}
        theirs = {k: g.copy() for k, g in grads.items()}
        total, torch_total = S.clip_grads(grads, 1.0), R.clip_grads(theirs, 1.0)
        assert np.isinf(total) and torch.isinf(torch_total)
        for key in grads:
            np.testing.assert_array_equal(grads[key], theirs[key])
        np.testing.assert_array_equal(grads["b"], [0.0])

    def test_no_gradients(self):
        """clip_grad_norm_ of nothing returns float32 0.0."""
        total, torch_total = S.clip_grads({}, 1.0), R.clip_grads({}, 1.0)
        assert to_numpy(total).dtype == to_numpy(torch_total).dtype == np.float32
        assert float(total) == float(torch_total) == 0.0


# --- bad input: one-line errors, the same in both backends

def _W():
    return make_rng(6).standard_normal((5, 3))


def _affine():
    W, b, x, dout = time_affine_setup((2, 3, 4), 2, np.float64)
    return W, b, x


def _scores():
    return make_rng(7).standard_normal((2, 3, 5))


BAD_EMBEDDING = [
    ("index_too_large", "Embedding", lambda: np.array([0, 5]), ValueError, "[0, 5)"),
    ("negative_index", "Embedding", lambda: np.array([[-1, 2]]), ValueError, "[0, 5)"),
    ("float_indices", "Embedding", lambda: np.array([0.0, 1.0]), TypeError, "integer"),
    ("bool_indices", "Embedding", lambda: np.array([True, False, True, False, True]), TypeError, "integer"),
    ("time_1d_indices", "TimeEmbedding", lambda: np.array([0, 1]), ValueError, "(n, t)"),
    ("time_3d_indices", "TimeEmbedding", lambda: np.zeros((1, 2, 3), dtype=int), ValueError, "(n, t)"),
]

BAD_AFFINE_INPUT = [
    ("wrong_features", lambda x: x[:, :, :3], ValueError, "features"),
    ("two_axes", lambda x: x[0], ValueError, "(n, t, features)"),
    ("empty_T", lambda x: x[:, :0], ValueError, "t = 0"),
    ("empty_batch", lambda x: x[:0], ValueError, "empty batch"),
    ("other_dtype", lambda x: x.astype(np.float32), TypeError, "dtype"),
]

BAD_LOSS_INPUT = [
    ("label_too_large", lambda xs: (xs, np.array([[0, 1, 5], [0, 1, 2]])), ValueError, "[0, 5)"),
    ("negative_label", lambda xs: (xs, np.array([[0, 1, -1], [0, 1, 2]])), ValueError, "ignore_index"),
    ("labels_T_mismatch", lambda xs: (xs, np.array([[0, 1], [0, 1]])), ValueError, "(n, t)"),
    ("labels_N_mismatch", lambda xs: (xs, np.array([[0, 1, 2]])), ValueError, "(n, t)"),
    ("flat_labels", lambda xs: (xs, np.array([0, 1, 2, 0, 1, 2])), ValueError, "(n, t)"),
    ("float_labels", lambda xs: (xs, np.array([[0.0, 1.0, 2.0], [0.0, 1.0, 2.0]])), TypeError, "integer"),
    ("scores_2d", lambda xs: (xs[0], np.array([0, 1, 2])), ValueError, "(n, t, features)"),
    ("integer_scores", lambda xs: (xs.astype(int), np.zeros((2, 3), dtype=int)), TypeError, "floating"),
]


class TestBadInput:
    @parameterized.expand(BAD_EMBEDDING)
    def test_embedding_indices(self, _, layer, make, error, match):
        W = _W()
        assert_same_error(lambda: getattr(S, layer)(W).forward(make()),
                          lambda: getattr(R, layer)(W).forward(make()), error, match=match)

    def test_embedding_weight(self):
        W = _W()
        assert_same_error(lambda: S.Embedding(W[0]), lambda: R.Embedding(W[0]), ValueError, match="(v, d)")
        assert_same_error(lambda: S.Embedding(W.astype(int)), lambda: R.Embedding(W.astype(int)), TypeError)

    def test_embedding_backward(self):
        W, idx = _W(), np.array([[0, 1, 1]])
        assert_same_error(lambda: S.Embedding(W).backward(np.ones((1, 3, 3))),
                          lambda: R.Embedding(W).backward(np.ones((1, 3, 3))), RuntimeError, match="before")
        ours, theirs = S.TimeEmbedding(W), R.TimeEmbedding(W)
        ours.forward(idx), theirs.forward(idx)
        assert_same_error(lambda: ours.backward(np.ones((1, 3, 2))), lambda: theirs.backward(np.ones((1, 3, 2))),
                          ValueError, match="shape")
        dout32 = np.ones((1, 3, 3), dtype=np.float32)
        assert_same_error(lambda: ours.backward(dout32), lambda: theirs.backward(dout32), TypeError, match="dtype")

    @parameterized.expand(BAD_AFFINE_INPUT)
    def test_time_affine_input(self, _, make, error, match):
        W, b, x = _affine()
        assert_same_error(lambda: S.TimeAffine(W, b).forward(make(x)), lambda: R.TimeAffine(W, b).forward(make(x)),
                          error, match=match)

    def test_time_affine_parameters(self):
        W, b, x = _affine()
        assert_same_error(lambda: S.TimeAffine(W, b[:1]), lambda: R.TimeAffine(W, b[:1]), ValueError, match="shape")
        assert_same_error(lambda: S.TimeAffine(W[0], b), lambda: R.TimeAffine(W[0], b), ValueError, match="shape")
        b32 = b.astype(np.float32)
        assert_same_error(lambda: S.TimeAffine(W, b32), lambda: R.TimeAffine(W, b32), TypeError, match="float32")
        ours, theirs = S.TimeAffine(W, b), R.TimeAffine(W, b)
        ours.forward(x), theirs.forward(x)
        assert_same_error(lambda: ours.backward(np.ones((2, 3, 3))), lambda: theirs.backward(np.ones((2, 3, 3))),
                          ValueError, match="shape")

    @parameterized.expand(BAD_LOSS_INPUT)
    def test_loss_input(self, _, make, error, match):
        xs, ts = make(_scores())
        assert_same_error(lambda: S.TimeSoftmaxWithLoss().forward(xs, ts),
                          lambda: R.TimeSoftmaxWithLoss().forward(xs, ts), error, match=match)

    def test_loss_ignore_index_and_backward(self):
        assert_same_error(lambda: S.TimeSoftmaxWithLoss(ignore_index=0.5),
                          lambda: R.TimeSoftmaxWithLoss(ignore_index=0.5), TypeError, match="ignore_index")
        assert_same_error(lambda: S.TimeSoftmaxWithLoss().backward(), lambda: R.TimeSoftmaxWithLoss().backward(),
                          RuntimeError, match="before")
        xs, ts = _scores(), np.array([[0, 1, 2], [3, 4, PAD]])
        ours, theirs = S.TimeSoftmaxWithLoss(), R.TimeSoftmaxWithLoss()
        ours.forward(xs, ts), theirs.forward(xs, ts)
        assert_same_error(lambda: ours.backward(np.ones(2)), lambda: theirs.backward(np.ones(2)),
                          ValueError, match="shape")

    def test_clip_arguments(self):
        def grads():
            return gradients(np.float64, 1.0)
        assert_same_error(lambda: S.clip_grads(grads(), -1.0), lambda: R.clip_grads(grads(), -1.0),
                          ValueError, match="max_norm")
        assert_same_error(lambda: S.clip_grads(grads(), float("nan")), lambda: R.clip_grads(grads(), float("nan")),
                          ValueError, match="max_norm")
        mixed = {"a": np.ones(2), "b": np.ones(2, dtype=np.float32)}
        assert_same_error(lambda: S.clip_grads(dict(mixed), 1.0), lambda: R.clip_grads(dict(mixed), 1.0),
                          TypeError, match="dtypes")
        assert_same_error(lambda: S.clip_grads([np.ones(2)], 1.0), lambda: R.clip_grads([np.ones(2)], 1.0),
                          TypeError, match="dict")
        ints = {"a": np.ones(2, dtype=int)}
        assert_same_error(lambda: S.clip_grads(ints, 1.0), lambda: R.clip_grads(ints, 1.0), TypeError,
                          match="floating")


# --- the layers chained, as a captioner's decoder output uses them

class TestChain:
    @parameterized.expand(DTYPES)
    def test_embedding_affine_loss_and_clipping(self, _, dtype):
        """TimeEmbedding -> TimeAffine -> TimeSoftmaxWithLoss (padded), backward, clip_grads: both backends
        and nn.Embedding -> nn.Linear -> F.cross_entropy -> clip_grad_norm_ give the same loss and gradients."""
        rng = make_rng(8)
        V, D, N, T = 11, 4, 3, 5
        W_emb = rng.standard_normal((V, D)).astype(dtype)
        W, b = rng.standard_normal((V, D)).astype(dtype), rng.standard_normal(V).astype(dtype)
        idx = rng.integers(0, V, (N, T))
        ts = rng.integers(0, V, (N, T))
        ts[1, 3:], ts[2, 1:] = PAD, PAD
        results = {}
        for backend in (S, R):
            embed, affine = backend.TimeEmbedding(W_emb), backend.TimeAffine(W, b)
            loss_layer = backend.TimeSoftmaxWithLoss()
            loss = loss_layer.forward(affine.forward(embed.forward(idx)), ts)
            embed.backward(affine.backward(loss_layer.backward()))
            grads = {"W_emb": embed.dW, "W": affine.dW, "b": affine.db}
            norm = backend.clip_grads(grads, 0.5)
            results[backend] = (loss, norm, grads)
        embedding = torch.nn.Embedding(V, D, dtype=torch.from_numpy(W_emb).dtype)
        linear = torch.nn.Linear(D, V, dtype=embedding.weight.dtype)
        with torch.no_grad():
            embedding.weight.copy_(torch.from_numpy(W_emb))
            linear.weight.copy_(torch.from_numpy(W)), linear.bias.copy_(torch.from_numpy(b))
        scores = linear(embedding(torch.from_numpy(idx)))
        loss = F.cross_entropy(scores.reshape(-1, V), torch.from_numpy(ts).reshape(-1))
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_([embedding.weight, linear.weight, linear.bias], 0.5)
        torch_grads = {"W_emb": embedding.weight.grad, "W": linear.weight.grad, "b": linear.bias.grad}
        assert float(norm) > 0.5, "the gradients were clipped"
        for other in (results[R], (loss, norm, torch_grads)):
            assert_close(results[S][0], other[0], dtype, what="loss")
            assert_close(results[S][1], other[1], dtype, what="total norm")
            for key, g in results[S][2].items():
                assert_close(g, other[2][key], dtype, what=f"clipped {key}")
