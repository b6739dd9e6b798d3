#!/usr/bin/env python3
"""Reference rates of one ALN node from neurolib 0.6.2 itself (Cakan & Obermayer 2020).

Needs neurolib 0.6.2 (`pip install neurolib==0.6.2`, which brings numba and h5py); run from
the repository root: python3 Tests/WholeBrainTests/Fixtures/make_aln_fixture.py.
For each mean excitatory input mue_ext_mean (mV/ms) it runs a deterministic single node
(sigma_ou = 0) for 3 s from fixed initial values and records the mean, minimum and maximum
excitatory and inhibitory rates (Hz) over the last second. The same initial values are used
by WholeBrain's test, so both settle on the same attractor.
"""
import json
import os

import numpy as np
from neurolib.models.aln import ALNModel

HERE = os.path.dirname(os.path.abspath(__file__))
INITIAL = dict(mufe=1.0, mufi=1.0, IA=50.0, seem=0.1, seim=0.1, siem=0.1, siim=0.1,
               seev=0.001, seiv=0.001, siev=0.001, siiv=0.001, rate_kHz=0.005)

cases = []
for mue in [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0]:
    for b, a in [(0.0, 0.0), (40.0, 15.0)]:
        m = ALNModel()
        p = m.params
        p["duration"] = 3000.0
        p["dt"] = 0.1
        p["sigma_ou"] = 0.0
        p["mue_ext_mean"] = mue
        p["b"] = b
        p["a"] = a
        for name in ["mufe", "mufi", "seem", "seim", "siem", "siim", "seev", "seiv", "siev", "siiv"]:
            p[name + "_init"] = np.array([INITIAL[name]])
        p["IA_init"] = np.array([[INITIAL["IA"]]])
        p["rates_exc_init"] = np.array([[INITIAL["rate_kHz"]]])
        p["rates_inh_init"] = np.array([[INITIAL["rate_kHz"]]])
        p["mue_ou"] = np.array([mue])
        p["mui_ou"] = np.array([p["mui_ext_mean"]])
        m.run()
        t = m.t
        last = t > 2000
        re, ri = m.rates_exc[0][last], m.rates_inh[0][last]
        cases.append(dict(mue_ext_mean=mue, b=b, a=a,
                          rate_E_mean=float(re.mean()), rate_E_min=float(re.min()), rate_E_max=float(re.max()),
                          rate_I_mean=float(ri.mean()), rate_I_min=float(ri.min()), rate_I_max=float(ri.max())))
        print(cases[-1])

with open(os.path.join(HERE, "aln_single_node.json"), "w") as f:
    json.dump(dict(initial=INITIAL, duration_ms=3000, dt_ms=0.1, window_ms=[2000, 3000], cases=cases,
                   source="make_aln_fixture.py: neurolib 0.6.2 ALNModel, one node, sigma_ou = 0"), f, indent=1)
