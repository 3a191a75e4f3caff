"""Semantic segmentation (8.4): a small fully convolutional network, FCN-8s style, for 64x64 digit scenes.

    net = FCN(seed=0)                        # scenes (N, 1, 64, 64), 10 digit classes + background (10)
    grads = net.gradient(images, masks)      # masks (N, 64, 64) int64: a class per pixel
    classes = net.segment(images)            # (N, 64, 64) int64: the highest-scoring class per pixel
    scores = net.evaluate(images, masks)     # pixel accuracy, per-class IoU, mean IoU

FCN (Long, Shelhamer and Darrell, "Fully convolutional networks for semantic
segmentation", CVPR 2015) in two lines: a classification convnet without its
affine layers scores every class at every position of a coarse map, and
learnt upsampling ("deconvolution") brings the scores back to the picture's
size, and on the way skip connections add the scores of finer, earlier maps
so that the coarse "what" gets the finer "where". (The book's figure 8-19.)
FCN-8s takes two such skips (from pool4 and pool3 in the paper's VGG16, here
from pool2 and pool1). With only the first (FCN-16s, this network before)
the last upsampling was x4 from 16x16, and a least-squares fit of the best
16x16 score maps to the digit scenes' masks through a fixed x4 bilinear
upsampling caps mean IoU near 0.65 on their thin strokes; from 32x32
through a x2 one, 0.92.
With both skips a 1500-step training reached mean IoU 0.74 on 500 test
scenes, where the FCN-16s version had reached 0.57; the full run reached
0.8531 on 2000 (docs/segmentation-detection.md).

The network's layers, shapes, initialisation and backward: ``FCN``'s docstring.

The loss is ``PixelSoftmaxWithLoss``: the mean cross-entropy over the
pixels. Mask labels are the classes 0..K-1 (for digit scenes: the digits
0-9 and BACKGROUND = 10) or ``IGNORE_INDEX`` = -100, a "don't care" pixel
that neither the loss nor the metrics count.

Parameters (``params``; convolution weights (FN, C, FH, FW), the deconvolutions'
(C_in, C_out, FH, FW) as ``F.conv_transpose2d``'s):

    W1 (C1, C, 3, 3), b1; W2 (C2, C1, 3, 3), b2; W3 (C3, C2, 3, 3), b3; W4 (C3, C3, 3, 3), b4
    W_score (K, C3, 1, 1), b_score (K,); W_skip2 (K, C2, 1, 1), b_skip2 (K,); W_skip1 (K, C1, 1, 1), b_skip1 (K,)
    W_up2 (K, K, 4, 4); W_up1 (K, K, 4, 4)

Speed (NumPy, float32, one BLAS thread on a 2-core machine shared with
other trainings, load 3.4 to 3.9): one training step (``gradient``) on a
batch of 16 scenes of 64x64 (segment.py's default) takes 0.09 s, on 32
scenes 0.19 s (medians of 12 steps; the forward pass alone 0.03 and 0.07 s),
about 1.2 times the FCN-16s version's 0.08 and 0.16 s measured beside it:
the price of the second skip and the second learnt deconvolution. With
``readable=True`` (the readable convolution and pooling) 0.3 s on 32 scenes.
The 16s version's last upsampling (x4) as an 8x8 ``Deconvolution`` had
taken half of a step's time, hence ``BilinearUpsampling``.
"""
from collections import OrderedDict

import numpy as np

from .checks import (check_backward, check_batch, check_count, check_floating, check_size, dtype_name, dtype_of,
                     nonfinite_samples)
from .deconvolution import Deconvolution, bilinear_kernel
from .join import Residual
from .layers import Relu
from .network_base import Network
from .pixel_loss import PixelSoftmaxWithLoss
from .segmentation_metrics import confusion_matrix, mean_iou, per_class_iou, pixel_accuracy
from .simple_convnet import check_input_dim
from .weight_init import make_rng

__all__ = ["FCN", "BilinearUpsampling", "IGNORE_INDEX"]

IGNORE_INDEX = -100  # a "don't care" mask pixel: PixelSoftmaxWithLoss's and F.cross_entropy's default

