#!/usr/bin/env bash
# The timeline columns of models/README.md for any models: one Markdown row per model with
# named_acc / impostor_ok / instr_clean / timeline_acc on ../shared/data/dev-songs, a cappella
# and mixed, each from `singer-id --model M eval-songs songs.csv --json` (song mode at its defaults
# and the model's own thresholds). Extra arguments go to eval-songs (e.g. --mode live, --hop 0.25).
# SONGS=FILE scores another songs file (e.g. models/.cache/v2/heldout-songs/songs.csv, built by
# `python -m v2.heldout_songs`: singers held out of training).
# Usage: [SONGS=FILE] models/timeline_table.sh MODEL [MODEL...] [-- EVAL-SONGS-ARGS...]
set -euo pipefail
models=() extra=()
while (($#)); do
    if [[ $1 == -- ]]; then shift; extra=("$@"); break; fi
    [[ -f $1 ]] && models+=("$(realpath "$1")") || models+=("$1"); shift
done
cd "$(dirname "$0")/.."
data=${SINGER_ID_DATA:-../shared/data}
songs=${SONGS:-$data/dev-songs/songs.csv}
cargo build --release --quiet --bin singer-id
for model in "${models[@]}"; do
    json=$(target/release/singer-id --quiet --model "$model" eval-songs "$songs" --json "${extra[@]}")
    python3 -c '
import json, sys
m = json.loads(sys.argv[2])["conditions"]
cells = ["%.3f / %.3f / %.3f / %.3f" % tuple(m[c][k] for k in ("named_acc", "impostor_ok", "instr_clean", "timeline_acc"))
         for c in ("mono", "mix")]
print("| %s | %s |" % (sys.argv[1], " | ".join(cells)))' "$(basename "$model" .json)" "$json"
done
