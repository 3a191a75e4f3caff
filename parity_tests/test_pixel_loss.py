"""PixelSoftmaxWithLoss (8.4, FCN's loss): the NumPy loss against ``F.cross_entropy`` on 4-D scores.

Loss, softmax and dx in float64 (~1e-10) and float32 (~1e-5), for ignored
pixels (PyTorch's -100, a custom 255, a real class index ignored), every
pixel of one class, one pixel, large logits, any dout; when every pixel is
ignored both give PyTorch's NaN loss and zero gradient. Without ignored
pixels it is the book's SoftmaxWithLoss over the pixels as rows.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from parameterized import parameterized

import reference.pixel_loss as R
import scratch.layers as SL
import scratch.pixel_loss as S
from conftest import DTYPES, assert_close, make_rng, to_numpy

pytestmark = [pytest.mark.filterwarnings("error"), pytest.mark.usefixtures("one_torch_thread")]

# name, (N, C, H, W), labels, ignore_index, dout, logits
SETUPS = [
    ("plain", (2, 3, 4, 5), "random", -100, 1.0, "random"),
    ("ignored_default", (2, 3, 4, 5), "some_ignored", -100, 1.0, "random"),
    ("ignored_255", (3, 11, 6, 6), "some_ignored", 255, 1.0, "random"),
    ("ignored_class_0", (2, 4, 5, 3), "random", 0, 1.0, "random"),  # a real class index, ignored
    ("all_one_class", (2, 5, 4, 4), "one_class", -100, 1.0, "random"),
    ("all_one_class_some_ignored", (2, 5, 4, 4), "one_class_some_ignored", -100, 1.0, "random"),
    ("one_ignored_pixel_left", (2, 3, 3, 3), "one_left", -100, 1.0, "random"),
    ("one_pixel", (1, 4, 1, 1), "random", -100, 1.0, "random"),
    ("two_classes", (4, 2, 7, 3), "some_ignored", -100, 1.0, "random"),
    ("dout_scaled", (2, 3, 4, 5), "some_ignored", -100, 2.5, "random"),
    ("dout_zero", (2, 3, 4, 5), "random", -100, 0.0, "random"),
    ("large_logits", (2, 6, 4, 4), "some_ignored", -100, 1.0, "large"),
    ("equal_logits", (2, 6, 4, 4), "random", -100, 1.0, "equal"),
]
CASES = [(f"{name}_{dt_name}", *setup, dt) for name, *setup in SETUPS for dt_name, dt in DTYPES]


def make_case(shape, labels, ignore_index, kind, dtype, seed=0):
    rng = make_rng(seed)
    N, C, H, W = shape
    if kind == "random":
        x = rng.standard_normal(shape)
    elif kind == "large":  # exp would overflow without the shift by the maximum
        x = rng.standard_normal(shape) * 300
    else:
        x = np.zeros(shape)
    t = rng.integers(0, C, (N, H, W))
    if labels.startswith("one_class"):
        t[:] = C - 1
    if labels in ("some_ignored", "one_class_some_ignored"):
        t[rng.random((N, H, W)) < 0.3] = ignore_index
    if labels == "one_left":
        t[:] = ignore_index
        t[1, 2, 0] = 1
    return x.astype(dtype), t


def torch_cross_entropy(x, t, ignore_index, dout):
    """The loss and dx straight from F.cross_entropy on the 4-D scores."""
    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    loss = F.cross_entropy(xt, torch.from_numpy(t), ignore_index=ignore_index)
    loss.backward(torch.as_tensor(dout, dtype=loss.dtype))
    return loss.detach(), xt.grad


class TestPixelSoftmaxWithLoss:
    @parameterized.expand(CASES)
    def test_forward_backward(self, _, shape, labels, ignore_index, dout, kind, dtype):
        x, t = make_case(shape, labels, ignore_index, kind, dtype)
        dout = np.asarray(dout, dtype=dtype)
        keep = (x.copy(), t.copy())
        ours, theirs = S.PixelSoftmaxWithLoss(ignore_index), R.PixelSoftmaxWithLoss(ignore_index)
        loss, ref_loss = ours.forward(x, t), theirs.forward(x, t)
        torch_loss, torch_dx = torch_cross_entropy(x, t, ignore_index, dout)
        assert np.isfinite(loss)
        assert_close(loss, ref_loss, dtype, what="loss")
        assert_close(loss, torch_loss, dtype, what="loss vs F.cross_entropy")
        assert_close(ours.y, theirs.y, dtype, what="softmax y")
        for _ in range(2):  # backward twice: the same
            dx = ours.backward(dout)
            assert_close(dx, theirs.backward(dout), dtype, what="dx")
        assert_close(dx, torch_dx, dtype, what="dx vs F.cross_entropy")
        ignored = t == ignore_index
        assert np.all(dx.transpose(0, 2, 3, 1)[ignored] == 0), "ignored pixels get no gradient"
        if labels.endswith("ignored"):
            assert ignored.any() and not ignored.all()
        if kind == "equal":
            assert_close(loss, np.asarray(np.log(shape[1]), dtype=dtype), dtype, what="log C")
        for value, kept in zip((x, t), keep):
            np.testing.assert_array_equal(value, kept)

    @parameterized.expand(DTYPES)
    def test_is_softmax_with_loss_over_the_pixels(self, _, dtype):
        """Nothing ignored: the book's SoftmaxWithLoss on the pixels as rows (N*H*W, C)."""
        x, t = make_case((3, 4, 5, 2), "random", -100, "random", dtype, seed=1)
        rows = x.transpose(0, 2, 3, 1).reshape(-1, 4)
        book = SL.SoftmaxWithLoss()
        ours = S.PixelSoftmaxWithLoss()
        assert_close(ours.forward(x, t), book.forward(rows, t.reshape(-1)), dtype, what="loss")
        dx_rows = book.backward().reshape(3, 5, 2, 4).transpose(0, 3, 1, 2)
        assert_close(ours.backward(), dx_rows, dtype, what="dx")

    @parameterized.expand(DTYPES)
    def test_ignored_pixels_do_not_dilute_the_loss(self, _, dtype):
        """The mean is over the pixels that count: ignoring half the pixels of a picture whose
        counted pixels all have the same loss leaves the loss unchanged."""
        x = np.zeros((1, 3, 2, 2), dtype=dtype)
        x[0, 0] = 2.0  # every pixel scores class 0 highest
        t = np.zeros((1, 2, 2), dtype=np.int64)
        for backend in (S, R):
            full = float(to_numpy(backend.PixelSoftmaxWithLoss().forward(x, t)))
            half = float(to_numpy(backend.PixelSoftmaxWithLoss().forward(x, np.array([[[0, -100], [-100, 0]]]))))
            rtol = 1e-6 if dtype == np.float32 else 1e-15
            np.testing.assert_allclose(half, full, rtol=rtol)
            np.testing.assert_allclose(full, -np.log(np.exp(2) / (np.exp(2) + 2)), rtol=rtol)

    @parameterized.expand(DTYPES)
    def test_every_pixel_ignored(self, _, dtype):
        """PyTorch's mean over no pixels is 0/0: the loss is NaN and the gradient all zeros. Both backends
        give exactly that (no error: a batch of unlabelled pictures is legal, its loss undefined)."""
        x, _ = make_case((2, 3, 4, 4), "random", -100, "random", dtype)
        t = np.full((2, 4, 4), 7)
        torch_loss, torch_dx = torch_cross_entropy(x, t, 7, 1.0)
        assert torch.isnan(torch_loss)
        for backend in (S, R):
            layer = backend.PixelSoftmaxWithLoss(ignore_index=7)
            loss = to_numpy(layer.forward(x, t))
            assert loss.dtype == dtype and np.isnan(loss)
            dx = to_numpy(layer.backward())
            assert dx.dtype == dtype
            np.testing.assert_array_equal(dx, to_numpy(torch_dx))
            np.testing.assert_array_equal(dx, 0)

    @parameterized.expand(DTYPES)
    def test_default_dout_and_dtypes(self, _, dtype):
        x, t = make_case((2, 3, 3, 4), "some_ignored", -100, "random", dtype)
        ours, theirs = S.PixelSoftmaxWithLoss(), R.PixelSoftmaxWithLoss()
        assert np.asarray(ours.forward(x, t)).dtype == dtype
        assert to_numpy(theirs.forward(x, t)).dtype == dtype
        dx = ours.backward()
        assert dx.dtype == dtype and dx.shape == x.shape
        assert_close(dx, theirs.backward(), dtype, what="dx")

    def test_labels_of_any_integer_dtype(self):
        x, t = make_case((2, 3, 3, 4), "some_ignored", -100, "random", np.float64)
        for backend in (S, R):
            expected = to_numpy(backend.PixelSoftmaxWithLoss().forward(x, t))
            for dtype in (np.int32, np.int16):
                np.testing.assert_array_equal(to_numpy(backend.PixelSoftmaxWithLoss().forward(x, t.astype(dtype))),
                                              expected)
            assert to_numpy(backend.PixelSoftmaxWithLoss().forward(x, torch.from_numpy(t))) == expected