# The encoder's layers in the order of the forward pass, cut where the skips branch off: to pool1, on to
# pool2, then the coarse path to the coarse scores upsampled onto pool2's grid.
TO_POOL1 = ("Conv1", "Relu1", "Pool1")
TO_POOL2 = ("Conv2", "Relu2", "Pool2")
COARSE = ("Conv3", "Relu3", "Pool3", "Conv4", "Relu4", "Score", "Up2")


# --- checks, shared with reference.fcn (they read only .shape and .dtype, or take NumPy masks)

def check_fcn_args(input_dim, channels, num_classes, who="FCN"):
    """(C, H, W) with H and W multiples of 8 (three 2x2 poolings), three positive channel counts and
    num_classes >= 2. Returns (input_dim, channels, num_classes)."""
    input_dim = check_input_dim(input_dim, who)
    if input_dim[1] % 8 or input_dim[2] % 8:
        raise ValueError(f"{who}: input_dim {input_dim}: the height and width must be multiples of 8 "
                         f"(three 2x2 poolings, then three x2 upsamplings back to the input's size)")
    channels = tuple(channels)
    if len(channels) != 3:
        raise ValueError(f"{who}: channels must be three counts (C1, C2, C3), got {channels!r}")
    channels = tuple(check_size(c, "channels", who) for c in channels)
    return input_dim, channels, check_size(num_classes, "num_classes", who, minimum=2)


def check_scene_images(shape, input_dim, who="FCN"):
    """Images (N, *input_dim)."""
    if len(shape) != 4 or tuple(shape[1:]) != tuple(input_dim):
        raise ValueError(f"{who} expects images of shape (N, {', '.join(map(str, input_dim))}), "
                         f"got {tuple(shape)}")


def check_masks(masks, n, size, num_classes, who="FCN"):
    """Masks (n, H, W) of integer labels in [0, num_classes) or IGNORE_INDEX, for n images of
    ``size`` (H, W); returns them as an int64 NumPy array."""
    masks = np.asarray(masks)
    if masks.dtype.kind not in "iu":
        raise TypeError(f"{who} expects integer masks (a class index per pixel), got dtype {masks.dtype}")
    if masks.shape != (n, *size):
        raise ValueError(f"{who}: masks of shape {masks.shape} for {n} images of {size[0]}x{size[1]}; "
                         f"masks (N, H, W) = {(n, *size)} expected")
    bad = (masks != IGNORE_INDEX) & ((masks < 0) | (masks >= num_classes))
    if np.any(bad):
        raise ValueError(f"{who}: mask labels must lie in [0, {num_classes}) or be IGNORE_INDEX = {IGNORE_INDEX}, "
                         f"got {masks[bad][0]} ({int(np.count_nonzero(bad))} of {masks.size} outside)")
    return masks.astype(np.int64, copy=False)


def bilinear_upsampling_geometry(factor, who="BilinearUpsampling"):
    """FCN's x``factor`` upsampling deconvolution: (kernel size, pad) = (2 f - f % 2, ceil((f - 1) / 2)),
    which maps a side of n pixels to f * n (``bilinear_kernel``'s docstring)."""
    factor = check_count(factor, "factor", 1)
    return factor, 2 * factor - factor % 2, factor // 2


def check_upsampling_input(x, channels, dtype, who="BilinearUpsampling"):
    """Floating images (N, channels, h, w), N, h, w >= 1, of the layer's dtype."""
    check_floating(x, who)
    shape = tuple(x.shape)
    if len(shape) != 4 or shape[1] != channels or min(shape) < 1:
        raise ValueError(f"{who} expects (N, {channels}, h, w) input, got shape {shape}")
    if dtype_name(x.dtype) != dtype_name(dtype):
        raise TypeError(f"{who}: input is {dtype_name(x.dtype)} but the layer is {dtype_name(dtype)}")


