#!/usr/bin/env bash
# Create bench/.venv with the pinned peers (scikit-learn, fastText) from bench/requirements.txt.
set -euo pipefail
cd "$(dirname "$0")"
python3 -m venv .venv
.venv/bin/pip install -q -r requirements.txt
.venv/bin/python -c 'import sklearn, fasttext; print("bench/.venv ready: scikit-learn", sklearn.__version__)'
