#!/usr/bin/env python3
"""`make recovery`: can a fit recover parameters it knows? Writes RECOVERY.md.

Synthetic BOLD from `wholebrain simulate` (subject 101309's connectome, feedback inhibition
at 3 Hz, known G, noise seed 11, 600 s), fitted back with `wholebrain fit --fit G` from a
different start and a different noise seed (22), exactly as a user would with their own data
(--connectome/--lengths/--bold), with the FC surprise alone and with the FC level term added. Each row: true value, start, recovered value, error, and the
fit's identifiability figures (curvature and the standard error over noise seeds), so a
case the data cannot decide shows as such. Usage: python3 scripts/recovery.py BINARY [--quick]
"""
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "Tests", "WholeBrainTests", "Fixtures")
BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".build/release/wholebrain"))
QUICK = "--quick" in sys.argv
G_STAR = 0.5780  # 101309 with feedback inhibition at 3 Hz (wholebrain stability --subject 101309)
# (label, fraction of G* for the truth, start as a multiple of the truth)
CASES = [("weak coupling", 0.3, 1.3), ("fluctuating", 0.6, 0.8), ("fluctuating", 0.8, 1.15), ("near G*", 0.9, 0.85)]
LOSSES = ["surprise", "surprise,fc-level"]
DATA_SECONDS, FIT_SECONDS, EPOCHS = (120, 30, 3) if QUICK else (600, 120, 15)


def run(args):
    began = time.time()
    p = subprocess.run([BIN] + args, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"recovery: {' '.join(args)} failed:\n{p.stderr}")
    return p, time.time() - began


def main():
    work = tempfile.mkdtemp(prefix="wholebrain-recovery-")
    sc, ln = os.path.join(FIX, "sc_101309_max.npy"), os.path.join(FIX, "len_101309.npy")
    rows = []
    for label, fraction, start_factor in CASES[:2] if QUICK else CASES:
        truth = round(fraction * G_STAR, 4)
        start = round(start_factor * truth, 4)
        sim = os.path.join(work, f"sim-{fraction}")
        run(["simulate", "--connectome", sc, "--lengths", ln, "--G", str(truth), "--seed", "11", "--duration", str(DATA_SECONDS),
             "--quiet", "--out", sim])
        for loss in LOSSES:
            fit = os.path.join(work, f"fit-{fraction}-{loss}")
            p, seconds = run(["fit", "--connectome", sc, "--lengths", ln, "--bold", os.path.join(sim, "bold.npy"), "--fit", "G",
                              "--G", str(start), "--seed", "22", "--duration", str(FIT_SECONDS), "--epochs", str(EPOCHS),
                              "--loss", loss, "--quiet", "--out", fit])
            params = json.load(open(os.path.join(fit, "params.json")))
            summary = json.load(open(os.path.join(fit, "summary.json")))
            g = params["fitted"]["G"]
            ident = params.get("identifiability", {}).get("G", {})
            test_run = next(iter(summary["regimes"].values()))["test_run"]
            rows.append(dict(label=label, fraction=fraction, truth=truth, start=start, loss=loss, fitted=g, error=100 * (g - truth) / truth,
                             curvature=ident.get("curvature"), se=ident.get("relative_error"), verdict=ident.get("verdict", "-"),
                             state=test_run["state"], rate=test_run["mean_rate_E_hz"], seconds=seconds))
            print(f"recovery: {label}, G = {truth} ({fraction} G*), --loss {loss}: start {start}, fitted {g:.4f} "
                  f"({rows[-1]['error']:+.1f}%), {rows[-1]['verdict']}", flush=True)
    lines = ["| case | true G (G/G*) | start | loss | recovered | error | curvature | s.e. over seeds | identifiability | test run | fit time |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        se = f"{100 * r['se']:.0f}%" if r["se"] is not None else "-"
        curv = f"{r['curvature']:.3g}" if r["curvature"] is not None else "-"
        lines.append(f"| {r['label']} | {r['truth']} ({r['fraction']}) | {r['start']} | {r['loss']} | {r['fitted']:.4f} | {r['error']:+.1f}% | {curv} | "
                     f"{se} | {r['verdict']} | {r['state']}, {r['rate']:.2f} Hz | {r['seconds']:.0f} s |")
    table = "\n".join(lines)
    print(table)
    if not QUICK:
        with open(os.path.join(ROOT, "RECOVERY.md"), "w") as f:
            f.write(TEMPLATE.format(table=table, data=DATA_SECONDS, fit=FIT_SECONDS, epochs=EPOCHS,
                                    within=sum(abs(r["error"]) <= 5 for r in rows), total=len(rows),
                                    beyond=sum(r["fitted"] > G_STAR for r in rows), high=sum(r["state"] == "high" for r in rows),
                                    overconfident=sum(r["verdict"] == "identified" and abs(r["error"]) > 5 for r in rows)))


TEMPLATE = """# Recovery

Can a fit recover parameters it knows? `make recovery` (`python3 scripts/recovery.py
.build/release/wholebrain`) simulates BOLD with `wholebrain simulate` (subject 101309's
connectome, feedback inhibition at 3 Hz, known G, noise seed 11, {data} s) and fits G back with
`wholebrain fit --fit G --connectome ... --lengths ... --bold sim/bold.npy` from another start
and another noise seed (22): {epochs} epochs of {fit} s, whole-run gradients, with the FC
surprise alone (`--loss surprise`, the default) and with the FC level term added (`--loss
surprise,fc-level`: the mean squared difference of the correlations, which r ignores).
The identifiability columns are the fit's own (`--identifiability-seeds 4`: curvature of the
loss at the fitted value over +-10%, the spread of the fitted value over noise seeds).

{table}

{within} of {total} cases within 5% of the truth (goal: all). G* = 0.578 for this network:
{beyond} of {total} fits ended beyond it and {high} test runs (fresh noise, at the fitted G) sat
in the high-activity state. {overconfident} fits called `identified` are more than 5% off: the
figure measures how much another noise seed would move the fit (precision), not its bias.

What this says, and what is missing (issue 22, in progress):
- The correlation r of FC patterns ignores their level: a cleaner version of the target's
  pattern scores better at any coupling, so r alone pulls G up where weak coupling leaves FC
  mostly noise, and the identifiability figure (a precision, not an accuracy) cannot see that
  bias. The FC level term compares the correlations themselves.
- Where the table says `not identified` or `weak`, the recovered value is not a measurement,
  and the fit says so on stderr. Terms for BOLD variance, spectrum and FCD, and joint recovery
  of G with J_i, w_plus and sigma, are next.
- An independent reference implementation (numpy, its own integrator, noise and BOLD) to
  make the synthetic data is not written yet.
"""

if __name__ == "__main__":
    main()
