#!/usr/bin/env python3
"""Fixed points and eigenvalues of a single reduced Wong-Wang node (no coupling), computed
independently of WholeBrain with scipy and numpy, for StabilityTests.

Every fixed point: S_I is eliminated (dS_I/dt = 0 has one root in S_I for each S_E), the
remaining dS_E/dt is scanned on a fine S_E grid for sign changes and each root polished
with brentq. Eigenvalues: numpy.linalg.eigvals of the 2 x 2 Jacobian by central differences
(step 1e-6). Run from the repository root: python3 Tests/WholeBrainTests/Fixtures/make_stability_fixture.py
"""
import json
import os

import numpy as np
from scipy.optimize import brentq

HERE = os.path.dirname(os.path.abspath(__file__))
BASE = dict(aE=310.0, bE=125.0, dE=0.16, aI=615.0, bI=177.0, dI=0.087, tauE=100.0, tauI=10.0,
            gammaE=0.641 / 1000, gammaI=1.0 / 1000, WE=1.0, WI=0.7, I0=0.382, wp=1.4, JN=0.15, Ji=1.0)


def H(x, a, b, d):
    y = a * x - b
    return y / -np.expm1(-d * y) if y != 0 else 1.0 / d


def F(sE, sI, p):
    xE = p["WE"] * p["I0"] + p["wp"] * p["JN"] * sE - p["Ji"] * sI
    xI = p["WI"] * p["I0"] + p["JN"] * sE - sI
    return np.array([-sE / p["tauE"] + (1 - sE) * p["gammaE"] * H(xE, p["aE"], p["bE"], p["dE"]),
                     -sI / p["tauI"] + p["gammaI"] * H(xI, p["aI"], p["bI"], p["dI"])])


def sI_of(sE, p):
    return brentq(lambda sI: F(sE, sI, p)[1], 0.0, 1.0, xtol=1e-16, rtol=1e-15)


def fixed_points(p):
    grid = np.linspace(1e-6, 1 - 1e-6, 20001)
    g = np.array([F(s, sI_of(s, p), p)[0] for s in grid])
    points = []
    for k in np.nonzero(np.sign(g[:-1]) != np.sign(g[1:]))[0]:
        sE = brentq(lambda s: F(s, sI_of(s, p), p)[0], grid[k], grid[k + 1], xtol=1e-16, rtol=1e-15)
        sI = sI_of(sE, p)
        h = 1e-6
        J = np.zeros((2, 2))
        for j, (de, di) in enumerate([(h, 0), (0, h)]):
            J[:, j] = (F(sE + de, sI + di, p) - F(sE - de, sI - di, p)) / (2 * h)
        ev = np.linalg.eigvals(J)
        ev = sorted(ev, key=lambda z: -z.real)
        points.append(dict(sE=sE, sI=sI, eigen_real=[float(z.real) for z in ev], eigen_imag=[float(z.imag) for z in ev]))
    return points


cases = []
for Ji, wp in [(1.0, 1.4), (2.0, 1.4), (2.0, 3.0), (3.0, 4.0)]:
    p = dict(BASE, Ji=Ji, wp=wp)
    cases.append(dict(J_i=Ji, w_plus=wp, fixed_points=fixed_points(p)))
    print(f"J_i {Ji}, w_plus {wp}: {len(cases[-1]['fixed_points'])} fixed point(s)")
with open(os.path.join(HERE, "rww_stability.json"), "w") as f:
    json.dump(dict(parameters=BASE, cases=cases, source="make_stability_fixture.py: scipy brentq, numpy eigvals"), f, indent=1)
