#!/usr/bin/env bash
# tests/hosts/.venv: pedalboard and DawDreamer (two Python VST3 hosts), numpy, soundfile, soxr,
# pytest. --only-binary: a missing wheel should fail here, not turn into a long source build.
exec "$(dirname "$0")/../../scripts/make_venv.sh" tests/hosts "pedalboard dawdreamer numpy soundfile soxr pytest" -- --only-binary=:all:
