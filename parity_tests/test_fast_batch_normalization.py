"""scratch.fast's BatchNormalization (channel-major, closed-form backward) against the readable
scratch.BatchNormalization (the book's graph node by node) and against PyTorch's ``nn.BatchNorm1d`` /
``nn.BatchNorm2d`` with autograd.

Fast equals readable in float64 to 1e-12 (conftest's ``assert_close``: judged against the array's
largest entry): the output in training and in eval mode, dx, dgamma, dbeta and the running
statistics, over several steps, for 2-D and 4-D input, 4-D input contiguous (N, C, H, W) and
channel-major (the memory layout a convolution leaves), one sample (4-D: H*W values per channel)
and several. Both equal PyTorch with the parity tolerances (float64 1e-10, float32 1e-5).
"""
import inspect
import unittest

import numpy as np
import torch
from parameterized import parameterized

from conftest import RTOL, assert_close
from scratch.batch_normalization import BatchNormalization as ReadableBN
from scratch.fast.batch_normalization import BatchNormalization as FastBN

CHANNELS = 3
FAST_RTOL = 1e-12
STEPS = 3  # training steps before the eval step


def make_input(rng, shape, layout, dtype):
    """Channels with different means and scales; ``layout`` 'channel_major' stores (C, N, H, W) in memory."""
    view = (1, CHANNELS) + (1,) * (len(shape) - 2)
    x = rng.uniform(-2, 2, CHANNELS).reshape(view) + rng.uniform(0.5, 3, CHANNELS).reshape(view) \
        * rng.standard_normal(shape)
    x = x.astype(dtype)
    if layout == "channel_major":
        x = np.ascontiguousarray(np.moveaxis(x, 1, 0)).transpose(1, 0, 2, 3)
        assert not x.flags.c_contiguous and x.base.flags.c_contiguous  # (C, N, H, W) in memory
    return x


def torch_layer(gamma, beta, ndim, momentum, eps):
    module = (torch.nn.BatchNorm1d if ndim == 2 else torch.nn.BatchNorm2d)(
        CHANNELS, eps=eps, momentum=1 - momentum, dtype=torch.from_numpy(gamma).dtype)
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(gamma))
        module.bias.copy_(torch.from_numpy(beta))
    return module


def torch_step(module, x, dout, train_flg):
    """PyTorch's output and gradients (dx, dgamma, dbeta) for one step; updates its running statistics."""
    module.train(train_flg)
    module.zero_grad()
    xt = torch.from_numpy(np.ascontiguousarray(x)).requires_grad_(True)
    out = module(xt)
    out.backward(torch.from_numpy(dout))
    return out.detach().numpy(), xt.grad.numpy(), module.weight.grad.numpy(), module.bias.grad.numpy()


def numpy_step(layer, x, dout, train_flg):
    out = layer.forward(x, train_flg)
    dx = layer.backward(dout)
    return out, dx, layer.dgamma, layer.dbeta


NAMES = ("out", "dx", "dgamma", "dbeta")
# one sample of 4-D input (N = 1) lies channel-major in memory either way
CASES = [(f"2d_n{n}", 2, n, "contiguous") for n in (2, 5, 32)] + [("4d_n1", 4, 1, "contiguous")] + \
        [(f"4d_n{n}_{layout}", 4, n, layout) for n in (2, 8) for layout in ("contiguous", "channel_major")]


def dx_atol(rtol, mode, dx, layer, dout):
    """None, or for two values per channel in training the absolute tolerance rtol * |gamma dout| / std.

    With two values per channel the true dx is tiny (of order eps / var: the output barely depends on x)
    and every method gets it as the difference of terms of size |gamma dout| / std, so its rounding error
    scales with those terms, not with dx (see test_batch_normalization.py).
    """
    if mode != "train" or dx.size != 2 * CHANNELS:
        return None
    return rtol * max(np.abs(layer.gamma / layer.std).max() * np.abs(dout).max(), np.abs(dx).max())


