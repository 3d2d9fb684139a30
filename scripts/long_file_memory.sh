#!/usr/bin/env bash
# Time and peak memory of `singer-id analyze` on a 2-hour file, song mode and live
# (models/README.md, "Song mode"; README, "Batch and whole-song analysis"): the demo track tiled to 2 h (16 kHz mono WAV, 230 MB, in a temporary folder),
# one demo singer enrolled, GNU time's maximum resident set size. Default model: v1-cnn-int8
# (it analyses 2 h in seconds; song mode keeps one 192-d embedding per hop for any model).
# Needs /usr/bin/time (Debian package `time`) and models/.venv (models/setup_venv.sh).
# Usage: scripts/long_file_memory.sh [MODEL] [HOURS] [MODES]   (e.g. v2-campp-int8 0.3333 song)
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-v1-cnn-int8} hours=${2:-2} modes=${3:-song live}
[[ -x /usr/bin/time ]] || { echo "long_file_memory.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
models/setup_venv.sh > /dev/null
cargo build --release --quiet --bin singer-id
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
models/.venv/bin/python - "$tmp/long.wav" "$hours" <<'PY'
import sys
import soundfile as sf
y, sr = sf.read("demo/demo-track.flac", dtype="float32")
y = y.mean(1) if y.ndim > 1 else y
n = int(float(sys.argv[2]) * 3600 * sr)
with sf.SoundFile(sys.argv[1], "w", sr, 1, "PCM_16") as f:
    done = 0
    while done < n:
        k = min(len(y), n - done)
        f.write(y[:k])
        done += k
PY
bin=target/release/singer-id
$bin --quiet --model "$model" enroll -l "$tmp/lib.json" -n yuki demo/enroll/yuki.flac > /dev/null
echo "$(du -h "$tmp/long.wav" | cut -f1) WAV, $hours h, model $model"
for mode in $modes; do
    /usr/bin/time -f "$mode: %e s, peak %M KB" $bin --quiet --model "$model" analyze "$tmp/long.wav" \
        -l "$tmp/lib.json" --mode "$mode" -o "$tmp/timeline-$mode.json"
done
