"""Tests for the MNIST loader (scratch.mnist, re-exported by reference.mnist).

Two groups:

* with the real data (``@requires_mnist``: set DLFS_DATA_DIR to a directory
  containing MNIST/raw/): shapes, dtypes, value ranges, labels, one-hot,
  flatten, the known class counts, and that every way of loading agrees;
* always (synthetic IDX files under tmp_path, no network): corrupt files,
  missing files, failed downloads, and the NumPy fallback reader.
"""

import functools
import os
import struct
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path
from urllib.error import URLError

import numpy as np
import pytest
from parameterized import parameterized

import reference.mnist
import scratch.mnist
from scratch.mnist import DATA_DIR_ENV, default_data_dir, load_mnist

from mnist_support import MNIST_DIR, MNIST_SKIP_REASON, requires_mnist, small_mnist

REPO_ROOT = Path(__file__).resolve().parents[1]

# Class counts of the genuine MNIST files (digits 0..9).
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]

FILE_NAMES = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
]


# ---------------------------------------------------------------------------
# Helpers: write IDX files
# ---------------------------------------------------------------------------

def write_idx_images(path, images, magic=2051, count=None, rows=28, cols=28):
    """Write uint8 images (N, 28, 28) as an IDX file; header fields can be faked."""
    images = np.asarray(images, dtype=np.uint8)
    count = len(images) if count is None else count
    with open(path, "wb") as f:
        f.write(struct.pack(">IIII", magic, count, rows, cols))
        f.write(images.tobytes())


def write_idx_labels(path, labels, magic=2049, count=None):
    """Write labels (N,) as an IDX file; header fields can be faked."""
    labels = np.asarray(labels, dtype=np.uint8)
    count = len(labels) if count is None else count
    with open(path, "wb") as f:
        f.write(struct.pack(">II", magic, count))
        f.write(labels.tobytes())


