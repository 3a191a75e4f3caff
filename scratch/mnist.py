"""Load the MNIST handwritten-digit data set (or Fashion-MNIST) as NumPy arrays.

This plays the role of the book's ``dataset/mnist.py``::

    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, flatten=True)

MNIST has 60,000 training and 10,000 test images of handwritten digits
0..9, each 28x28 pixels with grey values 0 (white) .. 255 (black).

Fashion-MNIST (Zalando) is its drop-in replacement: the same sizes, the same
file format and file names, 6,000 training and 1,000 test images of each of
ten kinds of clothing (``FASHION_MNIST_CLASSES``)::

    (x_train, t_train), (x_test, t_test) = load_fashion_mnist(normalize=True)

Both are read by the same code; only the folder, the name in messages and
the torchvision class that downloads them differ.

Where the files live
--------------------
The four uncompressed files are expected in torchvision's layout::

    DIR/MNIST/raw/train-images-idx3-ubyte
    DIR/MNIST/raw/train-labels-idx1-ubyte
    DIR/MNIST/raw/t10k-images-idx3-ubyte
    DIR/MNIST/raw/t10k-labels-idx1-ubyte

and Fashion-MNIST's, under the same names, in ``DIR/FashionMNIST/raw/``.
``DIR`` is the ``root`` argument, or else the ``DLFS_DATA_DIR`` environment
variable, or else ``~/.cache/dlfs/data``.  If the files are missing,
``torchvision.datasets.MNIST`` (``FashionMNIST``) downloads them (torchvision
is imported only then, so this module itself needs nothing but NumPy).  Files that are
present are checked and read directly with NumPy.

The file format (IDX)
---------------------
Each file is a big-endian header followed by raw unsigned bytes:

* images: magic 2051, number of images, rows (28), columns (28), then
  ``count * 28 * 28`` pixel bytes, row by row;
* labels: magic 2049, number of labels, then ``count`` label bytes.

Every file is checked (size and header) before it is used, and every label
(a class, 0..9) when it is read, so a truncated or damaged file gives a clear
error naming it instead of silently wrong data.
"""

import os
import struct
from dataclasses import dataclass

import numpy as np

__all__ = ["DATA_DIR_ENV", "FASHION_MNIST_CLASSES", "default_data_dir", "load_fashion_mnist", "load_mnist"]

DATA_DIR_ENV = "DLFS_DATA_DIR"

IMG_ROWS = 28
IMG_COLS = 28
IMG_SIZE = IMG_ROWS * IMG_COLS  # 784
NUM_CLASSES = 10

_IMAGE_MAGIC = 2051  # IDX: unsigned bytes, 3 dimensions
_LABEL_MAGIC = 2049  # IDX: unsigned bytes, 1 dimension
_IMAGE_HEADER = 16   # magic, count, rows, cols: four 4-byte integers
_LABEL_HEADER = 8    # magic, count: two 4-byte integers

# file name -> (kind, number of items it must hold)
_FILES = {
    "train-images-idx3-ubyte": ("images", 60000),
    "train-labels-idx1-ubyte": ("labels", 60000),
    "t10k-images-idx3-ubyte": ("images", 10000),
    "t10k-labels-idx1-ubyte": ("labels", 10000),
}
_SPLITS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


# Fashion-MNIST's label i is FASHION_MNIST_CLASSES[i] (Zalando's list, as torchvision's FashionMNIST.classes).
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


@dataclass(frozen=True)
class _Dataset:
    """What differs between MNIST and Fashion-MNIST: everything else is shared.

    name: in messages; folder: ``root/<folder>/raw`` (torchvision's class name);
    torchvision_class: the class in ``torchvision.datasets`` that downloads it;
    loader: the public function, named in the advice of the messages;
    labels: what a label is, for the corrupt-label message.
    """

    name: str
    folder: str
    torchvision_class: str
    loader: str
    labels: str


_MNIST = _Dataset("MNIST", "MNIST", "MNIST", "load_mnist", "digits")
_FASHION_MNIST = _Dataset("Fashion-MNIST", "FashionMNIST", "FashionMNIST", "load_fashion_mnist",
                          "class indices")


def default_data_dir():
    """Return $DLFS_DATA_DIR if it is set, else ``~/.cache/dlfs/data``."""
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return os.path.expanduser(env)
    return os.path.join(os.path.expanduser("~"), ".cache", "dlfs", "data")


def _raw_dir(root, dataset=_MNIST):
    """The folder torchvision keeps the files in: ``root/MNIST/raw`` (``root/FashionMNIST/raw``)."""
    return os.path.join(root, dataset.folder, "raw")


# ---------------------------------------------------------------------------
# Checking and reading IDX files
# ---------------------------------------------------------------------------

def _corrupt(path, problem, dataset=_MNIST):
    """A ValueError that names the data set, the file, the problem, and the cure."""
    return ValueError(
        f"{dataset.name} file {path} is corrupt: {problem}. "
        f"Delete it so it is downloaded again (or replace it with a good copy)."
    )


