#!/usr/bin/env python3
"""An independent reference simulator of the reduced Wong-Wang network with BOLD, in numpy.

It shares no code with WholeBrain, only the equations (Deco et al. 2014, J Neurosci 34:7886;
Balloon-Windkessel of Friston et al. 2000 with the coefficients of Stephan et al. 2007), and
makes its own choices everywhere a simulator must choose:

- integrator: stochastic Heun (predictor-corrector) at dt = 0.5 ms, the delayed coupling held
  over the step as The Virtual Brain does (WholeBrain: Euler-Maruyama at 0.1 ms);
- delays: continuous, tau_ij = length_ij / speed, read from the history by linear
  interpolation between steps, at least one step (WholeBrain: rounded to whole steps);
- noise: numpy's PCG64 normal generator, additive sigma dW on S_E and S_I (WholeBrain: its
  own counter-based generator);
- feedback inhibition: J_i per region solved here with scipy's brentq so that the noise-free
  fixed point has the target rate in every region (WholeBrain: Newton on its own system);
- warm-up: 20 s from S_E = S_I = 0.1 everywhere, BOLD from rest at its start
  (WholeBrain: random initial states, a 5-10 s transient);
- BOLD: the Balloon-Windkessel state integrated by Euler at the neural step in seconds,
  driven by S_E, and sampled as the value at each TR (WholeBrain: RK4 every 10 ms).

Usage:
  python3 Tests/Reference/rww_reference.py --weights W.npy --lengths L.npy --G 0.17 \\
      --seed 5 --duration 600 --out DIR
writes DIR/bold.npy (time x regions, one row per TR) and DIR/reference.json (parameters, J_i,
mean excitatory rate). --fic-rate 0 keeps a uniform --ji instead of feedback inhibition.
"""
import argparse
import json
import os

import numpy as np
from scipy.optimize import brentq

# Deco et al. (2014): time in ms, currents in nA, rates in Hz.
P = dict(aE=310.0, bE=125.0, dE=0.16, aI=615.0, bI=177.0, dI=0.087, tauE=100.0, tauI=10.0,
         gammaE=0.641e-3, gammaI=1.0e-3, WE=1.0, WI=0.7, I0=0.382, wplus=1.4, JNMDA=0.15)
# Balloon-Windkessel (time in s).
KAPPA, GAMMA, TAU, ALPHA, RHO, V0 = 0.65, 0.41, 0.98, 0.32, 0.34, 0.02
K1, K2, K3 = 7 * RHO, 2.0, 2 * RHO - 0.2


def transfer(x, a, b, d):
    """H(x) = (a x - b) / (1 - exp(-d (a x - b))), with its limit 1/d at a x = b."""
    y = a * x - b
    small = np.abs(y) < 1e-9
    safe = np.where(small, 1.0, y)
    return np.where(small, 1.0 / d, safe / -np.expm1(-d * safe))


def prepared_weights(path):
    w = np.load(path).astype(float)
    if w.shape[0] != w.shape[1]:
        raise SystemExit(f"{path}: weights must be square, got {w.shape}")
    np.fill_diagonal(w, 0.0)
    return w / w.max()


def feedback_inhibition(w, g, rate):
    """J_i per region so that every region's excitatory rate is `rate` at the noise-free fixed point."""
    p = P
    s_e = p["gammaE"] * p["tauE"] * rate / (1 + p["gammaE"] * p["tauE"] * rate)
    x_e = brentq(lambda x: transfer(x, p["aE"], p["bE"], p["dE"]) - rate, 0.0, 2.0)
    s_i = brentq(lambda s: s - p["gammaI"] * p["tauI"] * transfer(p["WI"] * p["I0"] + p["JNMDA"] * s_e - s, p["aI"], p["bI"], p["dI"]),
                 0.0, 1.0)
    excitation = p["WE"] * p["I0"] + p["wplus"] * p["JNMDA"] * s_e + g * p["JNMDA"] * s_e * w.sum(axis=1)
    return (excitation - x_e) / s_i


