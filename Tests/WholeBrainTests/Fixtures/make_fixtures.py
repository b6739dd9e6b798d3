#!/usr/bin/env python3
"""Independent reference values for WholeBrain's tests, computed with numpy and scipy.

Run from the repository root (`make fixtures`); every file this writes is committed.
Needs numpy and scipy only. Nothing here imports WholeBrain: the values are computed
from the published equations, so the Swift tests compare two independent implementations.
"""
import io
import json
import os
import zipfile

import numpy as np
import scipy.io
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

from reference_filters import mirror_bandpass

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))


def out(name):
    return os.path.join(HERE, name)


# ---------------------------------------------------------------- reduced Wong-Wang
# Deco et al. (2014); time in ms (gamma per ms), currents nA, rates Hz.
P = dict(aE=310.0, bE=125.0, dE=0.16, aI=615.0, bI=177.0, dI=0.087, tauE=100.0, tauI=10.0,
         gammaE=0.641 / 1000, gammaI=1.0 / 1000, WE=1.0, WI=0.7, I0=0.382, wp=1.4, JN=0.15, Ji=1.0, G=2.0, Iext=0.0)


def H(x, a, b, d):
    y = a * x - b
    return y / -np.expm1(-d * y) if y != 0 else 1.0 / d


def drift(sE, sI, c, p=P):
    xE = p["WE"] * p["I0"] + p["wp"] * p["JN"] * sE + p["G"] * p["JN"] * c - p["Ji"] * sI + p["Iext"]
    xI = p["WI"] * p["I0"] + p["JN"] * sE - sI
    rE, rI = H(xE, p["aE"], p["bE"], p["dE"]), H(xI, p["aI"], p["bI"], p["dI"])
    return (-sE / p["tauE"] + (1 - sE) * p["gammaE"] * rE, -sI / p["tauI"] + p["gammaI"] * rI, rE, rI, xE, xI)


states = [(0.3, 0.1, 0.5), (0.164, 0.039, 0.0), (0.9, 0.6, 12.0), (0.0, 0.0, 0.0)]
drift_cases = []
for sE, sI, c in states:
    dE, dI, rE, rI, xE, xI = drift(sE, sI, c)
    drift_cases.append(dict(sE=sE, sI=sI, coupling=c, dE=dE, dI=dI, rE=rE, rI=rI, xE=xE, xI=xI))


def fixed_point_sE(sE):
    # For a given S_E, S_I solves dS_I/dt = 0 (monotone in S_I); return dS_E/dt there.
    sI = brentq(lambda sI: drift(sE, sI, 0.0)[1], 0.0, 1.0, xtol=1e-15, rtol=1e-15)
    return drift(sE, sI, 0.0)[0], sI


sE_star = brentq(lambda s: fixed_point_sE(s)[0], 0.01, 0.5, xtol=1e-15, rtol=1e-15)
sI_star = fixed_point_sE(sE_star)[1]
fp = drift(sE_star, sI_star, 0.0)
with open(out("rww.json"), "w") as f:
    json.dump(dict(parameters=P, drift_cases=drift_cases,
                   uncoupled_fixed_point=dict(sE=sE_star, sI=sI_star, rE=fp[2], rI=fp[3]),
                   source="make_fixtures.py: Deco et al. 2014 equations, scipy.optimize.brentq"), f, indent=1)

# ---------------------------------------------------------------- Balloon-Windkessel
kappa, gamma, tau, alpha, rho, V0 = 0.65, 0.41, 0.98, 0.32, 0.34, 0.02
k1, k2, k3 = 7 * rho, 2.0, 2 * rho - 0.2


def balloon(t, x, z):
    s, f, v, q = x
    return [z - kappa * s - gamma * (f - 1), s, (f - v ** (1 / alpha)) / tau,
            (f * (1 - (1 - rho) ** (1 / f)) / rho - v ** (1 / alpha) * q / v) / tau]


def bold(x):
    s, f, v, q = x
    return V0 * (k1 * (1 - q) + k2 * (1 - q / v) + k3 * (1 - v))


times = np.round(np.arange(0, 20.0 + 1e-9, 0.01), 10)
pulse_end = 0.1
first = solve_ivp(balloon, (0, pulse_end), [0, 1, 1, 1], args=(1.0,), method="DOP853", rtol=1e-12, atol=1e-14,
                  dense_output=True)
second = solve_ivp(balloon, (pulse_end, 20.0), first.y[:, -1], args=(0.0,), method="DOP853", rtol=1e-12,
                   atol=1e-14, dense_output=True)
ys = np.array([bold(first.sol(t) if t <= pulse_end else second.sol(t)) for t in times])
np.save(out("bold_pulse.npy"), np.stack([times, ys], axis=1))
peak = times[np.argmax(ys)]
trough = times[np.argmin(ys)]
with open(out("bold_pulse.json"), "w") as f:
    json.dump(dict(pulse_seconds=pulse_end, amplitude=1.0, peak_time=float(peak), peak=float(ys.max()),
                   undershoot_time=float(trough), undershoot=float(ys.min()),
                   source="make_fixtures.py: scipy solve_ivp DOP853 rtol 1e-12"), f, indent=1)

