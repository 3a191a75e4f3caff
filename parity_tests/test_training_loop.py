"""The training loop of ``Trainer`` in absolute terms, not one backend against the other.

``reference.Trainer`` subclasses ``scratch.Trainer``: both run the same loop,
so the parity tests in test_trainer.py cannot see a bug in it. Here the loop is
checked against what the book's ``common/trainer.py`` does:

* ``iter_per_epoch = max(train_size / mini_batch_size, 1)``,
  ``max_iter = int(epochs * iter_per_epoch)``, one update per iteration;
* each iteration draws ``mini_batch_size`` samples (with replacement) from a
  generator seeded with ``seed``, updates, and records one training loss (the
  loss of the forward pass that computed the gradient, or ``network.loss``
  after the update for a network that keeps no ``last_loss``);
* after the update of every iteration with ``current_iter % iter_per_epoch == 0``
  (0, ipe, 2 ipe, ...) it records the accuracy on the training and test sets,
  or on their first ``evaluate_sample_num_per_epoch`` samples;
* ``train()`` returns the accuracy on the whole test set after the last update.

``CountingNet`` makes every one of these visible: its state is the number of
updates so far, and its accuracy and loss are known functions of that number.
Only behaviour is tested, never the progress display (``verbose=False``).
"""
import numpy as np
import pytest
from parameterized import parameterized

import reference
import scratch
from conftest import to_numpy


def loss_after(steps):
    """CountingNet's loss after ``steps`` updates: different at every step."""
    return 1.0 / (1.0 + steps)


def accuracy_after(x, steps):
    """CountingNet's accuracy after ``steps`` updates: the fraction of samples whose first
    feature is below ``steps`` (it predicts class 1 there, 0 elsewhere; every label is 1)."""
    return float(np.mean(x[:, 0] < steps))


class CountingNet:
    """A network whose only parameter counts the optimizer's updates.

    Its gradient is always -1, so SGD with lr 1 adds exactly 1 to ``w`` per
    update: ``steps`` = updates so far. It records every call it gets.
    """

    def __init__(self, keeps_last_loss=True):
        self.params = {"w": np.zeros(1)}
        self.keeps_last_loss = keeps_last_loss
        self.batches = []       # (steps, x_batch, t_batch) at each gradient call
        self.evaluations = []   # (steps, x, t) at each accuracy call
        self.loss_calls = []    # steps at each loss call

    @property
    def steps(self):
        return int(self.params["w"][0])

    def gradient(self, x, t):
        self.batches.append((self.steps, x.copy(), t.copy()))
        if self.keeps_last_loss:
            self.last_loss = loss_after(self.steps)
        return {"w": np.full(1, -1.0)}

    def loss(self, x, t):
        self.loss_calls.append(self.steps)
        return loss_after(self.steps)

    def predict(self, x):
        return np.stack([x[:, 0] >= self.steps, x[:, 0] < self.steps], axis=1).astype(float)

    def accuracy(self, x, t):
        self.evaluations.append((self.steps, x.copy(), t.copy()))
        return float(np.mean(np.argmax(self.predict(x), axis=1) == t))


def tiny_dataset(n_train, n_test):
    """Sample i of the training set has first feature i (so a batch tells which samples it
    holds) and label 1; the test set's first features lie between them."""
    x_train = np.stack([np.arange(n_train, dtype=float), np.arange(n_train) * 10.0 + 3], axis=1)
    x_test = np.stack([np.arange(n_test) + 0.5, np.zeros(n_test)], axis=1)
    return x_train, np.ones(n_train, dtype=np.int64), x_test, np.ones(n_test, dtype=np.int64)


N_TEST = 8


def counting_trainer(n_train, batch, epochs, n_test=N_TEST, seed=3, **kwargs):
    network = CountingNet(**kwargs.pop("net", {}))
    data = tiny_dataset(n_train, n_test)
    trainer = scratch.Trainer(network, *data, epochs=epochs, mini_batch_size=batch, optimizer="SGD",
                              optimizer_param={"lr": 1.0}, verbose=False, seed=seed, **kwargs)
    return trainer, network, data


