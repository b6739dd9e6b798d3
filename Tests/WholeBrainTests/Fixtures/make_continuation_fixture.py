#!/usr/bin/env python3
"""Branches of fixed points of the noise-free reduced Wong-Wang network, computed
independently of WholeBrain with scipy and numpy, for ContinuationTests.

1. A homogeneous network (4 nodes, all-to-all weights 1, no self-connections, J_i = 2): every
   fixed point with all nodes equal lies on a curve given in closed form by S_E. From
   dS_E/dt = 0, H_E(x_E) = S_E / (tau_E gamma_E (1 - S_E)), so x_E = H_E^-1(.) (brentq);
   S_I solves dS_I/dt = 0 (brentq); and the excitatory current balance is linear in G:
       G = (x_E - W_E I_0 - w_+ J_NMDA S_E + J_i S_I) / (J_NMDA s S_E),   s = row sum = 3.
   The folds are the extrema of G(S_E) (brentq on a central-difference derivative). Each
   sample's stability: numpy.linalg.eigvals of the 8 x 8 network Jacobian, written out here.
2. Feedback inhibition control on subject 101309's connectome (80 cortical regions, zero
   diagonal, divided by its maximum): J_i per node puts every node at 3 Hz for each G; G* is
   where the leading eigenvalue at that state crosses zero (brentq).
Run from the repository root: python3 Tests/WholeBrainTests/Fixtures/make_continuation_fixture.py
"""
import json
import os

import numpy as np
import scipy.io as sio
from scipy.optimize import brentq

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..", "..")
aE, bE, dE, aI, bI, dI = 310.0, 125.0, 0.16, 615.0, 177.0, 0.087
tauE, tauI, gammaE, gammaI = 100.0, 10.0, 0.641 / 1000, 1.0 / 1000
WE, WI, I0, wp, JN = 1.0, 0.7, 0.382, 1.4, 0.15


def H(x, a, b, d):
    y = a * x - b
    return y / -np.expm1(-d * y) if y != 0 else 1.0 / d


def dH(x, a, b, d):
    y = a * x - b
    if abs(d * y) < 1e-6:
        return a * (0.5 + d * y / 6)
    e = np.exp(-d * y)
    return a * (1 - e - d * y * e) / (1 - e) ** 2


def jacobian(sE, sI, W, G, Ji):
    """The 2N x 2N Jacobian of the network drift (S_E then S_I)."""
    n = len(sE)
    c = W @ sE
    J = np.zeros((2 * n, 2 * n))
    for i in range(n):
        xE = WE * I0 + wp * JN * sE[i] + G * JN * c[i] - Ji[i] * sI[i]
        xI = WI * I0 + JN * sE[i] - sI[i]
        hE, sl, si = H(xE, aE, bE, dE), dH(xE, aE, bE, dE), dH(xI, aI, bI, dI)
        k = (1 - sE[i]) * gammaE * sl
        J[i, i] = -1 / tauE - gammaE * hE + k * wp * JN
        J[i, :n] += k * G * JN * W[i]
        J[i, n + i] = -k * Ji[i]
        J[n + i, i] = gammaI * si * JN
        J[n + i, n + i] = -1 / tauI - gammaI * si
    return J


def sI_of(sE):
    return brentq(lambda s: -s / tauI + gammaI * H(WI * I0 + JN * sE - s, aI, bI, dI), 0, 1, xtol=1e-16, rtol=1e-15)


def homogeneous(Ji=2.0, n=4):
    W = np.ones((n, n)) - np.eye(n)
    s = n - 1

    def G_of(sE):
        r = sE / (tauE * gammaE * (1 - sE))
        xE = brentq(lambda x: H(x, aE, bE, dE) - r, -5, 5, xtol=1e-16, rtol=1e-15)
        return (xE - WE * I0 - wp * JN * sE + Ji * sI_of(sE)) / (JN * s * sE)

    samples = []
    for sE in np.linspace(0.05, 0.95, 91):
        G = G_of(sE)
        if G < 0:
            continue
        sI = sI_of(sE)
        ev = np.linalg.eigvals(jacobian(np.full(n, sE), np.full(n, sI), W, G, np.full(n, Ji)))
        samples.append(dict(S_E=sE, S_I=sI, G=G, leading_real=float(ev.real.max())))
    slope = lambda x, h=1e-7: (G_of(x + h) - G_of(x - h)) / (2 * h)
    grid = np.linspace(0.06, 0.94, 881)
    d = np.array([slope(x) for x in grid])
    folds = []
    for k in np.nonzero(np.sign(d[:-1]) != np.sign(d[1:]))[0]:
        x = brentq(slope, grid[k], grid[k + 1], xtol=1e-12)
        folds.append(dict(S_E=x, G=G_of(x)))
    return dict(nodes=n, J_i=Ji, weights="all-to-all 1, zero diagonal", samples=samples, folds=folds)


def fic_101309(rate=3.0):
    keep = [i for i in range(94) if not (40 <= i <= 45 or 74 <= i <= 81)]
    sc = sio.loadmat(os.path.join(ROOT, "data/hcp/subjects/101309/structural/DTI_CM.mat"))["sc"]
    W = sc[np.ix_(keep, keep)].astype(float)
    np.fill_diagonal(W, 0)
    W /= W.max()
    n = len(W)
    xE = brentq(lambda x: H(x, aE, bE, dE) - rate, -1, 2, xtol=1e-16, rtol=1e-15)
    sE = gammaE * tauE * rate / (1 + gammaE * tauE * rate)
    sI = sI_of(sE)
    strength = W.sum(1)

    def Ji_of(G):
        return (WE * I0 + wp * JN * sE + G * JN * sE * strength - xE) / sI

    def lead(G):
        return np.linalg.eigvals(jacobian(np.full(n, sE), np.full(n, sI), W, G, Ji_of(G))).real.max()

    g_star = brentq(lead, 0.1, 2.0, xtol=1e-12)
    return dict(subject="101309", rate_hz=rate, S_E=sE, S_I=sI, G_star=g_star,
                leading_real_at=[dict(G=g, leading_real=float(lead(g))) for g in (0.25, 0.5, 0.75)],
                J_i_at_G_star=dict(min=float(Ji_of(g_star).min()), max=float(Ji_of(g_star).max())))


out = dict(homogeneous=homogeneous(), fic=fic_101309(),
           source="make_continuation_fixture.py: closed-form branch, scipy brentq, numpy eigvals")
print("folds", [(round(f["G"], 6), round(f["S_E"], 4)) for f in out["homogeneous"]["folds"]], "FIC G*", out["fic"]["G_star"])
with open(os.path.join(HERE, "rww_continuation.json"), "w") as f:
    json.dump(out, f, indent=1)
