"""The book's ``common/trainer.py``: minibatch training that prints as the book prints.

``scratch.Trainer`` (same arguments, same per-epoch evaluation) with the
book's loop:

* minibatches drawn with ``np.random.choice`` (the global generator);
* after each update, one more forward pass on the same minibatch gives the
  recorded loss (a network with dropout draws masks for it, as in the book);
* ``train loss:<loss>`` every iteration and ``=== epoch:N, train acc:..., test acc:... ===``
  every epoch when ``verbose``, the numbers written with ``str`` as the book does;
  at the end the "Final Test Accuracy" lines;
* the optimizers are the book's (``scratch.book.optimizer``).
"""
import numpy as np

from .. import trainer
from . import optimizer as book_optimizers

__all__ = ["Trainer"]


class Trainer(trainer.Trainer):
    """Trains ``network`` by the optimizer named ``optimizer`` ('SGD', 'Momentum', ..., any case)."""

    optimizer_module = book_optimizers

    def __init__(self, network, x_train, t_train, x_test, t_test, epochs=20, mini_batch_size=100,
                 optimizer="SGD", optimizer_param={"lr": 0.01},  # noqa: B006 - the book's
                 evaluate_sample_num_per_epoch=None, verbose=True):
        super().__init__(network, x_train, t_train, x_test, t_test, epochs, mini_batch_size, optimizer,
                         optimizer_param, evaluate_sample_num_per_epoch, verbose)

    def train_step(self):
        batch_mask = np.random.choice(self.train_size, self.batch_size)
        x_batch, t_batch = self.x_train[batch_mask], self.t_train[batch_mask]
        grads = self.network.gradient(x_batch, t_batch)
        self.optimizer.update(self.network.params, grads)
        loss = self.network.loss(x_batch, t_batch)
        self.train_loss_list.append(loss)
        self._say("train loss:" + str(loss))
        if self.current_iter % self.iter_per_epoch == 0:
            self.evaluate_epoch()
        self.current_iter += 1

    def epoch_line(self, train_acc, test_acc):
        return f"=== epoch:{self.current_epoch}, train acc:{train_acc}, test acc:{test_acc} ==="

    def train(self):
        for _ in range(self.max_iter):
            self.train_step()
        test_acc = self.network.accuracy(self.x_test, self.t_test)
        self._say("=============== Final Test Accuracy ===============")
        self._say("test acc:" + str(test_acc))
        return test_acc
