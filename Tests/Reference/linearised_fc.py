#!/usr/bin/env python3
"""Noise-free FC of the reduced Wong-Wang network with BOLD, from its linearisation (numpy/scipy).

A prototype and future reference for issue 22's next step (a noise-free FC target with an
exact gradient): around the feedback-inhibition fixed point (every region at 3 Hz) the
network with additive white noise sigma dW on S_E and S_I is linear, dz = A z dt + B dW, with
A the 2N x 2N Jacobian of Deco et al. (2014) (time in ms; coupling G J_NMDA W S_E, delays
neglected) extended by the Balloon-Windkessel model linearised at rest (s, f, v, q per region,
driven by S_E; its rates in 1/s turned into 1/ms). The stationary covariance P solves the
Lyapunov equation A P + P A^T + B B^T = 0 (scipy's solve_continuous_lyapunov); the BOLD
covariance is L P L^T with L the linearised BOLD signal, and its correlation is the expected
FC of an infinitely long run, without the seed-to-seed noise of a finite one.

Run from anywhere: python3 Tests/Reference/linearised_fc.py   (about a minute)
Measured 2026-12-07 (subject 101309, its own connectome, max-normalised, 80 cortical regions):
at G = 0.5202 (0.9 G*) the linearised BOLD FC correlates with the 300-s simulated FC of
`make demo` at r = 0.943 and with the subject's empirical FC at r = 0.685 (the simulated runs:
0.56 for 300 s, 0.66 for the scan's 864 s). With the seven subjects' mean connectome at
G = 0.5: r = 0.693 against the group mean FC, 0.603 (0.522-0.711) against each subject's FC.
"""
import os, sys
import numpy as np, scipy.io as sio, scipy.linalg as sl
ROOT=os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)),'..','..'))
sys.path.insert(0, os.path.join(ROOT,'Tests','Reference'))
from rww_reference import P, transfer, feedback_inhibition, KAPPA, GAMMA, TAU, ALPHA, RHO, V0, K1, K2, K3
from scipy.optimize import brentq
D=os.path.join(ROOT,'data','hcp','subjects')+'/'
keep=[i for i in range(94) if not (40<=i<=45 or 74<=i<=81)]
def load(s):
    w=sio.loadmat(D+s+'/structural/DTI_CM.mat')['sc'][np.ix_(keep,keep)].astype(float)
    np.fill_diagonal(w,0); w/=w.max()
    tc=sio.loadmat(D+s+'/functional/TC_rsfMRI_REST1_LR.mat')['tc'][keep]
    return w, np.corrcoef(tc)
def dH(x, a, b, d):
    """dH/dx of H(x) = y / (1 - exp(-d y)), y = a x - b (analytic)."""
    y = a * x - b
    e = np.exp(-d * y)
    return a * ((1 - e) - d * y * e) / (1 - e) ** 2
def lin_fc(w,g,sigma=0.001,rate=3.0,details=False):
    p=P; n=w.shape[0]
    ji=feedback_inhibition(w,g,rate)
    se=p["gammaE"]*p["tauE"]*rate/(1+p["gammaE"]*p["tauE"]*rate)
    si=brentq(lambda s: s-p["gammaI"]*p["tauI"]*transfer(p["WI"]*p["I0"]+p["JNMDA"]*se-s,p["aI"],p["bI"],p["dI"]),0,1)
    xe=brentq(lambda x: transfer(x,p["aE"],p["bE"],p["dE"])-rate,0,2)
    xi=p["WI"]*p["I0"]+p["JNMDA"]*se-si
    He, Hep = rate, dH(xe,p["aE"],p["bE"],p["dE"])
    Hip=dH(xi,p["aI"],p["bI"],p["dI"])
    A=np.zeros((6*n,6*n)); E=slice(0,n); I=slice(n,2*n); S=slice(2*n,3*n); F=slice(3*n,4*n); V=slice(4*n,5*n); Q=slice(5*n,6*n)
    c=(1-se)*p["gammaE"]*Hep
    A[E,E]=np.diag(np.full(n,-1/p["tauE"]-p["gammaE"]*He+c*p["wplus"]*p["JNMDA"]))+c*g*p["JNMDA"]*w
    A[E,I]=np.diag(-c*ji)
    A[I,E]=np.eye(n)*p["gammaI"]*Hip*p["JNMDA"]
    A[I,I]=np.eye(n)*(-1/p["tauI"]-p["gammaI"]*Hip)
    k=1e-3  # balloon rates per s -> per ms
    A[S,E]=np.eye(n)*k; A[S,S]=-KAPPA*k*np.eye(n); A[S,F]=-GAMMA*k*np.eye(n)
    A[F,S]=k*np.eye(n)
    A[V,F]=k/TAU*np.eye(n); A[V,V]=-k/(TAU*ALPHA)*np.eye(n)
    cf=(RHO+(1-RHO)*np.log(1-RHO))/RHO
    A[Q,F]=k*cf/TAU*np.eye(n); A[Q,V]=-k*(1/ALPHA-1)/TAU*np.eye(n); A[Q,Q]=-k/TAU*np.eye(n)
    Qn=np.zeros((6*n,6*n)); Qn[:2*n,:2*n]=sigma**2*np.eye(2*n)
    ev=np.linalg.eigvals(A[:2*n,:2*n]).real.max()
    Pm=sl.solve_continuous_lyapunov(A,-Qn)
    L=np.zeros((n,6*n)); L[:,V]=V0*(K2-K3)*np.eye(n); L[:,Q]=-V0*(K1+K2)*np.eye(n)
    C=L@Pm@L.T; d=np.sqrt(np.diag(C)); fc=C/np.outer(d,d)
    Cn=Pm[E,E]; dn=np.sqrt(np.diag(Cn)); fcn=Cn/np.outer(dn,dn)
    if details:
        return dict(fc=fc, fc_neural=fcn, leading=ev, ji=ji, bold_covariance=C, s_e=se, s_i=si)
    return fc, fcn, ev
def r(a,b):
    iu=np.triu_indices_from(a,1); return np.corrcoef(a[iu],b[iu])[0,1]
def main():
    global sim
    subs=['101309','102311','102816','131217','211619','213522','377451']
    w,emp=load('101309')

    sim_path=os.path.join(ROOT,'runs/demo-simulate/fc.npy')
    sim=np.load(sim_path) if os.path.exists(sim_path) else None
    for g in [0.3,0.45,0.5202,0.55,0.57]:
        fc,fcn,ev=lin_fc(w,g)
        vs_sim = f"  linBOLD vs make demo's simulated FC r={r(fc,sim):.3f}" if sim is not None else ""
        print(f"G {g}: lead eig {ev:.2e}/ms  linBOLD-FC vs emp r={r(fc,emp):.3f}  neuralFC vs emp r={r(fcn,emp):.3f}" + vs_sim)
    print("group: mean connectome of the 7 subjects (each max-normalised, then renormalised), against each subject's FC and the group mean FC")
    data=[load(s) for s in subs]
    wg=np.mean([d[0] for d in data],axis=0); wg/=wg.max()
    gfc=np.mean([d[1] for d in data],axis=0)
    for g in [0.45,0.5,0.55]:
        try:
            fc,_,ev=lin_fc(wg,g)
        except Exception as e:
            print(g, e); continue
        per=[r(fc,d[1]) for d in data]
        print(f"G {g}: lead eig {ev:.2e}/ms  vs group mean FC r={r(fc,gfc):.3f}; vs each subject {np.mean(per):.3f} ({min(per):.3f}-{max(per):.3f})")


if __name__ == "__main__":
    main()
