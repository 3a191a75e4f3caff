#!/usr/bin/env bash
# Set up .venv if needed, then run the main job: train the two-layer network with the
# NumPy backend on MNIST (downloaded into DLFS_DATA_DIR, default ~/.cache/dlfs/data).
# Extra arguments go to scripts/train.py (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/python scripts/train.py --backend scratch --model two_layer "$@"
