"""The chapter-3 network: 784-50-100-10, sigmoid, sigmoid, softmax (3.6.2).

Inference only: its weights come from a file, e.g. the book's
``ch03_sample_weight.npz``.
"""
import numpy as np

from .checks import dtype_of
from .functions import sigmoid, softmax
from .network_base import Network
from .serialization import load_params

__all__ = ["ThreeLayerNet"]


class ThreeLayerNet(Network):
    """a1 = x W1^T + b1, z1 = sigmoid(a1), ..., y = softmax(z2 W3^T + b3).

    ``weight_file`` is an ``.npz`` or the book's pickle (read safely) with keys W1, W2, W3, b1, b2, b3.
    """

    def __init__(self, weight_file, dtype=np.float32):
        self.dtype = dtype_of(dtype)
        loaded = load_params(weight_file)
        names = ("W1", "b1", "W2", "b2", "W3", "b3")
        missing = [n for n in names if n not in loaded]
        if missing:
            raise KeyError(f"{weight_file} lacks {missing}")
        self.params = {n: np.array(loaded[n], dtype=self.dtype) for n in names}

    def predict(self, x):
        p = self.params
        x = self._as_input(x)
        z1 = sigmoid(x @ p["W1"].T + p["b1"])
        z2 = sigmoid(z1 @ p["W2"].T + p["b2"])
        return softmax(z2 @ p["W3"].T + p["b3"])
