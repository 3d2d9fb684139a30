#!/usr/bin/env bash
# Create models/baselines/.venv (gitignored) with the pinned requirements.txt (no torch: small).
# Idempotent: skipped when the venv was built from the same requirements.txt and Python.
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3.11}
VENV=.venv
STAMP=$VENV/.requirements.sha256
want=$( { sha256sum requirements.txt; "$PYTHON" --version; } | sha256sum | cut -d' ' -f1)

if [[ -x $VENV/bin/python && -f $STAMP && $(cat "$STAMP") == "$want" ]]; then
    echo "[setup_venv] models/baselines/$VENV is up to date (requirements hash ${want:0:12})"
    exit 0
fi

echo "[setup_venv] creating models/baselines/$VENV with $("$PYTHON" --version)"
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt
"$VENV/bin/python" -m pip check
"$VENV/bin/python" -c 'import numpy, scipy, sklearn, librosa, soundfile; print("[setup_venv] numpy", numpy.__version__, "scipy", scipy.__version__, "scikit-learn", sklearn.__version__, "librosa", librosa.__version__, "soundfile", soundfile.__version__)'
echo "$want" > "$STAMP"
echo "[setup_venv] done"
