"""A small VGG network (chapter 8.2.3), Simonyan and Zisserman, "Very deep convolutional networks
for large-scale image recognition", ICLR 2015, sized for 28x28 grayscale images:

    conv 3x3 (16) - relu - conv 3x3 (16) - relu - max pool 2x2      28x28 -> 14x14
    conv 3x3 (32) - relu - conv 3x3 (32) - relu - max pool 2x2      14x14 -> 7x7
    conv 3x3 (64) - relu - conv 3x3 (64) - relu - max pool 2x2      7x7 -> 3x3
    affine 256 - relu - dropout - affine 10 - softmax

As in the paper: only 3x3 convolutions with stride 1 and pad 1 (the map
keeps its size), ReLU after each, stacked in stages that each end in a 2x2
max pooling with stride 2 (section 2.1; a stage of two 3x3 convolutions
sees a 5x5 field, section 2.3); the width grows stage by stage; dropout 0.5
after the hidden fully connected layer (section 3.1). ``stages`` sets the
convolutions: one sequence of channel counts per stage. A map of odd size
loses its last row and column to the pooling (7x7 -> 3x3), as in PyTorch.

Where this differs from the paper: a few dozen maps instead of 64-512,
three stages instead of five, one hidden fully connected layer of 256
instead of two of 4096 (and no dropout before it), weights drawn with He's
rule and biases 0 (the paper: N(0, 0.01^2) or weights from a shallower
trained net), and inverted dropout.
"""
import numpy as np

from .checks import check_size
from .alexnet import LayerPlan, PlannedNetwork
from .dropout import check_ratio

__all__ = ["VGG"]


def check_stages(stages, who="VGG"):
    """A non-empty sequence of non-empty sequences of channel counts (integers >= 1)."""
    def sequence(s):
        return not isinstance(s, (str, bytes)) and hasattr(s, "__len__") and len(s) >= 1

    if not sequence(stages) or not all(sequence(s) for s in stages):
        raise ValueError(f"{who}: stages must be a non-empty sequence of stages, each a non-empty sequence "
                         f"of channel counts, got {stages!r}")
    return tuple(tuple(check_size(c, "stages", who) for c in stage) for stage in stages)


def vgg_plan(input_dim, stages, hidden_size, output_size, dropout_ratio):
    """The checked ``LayerPlan`` of a VGG network of these sizes."""
    stages = check_stages(stages)
    hidden_size = check_size(hidden_size, "hidden_size", "VGG")
    output_size = check_size(output_size, "output_size", "VGG")
    dropout_ratio = check_ratio(dropout_ratio)
    plan = LayerPlan("VGG", input_dim)
    for stage in stages:
        for channels in stage:
            plan.conv(channels, 3, 1)
            plan.relu()
        plan.pool(2, 2)
    plan.affine(hidden_size), plan.relu(), plan.dropout(dropout_ratio), plan.affine(output_size)
    return plan


class VGG(PlannedNetwork):
    """A small VGG network (Simonyan and Zisserman 2015) for 28x28 grayscale images; see the module docstring.

    ``stages``: the channel counts of the 3x3 convolutions, one sequence per
    stage, each stage followed by a 2x2 max pooling. Parameters W1, b1, ...:
    the convolutions in order (Wi (out, in, 3, 3)), then the hidden affine
    layer (hidden_size, features) and the output layer (output, hidden_size).
    """

    def __init__(self, input_dim=(1, 28, 28), stages=((16, 16), (32, 32), (64, 64)), hidden_size=256,
                 output_size=10, dropout_ratio=0.5, weight_init_std="he", dtype=np.float32, seed=None, readable=False):
        self.readable = readable
        self.stages = check_stages(stages)
        self._build(vgg_plan(input_dim, stages, hidden_size, output_size, dropout_ratio),
                    weight_init_std, dtype, seed)
