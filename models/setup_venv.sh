#!/usr/bin/env bash
# models/.venv for model v0 export and model v1 training (torch from PyPI pulls ~3 GB of CUDA wheels: a few minutes).
exec "$(dirname "$0")/../scripts/make_venv.sh" models "torch onnx onnxruntime librosa resemblyzer pyworld"
