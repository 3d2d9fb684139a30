#!/usr/bin/env bash
# Batch throughput of `singer-id analyze` (README, "Batch and whole-song analysis"): 20 copies of
# the demo track (45 s each, 15 min in all) in a temporary folder, analysed in song mode with
# --jobs 1 and then --jobs 2, with the default model unless MODEL is given.
# Prints files per minute and real-time factors (overall and per job).
# Extra arguments go to analyze (e.g. --turn-embedding hops).
# Usage: scripts/batch_throughput.sh [MODEL] [FILES] [ANALYZE-ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-v2-campp-f32} files=${2:-20}
shift $(( $# < 2 ? $# : 2 ))
cargo build --release --quiet --bin singer-id
bin=target/release/singer-id
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/in"
for i in $(seq -w 1 "$files"); do cp demo/demo-track.flac "$tmp/in/take$i.flac"; done
for singer in yuki erithacus scott; do
  $bin --quiet --model "$model" enroll -l "$tmp/lib.json" -n "$singer" "demo/enroll/$singer.flac" > /dev/null
done
audio_s=$(awk -v n="$files" 'BEGIN { print n * 45 }')
echo "$files files, $audio_s s of audio, model $model, $(nproc) CPU core(s)"
for jobs in 1 2; do
  start=$(date +%s.%N)
  $bin --quiet --model "$model" analyze "$tmp/in" -l "$tmp/lib.json" --jobs "$jobs" --output-dir "$tmp/out$jobs" "$@"
  end=$(date +%s.%N)
  awk -v j="$jobs" -v n="$files" -v a="$audio_s" -v t0="$start" -v t1="$end" 'BEGIN {
    t = t1 - t0
    printf "--jobs %d: %.1f s, %.1f files/min, %.1fx real time (%.1fx per job)\n", j, t, n * 60 / t, a / t, a / t / j
  }'
done
cmp -s <(cd "$tmp/out1" && cat ./*) <(cd "$tmp/out2" && cat ./*) && echo "timelines of --jobs 1 and 2 are identical"
