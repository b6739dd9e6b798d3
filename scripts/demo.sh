#!/usr/bin/env bash
# The main jobs on the bundled data: five simulated minutes of HCP subject 101309 with the
# reduced Wong-Wang network (default parameters, G = 2), compared with that subject's and the
# group's empirical FC, with the BOLD analysis (band-passed 0.01-0.1 Hz) in summary.json.
set -euo pipefail
BIN=${1:-.build/release/wholebrain}
OUT=runs/demo-simulate
"$BIN" simulate --data data/hcp --subject 101309 --duration 300 --G 2.0 --seed 1 --bandpass 0.01,0.1 --out "$OUT" --force
python3 - "$OUT/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
m = s["means"]
print(f"mean excitatory rate {m['rate_E']:.1f} Hz, mean S_E {m['S_E']:.3f}, {s['bold_samples']} BOLD samples")
a = s.get("analysis", {})
if "comparison" in a:
    c = a["comparison"]
    print(f"band-passed BOLD: metastability {a['metastability']:.3f}, FCD KS distance to 101309 {c['fcd_ks_distance']:.3f}")
PY
echo "bold.npy (time x regions), fc.npy and summary.json are in $OUT"

# A short gradient fit of G and the connection gains to the same subject's FC (6 epochs of
# 30 simulated seconds; the test FC r comes from a fresh run as long as the scan, with new
# noise). scripts/fit-hcp-subjects.sh fits every subject for longer; see `wholebrain fit --help`.
FIT=runs/demo-fit
"$BIN" fit --data data/hcp --subject 101309 --duration 30 --epochs 6 --lr 0.05 --fit G,sc-gains --G 1.0 --checkpoint 3000 \
  --quiet --out "$FIT" --force
echo "params.json, history.csv and report.html are in $FIT"

# A small sweep of G around the critical coupling G* (the stability analysis finds it first;
# J_i = 2, 15 runs of 60 s): FC fit, FCD, metastability and the leading eigenvalue per run.
SWEEP=runs/demo-sweep
"$BIN" sweep jobs/sweep-critical.toml --out "$SWEEP" --force --quiet
echo "sweep report: $SWEEP/report.html (results.jsonl, results.csv beside it)"
