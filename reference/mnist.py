"""MNIST loading for the PyTorch reference: the same loader as ``scratch.mnist``.

Data loading is backend-neutral, so this module simply re-exports
``load_mnist``, ``load_fashion_mnist``, ``FASHION_MNIST_CLASSES``,
``default_data_dir`` and ``DATA_DIR_ENV`` from ``scratch.mnist``.  They
return NumPy arrays; the torch code converts them to tensors itself (e.g.
``torch.from_numpy(x_train)``), so both packages are guaranteed to see
exactly the same data.
"""

from scratch.mnist import DATA_DIR_ENV, FASHION_MNIST_CLASSES, default_data_dir, load_fashion_mnist, load_mnist

__all__ = ["DATA_DIR_ENV", "FASHION_MNIST_CLASSES", "default_data_dir", "load_fashion_mnist", "load_mnist"]
