#!/usr/bin/env bash
# models/.venv for exporting model v0 (torch from PyPI pulls ~3 GB of CUDA wheels: a few minutes).
exec "$(dirname "$0")/../scripts/make_venv.sh" models "torch onnx onnxruntime librosa resemblyzer"
