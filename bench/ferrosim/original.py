"""Runs the original FerroSim (ramav87/FerroSim, branch updated_plotting) once on the
inputs numpy_ferrosim.py wrote, deterministic update, and prints its time and sum|curl|.
usage: PYTHONPATH=<dir holding the original's ferrosim package> python original.py DIR
"""
import sys, time, warnings
import numpy as np
warnings.filterwarnings("ignore")
from ferrosim import Ferro2DSim

d = sys.argv[1]
p0 = np.load(d + "/init.npy"); E = np.load(d + "/field.npy")
n, T = p0.shape[0], E.shape[0]
t0 = time.perf_counter()
sim = Ferro2DSim(n=n, gamma=1.0, k=1.0, dep_alpha=0.0, time_vec=np.linspace(0, 1, T), appliedE=E,
                 initial_p=p0, mode="tetragonal", stochastic=False)
sim.runSim(verbose=False)
pmat = sim.getPmat()[:, T - 1]
s = time.perf_counter() - t0
print(f"RESULT original n={n} T={T} seconds={s:.3f} sum_abs_curl={np.abs(sim.calc_curl(pmat)).sum():.9f}")
