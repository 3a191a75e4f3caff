"""What every network shares: accuracy, and saving and loading its ``params`` (tensors)."""
import torch

from .serialization import load_params as read_params_file
from .serialization import save_params as write_params_file
from ._tensor import as_tensor, to_numpy

__all__ = ["Network"]


class Network:
    """Base class: a subclass sets ``self.params`` (name -> tensor), ``self.dtype`` and ``predict``."""

    def _as_input(self, x):
        """The network's own dtype for its input (float32 images stay float32)."""
        x = as_tensor(x)
        if x.dtype != self.dtype:
            x = x.to(self.dtype)
        return x

    @torch.no_grad()
    def accuracy(self, x, t, batch_size=1000):
        """Fraction of samples whose highest score is the true class, evaluated in batches."""
        t = as_tensor(t)
        if t.ndim != 1:
            t = torch.argmax(t, dim=1)
        if len(x) != len(t):
            raise ValueError(f"{len(x)} samples but {len(t)} labels")
        correct = 0
        for i in range(0, len(x), batch_size):
            y = self.predict(x[i:i + batch_size])
            correct += int(torch.sum(torch.argmax(y, dim=1) == t[i:i + batch_size]))
        return correct / len(x)

    def save_params(self, path):
        """Save ``params`` to an ``.npz`` file (atomic write)."""
        write_params_file(path, {name: to_numpy(p) for name, p in self.params.items()})

    @torch.no_grad()
    def load_params(self, source):
        """Copy parameters from an ``.npz`` path or a dict into ``params``, in place.

        Every name must be present with the right shape; values are cast to the
        network's dtype. Book files (2-D weights stored (in, out)) are transposed.
        """
        new = read_params_file(source) if not isinstance(source, dict) else source
        missing, extra = sorted(set(self.params) - set(new)), sorted(set(new) - set(self.params))
        if missing or extra:
            raise KeyError(f"parameters do not fit this network: missing {missing}, unexpected {extra}")
        values = {name: as_tensor(new[name]).detach() for name in self.params}
        for name, param in self.params.items():  # check everything first: all or nothing
            if tuple(values[name].shape) != tuple(param.shape):
                raise ValueError(f"{name}: expected shape {tuple(param.shape)}, file has {tuple(values[name].shape)}")
        for name, param in self.params.items():
            param.copy_(values[name])
        return self
