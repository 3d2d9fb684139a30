#!/usr/bin/env bash
# The whole test suite, as the README's second command and CI (.ci/run) run it:
#   1. cargo tests: engine, CLI, parity with the Python reference;
#   2. the bundled plugin through the CLAP host harness, and its VST3 MIDI output in a minimal VST3 host;
#   3. the allocation check of process() (nice-plug's assert_process_allocs);
#   4. the VST3 bundle in pedalboard and DawDreamer (Python venv set up by the repo's script);
#   5. the standalone app, headless (installs the ALSA/JACK headers it builds against).
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n==== %s\n' "$*"; }

step "cargo test --release"
cargo test --release
step "plugin bundle through the CLAP harness and the VST3 harness"
bash .ci/plugin-check
step "no allocation in process()"
bash .ci/plugin-alloc-check
step "VST3 in pedalboard and DawDreamer"
bash tests/hosts/run.sh
step "standalone app, headless"
bash .ci/standalone-check
