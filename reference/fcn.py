"""Semantic segmentation (8.4), in PyTorch: the same FCN-8s-style network as ``scratch.fcn``.

The layers are ``reference.convolution`` / ``reference.layers`` /
``reference.join`` (``F.conv2d``, ``F.max_pool2d``, ``torch.relu``, ``+``),
``reference.deconvolution`` (``F.conv_transpose2d``) for the two learnt x2
upsamplings and for the fixed x2 bilinear one (the plain transposed
convolution by ``bilinear_kernel``, the definition that ``scratch``'s
separable ``BilinearUpsampling`` reproduces), and ``reference.pixel_loss``
(``F.cross_entropy`` on 4-D scores). The gradient is one autograd pass from
the loss; the two sums and the branches at pool2 and pool1 are autograd's
business. The checks
are ``scratch.fcn``'s and the metrics ``scratch.segmentation_metrics``'s
(counting, re-exported by ``reference.segmentation_metrics``). The
convolutions' initial weights are drawn with ``torch.nn.init`` from a
``torch.Generator`` (the same scales as the NumPy network, other numbers);
the score layers start at zero and Up2 and Up1 at the bilinear kernel in both.
``load_params`` copies one network's weights into the other.
"""
from collections import OrderedDict

import numpy as np
import torch
import torch.nn.functional as F

from scratch.checks import check_backward, check_batch, check_count, check_size
from scratch.fcn import (COARSE, IGNORE_INDEX, TO_POOL1, TO_POOL2, bilinear_upsampling_geometry, check_fcn_args,
                         check_masks, check_scene_images, check_upsampling_input)
from scratch.segmentation_metrics import confusion_matrix, mean_iou, per_class_iou, pixel_accuracy

from ._tensor import as_tensor, backprop, to_numpy, torch_dtype, track
from .deconvolution import Deconvolution, bilinear_kernel
from .join import Residual
from .layers import Relu
from .network_base import Network
from .pixel_loss import PixelSoftmaxWithLoss
from .weight_init import make_rng

__all__ = ["FCN", "BilinearUpsampling", "IGNORE_INDEX"]


class BilinearUpsampling:
    """A fixed bilinear x f upsampling, ``F.conv_transpose2d(x, bilinear_kernel(C, 2f - f % 2), stride=f,
    padding=ceil((f - 1) / 2))``: no parameters; backward asks autograd for dx."""

    def __init__(self, channels, factor, dtype="float64"):
        self.channels = check_size(channels, "channels", "BilinearUpsampling")
        self.factor, self.size, self.pad = bilinear_upsampling_geometry(factor)
        self.dtype = torch_dtype(dtype)
        self.kernel = bilinear_kernel(self.channels, self.size, self.dtype)
        self.x = None
        self.out = None

    def forward(self, x):
        x = as_tensor(x)
        check_upsampling_input(x, self.channels, self.dtype)
        self.x = track(x)
        self.out = F.conv_transpose2d(self.x, self.kernel, stride=self.factor, padding=self.pad)
        return self.out

    def backward(self, dout):
        dout = check_backward(as_tensor(dout), self.out, "BilinearUpsampling")
        check_upsampling_input(dout, self.channels, self.dtype, "BilinearUpsampling.backward")
        (dx,) = backprop(self.out, (self.x,), dout)
        return dx


