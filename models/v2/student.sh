#!/usr/bin/env bash
# The fast student of models/README.md ("Fast student"), end to end on CPU: training pairs with
# the shipped v2's embeddings as targets -> distillation -> dev proxy -> its own voice head ->
# f32 + int8 ONNX and metadata in models/ (v2s-student-*) -> thresholds calibrated on the
# held-out singers -> dev table, timeline rows (live and song mode) and speed next to v1.
# Needs the shipped v2's adapted weights (.cache/v2/adapt/, made by models/v2.sh) and the shared
# data. Cached steps (.cache/v2/student/) are reused; delete them to redo.
# Usage (from anywhere): models/v2/student.sh
set -euo pipefail
cd "$(dirname "$0")/.."
./setup_venv.sh
PY=.venv/bin/python
export PYTHONHASHSEED=0
shipped=$($PY -c 'from v2.adapt import SHIPPED; print(SHIPPED)')
[[ -f .cache/v2/adapt/$shipped.pt ]] || { echo "student.sh: no .cache/v2/adapt/$shipped.pt: run models/v2.sh first" >&2; exit 1; }
cache=.cache/v2/student
[[ -f $cache/pairs.json ]] || $PY -m v2.student prepare
[[ -f $cache/student.pt ]] || $PY -m v2.student train
echo "== dev proxy (torch, no voice gate): top1 / eer"; $PY -m v2.student evaluate
export OMP_NUM_THREADS=1
echo "== voice head on the student's embedding"
$PY -m v2.voice_head --student "$cache/student.pt" --out "$cache/voice_head.json"
echo "== export (f32, int8)"; $PY -m v2.student export --voice-head "$cache/voice_head.json"
(cd .. && cargo build --release --quiet --bin singer-id)
for p in f32 int8; do $PY set_threshold.py "v2s-student-$p.json" ../target/release/singer-id calibration_v2.csv; done
models=(v2s-student-f32.json v2s-student-int8.json)
echo "== dev table (top1 / eer / open_set_acc)"; ./eval_table.sh "${models[@]}"
echo "== timelines, live mode (named_acc / impostor_ok / instr_clean / timeline_acc; mono | mix)"
./timeline_table.sh "${models[@]}" -- --mode live
echo "== timelines, song mode"; ./timeline_table.sh "${models[@]}" -- --mode song
echo "== speed, one thread, next to v1"
../target/release/singer-id --model v2s-student-int8 bench --compare v1-cnn-int8 --runs 7
