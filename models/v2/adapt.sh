#!/usr/bin/env bash
# The adapted v2 variants of models/README.md ("Adaptation to singing"), end to end on CPU:
# training pairs -> each variant trained -> its own voice head -> f32 + int8 ONNX in
# .cache/v2/adapt/export/ -> threshold calibrated on the held-out singers -> dev table and
# timeline rows (the same scripts as every other row), after the torch dev proxy of all variants.
# Already-trained variants (.cache/v2/adapt/NAME.pt) are reused; delete them to retrain.
# Variants that train on held-out singers (a 'pool', e.g. adapt-block3-aam-melodic) stop after the
# dev proxy: their threshold cannot be calibrated on singers they learned, so they are not exported.
# Usage (from anywhere): models/v2/adapt.sh [VARIANT...]   (default: every one of v2.adapt.VARIANTS)
set -euo pipefail
cd "$(dirname "$0")/.."
./setup_venv.sh
PY=.venv/bin/python
export PYTHONHASHSEED=0
# The variants and their settings live in v2.adapt.VARIANTS (one source for this script and v2.sh).
settings() { $PY -c 'import sys; from v2.adapt import VARIANTS; print(VARIANTS[sys.argv[1]])' "$1"; }
names=("$@")
((${#names[@]})) || read -ra names <<< "$($PY -c 'from v2.adapt import VARIANTS; print(" ".join(VARIANTS))')"
for v in "${names[@]}"; do
    settings "$v" > /dev/null 2>&1 || { echo "adapt.sh: unknown variant $v (see VARIANTS in models/v2/adapt.py)" >&2; exit 2; }
done
cache=.cache/v2/adapt
[[ -f $cache/pairs.json && -f $cache/dev_units.pt ]] || $PY -m v2.adapt prepare
# Extra pair sets some variants train on (VARIANTS[...]["extra"]: seeds), each drawn once.
for v in "${names[@]}"; do
    for seed in $($PY -c 'import sys; from v2.adapt import VARIANTS; print(*VARIANTS[sys.argv[1]].get("extra", []))' "$v"); do
        [[ -f $cache/extra-$seed/pairs.json ]] || $PY -m v2.adapt prepare --extra "$seed"
    done
done
pool() { $PY -c 'import sys; from v2.adapt import VARIANTS; print(VARIANTS[sys.argv[1]].get("pool") or "")' "$1"; }
# Variants training more of the network cache their pairs and dev units lower down (--split).
split() { $PY -c 'import sys; from v2.adapt import SPLIT, variant_split; k = variant_split(sys.argv[1]); print("" if k == SPLIT else k)' "$1"; }
for v in "${names[@]}"; do
    p=$(pool "$v")
    [[ -z $p || -f $cache/pool-$p/pairs.json ]] || $PY -m v2.adapt prepare --pool "$p"
    k=$(split "$v")
    [[ -z $k || (-f $cache/split-$k/pairs.json && -f $cache/dev_units-split$k.pt) ]] || $PY -m v2.adapt prepare --split "$k"
done
for v in "${names[@]}"; do [[ -f $cache/$v.pt ]] || $PY -m v2.adapt train "$v"; done
echo "== dev proxy (torch, no voice gate): top1 / eer"
$PY -m v2.adapt evaluate "${names[@]}"
exported=()
for v in "${names[@]}"; do
    if [[ -n $(pool "$v") ]]; then echo "== $v: trained on held-out singers, dev proxy only (not exported)"; else exported+=("$v"); fi
done
((${#exported[@]})) || exit 0
names=("${exported[@]}")
(cd .. && cargo build --release --quiet --bin singer-id)
for v in "${names[@]}"; do
    echo "== $v: voice head, export, threshold"
    $PY -m v2.voice_head --weights "$cache/$v.pt" --out "$cache/$v-voice_head.json"
    $PY -m v2.export --weights "$cache/$v.pt" --name "v2-$v" --out "$cache/export" --voice-head "$cache/$v-voice_head.json" \
        --description "CAM++ (3D-Speaker) adapted to singing by v2.adapt ($v: $(settings "$v"))"
    for p in f32 int8; do $PY set_threshold.py "$cache/export/v2-$v-$p.json" ../target/release/singer-id calibration_v2.csv; done
    [[ -f .cache/v2/heldout-songs/songs.csv ]] || $PY -m v2.heldout_songs
    for p in f32 int8; do $PY -m v2.set_turn_threshold "$cache/export/v2-$v-$p.json" ../target/release/singer-id; done
done
models=(); for v in "${names[@]}"; do models+=("$cache/export/v2-$v-f32.json" "$cache/export/v2-$v-int8.json"); done
echo "== dev table (top1 / eer / open_set_acc)"; ./eval_table.sh "${models[@]}"
echo "== timelines, live mode (named_acc / impostor_ok / instr_clean / timeline_acc; mono | mix)"
./timeline_table.sh "${models[@]}" -- --mode live
echo "== timelines, song mode"; ./timeline_table.sh "${models[@]}" -- --mode song
