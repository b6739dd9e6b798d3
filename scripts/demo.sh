#!/usr/bin/env bash
# The main jobs on the bundled data: five simulated minutes of HCP subject 101309 with the
# reduced Wong-Wang network at its default operating point (feedback inhibition control puts
# every excitatory population at 3 Hz; G = 0.9 G*, just below where that state loses
# stability), compared with that subject's and the group's empirical FC, with the BOLD
# analysis (band-passed 0.01-0.1 Hz) in summary.json. The regime and G* go to stderr.
set -euo pipefail
BIN=${1:-.build/release/wholebrain}
OUT=runs/demo-simulate
"$BIN" simulate --data data/hcp --subject 101309 --duration 300 --seed 1 --bandpass 0.01,0.1 --out "$OUT" --force
python3 - "$OUT/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
r = s["regime"]
print(f"regime {r['regime']}; run in the {r['run']['state']} state: mean excitatory rate {r['run']['mean_rate_E_hz']:.2f} Hz "
      f"(regions {r['run']['min_region_rate_E_hz']:.2f}-{r['run']['max_region_rate_E_hz']:.2f}), G = {r['G']:.4f} = {r['G_over_G_star']:.2f} G*")
a = s.get("analysis", {})
if "comparison" in a:
    c = a["comparison"]
    print(f"band-passed BOLD: FC r {c['fc_correlation']:.3f}, metastability {a['metastability']:.3f}, FCD KS distance to 101309 {c['fcd_ks_distance']:.3f}")
PY
echo "bold.npy (time x regions), fc.npy, fcd.npy, fic_J_i.npy, summary.json and report.html are in $OUT"

# A short gradient fit of G and the connection gains to the same subject's FC (6 epochs of
# 30 simulated seconds), starting at the same operating point, with feedback inhibition
# retuned as G and the gains move; the test FC r comes from a fresh run as long as the scan,
# with new noise. scripts/fit-hcp-subjects.sh fits every subject for longer; see `wholebrain fit --help`.
FIT=runs/demo-fit
"$BIN" fit --data data/hcp --subject 101309 --duration 30 --epochs 6 --lr 0.02 --fit G,sc-gains --checkpoint 3000 \
  --quiet --out "$FIT" --force
python3 - "$FIT/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
r = s["regimes"]["101309"]
print(f"fit: G {s['initial']['G']:.4f} -> {s['fitted']['G']:.4f}; start regime {r['start']['regime']}, fitted regime {r['fitted']['regime']}, "
      f"test run {r['test_run']['state']} ({r['test_run']['mean_rate_E_hz']:.2f} Hz); test FC r {s['test_fc_r']:.3f}")
PY
echo "params.json, history.csv and report.html are in $FIT"

# A small sweep of G around the critical coupling G* of the FIC network (the stability
# analysis finds it first; 15 runs of 60 s): FC fit, FCD, metastability and the leading
# eigenvalue of each stable branch per run, with the bifurcation diagram in the report.
SWEEP=runs/demo-sweep
"$BIN" sweep jobs/sweep-critical.toml --out "$SWEEP" --force --quiet
echo "sweep report: $SWEEP/report.html (results.jsonl, results.csv beside it)"
