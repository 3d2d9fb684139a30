#!/usr/bin/env bash
# One command for model v0, end to end and deterministic:
#   venv -> f32 ONNX -> int8 ONNX -> golden fixtures (tests/fixtures) -> calibrated threshold
#   -> checks on dev singing.
# Needs the shared data beside the checkout (../shared/data, or SINGER_ID_DATA=...).
# Usage: models/export.sh [--no-check]
set -euo pipefail
cd "$(dirname "$0")"

data=${SINGER_ID_DATA:-../../shared/data}
[[ -f $data/manifest.csv ]] || { echo "export.sh: no shared data at $data (set SINGER_ID_DATA)" >&2; exit 1; }

./setup_venv.sh
PY=.venv/bin/python
export PYTHONHASHSEED=0 OMP_NUM_THREADS=1  # one thread: same float order on every run

echo "== export f32";        $PY export_v0.py
echo "== quantize int8";     $PY quantize_int8.py
echo "== golden fixtures";   $PY make_fixtures.py
echo "== calibrate unknown threshold (Rust CLI, training singers only)"
(cd .. && cargo build --release --quiet --bin singer-id)
for m in v0-ge2e-f32 v0-ge2e-int8; do $PY set_threshold.py "$m.json" ../target/release/singer-id; done
if [[ ${1:-} != --no-check ]]; then
    echo "== check on dev singing"; $PY check_v0.py
fi
sha256sum v0-ge2e-*.onnx v0-ge2e-*.json ../tests/fixtures/v0_*
