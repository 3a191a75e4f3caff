"""Saving and loading network parameters as ``.npz`` files, in the book's key names.

The file format is backend-neutral, so this module re-exports the NumPy
backend's reader and writer; the networks convert between arrays and tensors.
"""
from scratch.serialization import (CONFIG_KEY, LAYOUT_KEY, is_book_file, load_config, load_params, save_params,
                                   write_atomically)

__all__ = ["save_params", "load_params", "load_config", "is_book_file", "write_atomically", "LAYOUT_KEY", "CONFIG_KEY"]
