#!/usr/bin/env bash
# Create tests/hosts/.venv (gitignored) with the pinned requirements.txt: pedalboard and
# DawDreamer (two Python VST3 hosts), numpy, soundfile, soxr and pytest.
# Idempotent: skipped when the venv was built from the same requirements.txt and Python.
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3.11}
VENV=.venv
STAMP=$VENV/.requirements.sha256
want=$( { sha256sum requirements.txt; "$PYTHON" --version; } | sha256sum | cut -d' ' -f1)

if [[ -x $VENV/bin/python && -f $STAMP && $(cat "$STAMP") == "$want" ]]; then
    echo "[setup_venv] tests/hosts/$VENV is up to date (requirements hash ${want:0:12})"
    exit 0
fi

echo "[setup_venv] creating tests/hosts/$VENV with $("$PYTHON" --version)"
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
echo "[setup_venv] installing requirements.txt (wheels only, ~60 MB download)"
# --only-binary: a missing wheel should fail here, not turn into a long source build.
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary=:all: -r requirements.txt
"$VENV/bin/python" -m pip check
"$VENV/bin/python" -c 'import pedalboard, dawdreamer, numpy, soundfile, soxr, pytest; print("[setup_venv] pedalboard", pedalboard.__version__, "dawdreamer", dawdreamer.__version__, "numpy", numpy.__version__, "soundfile", soundfile.__version__, "soxr", soxr.__version__, "pytest", pytest.__version__)'
echo "$want" > "$STAMP"
echo "[setup_venv] done ($(du -sh "$VENV" | cut -f1))"
