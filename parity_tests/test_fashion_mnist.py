"""Tests for Fashion-MNIST beside MNIST: ``load_fashion_mnist`` (scratch.mnist, re-exported by
reference.mnist). The scripts' ``--dataset fashion_mnist``: scripts/tests/test_fashion_mnist_scripts.py.

Two groups:

* with the real data (``@requires_fashion_mnist``: set DLFS_DATA_DIR to a
  directory containing FashionMNIST/raw/): shapes, dtypes, labels, the class
  balance, the published pixel mean, the files' MD5s, torchvision's reader as
  a third opinion;
* always (tmp_path, no network): the errors name Fashion-MNIST and its folder,
  the download goes through torchvision's FashionMNIST, the class names.
"""

import functools
import hashlib
from pathlib import Path

import numpy as np
import pytest

import reference.mnist
import scratch.mnist
from scratch.mnist import FASHION_MNIST_CLASSES, load_fashion_mnist, load_mnist

from mnist_support import MNIST_DIR

FASHION_SKIP_REASON = "set DLFS_DATA_DIR to a directory containing FashionMNIST/raw/ to run this test"
requires_fashion_mnist = pytest.mark.skipif(not MNIST_DIR, reason=FASHION_SKIP_REASON)

# From /work/shared/README.md (Zalando's published checksums of the uncompressed files).
MD5 = {
    "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
    "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
    "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
    "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
}
PUBLISHED_MEAN = 72.94 / 255  # the training images' mean grey value, 0.286


@functools.lru_cache(maxsize=None)
def real(normalize=True, flatten=True, one_hot_label=False):
    """load_fashion_mnist on the real data, cached; root=None so DLFS_DATA_DIR is used."""
    return load_fashion_mnist(normalize=normalize, flatten=flatten, one_hot_label=one_hot_label, download=False)


def fashion_raw():
    return Path(MNIST_DIR) / "FashionMNIST" / "raw"


# ---------------------------------------------------------------------------
# With the real data
# ---------------------------------------------------------------------------

@requires_fashion_mnist
@pytest.mark.parametrize("options, x_tail, x_dtype, t_tail, t_dtype", [
    (dict(), (784,), np.float32, (), np.int64),
    (dict(normalize=False, flatten=False), (1, 28, 28), np.uint8, (), np.int64),
    (dict(flatten=False, one_hot_label=True), (1, 28, 28), np.float32, (10,), np.float32),
], ids=["default", "raw_unflat", "unflat_onehot"])
def test_shapes_and_dtypes(options, x_tail, x_dtype, t_tail, t_dtype):
    (x_train, t_train), (x_test, t_test) = real(**options)
    for x, t, n in ((x_train, t_train, 60000), (x_test, t_test, 10000)):
        assert x.shape == (n, *x_tail) and x.dtype == x_dtype
        assert t.shape == (n, *t_tail) and t.dtype == t_dtype
    if options.get("normalize", True):
        assert x_train.min() == 0.0 and x_train.max() == 1.0
    else:
        assert x_train.min() == 0 and x_train.max() == 255


@requires_fashion_mnist
def test_labels_are_balanced_classes():
    (_, t_train), (_, t_test) = real()
    assert t_train.min() == 0 and t_train.max() == 9 and t_test.min() == 0 and t_test.max() == 9
    assert np.bincount(t_train, minlength=10).tolist() == [6000] * 10
    assert np.bincount(t_test, minlength=10).tolist() == [1000] * 10
    (_, onehot), _ = real(one_hot_label=True)
    assert np.array_equal(onehot.argmax(axis=1), t_train) and np.all(onehot.sum(axis=1) == 1)


@requires_fashion_mnist
def test_pixel_mean_is_the_published_one():
    (x_train, _), _ = real()
    mean = float(x_train.mean(dtype=np.float64))
    assert abs(mean - PUBLISHED_MEAN) < 1e-3, mean
    (raw_train, _), _ = real(normalize=False)
    np.testing.assert_allclose(raw_train.reshape(60000, 784) / np.float32(255), x_train, rtol=1e-6)


@requires_fashion_mnist
def test_raw_files_have_the_published_md5():
    for name, digest in MD5.items():
        with open(fashion_raw() / name, "rb") as f:
            assert hashlib.md5(f.read()).hexdigest() == digest, name


