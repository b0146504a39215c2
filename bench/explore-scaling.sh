#!/bin/sh
# Seconds per active step against the number of points measured: dkl-explore (its defaults:
# four models, warm-started training, EI over every unmeasured candidate) on the shared
# benchmark's image and spectra (12,769 candidates), from N seeded random initial points
# (N = 50 … 2,000) for 3 steps each; per step the seconds of training, prediction and
# acquisition from the trace (the measurement, a read from the file, left out), the median
# of the 3 steps; the scaling exponent from a least-squares fit of log seconds on log N
# over N ≥ 200, where the O(N³) factorizations and the O(N²·m) variance products are meant
# to dominate. Peak memory of each run from /usr/bin/time.
# usage: bench/explore-scaling.sh [BIN]     writes bench/out/explore-scaling.jsonl and bench/RESULTS.md
set -eu
cd "$(dirname "$0")/.."
bin=$(cd "${1:-.build/release}" && pwd)
shared=${DKL_SHARED:-../shared}
data=$(cd "$shared/bench/data" && pwd)
out=bench/out/explore-scaling
rm -rf "$out"; mkdir -p "$out"
export OPENBLAS_NUM_THREADS=2
jsonl=bench/out/explore-scaling.jsonl
: > "$jsonl"
for n in ${DKL_SCALING_SIZES:-50 100 200 500 1000 2000}; do
  /usr/bin/time -f "%M" -o "$out/time$n" "$bin/dkl-explore" --oracle "$data/spectra.npy" --energy "$data/energy.npy" \
    -S r=ratio:1.35:2.05:2.30:3.10 -w 16 --even shift --init "$n" --steps 3 --seed 1 --trace "$out/trace$n.ndjson" -q "$data/image.npy"
  /usr/bin/python3 - "$n" "$out/trace$n.ndjson" "$(tail -n 1 "$out/time$n")" >> "$jsonl" <<'PY'
import json, statistics, sys
n, path, rss = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
steps = [json.loads(l) for l in open(path).read().splitlines()[1:]]
steps = [r for r in steps if r["step"] > 0]
phase = lambda k: statistics.median(r[k] for r in steps)
print(json.dumps({"n": n, "steps": len(steps), "step_s": statistics.median(r["seconds_train"] + r["seconds_predict"] + r["seconds_acquire"] for r in steps),
                  "train_s": phase("seconds_train"), "predict_s": phase("seconds_predict"), "acquire_s": phase("seconds_acquire"), "peak_rss_mb": rss / 1024}))
PY
  tail -n 1 "$jsonl" >&2
done
/usr/bin/python3 bench/report.py --section explore-scaling
