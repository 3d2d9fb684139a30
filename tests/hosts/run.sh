#!/usr/bin/env bash
# Host tests: the Singer ID VST3 bundle loaded by pedalboard and DawDreamer (test_vst3_hosts.py).
# Builds the bundle and the CLI (the tests enrol a library and compare decisions with it), sets up
# tests/hosts/.venv, then runs pytest. Exits non-zero when anything fails. Extra arguments go to
# pytest (e.g. `-k pedalboard`).
set -euo pipefail
cd "$(dirname "$0")/../.."

echo "[hosts] building the VST3/CLAP bundle and the CLI (release)"
cargo xtask bundle singer-id --release
cargo build --release --bin singer-id

bash tests/hosts/setup_venv.sh

echo "[hosts] running the host tests"
# -p no:cacheprovider: leave no .pytest_cache in the source tree.
exec tests/hosts/.venv/bin/python -m pytest tests/hosts -v -p no:cacheprovider "$@"
