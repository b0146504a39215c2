#!/bin/sh
# Posterior sampling of a structured GP (a decay with an offset as the mean, a Matérn 5/2
# GP, six priors, 20 points: Tests/Fixtures/bayes) by dkl-fit --inference nuts against
# NumPyro's NUTS (gpax's sampler) in the same invocation: 4 chains of 1,000 warm-up and
# 2,500 kept iterations each, from a cold start (NumPyro's imports and JIT compilation
# included, as a user meets them), medians of 5 alternating runs (hyperfine), 2 threads
# each; the smallest bulk ESS over the parameters computed for both from their draws by the
# same code (bench/bayes/ess.py, with the anchor's Python), for ESS per second.
# The anchor needs a Python with numpyro and jax: DKL_PY_NUMPYRO=/path/to/python
#   python3 -m venv /tmp/np && /tmp/np/bin/pip install numpyro jax numpy
# usage: bench/bayes.sh [BIN]        writes bench/out/bayes*.json and bench/RESULTS.md
set -eu
cd "$(dirname "$0")/.."
bin=$(cd "${1:-.build/release}" && pwd)
out=bench/out
mkdir -p "$out"
command -v hyperfine >/dev/null || { echo "bench: hyperfine is needed (apt-get install hyperfine)" >&2; exit 1; }
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=2 XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=2"
data=Tests/Fixtures/bayes/data.ndjson
fit="'$bin/dkl-fit' --mean 'A*exp(-alpha/L) + c' --param A=lognormal:0,1 --param L=lognormal:0,0.5 --param c=normal:0,1 --param lengthscale=lognormal:0,1 --param outputscale=lognormal:-2,1 --param noise=lognormal:-5,1 --target y --inference nuts --chains 4 --warmup 1000 --samples 2500 -j 2 -q -o $out/bayes-fit.h5 --draws $out/bayes-dkl-draws.ndjson $data"
set -- -n "dkl-fit" "$fit > $out/bayes-dkl.json"
if [ -n "${DKL_PY_NUMPYRO:-}" ]; then
  set -- "$@" -n "NumPyro NUTS" "'$DKL_PY_NUMPYRO' bench/bayes/anchor_numpyro.py 4 1000 2500 $out/bayes-numpyro-draws.npz > $out/bayes-numpyro.json"
else
  echo "bench: DKL_PY_NUMPYRO is not set: only the toolkit's row is measured" >&2
fi
hyperfine --runs 5 --warmup 1 --style basic --export-json "$out/bayes.json" "$@" >&2
if [ -n "${DKL_PY_NUMPYRO:-}" ]; then
  "$DKL_PY_NUMPYRO" bench/bayes/ess.py numpyro "$out/bayes-numpyro-draws.npz" > "$out/bayes-numpyro-ess.json"
  "$DKL_PY_NUMPYRO" bench/bayes/ess.py dkl "$out/bayes-dkl-draws.ndjson" 4 > "$out/bayes-dkl-ess.json"
fi
/usr/bin/python3 bench/report.py --section bayes
