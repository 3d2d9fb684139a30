#!/usr/bin/env bash
# CPU share of singer-id-live at 48 kHz on real singing: a JACK server on its dummy driver (no
# sound card), the demo track looped into the app's input by a small JACK player, the default
# model and the three demo singers enrolled, no window. Reports the app's CPU time over the
# measured span as a share of one core (utime + stime from /proc, after a warm-up).
#
# Needs: jackd (Debian: jackd2), the standalone's build packages (scripts/install-standalone-deps.sh)
# and Python 3 for the player (a venv under target/ with numpy, soundfile, JACK-Client).
# Usage: scripts/standalone_cpu.sh [SECONDS (default 60)] [PERIOD (default 512)]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
period=${2:-512}
bash scripts/install-standalone-deps.sh
command -v jackd >/dev/null || { echo "needs jackd (Debian: apt-get install jackd2)" >&2; exit 1; }
cargo build --release -q --bin singer-id -p singer-id -p singer-id-live
venv=target/standalone-cpu-venv
[ -x "$venv/bin/python" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q numpy soundfile JACK-Client; }

work=$(mktemp -d)
pids=()
# Stop in reverse order of start (player, app, then the JACK server the app is a client of).
cleanup() {
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
for s in yuki scott erithacus; do
  target/release/singer-id enroll -q --library "$work/lib.json" --name "$s" "demo/enroll/$s.flac" >/dev/null
done

export JACK_DEFAULT_SERVER="singer-id-cpu-$$"
jackd --no-realtime -d dummy -r 48000 -p "$period" >"$work/jackd.log" 2>&1 & pids+=($!)
sleep 2
target/release/singer-id-live --headless --backend jack --period-size "$period" --library "$work/lib.json" \
  >"$work/app.log" 2>&1 & app=$!; pids+=($app)
sleep 8   # model load and JACK ports
"$venv/bin/python" scripts/standalone_play.py demo/demo-track.flac $((seconds + 15)) & pids+=($!)
sleep 10  # warm-up: the first hops and allocations
ticks() { awk '{print $14 + $15}' "/proc/$app/stat"; }
hz=$(getconf CLK_TCK)
t0=$(ticks); s0=$(date +%s.%N)
sleep "$seconds"
t1=$(ticks); s1=$(date +%s.%N)
kill -0 "$app" 2>/dev/null || { echo "singer-id-live stopped:" >&2; cat "$work/app.log" >&2; exit 1; }
awk -v t="$((t1 - t0))" -v hz="$hz" -v a="$s0" -v b="$s1" -v p="$period" 'BEGIN {
  printf "singer-id-live at 48 kHz, period %d, demo track looped: %.2f %% of one core over %.0f s\n", p, 100 * t / hz / (b - a), b - a }'
