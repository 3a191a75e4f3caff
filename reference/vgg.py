"""A small VGG network (chapter 8.2.3) in PyTorch, Simonyan and Zisserman, "Very deep
convolutional networks for large-scale image recognition", ICLR 2015, sized for 28x28 grayscale:

    [conv 3x3, pad 1 - relu] x 2 - max pool 2x2, three stages of 16, 32, 64 maps,
    affine 256 - relu - dropout - affine 10 - softmax

The layers compute with PyTorch's operators; ``gradient`` is one autograd
pass over the whole loss. See ``scratch.vgg`` for ``stages`` and where this
differs from the paper.
"""
from scratch.vgg import check_stages, vgg_plan

from .alexnet import PlannedNetwork

__all__ = ["VGG"]


class VGG(PlannedNetwork):
    """A small VGG network (Simonyan and Zisserman 2015) for 28x28 grayscale images; parameters as ``scratch.VGG``."""

    def __init__(self, input_dim=(1, 28, 28), stages=((16, 16), (32, 32), (64, 64)), hidden_size=256,
                 output_size=10, dropout_ratio=0.5, weight_init_std="he", dtype="float32", seed=None, readable=False):
        self.readable = readable
        self.stages = check_stages(stages)
        self._build(vgg_plan(input_dim, stages, hidden_size, output_size, dropout_ratio),
                    weight_init_std, dtype, seed)