# ---------------------------------------------------------------- readers
A = np.arange(12, dtype=np.float64).reshape(3, 4) * 1.5 - 2.0
scipy.io.savemat(out("matrix_v5_compressed.mat"), {"A": A, "ints": A.astype(np.int32), "u8": np.abs(A).astype(np.uint8),
                                                  "single": A.astype(np.float32), "label": "text", "cells": np.array([[1, 2]], dtype=object)},
                 do_compression=True)
scipy.io.savemat(out("matrix_v5_plain.mat"), {"A": A, "vec": np.array([1.0, 2.0, 3.0])}, do_compression=False)
np.save(out("matrix_f8.npy"), A)
np.save(out("matrix_f4_fortran.npy"), np.asfortranarray(A.astype(np.float32)))
np.save(out("matrix_i4.npy"), A.astype(np.int32))
np.savez_compressed(out("arrays_compressed.npz"), A=A, B=A.T)
np.savez(out("arrays_plain.npz"), A=A)
np.savetxt(out("matrix.csv"), A, delimiter=",")
np.savetxt(out("matrix.tsv"), A, delimiter="\t")
np.savetxt(out("matrix.txt"), A, header="whitespace separated")
W = np.array([[0, 2, 1], [2, 0, 3], [1, 3, 0]], dtype=float)
Lg = np.array([[0, 10, 20], [10, 0, 30], [20, 30, 0]], dtype=float)
buf = io.BytesIO()
with zipfile.ZipFile(out("tvb_connectivity.zip"), "w", compression=zipfile.ZIP_DEFLATED) as z:
    z.writestr("weights.txt", "\n".join(" ".join(f"{v:g}" for v in row) for row in W) + "\n")
    z.writestr("tract_lengths.txt", "\n".join(" ".join(f"{v:g}" for v in row) for row in Lg) + "\n")
    z.writestr("centres.txt", "rA 0 0 0\nrB 1 0 0\nrC 0 1 0\n")
