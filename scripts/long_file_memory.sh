#!/usr/bin/env bash
# Time and peak memory of `singer-id analyze` (song mode and live) and `singer-id enroll` on a
# long file (models/README.md, "Song mode"; README, "Batch and whole-song analysis" and
# "Reliability"): the demo track resampled to RATE and tiled to HOURS (mono 16-bit WAV in a
# temporary folder: 2 h at 44.1 kHz is 635 MB), one demo singer enrolled, GNU time's maximum
# resident set size. Default model: v1-cnn-int8 (it analyses 2 h in seconds; memory does not
# depend on the model beyond the model itself).
# Needs /usr/bin/time (Debian package `time`) and models/.venv (models/setup_venv.sh).
# Usage: scripts/long_file_memory.sh [MODEL] [HOURS] [MODES] [RATE]
#        (e.g. v2-campp-int8 0.3333 song 16000; MODES from: song live enroll)
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-v1-cnn-int8} hours=${2:-2} modes=${3:-song live enroll} rate=${4:-44100}
[[ -x /usr/bin/time ]] || { echo "long_file_memory.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
models/setup_venv.sh > /dev/null
cargo build --release --quiet --bin singer-id
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
models/.venv/bin/python - "$tmp/long.wav" "$hours" "$rate" <<'PY'
import sys
import soundfile as sf
import soxr
y, sr = sf.read("demo/demo-track.flac", dtype="float32")
y = y.mean(1) if y.ndim > 1 else y
rate = int(sys.argv[3])
y, sr = (soxr.resample(y, sr, rate), rate) if rate != sr else (y, sr)
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
echo "$(du -h "$tmp/long.wav" | cut -f1) WAV, $hours h at $rate Hz, model $model"
for mode in $modes; do
    if [[ $mode == enroll ]]; then
        /usr/bin/time -f "enroll: %e s, peak %M KB" $bin --quiet --model "$model" enroll \
            -l "$tmp/lib.json" -n long "$tmp/long.wav" > /dev/null
        continue
    fi
    /usr/bin/time -f "$mode: %e s, peak %M KB" $bin --quiet --model "$model" analyze "$tmp/long.wav" \
        -l "$tmp/lib.json" --mode "$mode" -o "$tmp/timeline-$mode.json"
done
