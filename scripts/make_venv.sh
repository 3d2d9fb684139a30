#!/usr/bin/env bash
# Creates FOLDER/.venv (gitignored) from FOLDER/requirements.txt, then imports MODULES to prove
# the install works. Idempotent: skipped while requirements.txt and the Python version are the
# ones the venv was built from. Extra arguments after `--` go to pip install.
# Usage: scripts/make_venv.sh FOLDER "module module ..." [-- pip-args...]
set -euo pipefail
folder=$1 modules=$2
shift 2
[[ ${1:-} == -- ]] && shift
cd "$(dirname "$0")/../$folder"

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || { echo "[venv] $PYTHON not found (set PYTHON=...)" >&2; exit 1; }
VENV=.venv
STAMP=$VENV/.requirements.sha256
want=$( { sha256sum requirements.txt; "$PYTHON" --version; } | sha256sum | cut -d' ' -f1)

if [[ -x $VENV/bin/python && -f $STAMP && $(cat "$STAMP") == "$want" ]]; then
    echo "[venv] $folder/$VENV is up to date (requirements hash ${want:0:12})"
    exit 0
fi

echo "[venv] creating $folder/$VENV with $("$PYTHON" --version)"
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
echo "[venv] installing $folder/requirements.txt"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$@" -r requirements.txt
"$VENV/bin/python" -m pip check
"$VENV/bin/python" - "$modules" <<'PY'
import importlib, sys
for name in sys.argv[1].split():
    module = importlib.import_module(name)
    print(f"[venv] {name} {getattr(module, '__version__', '')}")
PY
echo "$want" > "$STAMP"
echo "[venv] done ($(du -sh "$VENV" | cut -f1))"