# Broken files.
good = open(out("matrix_v5_compressed.mat"), "rb").read()
open(out("broken_truncated.mat"), "wb").write(good[: len(good) // 2])
open(out("broken_notmat.mat"), "wb").write(b"this is not a MAT-file" + b"\0" * 200)
npy = open(out("matrix_f8.npy"), "rb").read()
open(out("broken_truncated.npy"), "wb").write(npy[:-20])
zbytes = bytearray(open(out("arrays_compressed.npz"), "rb").read())
zbytes[60:90] = b"\xff" * 30  # inside the first member's deflated data
open(out("broken_corrupt.npz"), "wb").write(bytes(zbytes))
open(out("broken_ragged.csv"), "w").write("1,2,3\n4,5\n")
with open(out("readers.json"), "w") as f:
    json.dump(dict(A=A.tolist(), W=W.tolist(), L=Lg.tolist()), f)

# ---------------------------------------------------------------- empirical FC of the bundled data
cortical = [i for i in range(94) if not (40 <= i <= 45 or 74 <= i <= 81)]
sub = os.path.join(ROOT, "data", "hcp", "subjects")
subjects = sorted(os.listdir(sub))
fcs = []
for s in subjects:
    tc = scipy.io.loadmat(os.path.join(sub, s, "functional", "TC_rsfMRI_REST1_LR.mat"))["tc"][cortical]
    fcs.append(np.corrcoef(tc))
np.save(out("fc_101309.npy"), fcs[subjects.index("101309")])
np.save(out("fc_group.npy"), np.mean(fcs, axis=0))
sc = scipy.io.loadmat(os.path.join(sub, "101309", "structural", "DTI_CM.mat"))["sc"][np.ix_(cortical, cortical)]
ln = scipy.io.loadmat(os.path.join(sub, "101309", "structural", "DTI_LEN.mat"))["len"][np.ix_(cortical, cortical)]
np.save(out("sc_101309_max.npy"), sc / sc.max())
np.save(out("len_101309.npy"), ln)
print("fixtures written to", HERE)

# ---------------------------------------------------------------- Wilson-Cowan bistability
# BrainPy's weights (neurolib's form: refractory factor, sigmoid 1/(1+exp(-a(x-mu)))) with
# exc_ext = -2.5 and inh_ext = -8 have two stable fixed points (scipy fsolve from a grid,
# stability from the Jacobian's eigenvalues).
from scipy.optimize import fsolve as _fsolve
_cee, _cei, _cie, _cii, _a, _mu, _P, _Q = 16, 15, 12, 3, 1.5, 3, -2.5, -8.0
_S = lambda x: 1 / (1 + np.exp(-_a * (x - _mu)))
_dS = lambda x: _a * _S(x) * (1 - _S(x))
def _wc(x):
    E, I = x
    return [-E + (1 - E) * _S(_cee * E - _cie * I + _P), -I + (1 - I) * _S(_cei * E - _cii * I + _Q)]
def _wcJ(x):
    E, I = x
    u, v = _cee * E - _cie * I + _P, _cei * E - _cii * I + _Q
    return np.array([[-1 - _S(u) + (1 - E) * _dS(u) * _cee, -(1 - E) * _dS(u) * _cie],
                     [(1 - I) * _dS(v) * _cei, -1 - _S(v) - (1 - I) * _dS(v) * _cii]])
_fps = set()
for E0 in np.linspace(0, 1, 11):
    for I0 in np.linspace(0, 1, 11):
        x, info, ier, msg = _fsolve(_wc, [E0, I0], full_output=True, xtol=1e-14)
        if ier == 1 and max(abs(np.array(_wc(x)))) < 1e-12:
            _fps.add(tuple(np.round(x, 12)))
_stable = sorted(fp for fp in _fps if max(np.linalg.eigvals(_wcJ(fp)).real) < 0)
assert len(_stable) == 2, _stable
with open(out("wilson_cowan_bistable.json"), "w") as f:
    json.dump(dict(exc_ext=_P, inh_ext=_Q, stable_fixed_points=[list(p) for p in _stable],
                   source="make_fixtures.py: scipy fsolve, eigenvalues of the Jacobian"), f, indent=1)
print("Wilson-Cowan stable fixed points:", _stable)

# ---------------------------------------------------------------- BOLD analysis references
import scipy.signal
import scipy.stats

tr = 0.72
fs = 1 / tr
tc1 = scipy.io.loadmat(os.path.join(sub, "101309", "functional", "TC_rsfMRI_REST1_LR.mat"))["tc"][cortical]
tc2 = scipy.io.loadmat(os.path.join(sub, "102311", "functional", "TC_rsfMRI_REST1_LR.mat"))["tc"][cortical]
f, p = scipy.signal.welch(tc1, fs=fs, window="hann", nperseg=256, noverlap=128, detrend="constant", axis=-1)
np.save(out("welch_101309_freqs.npy"), f)
np.save(out("welch_101309_psd.npy"), p)
_, pl = scipy.signal.welch(tc1[:4], fs=fs, window="hann", nperseg=200, noverlap=50, detrend="linear", axis=-1)
np.save(out("welch_101309_linear_200_50.npy"), pl)
# A sine of 0.05 Hz (amplitude 2) plus white noise of variance 0.25, 4096 samples at 1/TR.
rng = np.random.default_rng(7)
tt = np.arange(4096) * tr
sig = 2 * np.sin(2 * np.pi * 0.05 * tt) + rng.normal(0, 0.5, tt.size)
np.save(out("sine_noise.npy"), sig)
fs_, ps_ = scipy.signal.welch(sig, fs=fs, nperseg=512)
np.save(out("sine_noise_psd.npy"), ps_)
# Analytic signal of region 0 (scipy.signal.hilbert) and of an odd-length cut.
h = scipy.signal.hilbert(tc1[0])
np.save(out("hilbert_101309_r0.npy"), np.stack([h.real, h.imag]))
h2 = scipy.signal.hilbert(tc1[1, :999])
np.save(out("hilbert_101309_r1_odd.npy"), np.stack([h2.real, h2.imag]))


bp = mirror_bandpass(tc1, fs, 0.01, 0.1)
np.save(out("bandpass_101309_001_01.npy"), bp)


def fcd(x, w, step):
    wins = [np.corrcoef(x[:, s:s + w]) for s in range(0, x.shape[1] - w + 1, step)]
    iu = np.triu_indices(x.shape[0], 1)
    return np.corrcoef(np.array([c[iu] for c in wins]))


fcd1 = fcd(tc1, 60, 10)
fcd2 = fcd(tc2, 60, 10)
np.save(out("fcd_101309_60_10.npy"), fcd1)
iu = np.triu_indices(fcd1.shape[0], 1)
ks = scipy.stats.ks_2samp(fcd1[iu], fcd2[iu]).statistic
narrow = mirror_bandpass(tc1, fs, 0.04, 0.07)
phases = np.angle(scipy.signal.hilbert(narrow, axis=-1))
R = np.abs(np.exp(1j * phases).mean(axis=0))
# ALFF / fALFF (Zou et al. 2008) of the sine + noise: amplitudes 2|X_k|/n of the linearly
# detrended series, k = 1 .. n/2; ALFF = mean in [0.01, 0.08] Hz, fALFF = band sum / total.
_d = scipy.signal.detrend(sig, type="linear")
_amp = np.abs(np.fft.rfft(_d))[1:sig.size // 2 + 1] * 2 / sig.size
_fr = np.arange(1, sig.size // 2 + 1) * fs / sig.size
_band = (_fr >= 0.01) & (_fr <= 0.08)
with open(out("analysis_101309.json"), "w") as fjson:
    json.dump(dict(sine_alff=float(_amp[_band].mean()), sine_falff=float(_amp[_band].sum() / _amp.sum()),
                   fcd_ks_101309_vs_102311=float(ks), synchrony=float(R.mean()), metastability=float(R.std()),
                   sine_variance=float(sig.var()), source="make_fixtures.py: scipy.signal.welch/hilbert, scipy.stats.ks_2samp, numpy"),
              fjson, indent=1)
print("analysis fixtures written")