# n_train, mini_batch_size, epochs -> max_iter and the iterations (0-based) that record accuracies,
# worked out by hand from the book's rule
LOOPS = [
    ("whole_epochs", 10, 5, 3, 6, [0, 2, 4]),           # ipe 2
    ("one_iteration_per_epoch", 10, 10, 4, 4, [0, 1, 2, 3]),
    ("fractional_ipe", 10, 4, 3, 7, [0, 5]),            # ipe 2.5: 0 % 2.5 == 5 % 2.5 == 0 only
    ("batch_larger_than_data", 3, 5, 3, 3, [0, 1, 2]),  # ipe max(0.6, 1) = 1
    ("fractional_epochs", 12, 4, 2.5, 7, [0, 3, 6]),    # ipe 3, int(7.5) = 7
    ("one_epoch", 8, 2, 1, 4, [0]),
]


@parameterized.expand(LOOPS)
def test_iterations_and_recorded_accuracies(_, n_train, batch, epochs, max_iter, evaluated):
    trainer, network, (x_train, _, x_test, t_test) = counting_trainer(n_train, batch, epochs)
    final = trainer.train()
    assert trainer.max_iter == max_iter
    assert network.steps == max_iter, "one update per iteration"
    assert len(network.batches) == len(trainer.train_loss_list) == max_iter
    assert trainer.current_iter == max_iter
    # an epoch's accuracies are taken right after the update of its iteration i: i + 1 updates
    expected_steps = [i + 1 for i in evaluated]
    assert trainer.train_acc_list == [accuracy_after(x_train, s) for s in expected_steps]
    assert trainer.test_acc_list == [accuracy_after(x_test, s) for s in expected_steps]
    assert trainer.current_epoch == len(evaluated)
    # who was evaluated when: train then test at each epoch, then the whole test set once at the end
    seen = [(steps, len(x)) for steps, x, _ in network.evaluations]
    assert seen == [(s, n) for s in expected_steps for n in (n_train, len(x_test))] + [(max_iter, len(x_test))]
    assert final == accuracy_after(x_test, max_iter)
    np.testing.assert_array_equal(network.evaluations[-1][1], x_test)
    np.testing.assert_array_equal(network.evaluations[-1][2], t_test)


@parameterized.expand(LOOPS)
def test_the_accuracies_differ_after_every_update(_, n_train, batch, epochs, max_iter, evaluated):
    """So the test above can see an off-by-one: on these data sets the accuracy changes at every update."""
    x_train, _, x_test, _ = tiny_dataset(n_train, N_TEST)
    for x in (x_train, x_test):
        values = [accuracy_after(x, s) for s in range(max_iter + 1)]
        assert len(set(values)) == len(values)


@parameterized.expand([("keeps_last_loss", True), ("book_loss_after_update", False)])
def test_one_loss_per_iteration(_, keeps_last_loss):
    """The loss of the forward pass that computed the gradient (before the update); a network
    without ``last_loss`` is asked for its loss after the update, as in the book."""
    trainer, network, _ = counting_trainer(10, 5, 3, net={"keeps_last_loss": keeps_last_loss})
    trainer.train()
    offset = 0 if keeps_last_loss else 1
    assert trainer.train_loss_list == [loss_after(i + offset) for i in range(trainer.max_iter)]
    assert all(type(v) is float for v in trainer.train_loss_list)
    assert network.loss_calls == ([] if keeps_last_loss else list(range(1, trainer.max_iter + 1)))


def test_minibatches_are_seeded_draws_with_replacement():
    """Each iteration: mini_batch_size indices from default_rng(seed).choice(train_size, size),
    each sample with its own label."""
    trainer, network, (x_train, t_train, _, _) = counting_trainer(10, 4, 3, seed=11)
    t_train[:] = np.arange(10) % 3  # labels that tell the samples apart
    trainer.train()
    rng = np.random.default_rng(11)
    for i, (steps, x_batch, t_batch) in enumerate(network.batches):
        assert steps == i
        indices = x_batch[:, 0].astype(int)
        np.testing.assert_array_equal(indices, rng.choice(10, 4))
        np.testing.assert_array_equal(x_batch, x_train[indices])
        np.testing.assert_array_equal(t_batch, t_train[indices])