def assert_same_message(error, scratch_call, reference_call, regex):
    messages = []
    for call in (scratch_call, reference_call):
        with pytest.raises(error, match=regex) as raised:
            call()
        messages.append(str(raised.value))
    assert messages[0] == messages[1], messages
    assert "\n" not in messages[0]


class TestErrors:
    @parameterized.expand([
        ("label_out_of_range", (2, 3, 2, 2), lambda t: t + 3, ValueError, r"\[0, 3\) or equal ignore_index"),
        ("negative_label", (2, 3, 2, 2), lambda t: t - 1, ValueError, "ignore_index=-100"),
        ("label_255_not_ignored", (2, 3, 2, 2), lambda t: np.where(t == 0, 255, t), ValueError, "255"),
        ("labels_wrong_shape", (2, 3, 2, 2), lambda t: t[:, :1], ValueError, r"labels \(N, H, W\)"),
        ("labels_with_class_axis", (2, 3, 2, 2), lambda t: t[:, None], ValueError, "do not match"),
        ("float_labels", (2, 3, 2, 2), lambda t: t.astype(np.float64), TypeError, "integer labels"),
        ("scores_3d", (2, 3, 4), lambda t: np.zeros((2, 4), np.int64), ValueError, r"\(N, classes, H, W\)"),
        ("empty_batch", (0, 3, 2, 2), lambda t: np.zeros((0, 2, 2), np.int64), ValueError, "empty batch"),
        ("no_pixels", (2, 3, 0, 2), lambda t: np.zeros((2, 0, 2), np.int64), ValueError, "no pixels"),
    ])
    def test_bad_input(self, _, shape, make_labels, error, regex):
        x = make_rng().standard_normal(shape)
        t = make_labels(make_rng().integers(0, 3, (2, 2, 2)))
        assert_same_message(error, lambda: S.PixelSoftmaxWithLoss().forward(x, t),
                            lambda: R.PixelSoftmaxWithLoss().forward(x, t), regex)

    def test_integer_scores(self):
        x, t = np.zeros((2, 3, 2, 2), np.int64), np.zeros((2, 2, 2), np.int64)
        assert_same_message(TypeError, lambda: S.PixelSoftmaxWithLoss().forward(x, t),
                            lambda: R.PixelSoftmaxWithLoss().forward(x, t), "floating")

    def test_ignore_index_and_backward(self):
        assert_same_message(TypeError, lambda: S.PixelSoftmaxWithLoss(ignore_index=0.5),
                            lambda: R.PixelSoftmaxWithLoss(ignore_index=0.5), "PixelSoftmaxWithLoss: ignore_index")
        assert_same_message(RuntimeError, lambda: S.PixelSoftmaxWithLoss().backward(),
                            lambda: R.PixelSoftmaxWithLoss().backward(), "before")
        x, t = make_case((2, 3, 2, 2), "random", -100, "random", np.float64)
        ours, theirs = S.PixelSoftmaxWithLoss(), R.PixelSoftmaxWithLoss()
        ours.forward(x, t), theirs.forward(x, t)
        assert_same_message(ValueError, lambda: ours.backward(np.ones(2)), lambda: theirs.backward(np.ones(2)),
                            "dout")
