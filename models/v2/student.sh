#!/usr/bin/env bash
# v2's fast student, second recipe (model issue, item 5), end to end on CPU: v1's network,
# frontend and training recipe with the shipped v2 as the distillation teacher instead of v0, on
# v1's training identities plus more/ (without the v2.heldout singers), 96 channels for speed.
# Measured, not shipped (models/README.md, "Fast student"): everything stays in
# models/.cache/v2/student/runs/v2-student/ (ONNX f32 + int8 with a voice head and calibrated
# thresholds), and the student's dev, timeline and speed rows are printed.
# THREADS=1 (default) reproduces the measured run; THREADS=2 is faster, with other float sums.
# DISTILL=W trains with distillation weight W instead of 1 (run v2-student-distillW).
# Usage: [DISTILL=W] models/v2/student.sh   (~55 min on 2 cores: cache 8 min, training 41 min on one thread)
set -euo pipefail
cd "$(dirname "$0")/.."

data=${SINGER_ID_DATA:-../../shared/data}
[[ -f $data/manifest.csv ]] || { echo "student.sh: no shared data at $data (set SINGER_ID_DATA)" >&2; exit 1; }
start=$(date +%s)
./setup_venv.sh
PY=.venv/bin/python
export PYTHONHASHSEED=0
cache=.cache/v2/student
distill=${DISTILL:-1.0}
name=v2-student
[[ $distill == 1.0 ]] || name=v2-student-distill$distill
run=$cache/runs/$name

echo "== training cache ($cache): voiced clips, WORLD-sung speech, v2's targets"
[[ -f $cache/clips.json ]] || $PY -m v1.prepare --teacher v2 --more --cache "$cache"
echo "== train"
$PY -m v1.train --cache "$cache" --name "$name" --steps 6000 --distill "$distill" --channels 96 --seed 1 --threads "${THREADS:-1}"
echo "== voice head (fitted on the student's own embeddings), then the export with it"
OMP_NUM_THREADS=1 $PY -m v1.export --cache "$cache" --run "$name" --name "$name"
$PY -m v2.voice_head --rebuild --model "$run/$name-f32.json" --out "$run/voice_head.json"
OMP_NUM_THREADS=1 $PY -m v1.export --cache "$cache" --run "$name" --name "$name" --voice-head "$run/voice_head.json"
echo "== unknown-singer and turn thresholds (held-out singers and their songs, as v2's)"
(cd .. && cargo build --release --quiet --bin singer-id)
[[ -f .cache/v2/heldout-songs/songs.csv ]] || $PY -m v2.heldout_songs
for m in "$run/$name-f32.json" "$run/$name-int8.json"; do
    $PY set_threshold.py "$m" ../target/release/singer-id calibration_v2.csv
    $PY -m v2.set_turn_threshold "$m" ../target/release/singer-id
done
echo "== dev table, timelines (live, song), speed next to v1"
./eval_table.sh "$run/$name-f32.json" "$run/$name-int8.json"
./timeline_table.sh "$run/$name-f32.json" "$run/$name-int8.json" -- --mode live
./timeline_table.sh "$run/$name-f32.json" "$run/$name-int8.json" -- --mode song
../target/release/singer-id bench --model "$run/$name-int8.json" --compare v1-cnn-int8 --runs 7
echo "wall time: $(( $(date +%s) - start )) s"
