#!/usr/bin/env bash
# The dev table of models/README.md for any models: one Markdown row per model with
# top1 / eer / open_set_acc for {dev_mono, dev_mono2mix} x {whole clips, --segment 1}, each cell
# from `singer-id --model M eval MANIFEST [--segment 1] --json` (the model's own threshold).
# Usage: models/eval_table.sh MODEL [MODEL...]   (a name in models/ or a path to a .json)
set -euo pipefail
models=()
for m in "$@"; do [[ -f $m ]] && models+=("$(realpath "$m")") || models+=("$m"); done
cd "$(dirname "$0")/.."
data=${SINGER_ID_DATA:-../shared/data}
cargo build --release --quiet --bin singer-id
bin=target/release/singer-id
for model in "${models[@]}"; do
    row="| $(basename "$model" .json) |"
    for d in dev_mono dev_mono2mix; do
        for seg in whole 1; do
            args=(); [[ $seg == 1 ]] && args=(--segment 1)
            json=$($bin --quiet --model "$model" eval "$data/$d.csv" "${args[@]}" --json)
            row+=$(python3 -c 'import json,sys; m=json.loads(sys.argv[1]); print(" %.3f / %.3f / %.3f |" % (m["top1"], m["eer"], m["open_set_acc"]), end="")' "$json")
        done
    done
    echo "$row"
done
