"""NumPyro's NUTS on the structured GP of Tests/Fixtures/bayes (the anchor of bench/bayes.sh):
CHAINS chains of WARMUP + SAMPLES iterations from a cold start (imports and compilation
included, as a user meets them). Writes the draws (chain × draw per parameter) to
DRAWS.npz and prints one JSON line: the smallest ESS over the parameters (numpyro's, of the
raw draws) and the divergences; bench/bayes/ess.py computes the statistics both samplers are
compared by. usage: anchor_numpyro.py CHAINS WARMUP SAMPLES DRAWS.npz"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "Fixtures", "bayes"))
import numpy as np  # noqa: E402
from numpyro.diagnostics import effective_sample_size  # noqa: E402

import make_reference  # noqa: E402

chains, warmup, samples = (int(v) for v in sys.argv[1:4])
alpha, y = make_reference.data()
draws, divergences = make_reference.sample(alpha, y, chains, warmup, samples)
np.savez(sys.argv[4], **{name: np.asarray(draws[name]) for name in make_reference.PRIORS})
ess = min(float(effective_sample_size(np.asarray(draws[name]))) for name in make_reference.PRIORS)
print(json.dumps({"min_ess": ess, "divergences": divergences}))
