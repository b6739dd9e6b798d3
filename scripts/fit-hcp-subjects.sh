#!/usr/bin/env bash
# Fits every bundled HCP subject with the same settings, one after another, and writes one
# table of fitted values and train / held-out / test FC r (runs/hcp-fits/fits.csv).
#   scripts/fit-hcp-subjects.sh [extra wholebrain fit options]
# Defaults: G and connection gains, 40 s per epoch, 15 epochs, the last 20% of each scan
# held out (early stop after 5 epochs without improvement).
set -euo pipefail
cd "$(dirname "$0")/.."
out=runs/hcp-fits
mkdir -p "$out"
bin=.build/release/wholebrain
subjects=$(ls data/hcp/subjects)
for s in $subjects; do
  if [ -f "$out/$s/summary.json" ]; then echo "$s: done"; continue; fi
  "$bin" fit --subject "$s" --fit G,sc-gains --duration 40 --epochs 15 --held-out 0.2 --patience 5 --quiet \
    --out "$out/$s" "$@" | tail -1
done
python3 - "$out" <<'PY'
import json, os, sys
out = sys.argv[1]
rows = []
for s in sorted(os.listdir(out)):
    p = os.path.join(out, s, "summary.json")
    if not os.path.exists(p): continue
    j = json.load(open(p))
    rows.append((s, j["fitted"].get("G"), j["train_fc_r"], j.get("best_held_out_fc_r"), j["test_fc_r"], j.get("test_held_out_fc_r"), j["wall_time_s"]))
with open(os.path.join(out, "fits.csv"), "w") as f:
    f.write("subject,G,train_fc_r,best_held_out_fc_r,test_fc_r,test_held_out_fc_r,wall_time_s\n")
    for r in rows: f.write(",".join(str(x) for x in r) + "\n")
n = len(rows)
print("subjects %d, mean test FC r %.3f, mean test FC r against the held-out part %.3f" % (
    n, sum(r[4] for r in rows) / n, sum(r[5] for r in rows) / n))
PY
