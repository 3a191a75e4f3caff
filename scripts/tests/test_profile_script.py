"""scripts/profile_step.py: a per-layer profile of a scratch training step, run as a user runs it.

The profiler wraps the scratch classes' methods, so it always runs in its own process here.
"""
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import scratch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(*args):
    return subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "profile_step.py"), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)


def rows(stdout):
    """layer label -> (calls, forward ms, backward ms, total ms)."""
    table = {}
    for line in stdout.splitlines():
        match = re.match(r"^(\S.*?)\s{2,}(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+[\d.]+%", line)
        if match:
            table[match.group(1)] = tuple(float(g) for g in match.groups()[1:])
    return table


def conv_flops(network, batch):
    """2 * multiply-adds of every convolution's products in one step, counted from the network itself."""
    total = 0.0
    convs = [layer for layer in _layers(network) if isinstance(layer, scratch.Convolution)]
    x = np.zeros((batch, 1, 28, 28), np.float32)
    network.predict(x)  # fills each layer's x
    for conv in convs:
        FN, C, FH, FW = conv.W.shape
        N, _, H, W = conv.x.shape
        OH, OW = (H + 2 * conv.pad - FH) // conv.stride + 1, (W + 2 * conv.pad - FW) // conv.stride + 1
        total += 2.0 * FN * C * FH * FW * N * OH * OW * (3 if conv.need_dx else 2)
    return total, len(convs)


def _layers(network):
    for layer in network.layers.values():
        yield layer
        for name in ("conv1", "conv2"):
            if hasattr(layer, name):
                yield getattr(layer, name)
        if getattr(layer, "projection", None):
            yield layer.projection[0]


def test_resnet_profile_counts_every_convolution_and_its_work():
    result = run("--model", "resnet", "--batch-size", "4", "--steps", "2", "--threads", "1")
    assert result.returncode == 0, result.stderr
    table = rows(result.stdout)
    convs = {name: row for name, row in table.items() if name.startswith("Convolution")}
    flops, count = conv_flops(scratch.ResNet(seed=0), 4)
    assert sum(row[0] for row in convs.values()) == count  # every convolution, each called once per step
    for name in ("BatchNormalization", "Relu", "ResidualBlock", "Residual", "Adam"):
        assert name in table, name
    assert all(row[3] >= 0 for row in table.values())
    affine = 2.0 * 4 * 64 * 10 * 3  # the classifier: forward and two backward products
    [work] = re.findall(r"matrix-product work: ([\d.]+) GFLOP per step", result.stdout)
    assert float(work) == pytest.approx((flops + affine) / 1e9, abs=6e-4)
    assert re.search(r"\d+\.\d GFLOP/s \(the practical peak\)", result.stdout)


def test_inference_profile_has_no_backward():
    result = run("--model", "simple_convnet", "--inference", "--threads", "1")
    assert result.returncode == 0, result.stderr
    table = rows(result.stdout)
    assert table["Convolution 30x1x5x5 s1 p0"][0] == 100  # 10000 images in batches of 100
    assert all(row[2] == 0 for row in table.values())  # backward ms


@pytest.mark.parametrize("args", [["--steps", "0"], ["--model", "nope"], ["--threads", "-1"]])
def test_bad_arguments_are_one_line_errors(args):
    result = run(*args)
    assert result.returncode == 2 and "error:" in result.stderr
