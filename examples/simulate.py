"""Simulate the bundled subject 101309 at the default operating point (0.9 G*, feedback
inhibition at 3 Hz), load the run with its labels and draw what a reader checks first: BOLD
traces of a few regions in time, and simulated FC beside the subject's empirical FC on one
colour scale, with their scatter and r.

    python3 examples/simulate.py --out runs/example-simulate [--duration 600]

Writes OUT/sim (the run folder) and OUT/simulate.png. Run from the repository's top folder
(data/hcp is found there) with the wholebrain binary built or on the PATH."""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import wholebrain  # noqa: E402
import matplotlib  # noqa: E402
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--out", default="runs/example-simulate")
parser.add_argument("--duration", type=float, default=600, help="simulated seconds after the transient")
args = parser.parse_args()

run = wholebrain.simulate(out=os.path.join(args.out, "sim"), subject="101309", duration=args.duration, force=True)
run = wholebrain.load(run.path, xarray=False)  # LabelledArray whether or not xarray is installed
bold, fc, summary = run.bold, run.fc, run.summary
empirical = wholebrain.analyze("101309", out=os.path.join(args.out, "empirical"), force=True)
empirical = wholebrain.load(empirical.path, xarray=False)
# Empirical FC of the raw scan (analyze band-passes only when asked), on the same regions.
emp_fc = empirical.fc.values
upper = np.triu_indices_from(fc.values, k=1)
r = np.corrcoef(fc.values[upper], emp_fc[upper])[0, 1]

fig = plt.figure(figsize=(13, 7.5), constrained_layout=True)
grid = fig.add_gridspec(2, 3)
ax = fig.add_subplot(grid[0, :])
for k, name in enumerate(["Precentral_L", "Frontal_Sup_2_L", "Occipital_Sup_L", "Precuneus_L"]):
    trace = bold.sel(region=name).values
    ax.plot(bold.coords["time"], 100 * (trace - trace.mean()), lw=0.8, label=name)
ax.set_xlabel("time after the transient (s)")
ax.set_ylabel("BOLD change from its mean (%)")
regime = summary["regime"]
ax.set_title(f"Simulated BOLD, subject 101309: G = {regime['G']:.3f} ({regime['G_over_G_star']:.2f} G*), "
             f"{regime['run']['state']}-activity state, mean E rate {regime['run']['mean_rate_E_hz']:.2f} Hz")
ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
for col, (matrix, title) in enumerate([(fc.values, "simulated FC"), (emp_fc, "empirical FC (REST1 LR)")]):
    ax = fig.add_subplot(grid[1, col])
    image = ax.imshow(matrix, vmin=-1, vmax=1, cmap="RdBu_r")
    ax.set_title(title)
    ax.set_xlabel("region (index)")
    ax.set_ylabel("region (index)")
fig.colorbar(image, ax=fig.axes[1:3], label="Pearson r", shrink=0.8)
ax = fig.add_subplot(grid[1, 2])
ax.scatter(emp_fc[upper], fc.values[upper], s=2, alpha=0.3)
ax.set_xlabel("empirical FC (Pearson r)")
ax.set_ylabel("simulated FC (Pearson r)")
ax.set_title(f"FC agreement: r = {r:.3f}")
path = os.path.join(args.out, "simulate.png")
fig.savefig(path, dpi=110)
print(f"FC r {r:.3f}; figure {path}")
