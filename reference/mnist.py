"""MNIST loading for the PyTorch reference: the same loader as ``scratch.mnist``.

Data loading is backend-neutral, so this module simply re-exports
``load_mnist``, ``default_data_dir`` and ``DATA_DIR_ENV`` from
``scratch.mnist``.  They return NumPy arrays; the torch code converts them
to tensors itself (e.g. ``torch.from_numpy(x_train)``), so both packages are
guaranteed to see exactly the same data.
"""

from scratch.mnist import DATA_DIR_ENV, default_data_dir, load_mnist

__all__ = ["DATA_DIR_ENV", "default_data_dir", "load_mnist"]
