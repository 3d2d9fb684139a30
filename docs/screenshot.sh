#!/usr/bin/env bash
# Renders the plugin editor with real demo results and saves docs/editor.png.
# Needs (Debian): xvfb x11-apps (xwd) netpbm (xwdtopnm, pnmtopng), and Mesa's software OpenGL
# (libgl1-mesa-dri), which egui's OpenGL renderer uses under Xvfb.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --example editor_screenshot
display=:97
Xvfb "$display" -screen 0 1280x800x24 >/dev/null 2>&1 &
xvfb=$!
trap 'kill "$xvfb" 2>/dev/null || true' EXIT
sleep 1
DISPLAY="$display" LIBGL_ALWAYS_SOFTWARE=1 target/release/examples/editor_screenshot &
editor=$!
# Enrolment and analysis of the demo take a few seconds before the window opens.
sleep "${SCREENSHOT_DELAY:-15}"
xwd -root -display "$display" -silent > /tmp/singer-id-editor.xwd
kill "$editor" 2>/dev/null || true
xwdtopnm /tmp/singer-id-editor.xwd 2>/dev/null | pamcut -left 0 -top 0 -width 960 -height 640 | pnmtopng > docs/editor.png
echo "wrote docs/editor.png"
