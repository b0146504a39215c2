"""Reference numbers for the exact GP, computed independently with scikit-learn and numpy.

Run from this folder:  pip install numpy scipy scikit-learn && python3 make_gp_reference.py
Writes reference.json: for a fixed small data set (12 points in 2-D), each kernel's
log marginal likelihood and its gradient with respect to log-hyperparameters (from
scikit-learn's GaussianProcessRegressor), the gradient with respect to the inputs (central
differences of scikit-learn's value), and posterior means and variances at 5 test points.
"""
import json
import numpy as np
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, Matern, ConstantKernel, WhiteKernel

rng = np.random.default_rng(42)
X = rng.uniform(-1.5, 1.5, size=(12, 2))
y = np.sin(2 * X[:, 0]) + 0.5 * X[:, 1] ** 2 + 0.1 * rng.standard_normal(12)
Xs = rng.uniform(-1.5, 1.5, size=(5, 2))
ell, scale, noise = [0.7, 1.3], 1.6, 0.05

kernels = {
    "rbf": lambda: RBF(length_scale=ell),
    "matern12": lambda: Matern(length_scale=ell, nu=0.5),
    "matern32": lambda: Matern(length_scale=ell, nu=1.5),
    "matern52": lambda: Matern(length_scale=ell, nu=2.5),
}

out = {"X": X.tolist(), "y": y.tolist(), "Xs": Xs.tolist(), "lengthscales": ell, "outputscale": scale,
       "noise": noise, "kernels": {}}
for name, make in kernels.items():
    kern = ConstantKernel(scale) * make() + WhiteKernel(noise)
    gp = GaussianProcessRegressor(kernel=kern, optimizer=None, alpha=0.0, normalize_y=False).fit(X, y)
    theta = gp.kernel_.theta                       # log of [scale, ell0, ell1, noise]
    mll, grad = gp.log_marginal_likelihood(theta, eval_gradient=True)
    # Inputs: central differences of scikit-learn's MLL as a function of X.
    eps = 1e-6
    gx = np.zeros_like(X)
    for i in range(X.shape[0]):
        for k in range(X.shape[1]):
            Xp, Xm = X.copy(), X.copy()
            Xp[i, k] += eps
            Xm[i, k] -= eps
            fp = GaussianProcessRegressor(kernel=kern, optimizer=None, alpha=0.0).fit(Xp, y).log_marginal_likelihood_value_
            fm = GaussianProcessRegressor(kernel=kern, optimizer=None, alpha=0.0).fit(Xm, y).log_marginal_likelihood_value_
            gx[i, k] = (fp - fm) / (2 * eps)
    # Latent posterior (without the white noise term) at the test points.
    K = kern.k1(X, X) + noise * np.eye(len(X))
    Ks = kern.k1(Xs, X)
    mean = Ks @ np.linalg.solve(K, y)
    var = np.diag(kern.k1(Xs, Xs)) - np.einsum("ij,ji->i", Ks, np.linalg.solve(K, Ks.T))
    # d MLL / d theta with theta = log(param): convert to d/d param.
    params = np.exp(theta)
    out["kernels"][name] = {
        "mll": mll,
        "grad_outputscale": grad[0] / params[0],
        "grad_lengthscales": (grad[1:3] / params[1:3]).tolist(),
        "grad_noise": grad[3] / params[3],
        "grad_inputs": gx.tolist(),
        "mean": mean.tolist(),
        "variance": var.tolist(),
        "kernel_row0": (kern.k1(X[:1], X)[0]).tolist(),
    }
json.dump(out, open("reference.json", "w"), indent=1)
print("wrote reference.json")
