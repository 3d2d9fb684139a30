#!/usr/bin/env bash
# Create models/.venv (gitignored) with the pinned requirements.txt.
# Idempotent: skipped when the venv was built from the same requirements.txt and Python.
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3.11}
VENV=.venv
STAMP=$VENV/.requirements.sha256
want=$( { sha256sum requirements.txt; "$PYTHON" --version; } | sha256sum | cut -d' ' -f1)

if [[ -x $VENV/bin/python && -f $STAMP && $(cat "$STAMP") == "$want" ]]; then
    echo "[setup_venv] models/$VENV is up to date (requirements hash ${want:0:12})"
    exit 0
fi

echo "[setup_venv] creating models/$VENV with $("$PYTHON" --version)"
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
echo "[setup_venv] installing requirements.txt (torch from PyPI pulls ~3 GB of CUDA wheels; a few minutes)"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt
"$VENV/bin/python" -m pip check
"$VENV/bin/python" -c 'import torch, onnx, onnxruntime, librosa, resemblyzer; print("[setup_venv] torch", torch.__version__, "onnx", onnx.__version__, "onnxruntime", onnxruntime.__version__, "librosa", librosa.__version__)'
echo "$want" > "$STAMP"
echo "[setup_venv] done"
