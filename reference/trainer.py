"""The book's ``Trainer`` (``common/trainer.py``) driving the PyTorch backend.

The training loop is backend-neutral: minibatches are drawn from the NumPy
arrays with the same seeded generator, so both backends see the same batches.
Only the optimizers differ: these drive ``torch.optim``.
"""
from scratch.trainer import Trainer as _NumpyTrainer

from . import optimizer as optimizers

__all__ = ["Trainer"]


class Trainer(_NumpyTrainer):
    """Trains a ``reference`` network with a ``reference`` optimizer (``torch.optim``)."""

    optimizer_module = optimizers