def assert_same(a, b):
    """Exact equality of shape, dtype and values (np.testing is slow on 47M pixels)."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype, f"dtypes differ: {a.dtype} vs {b.dtype}"
    assert a.shape == b.shape, f"shapes differ: {a.shape} vs {b.shape}"
    assert np.array_equal(a, b), f"values differ at {np.argwhere(a != b)[:5].tolist()}"


def raw_dir(root):
    path = Path(root) / "MNIST" / "raw"
    path.mkdir(parents=True, exist_ok=True)
    return path


def hide_torchvision(monkeypatch):
    """Make ``import torchvision.datasets`` raise ImportError."""
    monkeypatch.setitem(sys.modules, "torchvision", None)
    monkeypatch.setitem(sys.modules, "torchvision.datasets", None)


# ---------------------------------------------------------------------------
# With the real data
# ---------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def real(normalize=True, flatten=True, one_hot_label=False, dtype=np.float32):
    """load_mnist on the real data, cached; root=None so DLFS_DATA_DIR is used."""
    return load_mnist(normalize=normalize, flatten=flatten, one_hot_label=one_hot_label,
                      download=False, dtype=dtype)


@requires_mnist
class TestRealShapes(unittest.TestCase):
    # name, load_mnist options, image shape after N, image dtype, label shape after N, label dtype
    @parameterized.expand([
        ("default", dict(), (784,), np.float32, (), np.int64),
        ("raw_unflat", dict(normalize=False, flatten=False), (1, 28, 28), np.uint8, (), np.int64),
        ("onehot_f64", dict(one_hot_label=True, dtype=np.float64), (784,), np.float64, (10,), np.float64),
        ("unflat_onehot", dict(flatten=False, one_hot_label=True), (1, 28, 28), np.float32, (10,), np.float32),
        ("raw_onehot", dict(normalize=False, one_hot_label=True), (784,), np.uint8, (10,), np.float32),
    ])
    def test_shapes_and_dtypes(self, _name, options, x_tail, x_dtype, t_tail, t_dtype):
        (x_train, t_train), (x_test, t_test) = real(**options)
        for x, t, n in ((x_train, t_train, 60000), (x_test, t_test, 10000)):
            self.assertEqual(x.shape, (n,) + x_tail)
            self.assertEqual(x.dtype, x_dtype)
            self.assertEqual(t.shape, (n,) + t_tail)
            self.assertEqual(t.dtype, t_dtype)


@requires_mnist
def test_normalized_values_are_raw_over_255():
    (x_train, _), (x_test, _) = real()
    (r_train, _), (r_test, _) = real(normalize=False)
    for x, r in ((x_train, r_train), (x_test, r_test)):
        assert x.min() == 0.0 and x.max() == 1.0
        assert_same(x, r.astype(np.float32) / np.float32(255))


@requires_mnist
def test_unnormalized_is_uint8_0_to_255():
    (x_train, _), (x_test, _) = real(normalize=False)
    for x in (x_train, x_test):
        assert x.dtype == np.uint8
        assert x.min() == 0 and x.max() == 255
    # MNIST digits are mostly white background: about 19% of pixels are ink.
    assert 0.15 < np.mean(x_train > 0) < 0.25


@requires_mnist
def test_labels_and_class_counts():
    (_, t_train), (_, t_test) = real()
    assert t_train.min() == 0 and t_train.max() == 9
    assert t_test.min() == 0 and t_test.max() == 9
    test_counts = np.bincount(t_test, minlength=10)
    assert test_counts.sum() == 10000
    assert test_counts.tolist() == TEST_COUNTS
    assert np.bincount(t_train, minlength=10).tolist() == TRAIN_COUNTS
    assert t_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


@requires_mnist
def test_one_hot_matches_labels():
    (_, t_train), (_, t_test) = real()
    (_, T_train), (_, T_test) = real(one_hot_label=True)
    for t, T in ((t_train, T_train), (t_test, T_test)):
        assert T.shape == (len(t), 10)
        assert set(np.unique(T).tolist()) == {0.0, 1.0}
        assert np.all(T.sum(axis=1) == 1.0)
        assert_same(T.argmax(axis=1), t)


@requires_mnist
def test_flatten_and_unflatten_agree():
    (x_train, _), (x_test, _) = real()
    (u_train, _), (u_test, _) = real(flatten=False)
    assert_same(u_train.reshape(60000, 784), x_train)
    assert_same(u_test.reshape(10000, 784), x_test)
    # the 28x28 grids really are digits: dark border, ink in the middle
    assert u_train[:, 0, 0, :].mean() < 0.01
    assert u_train[:, 0, 14, 10:18].mean() > 0.2


def test_reference_loader_is_the_scratch_loader():
    """Both backends get identical arrays because reference.mnist re-exports scratch.mnist's
    loader (loading is backend-neutral); that identity is the whole contract, and comparing the
    arrays of one function with themselves would test nothing."""
    for name in scratch.mnist.__all__:
        assert getattr(reference.mnist, name) is getattr(scratch.mnist, name), name


def torchvision_arrays(root):
    """((images, labels) train, test) as ``torchvision.datasets.MNIST(root, download=False)`` reads
    them: a second reader, independent of load_mnist (which reads present files with NumPy)."""
    from torchvision.datasets import MNIST

    return tuple((ds.data.numpy(), ds.targets.numpy())
                 for ds in (MNIST(root, train=train, download=False) for train in (True, False)))


def assert_matches_torchvision(loaded, theirs, one_hot_label=False):
    """``loaded``: load_mnist(normalize=False, ...) arrays; ``theirs``: torchvision_arrays."""
    for (x, t), (x_tv, t_tv) in zip(loaded, theirs):
        assert x_tv.dtype == np.uint8 and t_tv.dtype == np.int64
        assert_same(x.reshape(x_tv.shape), x_tv)
        if one_hot_label:
            assert_same(t, np.eye(10, dtype=np.float32)[t_tv])
        else:
            assert_same(t, t_tv)


@requires_mnist
def test_numpy_reader_matches_torchvision_on_real_data(monkeypatch):
    """load_mnist, with torchvision hidden (NumPy reads the files), against torchvision's reader."""
    theirs = torchvision_arrays(MNIST_DIR)
    hide_torchvision(monkeypatch)
    ours = load_mnist(normalize=False, flatten=False, root=MNIST_DIR, download=False)
    assert [x.shape for x, _ in ours] == [(60000, 1, 28, 28), (10000, 1, 28, 28)]
    assert_matches_torchvision(ours, theirs)


