"""Saving and loading network parameters as ``.npz`` files, in the book's key names.

The file format is backend-neutral, so this module re-exports the NumPy
backend's reader and writer; the networks convert between arrays and tensors.
"""
from scratch.serialization import LAYOUT_KEY, is_book_file, load_params, save_params

__all__ = ["save_params", "load_params", "is_book_file", "LAYOUT_KEY"]