def _check_idx(path, kind, expected_count=None, dataset=_MNIST):
    """Check the header and the size of one IDX file; return its item count.

    ``kind`` is "images" or "labels".  The size must be exactly
    header + count * item_size, where count is the one the header declares;
    ``expected_count`` (60000 or 10000 for the real MNIST files) is
    checked too when it is given.  ``dataset`` names the data set in errors.
    """
    if kind == "images":
        magic_ok, header_size, item_size = _IMAGE_MAGIC, _IMAGE_HEADER, IMG_SIZE
    else:
        magic_ok, header_size, item_size = _LABEL_MAGIC, _LABEL_HEADER, 1

    size = os.path.getsize(path)
    if size < header_size:
        if expected_count is None:
            wanted = f"at least the {header_size}-byte header"
        else:
            wanted = f"{header_size + expected_count * item_size} bytes"
        raise _corrupt(path, f"truncated: expected {wanted}, found {size} bytes", dataset)

    with open(path, "rb") as f:
        header = f.read(header_size)
    magic, count = struct.unpack(">II", header[:8])  # big-endian

    if magic != magic_ok:
        raise _corrupt(path, f"expected magic number {magic_ok} (IDX {kind}), found {magic}", dataset)
    if expected_count is not None and count != expected_count:
        raise _corrupt(path, f"expected {expected_count} {kind} in the header, found {count}", dataset)
    if kind == "images":
        rows, cols = struct.unpack(">II", header[8:16])
        if (rows, cols) != (IMG_ROWS, IMG_COLS):
            raise _corrupt(path, f"expected {IMG_ROWS}x{IMG_COLS} images, found {rows}x{cols}", dataset)

    expected_size = header_size + count * item_size
    if size != expected_size:
        what = "truncated" if size < expected_size else "has trailing bytes"
        raise _corrupt(path, f"{what}: expected {expected_size} bytes "
                             f"({count} {kind}), found {size}", dataset)
    return count


def _read_idx_images(path, expected_count=None, dataset=_MNIST):
    """Read an IDX image file into a uint8 array of shape (N, 28, 28)."""
    count = _check_idx(path, "images", expected_count, dataset)
    with open(path, "rb") as f:
        data = f.read()
    pixels = np.frombuffer(data, dtype=np.uint8, offset=_IMAGE_HEADER)
    return pixels.reshape(count, IMG_ROWS, IMG_COLS).copy()  # copy: writable


def _read_idx_labels(path, expected_count=None, dataset=_MNIST):
    """Read an IDX label file into an int64 array of shape (N,)."""
    count = _check_idx(path, "labels", expected_count, dataset)
    with open(path, "rb") as f:
        data = f.read()
    labels = np.frombuffer(data, dtype=np.uint8, offset=_LABEL_HEADER)
    return _check_labels(path, labels.astype(np.int64).reshape(count), dataset)


def _check_labels(path, labels, dataset=_MNIST):
    """``labels`` if every one is a class 0..9; else the ValueError of a corrupt ``path``."""
    bad = np.flatnonzero((labels < 0) | (labels >= NUM_CLASSES))
    if bad.size:
        raise _corrupt(path, f"labels must be {dataset.labels} 0..{NUM_CLASSES - 1}, but {bad.size} of "
                             f"{labels.size} are not (the first, at index {bad[0]}, is {labels[bad[0]]})", dataset)
    return labels


def _validate_present_files(raw_dir, dataset=_MNIST):
    """Check every file of the data set that exists in raw_dir; return the missing names."""
    missing = []
    for name, (kind, count) in _FILES.items():
        path = os.path.join(raw_dir, name)
        if os.path.exists(path):
            _check_idx(path, kind, count, dataset)
        else:
            missing.append(name)
    return missing


# ---------------------------------------------------------------------------
# Getting the arrays
# ---------------------------------------------------------------------------

def _how_to_point_at_a_copy(dataset=_MNIST):
    names = ", ".join(_FILES)
    return (
        f"To use a local copy, put the four uncompressed files ({names}) in "
        f"DIR/{dataset.folder}/raw/ and pass root=DIR to {dataset.loader}(), run the scripts with "
        f"--data-dir DIR, or set {DATA_DIR_ENV}=DIR."
    )


def _one_line(err):
    """An exception as ``Type: message`` on a single line."""
    text = " ".join(str(err).split())
    if len(text) > 400:
        text = text[:397] + "..."
    return f"{type(err).__name__}: {text}"


def _load_with_torchvision(torchvision_class, root, raw_dir, download, dataset=_MNIST):
    """Let torchvision find (or fetch) the files; return uint8 images and labels."""
    arrays = {}
    try:
        for split in ("train", "test"):
            ds = torchvision_class(root, train=(split == "train"), download=download)
            label_file = os.path.join(raw_dir, _SPLITS[split][1])
            arrays[split] = (ds.data.numpy(), _check_labels(label_file, ds.targets.numpy(), dataset))
    except (OSError, RuntimeError) as err:
        # No network: torchvision raises RuntimeError("Error downloading ..."),
        # or a URLError / OSError escapes from the download itself.
        raise FileNotFoundError(
            f"{dataset.name} not found in {raw_dir} and the download failed "
            f"({_one_line(err)}). " + _how_to_point_at_a_copy(dataset)
        ) from err
    _validate_present_files(raw_dir, dataset)  # also check what was just downloaded
    return arrays


