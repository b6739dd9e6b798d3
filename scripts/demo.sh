#!/usr/bin/env bash
# The main job on the bundled data: five simulated minutes of one HCP subject, compared with
# that subject's and the group's empirical FC.
set -euo pipefail
BIN=${1:-.build/release/wholebrain}
OUT=runs/demo-simulate
"$BIN" simulate --data data/hcp --subject 101309 --duration 300 --G 0.5 --seed 1 --out "$OUT" --force
echo "bold.npy, fc.npy and summary.json are in $OUT"
