"""The book's ``Trainer`` (``common/trainer.py``): minibatch training with per-epoch accuracy.

Differences from the book, each for speed or clarity and none changing what
is learnt: the recorded loss of an iteration is the loss of the forward pass
that computed the gradient (the book runs one more forward pass after the
update); minibatches come from a generator seeded with ``seed``; progress is
a ``tqdm`` bar on stderr plus one line per epoch instead of one line per
iteration.
"""
import sys

import numpy as np
from tqdm import tqdm

from . import optimizer as optimizers

__all__ = ["Trainer"]


class Trainer:
    """Trains ``network`` with an optimizer named by ``optimizer`` ('SGD', 'Momentum', 'Nesterov',
    'AdaGrad', 'RMSprop', 'Adam'; any case) built from ``optimizer_param``."""

    optimizer_module = optimizers

    def __init__(self, network, x_train, t_train, x_test, t_test, epochs=20, mini_batch_size=100,
                 optimizer="SGD", optimizer_param=None, evaluate_sample_num_per_epoch=None,
                 verbose=True, seed=None, stream=None):
        self.network = network
        self.verbose = verbose
        self.stream = stream if stream is not None else sys.stdout
        self.x_train, self.t_train = x_train, t_train
        self.x_test, self.t_test = x_test, t_test
        if len(x_train) != len(t_train) or len(x_test) != len(t_test):
            raise ValueError("each dataset needs as many labels as samples")
        if epochs <= 0 or mini_batch_size <= 0:
            raise ValueError("epochs and mini_batch_size must be positive")
        self.epochs = epochs
        self.batch_size = mini_batch_size
        self.evaluate_sample_num_per_epoch = evaluate_sample_num_per_epoch
        classes = {name.lower(): name for name in self.optimizer_module.__all__}
        if optimizer.lower() not in classes:
            raise ValueError(f"unknown optimizer {optimizer!r}; choose from {sorted(classes.values())}")
        optimizer_class = getattr(self.optimizer_module, classes[optimizer.lower()])
        self.optimizer = optimizer_class(**(optimizer_param or {"lr": 0.01}))
        self.rng = np.random.default_rng(seed)

        self.train_size = x_train.shape[0]
        self.iter_per_epoch = max(self.train_size / mini_batch_size, 1)
        self.max_iter = int(epochs * self.iter_per_epoch)
        self.current_iter = 0
        self.current_epoch = 0
        self.train_loss_list = []
        self.train_acc_list = []
        self.test_acc_list = []

    def train_step(self):
        batch_mask = self.rng.choice(self.train_size, self.batch_size)
        x_batch, t_batch = self.x_train[batch_mask], self.t_train[batch_mask]
        grads = self.network.gradient(x_batch, t_batch)
        self.optimizer.update(self.network.params, grads)
        loss = getattr(self.network, "last_loss", None)
        if loss is None:
            loss = self.network.loss(x_batch, t_batch)
        self.train_loss_list.append(float(loss))
        if self.current_iter % self.iter_per_epoch == 0:
            self.evaluate_epoch()
        self.current_iter += 1

    def evaluate_epoch(self):
        self.current_epoch += 1
        n = self.evaluate_sample_num_per_epoch
        x_train, t_train = (self.x_train, self.t_train) if n is None else (self.x_train[:n], self.t_train[:n])
        x_test, t_test = (self.x_test, self.t_test) if n is None else (self.x_test[:n], self.t_test[:n])
        train_acc = self.network.accuracy(x_train, t_train)
        test_acc = self.network.accuracy(x_test, t_test)
        self.train_acc_list.append(train_acc)
        self.test_acc_list.append(test_acc)
        self._say(self.epoch_line(train_acc, test_acc))

    def epoch_line(self, train_acc, test_acc):
        return f"=== epoch:{self.current_epoch}, train acc:{train_acc:.4f}, test acc:{test_acc:.4f} ==="

    def _say(self, text):
        """Print a line to ``stream`` when ``verbose``, above the progress bar if one is drawn."""
        if self.verbose:
            with tqdm.external_write_mode(file=self.stream):
                print(text, file=self.stream, flush=True)

    def train(self):
        """Run every iteration (a ``tqdm`` bar on stderr when ``verbose``); return the final test accuracy."""
        with tqdm(total=self.max_iter, disable=not self.verbose, file=sys.stderr, unit="it",
                  dynamic_ncols=True) as bar:  # closed, its line ended, even when interrupted
            for _ in range(self.max_iter):
                self.train_step()
                bar.set_postfix_str(f"loss {self.train_loss_list[-1]:.4f}", refresh=False)
                bar.update()
        test_acc = self.network.accuracy(self.x_test, self.t_test)
        self._say("=============== Final Test Accuracy ===============")
        self._say(f"test acc:{test_acc:.4f}")
        return test_acc
