"""Trainer: the same seed gives the same minibatches in both backends, so two runs from the
same initial weights record the same losses and accuracies."""
import io
import re

import numpy as np
import pytest
from parameterized import parameterized

import reference
import scratch
from conftest import assert_close


def dataset(n_train=120, n_test=40, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((3, 8)) * 3
    t_train, t_test = rng.integers(0, 3, n_train), rng.integers(0, 3, n_test)
    x_train = centers[t_train] + rng.standard_normal((n_train, 8))
    x_test = centers[t_test] + rng.standard_normal((n_test, 8))
    return x_train, t_train, x_test, t_test


@parameterized.expand([("SGD", {"lr": 0.1}), ("Adam", {"lr": 0.01}), ("Momentum", {"lr": 0.05})])
def test_both_backends_train_identically(optimizer, param):
    x_train, t_train, x_test, t_test = dataset()
    numpy_net = scratch.MultiLayerNet(8, [10], 3, dtype="float64", seed=1)
    torch_net = reference.MultiLayerNet(8, [10], 3, dtype="float64", seed=1)
    torch_net.load_params(numpy_net.params)
    runs = []
    for backend, net in ((scratch, numpy_net), (reference, torch_net)):
        out = io.StringIO()
        trainer = backend.Trainer(net, x_train, t_train, x_test, t_test, epochs=3, mini_batch_size=20,
                                  optimizer=optimizer, optimizer_param=param, seed=7, stream=out)
        final = trainer.train()
        runs.append((trainer, final, out.getvalue()))
    (a, final_a, text_a), (b, final_b, text_b) = runs
    assert a.max_iter == 18 and len(a.train_loss_list) == 18 and len(a.test_acc_list) == 3
    assert_close(np.array(a.train_loss_list), np.array([float(v) for v in b.train_loss_list]), np.float64,
                 what="train loss", component="trainer")
    assert a.train_acc_list == b.train_acc_list and a.test_acc_list == b.test_acc_list
    assert final_a == final_b and text_a == text_b
    assert "=== epoch:3, train acc:" in text_a and "test acc:" in text_a.splitlines()[-1]
    assert a.train_loss_list[-1] < a.train_loss_list[0]


def test_same_seed_same_run_and_unknown_optimizer():
    x_train, t_train, x_test, t_test = dataset()
    losses = []
    for _ in range(2):
        net = scratch.MultiLayerNet(8, [10], 3, seed=1)
        trainer = scratch.Trainer(net, x_train, t_train, x_test, t_test, epochs=1, mini_batch_size=20,
                                  optimizer="adagrad", optimizer_param={"lr": 0.1}, seed=3, verbose=False)
        trainer.train()
        losses.append(trainer.train_loss_list)
    assert losses[0] == losses[1]
    with pytest.raises(ValueError, match="unknown optimizer"):
        scratch.Trainer(net, x_train, t_train, x_test, t_test, optimizer="lbfgs")


def test_progress_bar_is_tqdm_and_epoch_lines_go_to_the_stream(capsys):
    """verbose: a tqdm bar on stderr (ending its line), the epoch lines on ``stream``; quiet: nothing."""
    x_train, t_train, x_test, t_test = dataset()
    out = io.StringIO()
    trainer = scratch.Trainer(scratch.MultiLayerNet(8, [10], 3, seed=1), x_train, t_train, x_test, t_test,
                              epochs=2, mini_batch_size=20, seed=3, stream=out)
    trainer.train()
    bar = capsys.readouterr().err
    assert re.search(r"100%\|.*\| 12/12 \[.*it/s, loss \d\.\d{4}\]\n$", bar), bar
    assert "=== epoch:2," in out.getvalue() and "it/s" not in out.getvalue()
    quiet = scratch.Trainer(scratch.MultiLayerNet(8, [10], 3, seed=1), x_train, t_train, x_test, t_test,
                            epochs=1, mini_batch_size=20, seed=3, verbose=False, stream=out)
    quiet.train()
    assert capsys.readouterr().err == ""


def test_interrupted_training_ends_the_bar_line(capsys):
    """Ctrl-C during train(): the bar's line is ended, so what is printed next starts a line of its own."""
    x_train, t_train, x_test, t_test = dataset()
    network = scratch.MultiLayerNet(8, [10], 3, seed=1)
    trainer = scratch.Trainer(network, x_train, t_train, x_test, t_test, epochs=2, mini_batch_size=20, seed=3,
                              stream=io.StringIO())
    gradient, calls = network.gradient, []

    def interrupted_gradient(x, t):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return gradient(x, t)

    network.gradient = interrupted_gradient
    with pytest.raises(KeyboardInterrupt):
        trainer.train()
    bar = capsys.readouterr().err
    assert "3/12" in bar and bar.endswith("\n"), repr(bar)
