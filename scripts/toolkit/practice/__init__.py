"""Practice mode (``scripts/practice.py``): the learner writes each function and layer of the book, the grader checks it.

A task is one function or class of the book (``affine`` is ``Affine``,
``step_function`` is ``step_function``). ``start`` writes its skeleton into
the learner's workspace (``./practice/<task>.py``): the book's signature, a
docstring with the formula and the shapes, and ``raise NotImplementedError``
where the learner writes. ``check`` grades the file against the book's code
(``scratch.book``; ``--semantics pytorch``: ``scratch``), against PyTorch and,
for backward passes, against a numerical gradient and autograd, on inputs
chosen to expose the classic mistakes. At the first failure it names the
likely mistake and the line of the book it concerns.

    task.py        Task and Mistake: what a task is, what a mistake looks like
    grader.py      running a task's checks: verdicts, comparisons, diagnoses, the learner's exceptions
    workspace.py   the learner's folder: loading their file, writing a skeleton, each task's status
    tasks/         the tasks, one module per chapter (``tasks/ch5.py``: MulLayer ... SoftmaxWithLoss)
    training.py    ``train two_layer --with practice/``: chapter 5's network with the learner's layers
    compare.py     ``compare NAME``: the learner's file beside the project's version in the terminal
"""
