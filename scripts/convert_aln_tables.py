#!/usr/bin/env python3
"""Converts neurolib 0.6.2's ALN transfer-function tables to the .npz WholeBrain reads.

Input: neurolib/models/aln/aln-precalc/quantities_cascade.h5 from the neurolib 0.6.2 wheel
(`pip download neurolib==0.6.2 --no-deps`, then unzip). Output:
Sources/WholeBrain/Models/Resources/aln_quantities_cascade.npz with float64 arrays
mu_vals (350), sigma_vals (64) and r_ss, V_mean_ss, tau_mu_exp, tau_sigma_exp (350 x 64,
rows mu, columns sigma), copied unchanged. Needs numpy and h5py.
"""
import sys
import h5py
import numpy as np

src = sys.argv[1] if len(sys.argv) > 1 else "quantities_cascade.h5"
dst = sys.argv[2] if len(sys.argv) > 2 else "Sources/WholeBrain/Models/Resources/aln_quantities_cascade.npz"
with h5py.File(src, "r") as f:
    arrays = {k: np.asarray(f[k][()], dtype=np.float64) for k in
              ["mu_vals", "sigma_vals", "r_ss", "V_mean_ss", "tau_mu_exp", "tau_sigma_exp"]}
for k, v in arrays.items():
    print(k, v.shape, float(v.min()), float(v.max()))
np.savez_compressed(dst, **arrays)
print("wrote", dst)