class FCN(Network):
    """FCN-8s in miniature (``scratch.fcn.FCN``'s docstring: the diagram with shapes, the initialisation,
    the backward through the sums, the branches and the upsamplings)."""

    def __init__(self, input_dim=(1, 64, 64), channels=(16, 32, 64), num_classes=11, weight_init_std="he",
                 dtype="float32", seed=None, readable=False):
        self.readable = readable  # PyTorch's operators are one code path: accepted for the same signature
        self.input_dim, channels, K = check_fcn_args(input_dim, channels, num_classes)
        (C1, C2, C3), C = channels, self.input_dim[0]
        self.channels, self.num_classes = channels, K
        self.dtype = torch_dtype(dtype)
        rng = make_rng(seed)
        zeros = lambda *shape: torch.zeros(shape, dtype=self.dtype, requires_grad=True)  # noqa: E731
        conv = lambda *shape: self._init_weight(shape, weight_init_std, rng)  # noqa: E731
        self.params = {
            "W1": conv(C1, C, 3, 3), "b1": zeros(C1), "W2": conv(C2, C1, 3, 3), "b2": zeros(C2),
            "W3": conv(C3, C2, 3, 3), "b3": zeros(C3), "W4": conv(C3, C3, 3, 3), "b4": zeros(C3),
            "W_score": zeros(K, C3, 1, 1), "b_score": zeros(K),
            "W_skip2": zeros(K, C2, 1, 1), "b_skip2": zeros(K), "W_skip1": zeros(K, C1, 1, 1), "b_skip1": zeros(K),
            "W_up2": bilinear_kernel(K, 4, self.dtype).requires_grad_(True),
            "W_up1": bilinear_kernel(K, 4, self.dtype).requires_grad_(True),
        }
        p = self.params
        no_bias = torch.zeros(K, dtype=self.dtype)  # the upsamplings have none (a constant, not a parameter)
        self.layers = OrderedDict()
        for i, pooled in ((1, True), (2, True), (3, True), (4, False)):
            self.layers[f"Conv{i}"] = self._convolution(p[f"W{i}"], p[f"b{i}"], 1, 1)
            self.layers[f"Relu{i}"] = Relu()
            if pooled:
                self.layers[f"Pool{i}"] = self._pooling(2, 2, 2, 0)
        self.layers["Conv1"].need_dx = False  # nothing upstream needs dL/dx of the images
        self.layers["Score"] = self._convolution(p["W_score"], p["b_score"], 1, 0)
        self.layers["Up2"] = Deconvolution(p["W_up2"], no_bias, stride=2, pad=1)
        self.layers["Skip2"] = self._convolution(p["W_skip2"], p["b_skip2"], 1, 0)
        self.layers["Fuse2"] = Residual()  # out = up2 + skip2
        self.layers["Up1"] = Deconvolution(p["W_up1"], no_bias, stride=2, pad=1)
        self.layers["Skip1"] = self._convolution(p["W_skip1"], p["b_skip1"], 1, 0)
        self.layers["Fuse1"] = Residual()  # out = up1 + skip1
        self.layers["Up0"] = BilinearUpsampling(K, 2, self.dtype)
        self.last_layer = PixelSoftmaxWithLoss(ignore_index=IGNORE_INDEX)

    def _as_images(self, x):
        x = self._as_input(x)
        check_scene_images(x.shape, self.input_dim)
        return x

    def _forward(self, names, x):
        for name in names:
            x = self.layers[name].forward(x)
        return x

    def predict(self, x):
        """Class scores (N, K, H, W) at every pixel of the images (N, *input_dim)."""
        x = self._as_images(x)
        L = self.layers
        pool1 = self._forward(TO_POOL1, x)  # on to Conv2 and to Skip1
        pool2 = self._forward(TO_POOL2, pool1)  # on to Conv3 and to Skip2
        up2 = self._forward(COARSE, pool2)
        fuse2 = L["Fuse2"].forward(up2, L["Skip2"].forward(pool2))
        fuse1 = L["Fuse1"].forward(L["Up1"].forward(fuse2), L["Skip1"].forward(pool1))
        return L["Up0"].forward(fuse1)

    def loss(self, x, masks):
        """Mean per-pixel cross-entropy of the scores against the masks (N, H, W), IGNORE_INDEX pixels left out."""
        x = self._as_images(x)
        masks = check_masks(to_numpy(masks), len(x), self.input_dim[1:], self.num_classes)
        return self.last_layer.forward(self.predict(x), masks)

    def gradient(self, x, masks):
        """Every parameter's gradient in one autograd pass from the loss; the loss is kept as ``last_loss``."""
        return self._autograd_gradient(self.loss(x, masks))

    @torch.no_grad()
    def segment(self, x, batch_size=100):
        """The highest-scoring class at every pixel (``torch.argmax``), a NumPy (N, H, W) int64 array as
        ``scratch``'s, predicted in batches."""
        x = as_tensor(x)
        check_batch(x.shape, "FCN.segment")
        batch_size = check_count(batch_size, "batch_size", 1)
        return torch.cat([torch.argmax(self.predict(x[i:i + batch_size]), dim=1)
                          for i in range(0, len(x), batch_size)]).numpy().astype(np.int64)

    def confusion(self, x, masks, batch_size=100):
        """The confusion matrix (K, K) of ``segment`` against the masks, summed over batches; images
        holding NaN or inf are refused (a ValueError naming how many)."""
        x = as_tensor(x)
        n = check_batch(x.shape, "FCN")
        check_scene_images(x.shape, self.input_dim)
        masks = check_masks(to_numpy(masks), n, self.input_dim[1:], self.num_classes)
        if x.is_floating_point():
            bad = int(torch.count_nonzero(~torch.isfinite(x).reshape(n, -1).all(dim=1)))
            if bad:
                raise ValueError(f"FCN: {bad} of {n} images hold NaN or inf")
        C = np.zeros((self.num_classes, self.num_classes), dtype=np.int64)
        for i in range(0, n, check_count(batch_size, "batch_size", 1)):
            predicted = self.segment(x[i:i + batch_size], batch_size)
            C += confusion_matrix(predicted, masks[i:i + batch_size], self.num_classes, IGNORE_INDEX)
        return C

    def evaluate(self, x, masks, batch_size=100):
        """{"pixel_accuracy", "mean_iou", "per_class_iou" (K,), "confusion" (K, K)} on the images."""
        C = self.confusion(x, masks, batch_size)
        return {"pixel_accuracy": pixel_accuracy(C), "mean_iou": mean_iou(C), "per_class_iou": per_class_iou(C),
                "confusion": C}

    def accuracy(self, x, masks, batch_size=100):
        """Pixel accuracy: the share of (counted) pixels whose predicted class is the mask's."""
        return pixel_accuracy(self.confusion(x, masks, batch_size))
