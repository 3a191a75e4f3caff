"""Perceptron logic gates (chapter 2).

A perceptron fires when w1*x1 + w2*x2 + b > 0 (2.3.3). Each gate takes two
scalars or two equally shaped arrays of 0/1 inputs and returns 0/1 as int64.
"""
import numpy as np

from .checks import check_same_shape

__all__ = ["AND", "NAND", "OR", "XOR", "perceptron"]


def perceptron(x1, x2, w, b):
    """y = 1 if w[0]*x1 + w[1]*x2 + b > 0 else 0 (equation 2.2)."""
    x1, x2 = np.asarray(x1, dtype=np.float64), np.asarray(x2, dtype=np.float64)
    check_same_shape(x1, x2, "x1", "x2")
    x = np.stack([x1, x2], axis=-1)
    return (x @ np.asarray(w, dtype=np.float64) + b > 0).astype(np.int64)


def AND(x1, x2):
    """AND gate: w = (0.5, 0.5), b = -0.7 (2.3.2)."""
    return perceptron(x1, x2, (0.5, 0.5), -0.7)


def NAND(x1, x2):
    """NAND gate: the AND gate with every sign flipped, w = (-0.5, -0.5), b = 0.7."""
    return perceptron(x1, x2, (-0.5, -0.5), 0.7)


def OR(x1, x2):
    """OR gate: w = (0.5, 0.5), b = -0.2."""
    return perceptron(x1, x2, (0.5, 0.5), -0.2)


def XOR(x1, x2):
    """XOR as a two-layer perceptron (2.5.2): XOR(x1, x2) = AND(NAND(x1, x2), OR(x1, x2))."""
    return AND(NAND(x1, x2), OR(x1, x2))
