#!/usr/bin/env python3
"""The noise-free (linearised) BOLD FC of a small reduced Wong-Wang network, computed with
Tests/Reference/linearised_fc.py (numpy/scipy: analytic Jacobian, brentq for feedback
inhibition, scipy's Lyapunov solver), for LinearisedFCTests.

A 6-node network: symmetric weights uniform in [0, 1) from numpy's PCG64 seed 7, diagonal
zero, divided by the largest; G = 0.15 and 0.3 (both below the coupling where the 3 Hz state loses stability); feedback inhibition at 3 Hz; sigma = 0.001.
Run from the repository root: python3 Tests/WholeBrainTests/Fixtures/make_linearised_fc_fixture.py
"""
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "Reference"))
from linearised_fc import lin_fc  # noqa: E402

rng = np.random.Generator(np.random.PCG64(7))
n = 6
w = rng.random((n, n))
w = (w + w.T) / 2
np.fill_diagonal(w, 0)
w /= w.max()
cases = []
for g in [0.15, 0.3]:
    d = lin_fc(w, g, sigma=0.001, rate=3.0, details=True)
    cases.append(dict(G=g, J_i=d["ji"].tolist(), fc=d["fc"].tolist(), fc_neural=d["fc_neural"].tolist(),
                      bold_variance=np.diag(d["bold_covariance"]).tolist(), leading_real=float(d["leading"])))
    print(f"G {g}: leading eigenvalue {d['leading']:.3e}/ms, BOLD variance {np.diag(d['bold_covariance']).mean():.3e}")
with open(os.path.join(HERE, "linearised_fc.json"), "w") as f:
    json.dump(dict(weights=w.tolist(), sigma=0.001, fic_rate_hz=3.0, cases=cases,
                   source="make_linearised_fc_fixture.py via Tests/Reference/linearised_fc.py (scipy solve_continuous_lyapunov)"), f, indent=1)
