#!/usr/bin/env python3
"""The bundled data's own ceiling for predicting a subject it has not seen (numpy/scipy only).

For each of the 7 subjects (80 cortical AAL2 regions, the whole REST1_LR scan, TR 0.72 s):
- FC ceiling: Pearson r between the upper triangles of the left-out subject's FC and the
  element-wise mean FC of the other six (raw and band-passed 0.01-0.1 Hz BOLD);
- FCD ceiling: Kolmogorov-Smirnov distance between the left-out subject's FCD values (strict
  upper triangle; band-passed BOLD, 60-TR windows, step 10) and the pooled FCD values of the
  other six (scipy.stats.ks_2samp).
Run from the repository root; writes ceiling_hcp.json beside this script.
"""
import glob
import json
import os

import numpy as np
import scipy.io
import scipy.stats

from reference_filters import mirror_bandpass

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
CORTICAL = [i for i in range(94) if i not in list(range(40, 46)) + list(range(74, 82))]
FS = 1 / 0.72


def bandpass(x, lo=0.01, hi=0.1):
    return mirror_bandpass(x, FS, lo, hi)


def fcd_values(x, w=60, step=10):
    iu = np.triu_indices(x.shape[0], 1)
    wins = np.array([np.corrcoef(x[:, s:s + w])[iu] for s in range(0, x.shape[1] - w + 1, step)])
    f = np.corrcoef(wins)
    return f[np.triu_indices(f.shape[0], 1)]


subjects = sorted(os.listdir(os.path.join(ROOT, "data/hcp/subjects")))
bold = {s: scipy.io.loadmat(glob.glob(os.path.join(ROOT, "data/hcp/subjects", s, "functional", "*.mat"))[0])["tc"][CORTICAL]
        for s in subjects}
iu = np.triu_indices(80, 1)
result = {"subjects": subjects, "fc_r": {}, "fc_r_bandpassed": {}, "fcd_ks": {}}
fc = {s: np.corrcoef(bold[s]) for s in subjects}
fcb = {s: np.corrcoef(bandpass(bold[s])) for s in subjects}
fcd = {s: fcd_values(bandpass(bold[s])) for s in subjects}
for s in subjects:
    others = [o for o in subjects if o != s]
    result["fc_r"][s] = float(np.corrcoef(fc[s][iu], np.mean([fc[o] for o in others], axis=0)[iu])[0, 1])
    result["fc_r_bandpassed"][s] = float(np.corrcoef(fcb[s][iu], np.mean([fcb[o] for o in others], axis=0)[iu])[0, 1])
    result["fcd_ks"][s] = float(scipy.stats.ks_2samp(fcd[s], np.concatenate([fcd[o] for o in others])).statistic)
for key in ("fc_r", "fc_r_bandpassed", "fcd_ks"):
    v = list(result[key].values())
    print(f"{key}: {min(v):.3f}-{max(v):.3f}, mean {np.mean(v):.3f}")
with open(os.path.join(HERE, "ceiling_hcp.json"), "w") as f:
    json.dump(result, f, indent=1, sort_keys=True)
