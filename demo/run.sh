#!/usr/bin/env bash
# Builds singer-id, enrols the three demo singers and prints who sings when in the demo track.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "Building singer-id (the first build takes about 15-20 minutes on 2 cores)..."
cargo build --release --bin singer-id
bin=target/release/singer-id
library=$(mktemp -d)/demo-singers.json
trap 'rm -rf "$(dirname "$library")"' EXIT

for singer in yuki erithacus scott; do
  "$bin" enroll --library "$library" --name "$singer" "demo/enroll/$singer.flac"
done
echo
echo "Who sings when in demo/demo-track.flac (start, end, singer):"
"$bin" analyze demo/demo-track.flac --library "$library" --format audacity
echo
echo "Ground truth (demo/demo-track.sections.csv):"
column -s, -t demo/demo-track.sections.csv 2>/dev/null || cat demo/demo-track.sections.csv
