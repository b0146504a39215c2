#!/bin/sh
# Effective samples per second of dkl-fit --inference nuts against gpax's ExactGP with NUTS
# (the field's GP library, over NumPyro and JAX) on the same structured GP (mean
# A·exp(−x/L) + c, a Matérn 5/2 kernel, the priors of Tests/Fixtures/bayes) at n = 50 and
# n = 200 points of the same generating process: 2 chains of 500 warm-up and 500 kept
# iterations, from a cold start (gpax's imports and JIT compilation included), one run with
# each of the seeds 1, 2, 3 (hyperfine; time and ESS each the median of the three), on 2
# threads (gpax: chains on 2 XLA host devices) and on 1 (gpax: one device, chains in turn;
# dkl-fit -j 1); dkl-fit with its default diagonal metric, with --metric dense, and with
# DKL_DENSE_LIKELIHOOD=1 (the likelihood by a Cholesky factorization, as models over several
# inputs take; one input with a Matérn kernel otherwise takes the Kalman filter).
# ESS: the smallest bulk ESS over the six parameters, computed for both samplers by the same
# code from their draws (bench/bayes/ess.py; it needs scipy, which gpax's environment has).
# The anchor needs a Python with gpax: DKL_PY_GPAX=/path/to/python, e.g.
#   python3 -m venv /tmp/gp && /tmp/gp/bin/pip install gpax numpyro==0.13.2 jax==0.4.23 jaxlib==0.4.23 \
#       "numpy<2" "scipy<1.13" dm-haiku==0.0.11 flax==0.7.5 optax==0.1.7 chex==0.1.85 orbax-checkpoint==0.4.8
# usage: bench/bayes-gpax.sh [BIN]      writes bench/out/gpax-*.json and bench/RESULTS.md
set -eu
cd "$(dirname "$0")/.."
bin=$(cd "${1:-.build/release}" && pwd)
out=bench/out
mkdir -p "$out"
[ -n "${DKL_PY_GPAX:-}" ] || { echo "bench: set DKL_PY_GPAX to a Python with gpax (see the top of this script)" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "bench: hyperfine is needed (apt-get install hyperfine)" >&2; exit 1; }
export OPENBLAS_NUM_THREADS=1
seeds=1,2,3
for n in 50 200; do
  /usr/bin/python3 - "$n" "$out/gpax-data-$n.ndjson" <<'PY'
import json, sys, numpy as np
n, path = int(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(2026)
alpha = np.sort(rng.uniform(0, 2, n))
y = 1.5 * np.exp(-alpha / 0.7) + 0.2 + 0.08 * np.sin(4 * alpha) + 0.05 * rng.normal(size=n)
with open(path, "w") as f:
    f.write(json.dumps({"dkl_stream": 1, "fields": [{"name": "alpha", "dtype": "f64", "shape": []}, {"name": "y", "dtype": "f64", "shape": []}], "attrs": {}}) + "\n")
    for a, v in zip(alpha, y): f.write(json.dumps({"alpha": float(a), "y": float(v)}) + "\n")
PY
  for threads in 2 1; do
    # The command line of one dkl-fit variant (NAME [OPTIONS...]); its summary and draws under NAME and the seed.
    fit() {
      name=$1; shift
      echo "'$bin/dkl-fit' --mean 'A*exp(-alpha/L) + c' --param A=lognormal:0,1 --param L=lognormal:0,0.5 --param c=normal:0,1 --param lengthscale=lognormal:0,1 --param outputscale=lognormal:-2,1 --param noise=lognormal:-5,1 --target y --inference nuts --chains 2 --warmup 500 --samples 500 --seed {seed} -j $threads -q -o $out/gpax-fit.h5 --draws $out/gpax-$name-$n-$threads-{seed}-draws.ndjson $* $out/gpax-data-$n.ndjson > /dev/null"
    }
    anchor="XLA_FLAGS='--xla_cpu_multi_thread_eigen=$([ $threads = 1 ] && echo false || echo true) intra_op_parallelism_threads=$threads' '$DKL_PY_GPAX' bench/bayes/anchor_gpax.py $out/gpax-data-$n.ndjson 2 500 500 $threads $out/gpax-anchor-$n-$threads-{seed}-draws.npz {seed} > /dev/null 2>&1"
    # hyperfine runs the four commands in turn, seed after seed.
    hyperfine --runs 1 --parameter-list seed $seeds --style basic --export-json "$out/gpax-$n-$threads.json" \
      "$(fit dkl)" "$(fit dkldense --metric dense)" "DKL_DENSE_LIKELIHOOD=1 $(fit dklchol)" "$anchor" >&2
    # Both samplers' ESS by the same code, from their draws.
    for seed in $(echo $seeds | tr , ' '); do
      "$DKL_PY_GPAX" bench/bayes/ess.py gpax "$out/gpax-anchor-$n-$threads-$seed-draws.npz" > "$out/gpax-anchor-$n-$threads-$seed-ess.json"
      for name in dkl dkldense dklchol; do
        "$DKL_PY_GPAX" bench/bayes/ess.py dkl "$out/gpax-$name-$n-$threads-$seed-draws.ndjson" 2 > "$out/gpax-$name-$n-$threads-$seed-ess.json"
      done
    done
  done
done
/usr/bin/python3 bench/report.py --section gpax
