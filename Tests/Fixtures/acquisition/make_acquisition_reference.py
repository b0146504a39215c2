"""Reference values of the acquisition functions, computed with mpmath at 60 digits.

Run from this folder:  pip install mpmath && python3 make_acquisition_reference.py
h(u) = phi(u) + u*Phi(u);  EI = sd*h((mu - best - xi)/sd);  PI = Phi((mu - best - xi)/sd).
"""
import json
import mpmath as mp

mp.mp.dps = 60
phi = lambda u: mp.exp(-u * u / 2) / mp.sqrt(2 * mp.pi)
Phi = lambda u: mp.ncdf(u)
h = lambda u: phi(u) + u * Phi(u)

us = ["-1e6", "-1e4", "-1000", "-100", "-40", "-38", "-30", "-10", "-5", "-2", "-1", "-0.999", "-0.5", "0", "0.3", "1", "4", "30"]
out = {"log_h": [], "scores": []}
for u in us:
    v = mp.mpf(u)
    out["log_h"].append([float(v), float(mp.log(h(v)))])
cases = [(0.3, 0.2, 0.1, 0.01), (-1.0, 0.5, 2.0, 0.0), (5.0, 1e-3, 1.0, 0.01), (0.0, 2.0, 0.0, 0.1), (1.0, 0.05, 4.0, 0.0)]
for mu, sd, best, xi in cases:
    m, s, b, x = map(mp.mpf, (mu, sd, best, xi))
    u = (m - b - x) / s
    umin = (-m + b - x) / s          # minimization: improvement below best
    out["scores"].append({"mean": mu, "sd": sd, "best": best, "xi": xi,
                          "ei": float(s * h(u)), "log_ei": float(mp.log(s * h(u))), "pi": float(Phi(u)),
                          "ei_min": float(s * h(umin)), "pi_min": float(Phi(umin))})
json.dump(out, open("reference.json", "w"), indent=1)
print("wrote reference.json")
