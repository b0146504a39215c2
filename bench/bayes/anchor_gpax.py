"""gpax's ExactGP sampled by NUTS (the anchor of bench/bayes.sh): the structured GP of
Tests/Fixtures/bayes (mean A·exp(−x/L) + c, a Matérn 5/2 kernel, the same priors) on the
N points of data.ndjson, CHAINS chains of WARMUP + SAMPLES iterations from a cold start
(imports and compilation included). Writes the draws (chain × draw per parameter) to
DRAWS.npz and prints one JSON line: the smallest ESS over the parameters (numpyro's, of the
raw draws) and the divergences; bench/bayes/ess.py computes the statistics both samplers are
compared by.
usage: anchor_gpax.py DATA.ndjson CHAINS WARMUP SAMPLES DEVICES DRAWS.npz SEED"""
import json
import os
import sys

os.environ.setdefault("XLA_FLAGS", f"--xla_force_host_platform_device_count={sys.argv[5]}")
import gpax  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import numpyro  # noqa: E402
import numpyro.distributions as dist  # noqa: E402
from numpyro.diagnostics import effective_sample_size  # noqa: E402

jax.config.update("jax_enable_x64", True)
path, chains, warmup, samples = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rows = [json.loads(line) for line in open(path).read().splitlines()[1:]]
x = np.array([[r["alpha"]] for r in rows])
y = np.array([r["y"] for r in rows])


def mean_fn(x, p):
    return p["A"] * jnp.exp(-x[:, 0] / p["L"]) + p["c"]


def mean_fn_prior():
    return {"A": numpyro.sample("A", dist.LogNormal(0.0, 1.0)), "L": numpyro.sample("L", dist.LogNormal(0.0, 0.5)),
            "c": numpyro.sample("c", dist.Normal(0.0, 1.0))}


def kernel_prior():
    return {"k_length": numpyro.sample("k_length", dist.LogNormal(0.0, 1.0)), "k_scale": numpyro.sample("k_scale", dist.LogNormal(-2.0, 1.0))}


gp = gpax.ExactGP(1, kernel="Matern", mean_fn=mean_fn, mean_fn_prior=mean_fn_prior, kernel_prior=kernel_prior,
                  noise_prior_dist=dist.LogNormal(-5.0, 1.0))
gp.fit(jax.random.PRNGKey(int(sys.argv[7])), x, y, num_warmup=warmup, num_samples=samples, num_chains=chains,
       chain_method="parallel" if chains > 1 and int(sys.argv[5]) > 1 else "sequential", progress_bar=False, print_summary=False)
draws = gp.mcmc.get_samples(group_by_chain=True)
np.savez(sys.argv[6], **{k: np.asarray(v) for k, v in draws.items()})
ess = min(float(effective_sample_size(np.asarray(v))) for k, v in draws.items() if k in ("A", "L", "c", "k_length", "k_scale", "noise"))
print(json.dumps({"min_ess": ess, "divergences": int(np.asarray(gp.mcmc.get_extra_fields()["diverging"]).sum())}))
