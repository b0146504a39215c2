"""A plain vectorized numpy FerroSIM (deterministic update, tetragonal), written from the
algorithm in dkl-stream's sibling spec (../../../shared/golden/ferrosim/README.md §3), as
the "vectorized numpy" anchor of bench/ferrosim.sh. Prints the wall time of one run and
its sum|curl|.   usage: python3 numpy_ferrosim.py N T REPEATS [DIR: write init.npy, field.npy]
"""
import sys, time
import numpy as np

n, T, reps = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
a1, a2, a3, gamma, k = -1.6, 12.2, 40.0, 1.0, 1.0
Ec = (-2 / 3) * a1 * np.sqrt(abs(a1 / (3 * a2)))
t = np.linspace(0, 1, T)
E = np.zeros((T, 2)); E[:, 1] = (0.5 * np.exp(t) * np.sin(20 * t)) * Ec
p0 = 0.3 * np.random.default_rng(0).standard_normal((2, n, n))
if len(sys.argv) > 4:   # write the inputs for the other implementations
    np.save(sys.argv[4] + "/init.npy", np.ascontiguousarray(p0.transpose(1, 2, 0)))
    np.save(sys.argv[4] + "/field.npy", E / Ec)


def nsum(A):
    s = np.zeros_like(A)
    s[:, 1:, :] += A[:, :-1, :]; s[:, :, 1:] += A[:, :, :-1]
    s[:, :, :-1] += A[:, :, 1:]; s[:, :-1, :] += A[:, 1:, :]
    return s


def run():
    P = p0.copy(); A = p0.copy()
    for i in range(1, T):
        dt = t[i] - t[i - 1]
        q = np.clip(P, -10, 10); S = nsum(A)
        L = E[i][:, None, None] + 0.0
        f = np.empty_like(P)
        f[0] = -gamma * (2 * a1 * q[0] + 4 * a2 * q[0] ** 3 + 2 * a3 * q[1] ** 2 * q[0] + k * (q[0] - S[0] / 4) - L[0])
        f[1] = -gamma * (2 * a1 * q[1] + 4 * a2 * q[1] ** 3 + 2 * a3 * q[0] ** 2 * q[1] + k * (q[1] - S[1] / 4) - L[1])
        if i == 1:
            P = P + gamma * f * dt; A = P.copy()
        else:
            A = P + gamma * f * dt; P = P + f * dt
    px, py = A
    curl = 0.5 * ((np.roll(py, -1, 0) - np.roll(py, 1, 0)) - (np.roll(px, -1, 1) - np.roll(px, 1, 1)))
    return np.abs(curl).sum()


times = []
for _ in range(reps):
    t0 = time.perf_counter(); c = run(); times.append(time.perf_counter() - t0)
print(f"RESULT numpy n={n} T={T} median_s={np.median(times):.4f} sum_abs_curl={c:.9f}")
