"""``train two_layer --with practice/``: chapter 5's network trained with the learner's own layers.

The book's ``ch05/train_neuralnet.py``: ``TwoLayerNet(784, 50, 10)`` (Affine -
Relu - Affine - SoftmaxWithLoss, W = 0.01 * np.random.randn(in, out), b = 0),
SGD with lr 0.1 on minibatches of 100 drawn by ``np.random.choice``, 10000
iterations, MNIST normalised with one-hot labels, the train and test accuracy
printed once per epoch (600 iterations) from iteration 0.

Each of the four components comes from the learner's workspace when its file
is there (``affine.py``: Affine, ``relu_layer.py``: Relu,
``softmax_with_loss.py``: SoftmaxWithLoss, ``sgd.py``: SGD), else from the
project (``scratch.book``, the book's semantics). A learner's file is graded
first, as ``check`` grades it: one that fails a check is refused (the run
stops before training, naming the failed check and the likely mistake),
because 10000 iterations on a layer known to be wrong teach nothing that
``check`` does not say faster. A file the grader has no task for is used
unchecked, with a note saying so.
"""
import os
import time

import numpy as np

from ..progress import advance, progress_bar, say
from .grader import grade
from .task import CheckFailed, Task
from .workspace import load, task_path

__all__ = ["COMPONENTS", "Choice", "TwoLayerNet", "choose_components", "train_two_layer"]

# (task name = the learner's file, the book's class): what TwoLayerNet and its training are made of
COMPONENTS = (("affine", "Affine"), ("relu_layer", "Relu"), ("softmax_with_loss", "SoftmaxWithLoss"),
              ("sgd", "SGD"))

INPUT, HIDDEN, OUTPUT = 784, 50, 10   # the book's TwoLayerNet(input_size=784, hidden_size=50, output_size=10)
WEIGHT_INIT_STD = 0.01
LEARNING_RATE = 0.1
BATCH_SIZE = 100


class Choice:
    """One component: the class used, whose it is ('yours' or "the project's"), and why.

    ``failure``: a one-line reason the learner's file is refused (None when it is usable).
    """

    def __init__(self, book_name, cls, whose, note, failure=None, path=None, task_name=None):
        self.book_name, self.cls, self.whose, self.note = book_name, cls, whose, note
        self.failure, self.path, self.task_name = failure, path, task_name

    @property
    def line(self):
        text = f"  {self.book_name:<16} {self.whose}: {self.note}"
        return text if self.failure is None else f"{text}: {self.failure}"


def _task(name, book_name):
    """The practice task of the learner's file; a check-less stand-in when this version has none."""
    from .tasks import by_name

    return by_name().get(name) or Task(name, 0, "", book_name, "", ())


def choose(folder, name, book_name):
    """The Choice for one component: the learner's class from ``folder/<name>.py`` (graded), else the project's."""
    import scratch.book

    task = _task(name, book_name)
    path = task_path(folder, task)
    if not os.path.isfile(path):
        return Choice(task.book_name, getattr(scratch.book, task.book_name), "the project's",
                      f"scratch.book.{task.book_name} (no {path})")
    try:
        learner, path = load(folder, task)
    except CheckFailed as failure:
        return Choice(task.book_name, None, "yours", path, failure=f"REFUSED, {failure.message}",
                      path=path, task_name=name)
    if not task.checks:
        return Choice(task.book_name, learner, "yours",
                      f"{path} (not graded: this version of the grader has no task {name})")
    verdicts = grade(task, learner, "book", path)
    failed = [v for v in verdicts if not v.ok]
    if failed:
        failure = failed[0].failure
        mistake = f"; likely mistake: {failure.mistake.name}" if failure.mistake is not None else ""
        return Choice(task.book_name, learner, "yours", path,
                      failure=f"REFUSED, it fails the check '{failed[0].check}' ({failure.message}{mistake})",
                      path=path, task_name=name)
    return Choice(task.book_name, learner, "yours", f"{path} (passes its {len(verdicts)} checks)")


def choose_components(folder):
    """{book name: Choice} for Affine, Relu, SoftmaxWithLoss and SGD."""
    return {book_name: choose(folder, name, book_name) for name, book_name in COMPONENTS}


