"""The data sets the scripts train and test on: --dataset, --data-dir, --download, and loading them.

MNIST and Fashion-MNIST, both 28x28 grey images of 10 classes, read by ``scratch.mnist``.
"""
import argparse

import numpy as np

__all__ = ["DATASETS", "DEFAULT_DATASET", "add_data_arguments", "dataset_suffix", "load_data"]

# --dataset -> (the loader in scratch.mnist, its folder under --data-dir). Both are 28x28 grey images of 10 classes.
DATASETS = {"mnist": ("load_mnist", "MNIST"), "fashion_mnist": ("load_fashion_mnist", "FashionMNIST")}
DEFAULT_DATASET = "mnist"


def add_data_arguments(parser, from_weights=False, dataset=True):
    """--data-dir, --download and (unless not ``dataset``) --dataset.

    ``from_weights``: --dataset defaults to None, to be taken from the weights
    file's configuration (``dataset_from_weights``), else mnist.
    """
    if dataset:
        origin = "the weights file's configuration, else " if from_weights else ""
        parser.add_argument("--dataset", choices=list(DATASETS), default=None if from_weights else DEFAULT_DATASET,
                            help="mnist: the handwritten digits; fashion_mnist: Zalando's Fashion-MNIST "
                                 f"(10 kinds of clothing, the same sizes) (default: {origin}mnist)")
    parser.add_argument("--data-dir", metavar="DIR", default=None,
                        help="directory containing MNIST/raw/ (FashionMNIST/raw/ for --dataset fashion_mnist) "
                             "(default: $DLFS_DATA_DIR, else ~/.cache/dlfs/data)")
    parser.add_argument("--download", action=argparse.BooleanOptionalAction, default=True,
                        help="download the data set through torchvision if it is missing (default: yes)")


def dataset_suffix(args):
    """'' for MNIST, else '-<dataset>': what default output names get, so no run overwrites another data set's."""
    dataset = getattr(args, "dataset", None) or DEFAULT_DATASET
    return "" if dataset == DEFAULT_DATASET else f"-{dataset}"


def load_data(args, flatten):
    """MNIST (``args.dataset``: also Fashion-MNIST) as ``(x_train, t_train), (x_test, t_test)``:
    pixels in [0, 1] as ``args.dtype``, integer labels."""
    from scratch import mnist

    load = getattr(mnist, DATASETS[getattr(args, "dataset", None) or DEFAULT_DATASET][0])
    return load(normalize=True, flatten=flatten, one_hot_label=False, root=args.data_dir,
                download=args.download, dtype=np.dtype(args.dtype))