@requires_mnist
def test_real_files_pass_the_checks():
    raw = Path(MNIST_DIR) / "MNIST" / "raw"
    sizes = {name: (raw / name).stat().st_size for name in FILE_NAMES}
    assert sizes == {
        "train-images-idx3-ubyte": 47040016,
        "train-labels-idx1-ubyte": 60008,
        "t10k-images-idx3-ubyte": 7840016,
        "t10k-labels-idx1-ubyte": 10008,
    }
    assert scratch.mnist._validate_present_files(str(raw)) == []


@requires_mnist
def test_small_mnist_subset():
    (x, t), (xt, tt) = small_mnist(n_train=100, n_test=20, dtype=np.float64)
    (x_full, t_full), (xt_full, tt_full) = real()
    assert x.shape == (100, 784) and x.dtype == np.float64
    assert xt.shape == (20, 784) and tt.shape == (20,)
    np.testing.assert_allclose(x, x_full[:100], rtol=1e-6)
    assert_same(t, t_full[:100])
    assert_same(tt, tt_full[:20])
    x[:] = -1  # callers get copies: the cache is not affected
    (x2, _), _ = small_mnist(n_train=100, n_test=20, dtype=np.float64)
    assert x2.min() == 0.0
    (x32, _), _ = small_mnist(n_train=100, n_test=20, dtype=np.float32)
    assert x32.dtype == np.float32


def test_requires_mnist_reason_is_visible():
    assert requires_mnist.kwargs["reason"] == MNIST_SKIP_REASON
    assert "DLFS_DATA_DIR" in MNIST_SKIP_REASON and "MNIST/raw/" in MNIST_SKIP_REASON
    assert requires_mnist.args[0] == (not MNIST_DIR)


# ---------------------------------------------------------------------------
# Without the real data: corrupt files
# ---------------------------------------------------------------------------

def _truncated_train_images(path):
    write_idx_images(path, np.zeros((100, 28, 28)), count=60000)


def _short_header(path):
    path.write_bytes(b"\x00\x00\x08")


def _images_with_label_magic(path):
    write_idx_images(path, np.zeros((60000, 28, 28)), magic=2049)


def _labels_with_image_magic(path):
    write_idx_labels(path, np.zeros(10000), magic=2051)


def _tiny_file_at_full_name(path):
    write_idx_images(path, np.zeros((3, 28, 28)))


def _wrong_image_size(path):
    write_idx_images(path, np.zeros((10000, 28, 27)), cols=27)


def _trailing_bytes(path):
    write_idx_labels(path, np.zeros(60000))
    with open(path, "ab") as f:
        f.write(b"\x00")


