"""The reference posterior for BayesTests' comparison with NumPyro: a structured GP (an
exponential decay with an offset as the mean, a Matérn 5/2 GP and Gaussian noise, every
parameter with a prior) on 20 generated points, sampled by NumPyro's NUTS in a long run.
Writes data.ndjson (the points, a dkl stream) and reference.json (each parameter's
posterior mean, sd, Monte-Carlo standard error and ESS, and for the positive ones the mean
and sd of their logarithm with the sd's Monte-Carlo error, with the run's settings).

    python3 -m venv /tmp/np && /tmp/np/bin/pip install numpyro jax numpy
    /tmp/np/bin/python make_reference.py
"""
import json

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from numpyro.diagnostics import effective_sample_size
from numpyro.infer import MCMC, NUTS

jax.config.update("jax_enable_x64", True)
numpyro.set_host_device_count(4)

PRIORS = {"A": "lognormal:0,1", "L": "lognormal:0,0.5", "c": "normal:0,1", "lengthscale": "lognormal:0,1",
          "outputscale": "lognormal:-2,1", "noise": "lognormal:-5,1"}


def matern52(x, lengthscale, outputscale):
    d = jnp.abs(x[:, None] - x[None, :]) / lengthscale
    r = jnp.sqrt(5.0) * d
    return outputscale * (1 + r + r * r / 3) * jnp.exp(-r)


def model(x, y):
    A = numpyro.sample("A", dist.LogNormal(0.0, 1.0))
    L = numpyro.sample("L", dist.LogNormal(0.0, 0.5))
    c = numpyro.sample("c", dist.Normal(0.0, 1.0))
    ell = numpyro.sample("lengthscale", dist.LogNormal(0.0, 1.0))
    s = numpyro.sample("outputscale", dist.LogNormal(-2.0, 1.0))
    noise = numpyro.sample("noise", dist.LogNormal(-5.0, 1.0))
    mean = A * jnp.exp(-x / L) + c
    K = matern52(x, ell, s) + noise * jnp.eye(x.shape[0])
    numpyro.sample("y", dist.MultivariateNormal(mean, covariance_matrix=K), obs=y)


def data():
    """The 20 points (alpha, y), the same on every run."""
    rng = np.random.default_rng(2026)
    n = 20
    alpha = np.sort(rng.uniform(0, 2, n))
    y = 1.5 * np.exp(-alpha / 0.7) + 0.2 + 0.08 * np.sin(4 * alpha) + 0.05 * rng.normal(size=n)
    return alpha, y


def sample(alpha, y, chains, warmup, samples, seed=0):
    """NUTS draws (by chain) and the divergent transitions."""
    mcmc = MCMC(NUTS(model, target_accept_prob=0.8), num_warmup=warmup, num_samples=samples, num_chains=chains, progress_bar=False,
                chain_method="parallel")
    mcmc.run(jax.random.PRNGKey(seed), jnp.asarray(alpha), jnp.asarray(y))
    return mcmc.get_samples(group_by_chain=True), int(np.asarray(mcmc.get_extra_fields(group_by_chain=True)["diverging"]).sum())


def main():
    alpha, y = data()
    with open("data.ndjson", "w") as f:
        f.write(json.dumps({"dkl_stream": 1, "fields": [{"name": "alpha", "dtype": "f64", "shape": []}, {"name": "y", "dtype": "f64", "shape": []}],
                            "attrs": {"generator": "Tests/Fixtures/bayes/make_reference.py"}}) + "\n")
        for a, v in zip(alpha, y):
            f.write(json.dumps({"alpha": float(a), "y": float(v)}) + "\n")
    chains, warmup, samples = 4, 2000, 10000
    draws, divergences = sample(alpha, y, chains, warmup, samples)
    out = {"model": {"mean": "A*exp(-alpha/L) + c", "kernel": "matern52", "priors": PRIORS, "target": "y"},
           "run": {"sampler": f"numpyro {numpyro.__version__} NUTS (jax {jax.__version__})", "chains": chains, "warmup": warmup, "samples": samples,
               "divergences": divergences},
           "parameters": {}}
    for name in PRIORS:
        d = np.asarray(draws[name])
        ess = float(effective_sample_size(d))
        sd = float(d.std(ddof=1))
        out["parameters"][name] = {"mean": float(d.mean()), "sd": sd, "mcse_mean": sd / np.sqrt(ess), "ess": ess}
        if PRIORS[name].startswith("lognormal"):
            # In the sampler's coordinates (log) the posterior is near normal, where an sd
            # and its Monte-Carlo error (from the fourth moment) can be compared.
            u = np.log(d)
            dev2 = (u - u.mean()) ** 2
            usd = float(u.std(ddof=1))
            mcse_sd = float(np.sqrt(max(np.mean(dev2 ** 2) - usd ** 4, 0) / (4 * usd ** 2 * float(effective_sample_size(dev2)))))
            out["parameters"][name].update({"log_mean": float(u.mean()), "log_sd": usd, "log_mcse_sd": mcse_sd})
    with open("reference.json", "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(json.dumps(out["parameters"], indent=1))


if __name__ == "__main__":
    main()
