#!/usr/bin/env python3
"""How the FCD distribution of the default model moves with the distance to G*, and how much
one run's FCD varies between noise seeds, against the bundled subjects' FCD.

Runs `wholebrain simulate --subject group` (the 7 subjects' averaged connectome, feedback
inhibition at 3 Hz) at G = F x G* for each fraction F and noise seed, as long as the scans
(1200 TRs), and `wholebrain analyze` on each subject's scan, both with the protocol's FCD
(0.01-0.1 Hz band-pass, 60-TR windows every 10). Prints, per fraction, the mean and spread
of the FCD values of each run, the KS distance of each run to each subject, and beside them
the subjects' own FCD means and the leave-one-out ceiling (six subjects' pooled FCD against
the seventh). The KS statistic is scipy.stats.ks_2samp's, computed here with numpy.

Usage: python3 scripts/fcd_sensitivity.py BINARY [--fractions 0.85,0.87,0.88,0.9] [--seeds 1,2,3,4]
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "data", "hcp")


def option(name, default):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("--")
                      else os.path.join(ROOT, ".build/release/wholebrain"))
FRACTIONS = [float(f) for f in option("--fractions", "0.85,0.87,0.88,0.9").split(",")]
SEEDS = [int(s) for s in option("--seeds", "1,2,3,4").split(",")]
ANALYSIS = ["--bandpass", "0.01,0.1", "--fcd-window", "60", "--fcd-step", "10"]


def distribution(folder):
    fcd = np.load(os.path.join(folder, "fcd.npy"))
    return fcd[np.triu_indices_from(fcd, 1)]


def ks(a, b):
    """Two-sample Kolmogorov-Smirnov statistic sup |F_a - F_b| (as scipy's ks_2samp)."""
    a, b = np.sort(a), np.sort(b)
    grid = np.concatenate([a, b])
    return float(np.max(np.abs(np.searchsorted(a, grid, side="right") / len(a)
                               - np.searchsorted(b, grid, side="right") / len(b))))


def run(arguments):
    subprocess.run([BIN] + arguments + ["--quiet"], check=True, stdout=subprocess.DEVNULL)


def main():
    subjects = sorted(os.listdir(os.path.join(DATA, "subjects")))
    with tempfile.TemporaryDirectory() as work:
        empirical = {}
        for s in subjects:
            out = os.path.join(work, "data-" + s)
            run(["analyze", s, "--data", DATA, "--out", out] + ANALYSIS)
            empirical[s] = distribution(out)
        print("subjects' FCD means: " + ", ".join(f"{s} {v.mean():.3f}" for s, v in empirical.items()))
        ceiling = [ks(np.concatenate([empirical[o] for o in subjects if o != s]), empirical[s]) for s in subjects]
        print(f"leave-one-out ceiling (six subjects' pooled FCD vs the seventh): KS {np.mean(ceiling):.3f} "
              f"({', '.join(f'{c:.2f}' for c in ceiling)})")
        print("| G/G* | run FCD mean (seeds) | seed SD of the mean | run FCD SD | KS to the subjects (mean over runs and subjects) |")
        print("|---|---|---|---|---|")
        for fraction in FRACTIONS:
            means, sds, scores, rates = [], [], [], []
            for seed in SEEDS:
                out = os.path.join(work, f"sim-{fraction}-{seed}")
                run(["simulate", "--data", DATA, "--subject", "group", "--duration", "864", "--critical-fraction", str(fraction),
                     "--seed", str(seed), "--out", out] + ANALYSIS[:2])
                v = distribution(out)
                means.append(v.mean()); sds.append(v.std())
                scores.append([ks(v, e) for e in empirical.values()])
                rates.append(json.load(open(os.path.join(out, "summary.json")))["regime"]["run"]["max_region_rate_E_hz"])
            print(f"| {fraction:.2f} | {', '.join(f'{m:.3f}' for m in means)} | {np.std(means, ddof=1):.3f} | "
                  f"{np.mean(sds):.3f} | {np.mean(scores):.3f} (highest region {max(rates):.1f} Hz) |", flush=True)


if __name__ == "__main__":
    main()