class TestCorruptFiles(unittest.TestCase):
    """A bad file gives a ValueError naming it, before any download is tried."""

    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.root = Path(tmp.name)
        self.raw = raw_dir(self.root)

    # name, file, how to spoil it, words the message must contain
    @parameterized.expand([
        ("truncated", "train-images-idx3-ubyte", _truncated_train_images,
         ["truncated", "expected 47040016 bytes", "found 78416"]),
        ("short_header", "t10k-labels-idx1-ubyte", _short_header,
         ["truncated", "expected 10008 bytes", "found 3 bytes"]),
        ("image_magic", "train-images-idx3-ubyte", _images_with_label_magic,
         ["magic number 2051", "found 2049"]),
        ("label_magic", "t10k-labels-idx1-ubyte", _labels_with_image_magic,
         ["magic number 2049", "found 2051"]),
        ("tiny_count", "train-images-idx3-ubyte", _tiny_file_at_full_name,
         ["expected 60000 images", "found 3"]),
        ("wrong_shape", "t10k-images-idx3-ubyte", _wrong_image_size,
         ["expected 28x28", "found 28x27"]),
        ("trailing", "train-labels-idx1-ubyte", _trailing_bytes,
         ["trailing bytes", "expected 60008 bytes", "found 60009"]),
    ])
    def test_corrupt_file_raises_value_error(self, _name, file_name, spoil, words):
        path = self.raw / file_name
        spoil(path)
        for download in (False, True):
            with self.assertRaises(ValueError) as caught:
                load_mnist(root=self.root, download=download)
            message = str(caught.exception)
            self.assertIn(str(path), message)
            self.assertIn("Delete it", message)
            for word in words:
                self.assertIn(word, message)


# ---------------------------------------------------------------------------
# Without the real data: missing files and failed downloads
# ---------------------------------------------------------------------------

def _assert_points_at_local_copy(message):
    assert "DLFS_DATA_DIR=DIR" in message
    assert "--data-dir DIR" in message
    assert "root=DIR" in message
    assert "MNIST/raw/" in message


def test_missing_files_without_download(tmp_path):
    with pytest.raises(FileNotFoundError) as caught:
        load_mnist(root=tmp_path, download=False)
    message = str(caught.value)
    assert str(tmp_path / "MNIST" / "raw") in message
    assert "download=False" in message
    assert "train-images-idx3-ubyte" in message
    _assert_points_at_local_copy(message)
    assert not (tmp_path / "MNIST").exists()  # nothing was created or downloaded


def test_root_defaults_to_env_var(tmp_path, monkeypatch):
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path))
    assert default_data_dir() == str(tmp_path)
    with pytest.raises(FileNotFoundError, match="download=False") as caught:
        load_mnist(download=False)
    assert str(tmp_path / "MNIST" / "raw") in str(caught.value)


def test_default_data_dir_without_env_var(monkeypatch):
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    assert default_data_dir() == os.path.join(os.path.expanduser("~"), ".cache", "dlfs", "data")
    assert DATA_DIR_ENV == "DLFS_DATA_DIR"
    assert reference.mnist.default_data_dir is default_data_dir
    assert reference.mnist.DATA_DIR_ENV == DATA_DIR_ENV


def test_unreachable_mirror_gives_file_not_found(tmp_path, monkeypatch):
    from torchvision.datasets import MNIST

    # Port 9 (discard) on this machine: the connection is refused at once.
    monkeypatch.setattr(MNIST, "mirrors", ["http://127.0.0.1:9/"])
    with pytest.raises(FileNotFoundError) as caught:
        load_mnist(root=tmp_path, download=True)
    message = str(caught.value)
    assert str(tmp_path / "MNIST" / "raw") in message
    assert "download failed" in message
    assert "127.0.0.1:9" in message
    assert "\n" not in message
    _assert_points_at_local_copy(message)


@pytest.mark.parametrize("error", [
    URLError("[Errno -3] Temporary failure in name resolution"),
    OSError("[Errno 101] Network is unreachable"),
    RuntimeError("Error downloading train-images-idx3-ubyte.gz:\nTried https://x/, got:\nHTTP 503\n"),
], ids=["URLError", "OSError", "RuntimeError"])
def test_failed_download_gives_file_not_found(tmp_path, monkeypatch, error):
    from torchvision.datasets import MNIST

    def download(self):
        raise error

    monkeypatch.setattr(MNIST, "download", download)
    with pytest.raises(FileNotFoundError) as caught:
        load_mnist(root=tmp_path, download=True)
    message = str(caught.value)
    assert str(tmp_path / "MNIST" / "raw") in message
    assert "download failed" in message
    assert type(error).__name__ in message
    assert " ".join(str(error).split()) in message  # the reason, on one line
    assert "\n" not in message
    _assert_points_at_local_copy(message)
    assert caught.value.__cause__ is error