class BilinearUpsampling:
    """A FIXED bilinear x f upsampling: exactly ``Deconvolution(bilinear_kernel(C, 2f - f % 2), zeros,
    stride=f, pad=ceil((f - 1) / 2))``, no parameters, computed in two small matrix products.

    The bilinear kernel is the outer product of a 1-D tent, t t^T, and acts on each channel on
    its own, so the deconvolution is separable: with U (f*h, h) the 1-D transposed convolution
    by t (U[i*f - pad + k, i] = t[k], the rows outside the output cut), per image and channel

        forward:   out = U_h x U_w^T            (N, C, f*h, f*w)
        backward:  dx  = U_h^T dout U_w         (a plain convolution of dout by the tent, as
                                                 Deconvolution's backward; no dW: nothing is learnt)

    The same numbers as the Deconvolution for a fraction of the work (for FCN's last upsampling,
    x2 from 32x32: col2im of 16 stamps per pixel for the 4x4 kernel against products with a
    64x32 matrix; the gap grows with f, as (2f)^2 against 2f).
    """

    def __init__(self, channels, factor, dtype=np.float64):
        self.channels = check_size(channels, "channels", "BilinearUpsampling")
        self.factor, self.size, self.pad = bilinear_upsampling_geometry(factor)
        self.dtype = dtype_of(dtype)
        self.x_shape = None
        self.out_shape = None
        self._U = {}

    def matrix(self, n):
        """U (f*n, n): the 1-D transposed convolution of n pixels by the tent."""
        if n not in self._U:
            factor = (self.size + 1) // 2
            center = factor - 1 if self.size % 2 == 1 else factor - 0.5
            taps = 1 - np.abs(np.arange(self.size) - center) / factor
            U = np.zeros((self.factor * n, n))
            for i in range(n):
                for k in range(self.size):
                    o = i * self.factor - self.pad + k
                    if 0 <= o < self.factor * n:
                        U[o, i] += taps[k]
            self._U[n] = U.astype(self.dtype)
        return self._U[n]

    def forward(self, x):
        x = np.asarray(x)
        check_upsampling_input(x, self.channels, self.dtype)
        N, C, h, w = self.x_shape = x.shape
        out = self.matrix(h) @ x @ self.matrix(w).T
        self.out_shape = out.shape
        return out

    def backward(self, dout):
        dout = check_backward(np.asarray(dout), self.out_shape, "BilinearUpsampling")
        check_upsampling_input(dout, self.channels, self.dtype, "BilinearUpsampling.backward")
        N, C, h, w = self.x_shape
        return self.matrix(h).T @ dout @ self.matrix(w)