class TestFastEqualsReadableAndPyTorch(unittest.TestCase):

    def run_steps(self, ndim, batch_size, layout, dtype, momentum=0.9, eps=1e-5):
        """Both NumPy layers and PyTorch through STEPS training steps and one eval step; yields per step
        (mode, [fast results, readable results, torch results], the three layers, dout)."""
        rng = np.random.default_rng(10 * ndim + batch_size)
        gamma = rng.uniform(0.5, 2, CHANNELS).astype(dtype)
        beta = rng.standard_normal(CHANNELS).astype(dtype)
        fast = FastBN(gamma.copy(), beta.copy(), momentum=momentum, eps=eps)
        readable = ReadableBN(gamma.copy(), beta.copy(), momentum=momentum, eps=eps)
        module = torch_layer(gamma, beta, ndim, momentum, eps)
        shape = (batch_size, CHANNELS) if ndim == 2 else (batch_size, CHANNELS, 4, 5)
        for step in range(STEPS + 1):
            train_flg = step < STEPS
            x = make_input(rng, shape, layout, dtype)
            dout = rng.standard_normal(shape).astype(dtype)
            results = [numpy_step(fast, x, dout, train_flg), numpy_step(readable, x, dout, train_flg),
                       torch_step(module, x, dout, train_flg)]
            yield ("train" if train_flg else "eval"), results, (fast, readable, module), dout

    @parameterized.expand(CASES)
    def test_fast_equals_readable_to_1e_12(self, _, ndim, batch_size, layout):
        for mode, (fast, readable, _torch), layers, dout in self.run_steps(ndim, batch_size, layout, np.float64):
            for name, a, b in zip(NAMES, fast, readable):
                atol = dx_atol(FAST_RTOL, mode, b, layers[1], dout) if name == "dx" else None
                assert_close(a, b, np.float64, rtol=FAST_RTOL, atol=atol, what=f"{mode} {name}",
                             component=f"fast_batch_normalization.{name}")
            for stat in ("running_mean", "running_var"):
                assert_close(getattr(layers[0], stat), getattr(layers[1], stat), np.float64, rtol=FAST_RTOL,
                             what=f"{mode} {stat}", component=f"fast_batch_normalization.{stat}")

    @parameterized.expand([(f"{name}_{np.dtype(dt).name}", ndim, n, layout, dt)
                           for name, ndim, n, layout in CASES for dt in (np.float64, np.float32)])
    def test_both_equal_pytorch(self, _, ndim, batch_size, layout, dtype):
        for mode, results, layers, dout in self.run_steps(ndim, batch_size, layout, dtype):
            expected = results[2]
            for which, actual in (("fast", results[0]), ("readable", results[1])):
                for name, a, b in zip(NAMES, actual, expected):
                    atol = dx_atol(RTOL[np.dtype(dtype)], mode, b, layers[1], dout) if name == "dx" else None
                    assert_close(a, b, dtype, atol=atol, what=f"{which} {mode} {name}")
                for stat in ("running_mean", "running_var"):
                    assert_close(getattr(layers[0 if which == "fast" else 1], stat),
                                 getattr(layers[2], stat).numpy(), dtype, what=f"{which} {mode} {stat}")

    def test_float32_stays_float32_and_dout_is_left_alone(self):
        rng = np.random.default_rng(1)
        layer = FastBN(np.ones(CHANNELS, np.float32), np.zeros(CHANNELS, np.float32))
        x = make_input(rng, (4, CHANNELS, 3, 3), "channel_major", np.float32)
        dout = rng.standard_normal(x.shape).astype(np.float32)
        saved = dout.copy()
        for train_flg in (True, False):
            out, dx = layer.forward(x, train_flg), layer.backward(dout)
            for value in (out, dx, layer.dgamma, layer.dbeta, layer.running_mean, layer.running_var):
                self.assertEqual(value.dtype, np.float32)
            np.testing.assert_array_equal(dout, saved)

    def test_same_constructor_parameters_shared(self):
        self.assertTrue(issubclass(FastBN, ReadableBN))
        self.assertEqual(inspect.signature(FastBN), inspect.signature(ReadableBN))
        gamma, beta = np.ones(CHANNELS), np.zeros(CHANNELS)
        layer = FastBN(gamma, beta, momentum=0.8, eps=1e-3)
        self.assertIs(layer.gamma, gamma)
        self.assertIs(layer.beta, beta)
        self.assertEqual((layer.momentum, layer.eps), (0.8, 1e-3))

    def test_same_errors_as_readable(self):
        bad = [(np.ones((1, CHANNELS)), True), (np.ones((1, CHANNELS, 1, 1)), True),
               (np.ones((4, CHANNELS + 1)), True), (np.ones((4, CHANNELS), np.float32), False),
               (np.ones((0, CHANNELS)), False)]
        for x, train_flg in bad:
            errors = []
            for cls in (FastBN, ReadableBN):
                with self.assertRaises((ValueError, TypeError)) as info:
                    cls(np.ones(CHANNELS), np.zeros(CHANNELS)).forward(x, train_flg)
                errors.append((type(info.exception), str(info.exception)))
            self.assertEqual(errors[0], errors[1])
        with self.assertRaisesRegex(RuntimeError, "before BatchNormalization.forward"):
            FastBN(np.ones(CHANNELS), np.zeros(CHANNELS)).backward(np.ones((2, CHANNELS)))
