#!/usr/bin/env bash
# System packages the standalone app (`singer-id-live`) needs to build: ALSA and JACK headers
# (nice-plug's standalone wrapper links cpal/ALSA and JACK) and pkg-config to find them.
# Installs them with apt-get (Debian/Ubuntu, as root) when they are missing; elsewhere says what
# to install.
set -euo pipefail
if pkg-config --exists alsa jack 2>/dev/null; then
  exit 0
fi
packages=(pkg-config libasound2-dev libjack-jackd2-dev)
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing ${packages[*]} (for singer-id-live)..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
elif command -v sudo >/dev/null && command -v apt-get >/dev/null; then
  sudo apt-get update -qq
  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
else
  echo "singer-id-live needs the ALSA and JACK development files and pkg-config" >&2
  echo "(Debian/Ubuntu: ${packages[*]}; Fedora: alsa-lib-devel jack-audio-connection-kit-devel)." >&2
  exit 1
fi