@parameterized.expand([("fewer_than_the_sets", 3), ("more_than_the_sets", 50)])
def test_evaluate_sample_num_per_epoch(_, n):
    """Each epoch evaluates the first n samples of each set; the final accuracy uses the whole test set."""
    trainer, network, (x_train, t_train, x_test, t_test) = counting_trainer(
        10, 5, 3, evaluate_sample_num_per_epoch=n)
    final = trainer.train()
    *per_epoch, last = network.evaluations
    assert len(per_epoch) == 2 * 3
    for k, (steps, x, t) in enumerate(per_epoch):
        xs, ts = (x_train, t_train) if k % 2 == 0 else (x_test, t_test)
        np.testing.assert_array_equal(x, xs[:n])
        np.testing.assert_array_equal(t, ts[:n])
    assert trainer.train_acc_list == [accuracy_after(x_train[:n], s) for s in (1, 3, 5)]
    assert trainer.test_acc_list == [accuracy_after(x_test[:n], s) for s in (1, 3, 5)]
    np.testing.assert_array_equal(last[1], x_test)
    assert final == accuracy_after(x_test, 6)


def blobs(n_train=30, n_test=12, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((3, 4)) * 1.5
    t_train, t_test = rng.integers(0, 3, n_train), rng.integers(0, 3, n_test)
    x_train = centers[t_train] + rng.standard_normal((n_train, 4))
    x_test = centers[t_test] + rng.standard_normal((n_test, 4))
    return x_train, t_train, x_test, t_test


def independent_accuracy(net, params, x, t):
    """The fraction of argmax hits of ``net`` loaded with ``params``, counted here."""
    net.load_params(params)
    return float(np.mean(np.argmax(to_numpy(net.predict(x)), axis=1) == t))


def independent_loss(net, params, x, t):
    """Mean cross-entropy of softmax(scores), computed here in float64."""
    net.load_params(params)
    scores = to_numpy(net.predict(x)).astype(np.float64)
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-np.mean(log_p[np.arange(len(t)), t]))


@parameterized.expand([(b.BACKEND, b) for b in (scratch, reference)])
def test_a_real_network_records_the_accuracies_of_the_right_weights(_, backend):
    """MultiLayerNet on tiny data: the weights after every update are saved, and the recorded
    losses, epoch accuracies and final accuracy are recomputed from them outside the Trainer."""
    x_train, t_train, x_test, t_test = blobs()
    net = backend.MultiLayerNet(4, [6], 3, dtype="float64", seed=2)
    trainer = backend.Trainer(net, x_train, t_train, x_test, t_test, epochs=3, mini_batch_size=10,
                              optimizer="SGD", optimizer_param={"lr": 0.5}, verbose=False, seed=5)
    snapshots = [{k: to_numpy(v).copy() for k, v in net.params.items()}]  # snapshots[k]: after k updates
    batches = []
    update, gradient = trainer.optimizer.update, net.gradient

    def recording_update(params, grads):
        update(params, grads)
        snapshots.append({k: to_numpy(v).copy() for k, v in params.items()})

    def recording_gradient(x, t):
        batches.append((np.array(to_numpy(x)), np.array(to_numpy(t))))
        return gradient(x, t)

    trainer.optimizer.update, net.gradient = recording_update, recording_gradient
    final = trainer.train()

    assert trainer.max_iter == 9 and len(snapshots) == 10 and len(batches) == 9  # ipe 3
    probe = backend.MultiLayerNet(4, [6], 3, dtype="float64", seed=99)
    for i, (x, t) in enumerate(batches):  # the loss of the weights that computed the gradient
        assert trainer.train_loss_list[i] == pytest.approx(independent_loss(probe, snapshots[i], x, t), rel=1e-9)
    after = [i + 1 for i in (0, 3, 6)]
    train_acc = [independent_accuracy(probe, snapshots[s], x_train, t_train) for s in after]
    test_acc = [independent_accuracy(probe, snapshots[s], x_test, t_test) for s in after]
    assert trainer.train_acc_list == train_acc
    assert trainer.test_acc_list == test_acc
    assert final == independent_accuracy(probe, snapshots[9], x_test, t_test)
    # evaluating one iteration early or late would record other numbers here: an off-by-one shows
    for shift in (-1, 1):
        assert [independent_accuracy(probe, snapshots[s + shift], x_train, t_train) for s in after] != train_acc


# ---------------------------------------------------------------------------
# scratch.book.Trainer: the book's loop and the book's printed lines, exactly
# ---------------------------------------------------------------------------

