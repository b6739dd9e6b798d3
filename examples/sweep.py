"""Sweep the global coupling G of subject 101309 across its critical coupling G* with two noise
seeds, load the results and draw each metric against G: the mean over seeds with the seeds'
spread, G* marked, and the best FC r within the low-activity regime (mean E rate 1-10 Hz).

    python3 examples/sweep.py --out runs/example-sweep [--points 9 --duration 120]

Writes OUT/sweep (the sweep folder), OUT/sweep.toml and OUT/sweep.png. Run from the
repository's top folder."""
import argparse
import os
import sys
import textwrap

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import wholebrain  # noqa: E402
import matplotlib  # noqa: E402
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--out", default="runs/example-sweep")
parser.add_argument("--points", type=int, default=9)
parser.add_argument("--duration", type=float, default=120, help="simulated seconds per run")
args = parser.parse_args()

os.makedirs(args.out, exist_ok=True)
job = os.path.join(args.out, "sweep.toml")
with open(job, "w") as f:
    f.write(textwrap.dedent(f"""\
        model = "rww"
        subject = "101309"
        duration = {args.duration}
        seeds = [1, 2]
        metrics = ["fc_r", "fcd_ks", "rate_E"]
        [[axes]]
        parameter = "G"
        kind = "critical"
        span = 0.5
        points = {args.points}
        """))
run = wholebrain.sweep(job, out=os.path.join(args.out, "sweep"), force=True)
run = wholebrain.load(run.path, xarray=False)
results, columns = run.results, run.files["results.csv"]["columns"]
get = (lambda name: np.asarray(results[name], dtype=float)) if isinstance(results, dict) else (lambda name: results[name].to_numpy(dtype=float))
g = get("G")
values = np.unique(g)
g_star = 0.5780  # 101309 with feedback inhibition at 3 Hz (wholebrain stability --subject 101309)

# Short axis titles with units; results.csv's full column descriptions are in the manifest.
labels = {"fc_r": "FC r with the subject (Pearson r)", "fcd_ks": "FCD KS distance (0-1)", "rate_E": "mean excitatory rate (Hz)"}
fig, axes = plt.subplots(1, 3, figsize=(15, 4.3), constrained_layout=True)
for ax, metric in zip(axes, ["fc_r", "fcd_ks", "rate_E"]):
    m = get(metric)
    mean = np.array([np.nanmean(m[g == v]) for v in values])
    low, high = np.array([np.nanmin(m[g == v]) for v in values]), np.array([np.nanmax(m[g == v]) for v in values])
    ax.fill_between(values, low, high, alpha=0.25, label="range over 2 seeds")
    ax.plot(values, mean, marker="o", label="mean over seeds")
    ax.axvline(g_star, color="k", ls="--", lw=1, label="G*")
    ax.set_xlabel("global coupling G (dimensionless)")
    ax.set_ylabel(labels[metric])
    ax.set_title(columns[metric], fontsize=8, wrap=True)
    if metric == "rate_E":
        ax.axhspan(1, 10, color="tab:green", alpha=0.08, label="low-activity regime, 1-10 Hz")
rate = np.array([np.nanmean(get("rate_E")[g == v]) for v in values])
fc = np.array([np.nanmean(get("fc_r")[g == v]) for v in values])
inside = (rate >= 1) & (rate <= 10)
best = values[inside][np.argmax(fc[inside])] if inside.any() else None
if best is not None:
    axes[0].axvline(best, color="tab:red", lw=1, label=f"best in the low-activity regime, G = {best:.3f}")
for ax in axes:
    ax.legend(loc="upper left", bbox_to_anchor=(0, -0.18), fontsize=8)
path = os.path.join(args.out, "sweep.png")
fig.savefig(path, dpi=110)
edge = best is not None and best in (values[0], values[-1])
print(f"{len(values)} values of G; best FC r in the low-activity regime at G = {best if best is None else round(best, 3)}{' (on the grid edge)' if edge else ''}; figure {path}")