def test_missing_files_without_torchvision(tmp_path, monkeypatch):
    hide_torchvision(monkeypatch)
    with pytest.raises(FileNotFoundError) as caught:
        load_mnist(root=tmp_path, download=True)
    message = str(caught.value)
    assert "pip install torchvision" in message
    assert str(tmp_path / "MNIST" / "raw") in message
    _assert_points_at_local_copy(message)


def test_importing_scratch_mnist_does_not_need_torch():
    # torch and torchvision are blocked: importing them would raise ImportError
    code = (
        "import sys\n"
        "sys.modules['torch'] = None\n"
        "sys.modules['torchvision'] = None\n"
        "import scratch.mnist\n"
        "assert callable(scratch.mnist.load_mnist)\n"
        "print('ok')\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_public_api():
    assert scratch.mnist.__all__ == reference.mnist.__all__
    assert set(scratch.mnist.__all__) == {"DATA_DIR_ENV", "FASHION_MNIST_CLASSES", "default_data_dir",
                                          "load_fashion_mnist", "load_mnist"}


# ---------------------------------------------------------------------------
# Without the real data: the NumPy reader against torchvision's
# ---------------------------------------------------------------------------

def test_numpy_reader_matches_torchvision_reader_on_tiny_files(tmp_path):
    from torchvision.datasets.mnist import read_image_file, read_label_file

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(3, 28, 28), dtype=np.uint8)
    labels = np.array([7, 0, 9], dtype=np.uint8)
    write_idx_images(tmp_path / "tiny-images-idx3-ubyte", images)
    write_idx_labels(tmp_path / "tiny-labels-idx1-ubyte", labels)

    x = scratch.mnist._read_idx_images(str(tmp_path / "tiny-images-idx3-ubyte"))
    t = scratch.mnist._read_idx_labels(str(tmp_path / "tiny-labels-idx1-ubyte"))
    assert x.dtype == np.uint8 and x.shape == (3, 28, 28)
    assert t.dtype == np.int64 and t.tolist() == [7, 0, 9]
    assert_same(x, images)
    assert_same(x, read_image_file(str(tmp_path / "tiny-images-idx3-ubyte")).numpy())
    assert_same(t, read_label_file(str(tmp_path / "tiny-labels-idx1-ubyte")).numpy())
    x[0, 0, 0] = 1  # the array is writable

    # The same tiny file under a real MNIST name fails the count check.
    with pytest.raises(ValueError, match="expected 60000 images"):
        scratch.mnist._read_idx_images(str(tmp_path / "tiny-images-idx3-ubyte"), 60000)


@pytest.fixture(scope="module")
def fake_mnist_root(tmp_path_factory):
    """Four full-size, well-formed IDX files of random pixels and labels."""
    root = tmp_path_factory.mktemp("fake_mnist")
    raw = raw_dir(root)
    rng = np.random.default_rng(1)
    for split, n in (("train", 60000), ("t10k", 10000)):
        write_idx_images(raw / f"{split}-images-idx3-ubyte",
                         rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8))
        write_idx_labels(raw / f"{split}-labels-idx1-ubyte", rng.integers(0, 10, size=n))
    return root


@pytest.mark.parametrize("options", [
    dict(normalize=False, flatten=False),
    dict(normalize=False, flatten=True, one_hot_label=True),
], ids=["raw_unflat", "raw_onehot"])
def test_numpy_reader_matches_torchvision_on_full_size_files(fake_mnist_root, monkeypatch, options):
    """Random full-size files: load_mnist with torchvision hidden against torchvision's reader."""
    theirs = torchvision_arrays(fake_mnist_root)
    hide_torchvision(monkeypatch)
    ours = load_mnist(root=fake_mnist_root, download=False, **options)
    (x_train, _), (x_test, _) = ours
    assert len(x_train) == 60000 and len(x_test) == 10000
    assert_matches_torchvision(ours, theirs, one_hot_label=options.get("one_hot_label", False))