def book_trainer(trainer_class, n_train=9, batch=3, epochs=2, seed=4, **kwargs):
    """A book-style Trainer (global np.random, no seed argument) on CountingNet, which keeps a
    ``last_loss`` the book's loop must ignore."""
    network = CountingNet(keeps_last_loss=True)
    data = tiny_dataset(n_train, N_TEST)
    np.random.seed(seed)
    trainer = trainer_class(network, *data, epochs=epochs, mini_batch_size=batch, optimizer="SGD",
                            optimizer_param={"lr": 1.0}, **kwargs)
    return trainer, network, data


def books_printout(trainer, x_train, x_test, evaluated):
    """What the book's common/trainer.py prints, written out from its source: str() of every number."""
    lines = []
    for i in range(trainer.max_iter):
        lines.append("train loss:" + str(loss_after(i + 1)))  # the loss after the update
        if i in evaluated:
            epoch = evaluated.index(i) + 1
            lines.append("=== epoch:" + str(epoch) + ", train acc:" + str(accuracy_after(x_train, i + 1))
                         + ", test acc:" + str(accuracy_after(x_test, i + 1)) + " ===")
    lines += ["=============== Final Test Accuracy ===============",
              "test acc:" + str(accuracy_after(x_test, trainer.max_iter))]
    return "\n".join(lines) + "\n"


def test_book_trainer_updates_then_takes_the_loss():
    """The book's order: gradient, update, then one more forward pass for the recorded loss (even
    for a network that keeps the loss of the gradient's pass); minibatches from np.random.choice."""
    import scratch.book

    trainer, network, (x_train, _, _, _) = book_trainer(scratch.book.Trainer, verbose=False)
    trainer.train()
    assert trainer.max_iter == 6
    assert network.loss_calls == [1, 2, 3, 4, 5, 6], "the loss must be taken after each update"
    assert trainer.train_loss_list == [loss_after(i + 1) for i in range(6)]
    np.random.seed(4)
    for i, (steps, x_batch, _) in enumerate(network.batches):
        assert steps == i
        np.testing.assert_array_equal(x_batch[:, 0].astype(int), np.random.choice(9, 3))


def test_book_trainer_prints_the_books_lines(capsys):
    """Every line, character for character: ``train loss:`` per iteration, the epoch lines and the
    final two, numbers written by str() (1/9 as 0.1111111111111111, not 0.1111)."""
    import scratch.book

    trainer, _, (x_train, _, x_test, _) = book_trainer(scratch.book.Trainer)
    capsys.readouterr()
    final = trainer.train()
    out, err = capsys.readouterr()
    assert out == books_printout(trainer, x_train, x_test, evaluated=[0, 3])
    assert "train acc:0.1111111111111111," in out and err == ""
    assert final == accuracy_after(x_test, 6)


def test_book_trainer_is_the_books_trainer(capsys, monkeypatch):
    """The book's own common/trainer.py on the same network and seed: the same lines, calls and lists."""
    import importlib
    import os
    import sys

    import scratch.book
    from conftest import book_code_file

    # the book's code imports its package 'common' from the book's folder, which must be on the path
    # for this test only; its modules are forgotten afterwards, so nothing later finds them
    monkeypatch.syspath_prepend(os.path.dirname(os.path.dirname(book_code_file("common/trainer.py"))))
    before = set(sys.modules)
    try:
        books = importlib.import_module("common.trainer")
    finally:
        for name in set(sys.modules) - before:
            del sys.modules[name]
    runs = []
    for trainer_class in (books.Trainer, scratch.book.Trainer):
        trainer, network, _ = book_trainer(trainer_class, n_train=10, batch=4, epochs=3,
                                           evaluate_sample_num_per_epoch=5)
        capsys.readouterr()
        trainer.train()
        runs.append((capsys.readouterr().out, network.loss_calls, [b[1].tolist() for b in network.batches],
                     [(s, len(x)) for s, x, _ in network.evaluations], trainer.train_loss_list,
                     trainer.train_acc_list, trainer.test_acc_list))
    assert runs[0][0].count("\n") > 10
    for what, book, ours in zip(("printout", "loss calls", "batches", "evaluations", "losses", "train acc",
                                 "test acc"), *runs):
        assert ours == book, what
