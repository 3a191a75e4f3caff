#!/usr/bin/env bash
# Set up .venv if needed, then run the parity suite and the scripts' tests on 2 workers (pytest-xdist;
# -n 0 runs them in one process; --dist loadscope keeps a module on one worker, so a question's quick
# run, a module-scoped fixture, runs once). Extra arguments go to pytest. About 8 minutes on 2 cores
# (3985 tests, 8 min 55 s in CI; about twice that in one process).
# MNIST tests run when DLFS_DATA_DIR points at a directory holding MNIST/raw/;
# the book-weight tests when DLFS_BOOK_WEIGHTS_DIR holds the book's .npz files.
# The suite's measured errors go to runs/parity_report.json (DLFS_PARITY_REPORT), where
# scripts/side_by_side.py reads them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export DLFS_PARITY_REPORT=${DLFS_PARITY_REPORT:-runs/parity_report.json}
exec .venv/bin/python -m pytest -n 2 --dist loadscope parity_tests scripts/tests "$@"
