#!/usr/bin/env bash
# Screenshots of reports for the README, taken by headless Chromium (installed by make deps):
#   scripts/report-screenshots.sh OUTDIR NAME=FOLDER[:HEIGHT] ...
# e.g. after make demo:
#   scripts/report-screenshots.sh docs/screenshots simulate=runs/demo-simulate fit=runs/demo-fit:2300
# Each report is drawn 1200 px wide (HEIGHT px tall, 1800 by default) and saved at 0.6 scale as OUTDIR/NAME.png.
set -euo pipefail
out=$1; shift
mkdir -p "$out"
browser=$(command -v chromium || command -v chromium-browser)
for spec in "$@"; do
  name=${spec%%=*}; rest=${spec#*=}
  folder=${rest%%:*}; height=1800
  [ "$rest" != "$folder" ] && height=${rest#*:}
  "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=0.6 \
    --window-size=1200,"$height" --screenshot="$out/$name.png" "file://$(realpath "$folder")/report.html" 2>/dev/null
  echo "$out/$name.png"
done
