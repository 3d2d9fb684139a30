#!/usr/bin/env bash
# models/baselines/.venv for the GMM-UBM baseline (no torch: small).
exec "$(dirname "$0")/../../scripts/make_venv.sh" models/baselines "numpy scipy sklearn librosa soundfile"
