#!/usr/bin/env bash
# Render the quickstart's report.html in headless Chromium, light and dark,
# so a person can look at it (and refresh docs/report.png with --docs).
#
#   scripts/check-html.sh            # screenshots into target/check-html/
#   scripts/check-html.sh --docs     # also copy the light one to docs/report.png
#
# Needs chromium (apt-get install chromium). Nothing leaves the machine: the
# run uses the built-in sim gateway and the page makes no requests.
set -euo pipefail
cd "$(dirname "$0")/.."

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [[ -z "$CHROMIUM" ]]; then
  echo "chromium not found: install chromium: apt-get install chromium" >&2
  exit 2
fi

OUT=target/check-html
rm -rf "$OUT" && mkdir -p "$OUT"
cargo run --quiet -- run suites/quickstart.yaml --sim --no-progress --repeat 4 --out "$OUT/run" >/dev/null

shot() { # shot NAME EXTRA_FLAGS...
  local name=$1; shift
  local profile
  profile=$(mktemp -d)
  "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --hide-scrollbars --user-data-dir="$profile" --enable-logging=stderr --v=0 \
    --window-size=1280,2050 --screenshot="$OUT/$name.png" "$@" \
    "file://$PWD/$OUT/run/report.html" 2>"$OUT/$name.log" >/dev/null
  rm -rf "$profile"
  if grep -E 'CONSOLE|Uncaught|Refused to' "$OUT/$name.log"; then
    echo "$name: the page logged console messages (above)" >&2
    exit 1
  fi
  echo "$OUT/$name.png ($(stat -c %s "$OUT/$name.png") bytes)"
}

shot light
shot dark --force-dark-mode --blink-settings=preferredColorScheme=0
echo "report: $OUT/run/report.html ($(stat -c %s "$OUT/run/report.html") bytes)"

if [[ "${1:-}" == "--docs" ]]; then
  cp "$OUT/light.png" docs/report.png
  echo "updated docs/report.png"
fi
