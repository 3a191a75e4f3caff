"""Half precision (8.3.4, the book's ch08/half_float_network.py): SimpleConvNet and DeepConvNet
built with dtype='float16' compute in float16 from the first layer to the last in both
backends, agree with each other and with float64 to float16's precision, and the book's
trained weights lose (almost) no accuracy in float16.

Tolerance. float16 keeps 11 significant bits: unit roundoff u = 2^-11 ~ 4.9e-4
(spacing 2^-10 ~ 1e-3). Both backends accumulate the sums of their products in
float32 (NumPy's float16 matmul loop and PyTorch's CPU kernels alike) and round
each layer's output to float16 once, so every rounding stage (the input, 6
convolutions, 2 affine layers of DeepConvNet) adds about one u relative to that
layer's scale, and later layers can amplify it by their gain. RTOL16 = 2^-7 =
16 u ~ 7.8e-3, measured against max |score| (``assert_close``'s atol) because a
score near 0 is a difference of large terms. Measured: at most ~1.5 u (7.3e-4)
between the backends and ~1.7 u (8.5e-4) against float64. A computation in
float32 rounded only at the end would pass this bound too, so
``test_every_layer_outputs_float16`` checks the dtype after every layer.
"""
import numpy as np
import torch
from parameterized import parameterized

import reference
import scratch
from conftest import assert_close, book_weight_file, requires_book_weights, to_numpy
from mnist_support import requires_mnist, small_mnist

F16 = np.dtype(np.float16)
RTOL16 = 2.0 ** -7  # 16 unit roundoffs of float16, see above
MODELS = [("SimpleConvNet", "SimpleConvNet"), ("DeepConvNet", "DeepConvNet")]
BOOK_FILES = {"SimpleConvNet": "ch07_simple_convnet_params.npz", "DeepConvNet": "ch08_deep_convnet_params.npz"}
# Random weights: He's scale for SimpleConvNet too, so that scores are O(1) rather than ~1e-3.
RANDOM_INIT = {"SimpleConvNet": {"weight_init_std": "he"}, "DeepConvNet": {}}


def networks(cls_name, dtypes, source=None, seed=0):
    """{(backend, dtype): network} with the same weights: ``source`` (a file) or NumPy's float64 draw."""
    kwargs = {} if source else RANDOM_INIT[cls_name]
    master = getattr(scratch, cls_name)(dtype=np.float64, seed=seed, **kwargs)
    if source:
        master.load_params(source)
    weights = {name: p.copy() for name, p in master.params.items()}
    nets = {}
    for dtype in dtypes:
        for package in (scratch, reference):
            net = getattr(package, cls_name)(dtype=dtype, seed=seed, **kwargs)
            net.load_params(weights)
            nets[package.__name__, np.dtype(dtype).name] = net
    return nets


def scores(net, x):
    with torch.no_grad():
        return to_numpy(net.predict(x))


def random_images(n, seed=1):
    return np.random.default_rng(seed).random((n, 1, 28, 28)).astype(np.float16)


def assert_float16_agreement(nets, x16):
    """Scores in float16 on both sides, within RTOL16 of each other and of float64; same classes."""
    exact = scores(nets["scratch", "float64"], x16.astype(np.float64))
    y_numpy, y_torch = scores(nets["scratch", "float16"], x16), scores(nets["reference", "float16"], x16)
    assert y_numpy.dtype == y_torch.dtype == F16
    assert np.all(np.isfinite(y_numpy)) and np.all(np.isfinite(y_torch))
    assert_close(y_numpy, y_torch, F16, rtol=RTOL16, what="float16 scores, NumPy vs PyTorch")
    assert_close(y_numpy, exact.astype(F16), F16, rtol=RTOL16, what="NumPy float16 vs float64")
    assert_close(y_torch, exact.astype(F16), F16, rtol=RTOL16, what="PyTorch float16 vs float64")
    # the class must agree wherever float64's best score leads the second by more than both errors
    top2 = np.sort(exact, axis=1)[:, -2:]
    clear = top2[:, 1] - top2[:, 0] > 2 * RTOL16 * np.max(np.abs(exact))
    assert clear.sum() >= len(x16) // 2, "too few clear-cut samples for the class check to mean anything"
    for name, y in (("NumPy", y_numpy), ("PyTorch", y_torch)):
        agree = y.argmax(axis=1) == exact.argmax(axis=1)
        assert np.all(agree[clear]), f"{name} float16 changes the class of samples {np.flatnonzero(clear & ~agree)}"


@parameterized.expand([(f"{model}_{backend}", model, backend)
                       for model, _ in MODELS for backend in ("scratch", "reference")])
def test_every_layer_outputs_float16(_, cls_name, backend):
    """No layer upcasts: float16 in, float16 out of each of them (a float64 constant would show here)."""
    net = getattr(scratch if backend == "scratch" else reference, cls_name)(dtype="float16", seed=0)
    x = random_images(2)
    with torch.no_grad():
        for name, layer in net.layers.items():
            x = layer.forward(x, False) if name.startswith("Dropout") else layer.forward(x)
            assert to_numpy(x).dtype == F16, f"{backend} {cls_name}.{name} returned {to_numpy(x).dtype}"
        assert to_numpy(net.predict(random_images(2))).dtype == F16


@parameterized.expand(MODELS)
def test_float16_random_weights_agree(_, cls_name):
    assert_float16_agreement(networks(cls_name, ["float64", "float16"]), random_images(8))


@parameterized.expand(MODELS)
@requires_mnist
@requires_book_weights
def test_float16_book_weights_agree_on_mnist(_, cls_name):
    nets = networks(cls_name, ["float64", "float16"], source=book_weight_file(BOOK_FILES[cls_name]))
    _, (x_test, _) = small_mnist(1, 100, np.float32, flatten=False)
    assert_float16_agreement(nets, x_test.astype(np.float16))


# NumPy has no BLAS for float16 (DeepConvNet: ~5 s per 100 images), so NumPy's DeepConvNet is
# checked on the 100 images of test_float16_book_weights_agree_on_mnist only (its classes equal
# float64's wherever the top two scores are not within the float16 tolerance).
ACCURACY_CASES = [("SimpleConvNet_scratch", "SimpleConvNet", scratch, 1000),
                  ("SimpleConvNet_reference", "SimpleConvNet", reference, 1000),
                  ("DeepConvNet_reference", "DeepConvNet", reference, 1000)]


@parameterized.expand(ACCURACY_CASES)
@requires_mnist
@requires_book_weights
def test_float16_accuracy_of_the_book_weights(_, cls_name, package, n):
    """As the book's 0.9935 -> 0.9935: float16 costs at most 0.5% (here: on the first n test images)."""
    source = book_weight_file(BOOK_FILES[cls_name])
    _, (x_test, t_test) = small_mnist(1, n, np.float32, flatten=False)
    accuracy = {}
    for dtype, x in (("float32", x_test), ("float16", x_test.astype(np.float16))):
        net = getattr(package, cls_name)(dtype=dtype, seed=0)
        net.load_params(source)
        accuracy[dtype] = net.accuracy(x, t_test)
    assert accuracy["float32"] > 0.95, f"the book's weights score {accuracy['float32']} in float32"
    assert abs(accuracy["float16"] - accuracy["float32"]) <= 0.005, accuracy
