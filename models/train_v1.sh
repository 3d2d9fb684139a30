#!/usr/bin/env bash
# One command for model v1, end to end, CPU only (no GPU needed):
#   venv -> training cache (voiced-only clips, WORLD-sung speech, v0 targets, accompaniment)
#   -> train (6000 steps, fixed seed) -> f32 + int8 ONNX in models/ -> golden fixtures
#   -> calibrated thresholds -> the dev table rows of models/README.md.
# Needs the shared data beside the checkout (../shared/data, or SINGER_ID_DATA=...).
# THREADS=1 (default) reproduces the shipped run; THREADS=2 is faster, with other float sums.
# Usage: models/train_v1.sh
set -euo pipefail
cd "$(dirname "$0")"

data=${SINGER_ID_DATA:-../../shared/data}
[[ -f $data/manifest.csv ]] || { echo "train_v1.sh: no shared data at $data (set SINGER_ID_DATA)" >&2; exit 1; }
start=$(date +%s)

./setup_venv.sh
PY=.venv/bin/python
export PYTHONHASHSEED=0

echo "== training cache (models/.cache/v1)"; $PY -m v1.prepare
echo "== train";   $PY -m v1.train --name v1b-distill --steps 6000 --distill 1.0 --seed 1 --threads "${THREADS:-1}"
echo "== export";  OMP_NUM_THREADS=1 $PY -m v1.export --run v1b-distill --name v1-cnn --out .
echo "== golden fixtures"; OMP_NUM_THREADS=1 $PY -m v1.fixtures --run v1b-distill --name v1-cnn
echo "== calibrate unknown threshold (Rust CLI, training singers)"
(cd .. && cargo build --release --quiet --bin singer-id)
for m in v1-cnn-f32 v1-cnn-int8; do $PY set_threshold.py "$m.json" ../target/release/singer-id; done
echo "== dev table (top1 / eer / open_set_acc)"
./eval_table.sh v1-cnn-f32 v1-cnn-int8
echo "wall time: $(( $(date +%s) - start )) s"