@requires_fashion_mnist
def test_torchvision_reads_the_same_arrays():
    """torchvision.datasets.FashionMNIST(root, download=False), a reader independent of ours."""
    from torchvision.datasets import FashionMNIST

    theirs = [FashionMNIST(MNIST_DIR, train=train, download=False) for train in (True, False)]
    ours = real(normalize=False, flatten=False)
    for (x, t), ds in zip(ours, theirs):
        assert np.array_equal(x.reshape(ds.data.shape), ds.data.numpy())
        assert np.array_equal(t, ds.targets.numpy())
    assert tuple(theirs[0].classes) == FASHION_MNIST_CLASSES


@requires_fashion_mnist
def test_it_is_not_mnist():
    """The Fashion-MNIST folder is read, not MNIST's: the same shapes, other images."""
    (x_fashion, t_fashion), _ = real(normalize=False)
    (x_mnist, t_mnist), _ = load_mnist(normalize=False, download=False)
    assert x_fashion.shape == x_mnist.shape
    assert not np.array_equal(x_fashion, x_mnist) and not np.array_equal(t_fashion, t_mnist)


# ---------------------------------------------------------------------------
# Always: scripts' options and names, errors, the class names
# ---------------------------------------------------------------------------


def test_missing_folder_gives_one_clear_line(tmp_path):
    with pytest.raises(FileNotFoundError) as caught:
        load_fashion_mnist(root=tmp_path, download=False)
    message = str(caught.value)
    assert message.startswith(f"Fashion-MNIST not found in {tmp_path / 'FashionMNIST' / 'raw'} "
                              f"(missing: train-images-idx3-ubyte")
    assert "download=False" in message and "\n" not in message
    assert "DIR/FashionMNIST/raw/" in message and "load_fashion_mnist()" in message
    assert not (tmp_path / "FashionMNIST").exists()


def test_download_goes_through_torchvision_fashion_mnist(tmp_path, monkeypatch):
    from torchvision.datasets import MNIST, FashionMNIST

    called = []

    def download(self):
        called.append(type(self))
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz:\nHTTP 503")

    monkeypatch.setattr(MNIST, "download", download)  # FashionMNIST inherits it
    with pytest.raises(FileNotFoundError) as caught:
        load_fashion_mnist(root=tmp_path, download=True)
    assert called == [FashionMNIST]
    message = str(caught.value)
    assert message.startswith(f"Fashion-MNIST not found in {tmp_path / 'FashionMNIST' / 'raw'} and the download "
                              f"failed (RuntimeError: Error downloading")
    assert "\n" not in message


def test_corrupt_file_names_fashion_mnist(tmp_path):
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "t10k-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08")
    with pytest.raises(ValueError) as caught:
        load_fashion_mnist(root=tmp_path, download=False)
    assert str(caught.value).startswith(f"Fashion-MNIST file {raw / 't10k-labels-idx1-ubyte'} is corrupt: "
                                        f"truncated: expected 10008 bytes, found 3 bytes")


def test_labels_outside_0_to_9_are_named_class_indices(tmp_path):
    path = tmp_path / "labels"
    path.write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x02\x03\x0c")
    with pytest.raises(ValueError, match="Fashion-MNIST file .* labels must be class indices 0..9, but 1 of 2"):
        scratch.mnist._read_idx_labels(str(path), dataset=scratch.mnist._FASHION_MNIST)
    with pytest.raises(ValueError, match="^MNIST file .* labels must be digits 0..9, but 1 of 2"):
        scratch.mnist._read_idx_labels(str(path))


def test_class_names_and_reference_mirror():
    assert FASHION_MNIST_CLASSES == ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                     "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
    from torchvision.datasets import FashionMNIST
    assert tuple(FashionMNIST.classes) == FASHION_MNIST_CLASSES
    assert reference.mnist.load_fashion_mnist is load_fashion_mnist
    assert reference.mnist.FASHION_MNIST_CLASSES is FASHION_MNIST_CLASSES


def test_skip_reason_is_visible():
    assert requires_fashion_mnist.kwargs["reason"] == FASHION_SKIP_REASON
    assert "DLFS_DATA_DIR" in FASHION_SKIP_REASON and "FashionMNIST/raw/" in FASHION_SKIP_REASON
