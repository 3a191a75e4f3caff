#!/usr/bin/env bash
# Set up .venv if needed, then run the parity suite. Extra arguments go to pytest.
# MNIST tests run when DLFS_DATA_DIR points at a directory holding MNIST/raw/;
# the book-weight tests when DLFS_BOOK_WEIGHTS_DIR holds the book's .npz files.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/python -m pytest parity_tests "$@"
