"""The chapter-3 network: 784-50-100-10, sigmoid, sigmoid, softmax (3.6.2), with PyTorch's operators.

Inference only: its weights come from a file, e.g. the book's
``ch03_sample_weight.npz``.
"""
import torch
import torch.nn.functional as F

from ._tensor import as_tensor, torch_dtype
from .network_base import Network
from .serialization import load_params

__all__ = ["ThreeLayerNet"]


class ThreeLayerNet(Network):
    """a1 = F.linear(x, W1, b1), z1 = sigmoid(a1), ..., y = softmax(F.linear(z2, W3, b3)).

    ``weight_file`` is an ``.npz`` or the book's pickle (read safely) with keys W1, W2, W3, b1, b2, b3.
    """

    def __init__(self, weight_file, dtype="float32"):
        self.dtype = torch_dtype(dtype)
        loaded = load_params(weight_file)
        names = ("W1", "b1", "W2", "b2", "W3", "b3")
        missing = [n for n in names if n not in loaded]
        if missing:
            raise KeyError(f"{weight_file} lacks {missing}")
        self.params = {n: as_tensor(loaded[n]).to(self.dtype).requires_grad_(True) for n in names}

    @torch.no_grad()
    def predict(self, x):
        p = self.params
        x = self._as_input(x)
        z1 = torch.sigmoid(F.linear(x, p["W1"], p["b1"]))
        z2 = torch.sigmoid(F.linear(z1, p["W2"], p["b2"]))
        return F.softmax(F.linear(z2, p["W3"], p["b3"]), dim=-1)