class FCN(Network):
    """FCN-8s in miniature: conv-relu-pool encoder, 1x1 class scores, two x2 learnt upsamplings each
    followed by a skip from an earlier pooling (pool2, then pool1), a fixed bilinear x2, per-pixel
    softmax loss.

    The network (``channels`` = (C1, C2, C3), K = ``num_classes``; shapes for the defaults 16, 32, 64 and 11):

        images                                    (N,  1, 64, 64)
        Conv1 3x3 pad 1 - Relu - Pool 2x2         (N, 16, 32, 32) --- pool1 -------------------+
        Conv2 3x3 pad 1 - Relu - Pool 2x2         (N, 32, 16, 16) --- pool2 ----+              |
        Conv3 3x3 pad 1 - Relu - Pool 2x2         (N, 64,  8,  8)               |              |
        Conv4 3x3 pad 1 - Relu                    (N, 64,  8,  8)               |              |
        Score 1x1: the coarse class scores        (N, 11,  8,  8)               |              |
        Up2   Deconvolution 4x4, stride 2, pad 1  (N, 11, 16, 16)          Skip2 1x1           |
        Fuse2 Up2 + Skip2                         (N, 11, 16, 16) <-- (N, 11, 16, 16)          |
        Up1   Deconvolution 4x4, stride 2, pad 1  (N, 11, 32, 32)                         Skip1 1x1
        Fuse1 Up1 + Skip1                         (N, 11, 32, 32) <----------------------- (N, 11, 32, 32)
        Up0   bilinear x2, fixed (Deconvolution   (N, 11, 64, 64)
              4x4, stride 2, pad 1)
        PixelSoftmaxWithLoss against the masks    (N, 64, 64)

    The names count poolings: Up2 lands on pool2's grid, where Skip2 scores
    pool2, Up1 on pool1's, where Skip1 scores pool1, and Up0 on the image's.
    The receptive field of a coarse score is 38x38 pixels, enough to see a
    whole digit; Skip2's is 10x10 and Skip1's 4x4: pieces of stroke, on
    grids of 4 and 2 pixels where the coarse scores have 8. Up2, Up1 and Up0 start as bilinear interpolation
    (``bilinear_kernel``, each class upsampled on its own). As in FCN, Up2 and
    Up1 are learnt from there and the last upsampling stays fixed (FCN: "the
    final upsampling is fixed to bilinear"): a constant of the network, not a
    parameter, not saved. A fixed bilinear kernel is separable, so Up0 is
    computed by ``BilinearUpsampling``, two small matrix products per channel
    that give the Deconvolution's numbers (tested) at a fraction of its cost.
    No upsampling has a bias (FCN's have none; the score layers' biases do
    that job). The score layers Score, Skip2 and Skip1 start at zero (FCN's
    initialisation: random ones "yielded neither better performance nor faster
    convergence"), so an untrained network scores every class 0 everywhere,
    loss ln K; the convolutions are drawn with ``weight_init_std`` (He's by
    default).

    Backpropagation through the joints, from the loss back:

    * an upsampling: Deconvolution's backward is a plain convolution of dout
      with the same kernel (``scratch.deconvolution``), so Up0 hands Fuse1 the
      64x64 gradient gathered back to 32x32 (nothing to learn there), Up1 hands
      Fuse2 the 32x32 one gathered to 16x16 and Up2 hands Score the 16x16 one
      gathered to 8x8, each learnt one keeping its own dW;
    * a sum: Fuse1's out = up1 + skip1 passes dout unchanged to both branches
      (``Residual``'s backward), and so does Fuse2's out = up2 + skip2;
    * a branch point: where a map feeds two layers, the two gradients that
      come back are added before the gradient goes on down: pool2 feeds Conv3
      and Skip2, so dpool2 = dConv3 + dSkip2; pool1 feeds Conv2 and Skip1, so
      dpool1 = dConv2 + dSkip1 (dConv2 already holding what reached pool2 by
      both of its paths), then into Pool1 and Conv1.
    """

    def __init__(self, input_dim=(1, 64, 64), channels=(16, 32, 64), num_classes=11, weight_init_std="he",
                 dtype="float32", seed=None, readable=False):
        self.readable = readable
        self.input_dim, channels, K = check_fcn_args(input_dim, channels, num_classes)
        (C1, C2, C3), C = channels, self.input_dim[0]
        self.channels, self.num_classes = channels, K
        self.dtype = dtype_of(dtype)
        rng = make_rng(seed)
        zeros = lambda *shape: np.zeros(shape, dtype=self.dtype)  # noqa: E731
        conv = lambda *shape: self._init_weight(shape, weight_init_std, rng)  # noqa: E731
        self.params = {
            "W1": conv(C1, C, 3, 3), "b1": zeros(C1), "W2": conv(C2, C1, 3, 3), "b2": zeros(C2),
            "W3": conv(C3, C2, 3, 3), "b3": zeros(C3), "W4": conv(C3, C3, 3, 3), "b4": zeros(C3),
            "W_score": zeros(K, C3, 1, 1), "b_score": zeros(K),
            "W_skip2": zeros(K, C2, 1, 1), "b_skip2": zeros(K), "W_skip1": zeros(K, C1, 1, 1), "b_skip1": zeros(K),
            "W_up2": bilinear_kernel(K, 4, self.dtype), "W_up1": bilinear_kernel(K, 4, self.dtype),
        }
        p = self.params
        self.layers = OrderedDict()
        for i, pooled in ((1, True), (2, True), (3, True), (4, False)):
            self.layers[f"Conv{i}"] = self._convolution(p[f"W{i}"], p[f"b{i}"], 1, 1)
            self.layers[f"Relu{i}"] = Relu()
            if pooled:
                self.layers[f"Pool{i}"] = self._pooling(2, 2, 2, 0)
        self.layers["Conv1"].need_dx = False  # nothing upstream needs dL/dx of the images
        self.layers["Score"] = self._convolution(p["W_score"], p["b_score"], 1, 0)
        self.layers["Up2"] = Deconvolution(p["W_up2"], zeros(K), stride=2, pad=1)
        self.layers["Skip2"] = self._convolution(p["W_skip2"], p["b_skip2"], 1, 0)
        self.layers["Fuse2"] = Residual()  # out = up2 + skip2
        self.layers["Up1"] = Deconvolution(p["W_up1"], zeros(K), stride=2, pad=1)
        self.layers["Skip1"] = self._convolution(p["W_skip1"], p["b_skip1"], 1, 0)
        self.layers["Fuse1"] = Residual()  # out = up1 + skip1
        self.layers["Up0"] = BilinearUpsampling(K, 2, self.dtype)  # = Deconvolution(bilinear_kernel(K, 4), 0, 2, 1)
        self.last_layer = PixelSoftmaxWithLoss(ignore_index=IGNORE_INDEX)

    def _as_images(self, x):
        x = self._as_input(x)
        check_scene_images(x.shape, self.input_dim)
        return x

    def _forward(self, names, x):
        for name in names:
            x = self.layers[name].forward(x)
        return x

    def _backward(self, names, dout):
        for name in reversed(names):
            dout = self.layers[name].backward(dout)
        return dout

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
        masks = check_masks(masks, len(x), self.input_dim[1:], self.num_classes)
        return self.last_layer.forward(self.predict(x), masks)

    def gradient(self, x, masks):
        """Backpropagation; the loss of the forward pass is kept as ``last_loss``.

        Up0, then Fuse1 (the same dout to Up1 and Skip1), Up1, Fuse2 (the
        same dout to the coarse path and Skip2), the coarse path back to
        pool2, where the two gradients add, the second stage back to pool1,
        where two gradients add again, then the first stage.
        """
        self.last_loss = self.loss(x, masks)
        L = self.layers
        dup1, dskip1 = L["Fuse1"].backward(L["Up0"].backward(self.last_layer.backward(1)))
        dpool1_skip = L["Skip1"].backward(dskip1)
        dup2, dskip2 = L["Fuse2"].backward(L["Up1"].backward(dup1))
        dpool2_skip = L["Skip2"].backward(dskip2)
        dpool2 = self._backward(COARSE, dup2) + dpool2_skip
        dpool1 = self._backward(TO_POOL2, dpool2) + dpool1_skip
        self._backward(TO_POOL1, dpool1)
        grads = {}  # in params' order
        for i in range(1, 5):
            grads[f"W{i}"], grads[f"b{i}"] = L[f"Conv{i}"].dW, L[f"Conv{i}"].db
        for name, layer in (("score", "Score"), ("skip2", "Skip2"), ("skip1", "Skip1")):
            grads[f"W_{name}"], grads[f"b_{name}"] = L[layer].dW, L[layer].db
        grads["W_up2"], grads["W_up1"] = L["Up2"].dW, L["Up1"].dW
        return grads

    def segment(self, x, batch_size=100):
        """The highest-scoring class at every pixel, (N, H, W) int64, predicted in batches (the first
        of equal scores, as ``argmax``)."""
        x = np.asarray(x)
        check_batch(x.shape, "FCN.segment")
        batch_size = check_count(batch_size, "batch_size", 1)
        return np.concatenate([np.argmax(self.predict(x[i:i + batch_size]), axis=1)
                               for i in range(0, len(x), batch_size)]).astype(np.int64)

    def confusion(self, x, masks, batch_size=100):
        """The confusion matrix (K, K) of ``segment`` against the masks (``segmentation_metrics``), summed
        over batches; images holding NaN or inf are refused (a ValueError naming how many)."""
        x = np.asarray(x)
        n = check_batch(x.shape, "FCN")
        check_scene_images(x.shape, self.input_dim)
        masks = check_masks(masks, n, self.input_dim[1:], self.num_classes)
        bad = nonfinite_samples(x)
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