def _load_with_numpy(raw_dir, dataset=_MNIST):
    """Read the four IDX files directly; return uint8 images and int64 labels."""
    arrays = {}
    for split, (image_name, label_name) in _SPLITS.items():
        images = _read_idx_images(os.path.join(raw_dir, image_name), _FILES[image_name][1], dataset)
        labels = _read_idx_labels(os.path.join(raw_dir, label_name), _FILES[label_name][1], dataset)
        arrays[split] = (images, labels)
    return arrays


def _change_one_hot_label(t, dtype):
    """Labels (N,) -> one-hot rows (N, 10): row i has a 1 in column t[i]."""
    T = np.zeros((t.size, NUM_CLASSES), dtype=dtype)
    T[np.arange(t.size), t] = 1
    return T


def _load(dataset, normalize, flatten, one_hot_label, root, download, dtype):
    """``load_mnist`` / ``load_fashion_mnist`` of ``dataset`` (a ``_Dataset``)."""
    root = os.path.abspath(os.path.expanduser(os.fspath(default_data_dir() if root is None else root)))
    raw_dir = _raw_dir(root, dataset)
    missing = _validate_present_files(raw_dir, dataset)  # ValueError on a bad file
    if not missing:  # all four present and checked: NumPy reads them (no torchvision import, ~4 s saved)
        arrays = _load_with_numpy(raw_dir, dataset)
    elif not download:
        raise FileNotFoundError(
            f"{dataset.name} not found in {raw_dir} (missing: {', '.join(missing)}) and "
            f"download=False, so nothing was downloaded. " + _how_to_point_at_a_copy(dataset)
        )
    else:
        try:
            import torchvision.datasets
        except ImportError:
            raise FileNotFoundError(
                f"{dataset.name} not found in {raw_dir} (missing: {', '.join(missing)}), and "
                f"downloading it needs torchvision: pip install torchvision. "
                + _how_to_point_at_a_copy(dataset)
            ) from None
        torchvision_class = getattr(torchvision.datasets, dataset.torchvision_class)
        arrays = _load_with_torchvision(torchvision_class, root, raw_dir, download, dataset)

    out = []
    for split in ("train", "test"):
        x, t = arrays[split]
        x = np.ascontiguousarray(x, dtype=np.uint8)
        t = np.asarray(t, dtype=np.int64)
        if normalize:
            x = x.astype(dtype)
            x /= 255.0
        x = x.reshape(-1, IMG_SIZE) if flatten else x.reshape(-1, 1, IMG_ROWS, IMG_COLS)
        if one_hot_label:
            t = _change_one_hot_label(t, dtype)
        out.append((x, t))
    return tuple(out)


def load_mnist(normalize=True, flatten=True, one_hot_label=False,
               root=None, download=True, dtype=np.float32):
    """Load MNIST as ``(x_train, t_train), (x_test, t_test)``.

    Parameters
    ----------
    normalize : bool
        True: pixels become ``dtype`` values in [0, 1] (x / 255).
        False: pixels stay uint8 in 0..255 (``dtype`` is then not used for them).
    flatten : bool
        True: images have shape (N, 784).  False: (N, 1, 28, 28).
    one_hot_label : bool
        False: labels are int64 of shape (N,) with values 0..9.
        True: labels are one-hot rows of shape (N, 10) in ``dtype``.
    root : str or path-like, optional
        Directory that contains ``MNIST/raw/``.  Default: ``default_data_dir()``.
    download : bool
        Download the files (via torchvision) if they are missing.
    dtype : NumPy float type
        Type of normalized images and of one-hot labels.

    Raises
    ------
    ValueError
        A file is present but truncated or corrupt (delete it and retry).
    FileNotFoundError
        Files are missing and could not be downloaded.
    """
    return _load(_MNIST, normalize, flatten, one_hot_label, root, download, dtype)


def load_fashion_mnist(normalize=True, flatten=True, one_hot_label=False,
                       root=None, download=True, dtype=np.float32):
    """Load Fashion-MNIST as ``(x_train, t_train), (x_test, t_test)``, exactly as ``load_mnist`` loads MNIST.

    The same parameters, return types and errors as ``load_mnist``; the files
    are read from ``root/FashionMNIST/raw/`` (downloaded through
    ``torchvision.datasets.FashionMNIST`` if missing).  Labels 0..9 are the
    classes ``FASHION_MNIST_CLASSES`` ("T-shirt/top", ..., "Ankle boot").
    """
    return _load(_FASHION_MNIST, normalize, flatten, one_hot_label, root, download, dtype)
