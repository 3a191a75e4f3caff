"""Conversions shared by the PyTorch backend: NumPy in, tensors out, autograd for gradients."""
import numpy as np
import torch

__all__ = ["as_tensor", "as_float_tensor", "track", "backprop", "torch_dtype", "as_param", "to_numpy"]


def as_tensor(x):
    """A tensor for ``x`` (tensors pass through; NumPy arrays are wrapped without a copy)."""
    if isinstance(x, torch.Tensor):
        return x
    a = np.asarray(x)
    if not (a.flags.c_contiguous and a.flags.writeable):
        a = a.copy()
    return torch.from_numpy(a)


def as_float_tensor(x, name="x"):
    """Like ``as_tensor``, with integers and booleans turned into float64."""
    x = as_tensor(x)
    if x.is_complex():
        raise TypeError(f"{name} must be real, got {x.dtype}")
    return x if x.is_floating_point() else x.to(torch.float64)


def track(x):
    """``x`` as a float tensor autograd can differentiate with respect to.

    The output of an earlier layer already is one; raw data becomes a leaf.
    """
    x = as_float_tensor(x)
    if not x.requires_grad:
        x = x.detach().requires_grad_(True)
    return x


def backprop(out, inputs, dout):
    """Gradients of ``out`` with respect to ``inputs``, given dL/d(out) = ``dout``: autograd."""
    dout = torch.as_tensor(dout, dtype=out.dtype)
    if dout.shape != out.shape:
        dout = dout.expand(out.shape)
    return torch.autograd.grad(out, inputs, grad_outputs=dout, retain_graph=True)


def torch_dtype(dtype):
    """A torch dtype from 'float32', np.float32, torch.float32 and the like."""
    if isinstance(dtype, torch.dtype):
        if not dtype.is_floating_point:
            raise TypeError(f"parameters must be floating point, got {dtype}")
        return dtype
    if isinstance(dtype, str) and dtype.startswith("torch."):
        dtype = dtype[len("torch."):]
    name = np.dtype(dtype).name  # np.float32 (a class), np.dtype('float32') or 'float32'
    if not hasattr(torch, name) or not getattr(torch, name).is_floating_point:
        raise TypeError(f"parameters must be floating point, got {name}")
    return getattr(torch, name)


def as_param(value):
    """A parameter tensor with ``requires_grad``: shared if already one, else a copy of ``value``."""
    if isinstance(value, torch.Tensor) and value.requires_grad:
        return value
    return as_float_tensor(value).detach().clone().requires_grad_(True)


def to_numpy(x):
    """A NumPy array for a tensor, array or scalar (detached, on the CPU)."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)
