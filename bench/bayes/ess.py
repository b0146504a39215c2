"""The same effective-sample-size statistics for both samplers of bench/bayes-gpax.sh, from
their draws: gpax's or NumPyro's (an .npz of chain × draw arrays, written by
anchor_gpax.py or anchor_numpyro.py) and dkl-fit's (its --draws stream as NDJSON). For each parameter the bulk ESS of Vehtari et
al. (2021) — the chains split in halves, the draws replaced by the normal quantiles of
their ranks, then the ESS of Geyer's initial monotone sequence (numpyro's
effective_sample_size) — and that ESS of the raw draws; prints the smallest of each.
usage: ess.py gpax|numpyro DRAWS.npz | ess.py dkl DRAWS.ndjson CHAINS"""
import json
import sys

import numpy as np
from numpyro.diagnostics import effective_sample_size
from scipy.special import ndtri
from scipy.stats import rankdata

NAMES = {"gpax": ["A", "L", "c", "k_length", "k_scale", "noise"], "dkl": ["A", "L", "c", "lengthscale", "outputscale", "noise"]}
NAMES["numpyro"] = NAMES["dkl"]


def split(x):
    h = x.shape[1] // 2
    return np.concatenate([x[:, :h], x[:, x.shape[1] - h:]], axis=0)


def bulk(x):
    s = split(x)
    r = rankdata(s, method="average").reshape(s.shape)
    return float(effective_sample_size(ndtri((r - 3 / 8) / (r.size + 1 / 4))))


kind, path = sys.argv[1], sys.argv[2]
if kind in ("gpax", "numpyro"):
    d = np.load(path)
    draws = {k: d[k] for k in NAMES[kind]}
else:
    chains = int(sys.argv[3])
    rows = [json.loads(l) for l in open(path).read().splitlines()[1:]]
    draws = {k: np.array([r[k] for r in rows]).reshape(chains, -1) for k in NAMES["dkl"]}
per = {k: {"bulk": bulk(v), "raw": float(effective_sample_size(v))} for k, v in draws.items()}
print(json.dumps({"min_bulk_ess": min(p["bulk"] for p in per.values()), "min_raw_ess": min(p["raw"] for p in per.values()), "parameters": per}))
