"""Fit G of the bundled subject 101309 by gradient descent (exact gradients, ADAM), load the
folder and draw the fit: the loss and G over ADAM steps, and the test run's FC (fresh noise at
the fitted G) against the subject's, as matrices on one colour scale and as a scatter with r.

    python3 examples/fit.py --out runs/example-fit [--epochs 6 --duration 60 --identifiability-seeds 4]

Writes OUT/fit (the fit folder) and OUT/fit.png. Run from the repository's top folder."""
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
parser.add_argument("--out", default="runs/example-fit")
parser.add_argument("--epochs", type=int, default=6)
parser.add_argument("--duration", type=float, default=60, help="simulated seconds per epoch")
parser.add_argument("--identifiability-seeds", type=int, default=4, help="noise seeds of the identifiability figures (0: none)")
args = parser.parse_args()

run = wholebrain.fit(out=os.path.join(args.out, "fit"), subject="101309", fit="G", epochs=args.epochs, duration=args.duration,
                     identifiability_seeds=args.identifiability_seeds, force=True)
run = wholebrain.load(run.path, xarray=False)
history, summary, params = run.history, run.summary, run.params
column = (lambda name: np.asarray(history[name])) if isinstance(history, dict) else (lambda name: history[name].to_numpy())
steps = np.arange(1, len(column("loss")) + 1)
sim, emp = run.fc_sim.values, run.fc_empirical.values
upper = np.triu_indices_from(sim, k=1)
r = np.corrcoef(sim[upper], emp[upper])[0, 1]
figure = params.get("identifiability", {}).get("G")
certainty = (f"95% interval {figure['interval_95'][0]:.3f}-{figure['interval_95'][1]:.3f}, {figure['verdict']}"
             if figure and figure.get("interval_95") else (figure or {}).get("verdict", "identifiability not computed"))

fig, axes = plt.subplots(1, 4, figsize=(16, 4), constrained_layout=True)
axes[0].plot(steps, column("loss"), marker="o")
axes[0].set_xlabel("ADAM step")
axes[0].set_ylabel("loss (dimensionless)")
axes[0].xaxis.get_major_locator().set_params(integer=True)
axes[0].set_title("training loss")
axes[1].plot(steps, column("G"), marker="o")
axes[1].set_xlabel("ADAM step")
axes[1].set_ylabel("G (dimensionless)")
axes[1].xaxis.get_major_locator().set_params(integer=True)
axes[1].set_title(f"G: fitted {params['fitted']['G']:.3f} ({certainty})", fontsize=9)
for ax, (matrix, title) in zip(axes[2:3], [(np.where(np.triu(np.ones_like(sim), 1) > 0, sim, emp), "upper: test run, lower: data")]):
    image = ax.imshow(matrix, vmin=-1, vmax=1, cmap="RdBu_r")
    ax.set_title(title)
    ax.set_xlabel("region (index)")
    ax.set_ylabel("region (index)")
    fig.colorbar(image, ax=ax, label="FC (Pearson r)", shrink=0.8)
axes[3].scatter(emp[upper], sim[upper], s=2, alpha=0.3)
axes[3].set_xlabel("empirical FC (Pearson r)")
axes[3].set_ylabel("test run FC (Pearson r)")
axes[3].set_title(f"test FC r = {r:.3f} ({summary['regimes']['101309']['test_run']['state']} state)")
path = os.path.join(args.out, "fit.png")
fig.savefig(path, dpi=110)
print(f"G {params['initial']['G']:.4f} -> {params['fitted']['G']:.4f}; test FC r {r:.3f}; figure {path}")
