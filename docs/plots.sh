#!/usr/bin/env bash
# Redraws the README's pictures with `--plot`: the demo track analysed in song mode
# (docs/demo-timeline.png) and the dev songs' truth and predicted lanes (docs/dev-songs-mix.png,
# needs ../shared/data/dev-songs; about 1.5 minutes on one core).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin singer-id
bin=target/release/singer-id
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for singer in yuki erithacus scott; do
  "$bin" --quiet enroll --library "$tmp/demo.json" --name "$singer" "demo/enroll/$singer.flac" > /dev/null
done
"$bin" --quiet analyze demo/demo-track.flac --library "$tmp/demo.json" --format audacity \
  --plot docs/demo-timeline.png
echo "wrote docs/demo-timeline.png"
songs=../shared/data/dev-songs/songs.csv
if [[ -f $songs ]]; then
  "$bin" --quiet eval-songs "$songs" --condition mix --plot docs/dev-songs-mix.png > /dev/null
  echo "wrote docs/dev-songs-mix.png"
fi
