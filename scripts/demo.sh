#!/usr/bin/env bash
# The main job on the bundled data: five simulated minutes of HCP subject 101309 with the
# reduced Wong-Wang network (default parameters, G = 2), compared with that subject's and the
# group's empirical FC.
set -euo pipefail
BIN=${1:-.build/release/wholebrain}
OUT=runs/demo-simulate
"$BIN" simulate --data data/hcp --subject 101309 --duration 300 --G 2.0 --seed 1 --out "$OUT" --force
python3 - "$OUT/summary.json" <<'PY' 2>/dev/null || true
import json, sys
s = json.load(open(sys.argv[1]))
print(f"mean excitatory rate {s['mean_rate_E_Hz']:.1f} Hz, mean S_E {s['mean_S_E']:.3f}, {s['bold_samples']} BOLD samples")
PY
echo "bold.npy (time x regions), fc.npy and summary.json are in $OUT"
