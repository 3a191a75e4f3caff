"""Optimizers: the NumPy update rules step for step against ``torch.optim``.

Identical starting parameters and identical gradient sequences go to both
backends; the parameters must agree after every step.
"""
import numpy as np
import pytest
import torch
from parameterized import parameterized

import reference
import scratch
import parity_report
from conftest import to_numpy

SETTINGS = [
    ("SGD", {"lr": 0.1}),
    ("Momentum", {"lr": 0.01, "momentum": 0.9}),
    ("Momentum", {"lr": 0.1, "momentum": 0.5}),
    ("Nesterov", {"lr": 0.01, "momentum": 0.9}),
    ("Nesterov", {"lr": 0.05, "momentum": 0.3}),
    ("AdaGrad", {"lr": 0.01}),
    ("AdaGrad", {"lr": 0.1, "eps": 1e-7}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.001, "decay_rate": 0.9, "eps": 1e-6}),
    ("Adam", {"lr": 0.001}),
    ("Adam", {"lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-7}),
]
GRADIENT_SCALES = [1.0, 1e-4]  # around 1e-4 the placement of eps shows
SHAPES = {"W1": (7, 5), "b1": (7,), "W2": (3, 7), "b2": (3,), "filter": (2, 3, 3, 3)}
CASES = [(f"{name}_{i}_{scale:g}", name, kw, scale)
         for i, (name, kw) in enumerate(SETTINGS) for scale in GRADIENT_SCALES]
TOLERANCE = {np.float64: 1e-10, np.float32: 1e-5}


def run_both(name, kwargs, scale, dtype, steps=120, change_lr_at=60):
    rng = np.random.default_rng(0)
    numpy_params = {k: rng.standard_normal(s).astype(dtype) for k, s in SHAPES.items()}
    torch_params = {k: torch.tensor(v, requires_grad=True) for k, v in numpy_params.items()}
    numpy_opt, torch_opt = getattr(scratch, name)(**kwargs), getattr(reference, name)(**kwargs)
    worst = 0.0
    for step in range(steps):
        if step == change_lr_at:  # the learning rate may change between steps
            numpy_opt.lr *= 0.3
            torch_opt.lr *= 0.3
        grads = {k: (scale * rng.standard_normal(s)).astype(dtype) for k, s in SHAPES.items()}
        numpy_opt.update(numpy_params, grads)
        torch_opt.update(torch_params, {k: torch.from_numpy(g.copy()) for k, g in grads.items()})
        for k in SHAPES:
            ours, theirs = numpy_params[k], torch_params[k].detach().numpy()
            assert ours.dtype == dtype and theirs.dtype == dtype
            rel = np.max(np.abs(ours - theirs)) / max(np.max(np.abs(theirs)), 1e-300)
            worst = max(worst, rel)
            parity_report.record("optimizers", np.dtype(dtype).name, f"{name} {k}", rel, TOLERANCE[dtype],
                                 passed=rel < TOLERANCE[dtype])  # for DLFS_PARITY_REPORT
            assert rel < TOLERANCE[dtype], f"{name} {k} step {step}: relative difference {rel:.3g}"
    return worst, numpy_params


@parameterized.expand(CASES)
def test_float64_steps_agree(_, name, kwargs, scale):
    run_both(name, kwargs, scale, np.float64)


@parameterized.expand(CASES)
def test_float32_steps_agree(_, name, kwargs, scale):
    run_both(name, kwargs, scale, np.float32, steps=40, change_lr_at=20)


@parameterized.expand([(f"{name}_{backend.BACKEND}", name, backend)
                       for name in ("SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam")
                       for backend in (scratch, reference)])
def test_the_optimizer_actually_moves_the_parameters(_, name, backend):
    """Guards against a vacuous pass (two optimizers that both do nothing agree step for step):
    each backend on its own must move every parameter against its gradient, at every step, in
    place (a network's layers hold the very arrays or tensors in ``params``)."""
    if backend is scratch:
        params = {"w": np.ones(3), "v": np.ones(2)}
        grads = {"w": np.full(3, 0.5), "v": np.full(2, -0.5)}
    else:
        params = {k: torch.ones(n, dtype=torch.float64, requires_grad=True) for k, n in (("w", 3), ("v", 2))}
        grads = {"w": torch.full((3,), 0.5, dtype=torch.float64), "v": torch.full((2,), -0.5, dtype=torch.float64)}
    held = dict(params)  # what a layer holds
    optimizer = getattr(backend, name)(lr=0.1)
    previous = {k: to_numpy(p).copy() for k, p in held.items()}
    for step in range(3):
        optimizer.update(params, grads)
        for k, p in held.items():
            assert params[k] is p, f"step {step}: {k} was replaced, not updated in place"
            now = to_numpy(p)
            moved = now - previous[k]
            sign = -np.sign(to_numpy(grads[k]))  # against the gradient
            assert np.all(moved * sign > 0), f"{backend.BACKEND} {name} step {step}: {k} {previous[k]} -> {now}"
            previous[k] = now.copy()


def test_adam_differs_from_the_books_eps_placement():
    """With gradients around 1e-4 PyTorch's Adam (eps after the bias correction) and the book's
    (lr_t = lr sqrt(1-b2^t)/(1-b1^t), eps 1e-7 on sqrt(v)) take visibly different steps."""
    g = np.full(4, 1e-4)
    ours = {"w": np.zeros(4)}
    scratch.Adam(lr=0.001).update(ours, {"w": g})
    lr_t = 0.001 * np.sqrt(1 - 0.999) / (1 - 0.9)
    m, v = 0.1 * g, 0.001 * g * g
    book = -lr_t * m / (np.sqrt(v) + 1e-7)
    assert np.allclose(ours["w"], -0.001 / (1 + 1e-8 / 1e-4), rtol=1e-12)
    assert not np.allclose(ours["w"], book, rtol=1e-3)


@parameterized.expand([(name,) for name, _ in SETTINGS[::2]])
def test_a_network_trained_by_each_optimizer_agrees(name):
    """A real network, 30 steps of each optimizer, float64: losses and parameters agree."""
    kwargs = dict(SETTINGS)[name]
    rng = np.random.default_rng(1)
    x = rng.standard_normal((64, 20))
    t = rng.integers(0, 5, 64)
    numpy_net = scratch.TwoLayerNet(20, 16, 5, weight_init_std=0.3, dtype="float64", seed=3)
    torch_net = reference.TwoLayerNet(20, 16, 5, weight_init_std=0.3, dtype="float64", seed=3)
    torch_net.load_params(numpy_net.params)
    initial = {k: v.copy() for k, v in numpy_net.params.items()}
    numpy_opt, torch_opt = getattr(scratch, name)(**kwargs), getattr(reference, name)(**kwargs)
    for step in range(30):
        batch = rng.choice(64, 16)
        numpy_opt.update(numpy_net.params, numpy_net.gradient(x[batch], t[batch]))
        torch_opt.update(torch_net.params, torch_net.gradient(x[batch], t[batch]))
        loss_numpy, loss_torch = float(numpy_net.last_loss), float(torch_net.last_loss)
        assert loss_numpy == pytest.approx(loss_torch, rel=1e-10, abs=1e-12), f"step {step}"
    for k, v in numpy_net.params.items():
        np.testing.assert_allclose(v, torch_net.params[k].detach().numpy(), rtol=1e-9, atol=1e-12)
    assert all(not np.allclose(v, initial[k]) for k, v in numpy_net.params.items())  # it trained