class TwoLayerNet:
    """The book's chapter-5 network (``ch05/two_layer_net.py``) built from the layer classes given.

    ``params`` holds W1, b1, W2, b2; the Affine layers keep the same arrays, so
    an optimizer that updates ``params`` in place (``params[key] -= ...``, as the
    book's SGD does) updates the layers.
    """

    def __init__(self, affine, relu, softmax_with_loss, input_size=INPUT, hidden_size=HIDDEN,
                 output_size=OUTPUT, weight_init_std=WEIGHT_INIT_STD):
        self.params = {
            "W1": weight_init_std * np.random.randn(input_size, hidden_size),
            "b1": np.zeros(hidden_size),
            "W2": weight_init_std * np.random.randn(hidden_size, output_size),
            "b2": np.zeros(output_size),
        }
        self.affine1 = affine(self.params["W1"], self.params["b1"])
        self.relu1 = relu()
        self.affine2 = affine(self.params["W2"], self.params["b2"])
        self.layers = [self.affine1, self.relu1, self.affine2]
        self.last_layer = softmax_with_loss()
        for layer in (self.affine1, self.affine2):
            if getattr(layer, "W", None) is not self.params["W1" if layer is self.affine1 else "W2"]:
                raise ValueError("your Affine keeps a copy of W (or no self.W): the optimizer updates the "
                                 "network's parameters in place, as the book's does, so Affine.__init__ must "
                                 "keep the array it is given (self.W = W, self.b = b)")

    def predict(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        return self.last_layer.forward(self.predict(x), t)

    def accuracy(self, x, t, batch_size=10000):
        """The share of ``x`` whose highest score is the true class (``t`` one-hot), in batches."""
        labels = np.argmax(t, axis=1) if t.ndim != 1 else t
        right = 0
        for start in range(0, len(x), batch_size):
            scores = self.predict(x[start:start + batch_size])
            right += int(np.sum(np.argmax(scores, axis=1) == labels[start:start + batch_size]))
        return right / len(x)

    def gradient(self, x, t):
        """Backpropagation as the book's ``gradient``: (grads {W1, b1, W2, b2}, the minibatch's loss)."""
        loss = self.loss(x, t)
        dout = self.last_layer.backward(1)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        grads = {"W1": self.affine1.dW, "b1": self.affine1.db, "W2": self.affine2.dW, "b2": self.affine2.db}
        return grads, loss


def _mnist(args):
    """MNIST as the book loads it for chapter 5: float32 pixels in [0, 1], one-hot float64 labels."""
    from ..data import load_data

    class Options:  # what load_data reads of the parsed arguments
        data_dir, download, dataset, dtype = args.data_dir, args.download, "mnist", "float32"

    (x_train, t_train), (x_test, t_test) = load_data(Options, flatten=True)
    one_hot = np.eye(OUTPUT)
    return (x_train, one_hot[t_train]), (x_test, one_hot[t_test])


def _check_in_place(network, before):
    """The optimizer must update ``params`` in place: the layers keep the arrays ``before`` names."""
    for key, array in before.items():
        if network.params[key] is not array:
            raise ValueError(f"your SGD.update replaced params[{key!r}] with a new array instead of changing it "
                             f"in place (params[key] -= lr * grads[key], as the book's): the layers keep the old "
                             f"arrays, so the network would never learn")


def train_two_layer(args):
    """The command: choose the components, refuse a learner file that fails its check, train, report."""
    print(f"two_layer: chapter 5's TwoLayerNet(784, 50, 10), SGD lr {LEARNING_RATE}, batch {BATCH_SIZE}, "
          f"{args.iters} iterations, seed {args.seed}; the layers from {args.with_dir}:")
    choices = choose_components(args.with_dir)
    for choice in choices.values():
        print(choice.line)
    refused = [c for c in choices.values() if c.failure is not None]
    if refused:
        names = ", ".join(c.path for c in refused)
        fixes = "; ".join(f"python scripts/practice.py check {c.task_name}" for c in refused)
        raise ValueError(f"not training with {names}, which fails its check: {fixes} says what is wrong "
                         f"(or move the file out of {args.with_dir} to train with the project's "
                         f"{', '.join(c.book_name for c in refused)})")
    yours = [c.book_name for c in choices.values() if c.whose == "yours"]

    (x_train, t_train), (x_test, t_test) = _mnist(args)
    np.random.seed(args.seed)
    network = TwoLayerNet(choices["Affine"].cls, choices["Relu"].cls, choices["SoftmaxWithLoss"].cls)
    optimizer = choices["SGD"].cls(lr=LEARNING_RATE)
    train_size = x_train.shape[0]
    iter_per_epoch = max(train_size // BATCH_SIZE, 1)
    started = time.perf_counter()
    with progress_bar(args.iters, not args.no_progress, leave=False) as bar:
        for i in range(args.iters):
            batch_mask = np.random.choice(train_size, BATCH_SIZE)
            grads, loss = network.gradient(x_train[batch_mask], t_train[batch_mask])
            before = dict(network.params)
            optimizer.update(network.params, grads)
            _check_in_place(network, before)
            if not np.isfinite(loss):
                raise FloatingPointError(f"the loss is {float(loss)} at iteration {i}: a layer computes "
                                         f"something the grader's inputs did not expose")
            if i % iter_per_epoch == 0:
                say(f"iteration {i:>5} (epoch {i // iter_per_epoch:>2}): train accuracy "
                    f"{network.accuracy(x_train, t_train):.4f}, test accuracy {network.accuracy(x_test, t_test):.4f}")
            advance(bar, float(loss))
    seconds = time.perf_counter() - started
    accuracy = network.accuracy(x_test, t_test)
    whose = f"your {', '.join(yours)}" if yours else "the project's layers (none of yours in the workspace)"
    print(f"test accuracy {accuracy:.4f} after {args.iters} iterations ({seconds:.1f} s), with {whose}")
    return 0
