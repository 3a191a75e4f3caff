"""Fast plug-ins: subclasses of the readable layers that compute the same numbers faster.

The readable layers (``scratch.Convolution``, ``scratch.Pooling``,
``scratch.BatchNormalization``, ``scratch.RoIPooling``) are the algorithm as the book (or the
paper) writes it, written to be read.
Each class here has the same constructor and attributes and returns the same
numbers (tests prove it to 1e-12 in float64, with the same tie choices), and
says in a comment what its speed trick buys, measured. The networks use these
by default; ``readable=True`` builds them from the readable layers instead.
"""
from .batch_normalization import BatchNormalization
from .convolution import Convolution, Pooling
from .roi_pooling import RoIPooling

__all__ = ["Convolution", "Pooling", "BatchNormalization", "RoIPooling"]