def simulate(w, lengths, g, ji, sigma, speed, seed, duration, tr, dt=0.5, warmup=20.0):
    p = P
    n = w.shape[0]
    rng = np.random.Generator(np.random.PCG64(seed))
    src_i, src_j = np.nonzero(w)
    weight = w[src_i, src_j]
    delay = np.maximum(lengths[src_i, src_j] / speed / dt, 1.0)   # steps (lengths mm, speed m/s = mm/ms)
    lag0 = np.floor(delay).astype(int)
    frac = delay - lag0
    depth = int(lag0.max()) + 2
    history = np.full((depth, n), 0.1)                            # ring buffer of S_E, row = step mod depth
    s_e, s_i = np.full(n, 0.1), np.full(n, 0.1)
    bs, bf, bv, bq = np.zeros(n), np.ones(n), np.ones(n), np.ones(n)
    h = dt / 1000.0                                               # Balloon step in s
    steps_warm = int(round(warmup * 1000 / dt))
    steps_tr = int(round(tr * 1000 / dt))
    samples = int(duration / tr + 1e-9)
    total = steps_warm + samples * steps_tr
    bold = np.empty((samples, n))
    rates = np.zeros(n)
    noise_scale = sigma * np.sqrt(dt)

    def drift(se, si, coupling):
        x_e = p["WE"] * p["I0"] + p["wplus"] * p["JNMDA"] * se + g * p["JNMDA"] * coupling - ji * si
        x_i = p["WI"] * p["I0"] + p["JNMDA"] * se - si
        r_e = transfer(x_e, p["aE"], p["bE"], p["dE"])
        return (-se / p["tauE"] + (1 - se) * p["gammaE"] * r_e,
                -si / p["tauI"] + p["gammaI"] * transfer(x_i, p["aI"], p["bI"], p["dI"]), r_e)

    block = 4096
    for start in range(0, total, block):
        xi = rng.standard_normal((min(block, total - start), 2, n)) * noise_scale
        for k in range(xi.shape[0]):
            step = start + k
            row = step % depth
            history[row] = s_e
            delayed = (1 - frac) * history[(row - lag0) % depth, src_j] + frac * history[(row - lag0 - 1) % depth, src_j]
            coupling = np.bincount(src_i, weights=weight * delayed, minlength=n)
            de, di, r_e = drift(s_e, s_i, coupling)
            pe, pi = np.clip(s_e + dt * de + xi[k, 0], 0, 1), np.clip(s_i + dt * di + xi[k, 1], 0, 1)
            de2, di2, _ = drift(pe, pi, coupling)
            # Balloon-Windkessel, Euler, driven by S_E at the start of the step.
            ds = s_e - KAPPA * bs - GAMMA * (bf - 1)
            flow_out = bv ** (1 / ALPHA)
            dv = (bf - flow_out) / TAU
            dq = (bf * (1 - (1 - RHO) ** (1 / bf)) / RHO - flow_out * bq / bv) / TAU
            bs, bf, bv, bq = bs + h * ds, bf + h * bs, bv + h * dv, bq + h * dq
            s_e = np.clip(s_e + 0.5 * dt * (de + de2) + xi[k, 0], 0, 1)
            s_i = np.clip(s_i + 0.5 * dt * (di + di2) + xi[k, 1], 0, 1)
            done = step + 1 - steps_warm
            if done > 0:
                rates += r_e
                if done % steps_tr == 0:
                    bold[done // steps_tr - 1] = V0 * (K1 * (1 - bq) + K2 * (1 - bq / bv) + K3 * (1 - bv))
    return bold, rates / (samples * steps_tr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--weights", required=True)
    ap.add_argument("--lengths", required=True)
    ap.add_argument("--G", type=float, required=True)
    ap.add_argument("--fic-rate", type=float, default=3.0, help="feedback inhibition target (Hz); 0: uniform --ji")
    ap.add_argument("--ji", type=float, default=1.0)
    ap.add_argument("--sigma", type=float, default=0.001)
    ap.add_argument("--speed", type=float, default=20.0, help="conduction speed, m/s")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--duration", type=float, default=600.0, help="recorded seconds after the warm-up")
    ap.add_argument("--tr", type=float, default=0.72)
    ap.add_argument("--dt", type=float, default=0.5, help="ms")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    w = prepared_weights(a.weights)
    lengths = np.load(a.lengths).astype(float)
    ji = feedback_inhibition(w, a.G, a.fic_rate) if a.fic_rate > 0 else np.full(w.shape[0], a.ji)
    bold, rates = simulate(w, lengths, a.G, ji, a.sigma, a.speed, a.seed, a.duration, a.tr, dt=a.dt)
    os.makedirs(a.out, exist_ok=True)
    tmp = os.path.join(a.out, "bold.npy.tmp")
    with open(tmp, "wb") as f:
        np.save(f, bold)
    os.replace(tmp, os.path.join(a.out, "bold.npy"))
    with open(os.path.join(a.out, "reference.json"), "w") as f:
        json.dump(dict(bold_units="model", G=a.G, fic_rate=a.fic_rate, J_i=ji.tolist(), sigma=a.sigma, speed=a.speed, seed=a.seed, dt_ms=a.dt,
                       duration_s=a.duration, tr_s=a.tr, mean_rate_E_hz=float(rates.mean())), f, indent=1)


if __name__ == "__main__":
    main()
