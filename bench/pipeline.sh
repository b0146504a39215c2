#!/bin/sh
# The DKL tools as a user runs them, on the shared benchmark's data, against GPyTorch run in
# the same invocation (../shared/bench/anchor_dkl.py):
#   static: dkl-patches | dkl-train, then dkl-predict over all 12,769 candidates (N=500; FULL=1 adds 2000);
#   active: dkl-explore, 20 initial points + 50 EI steps, five runs (the canonical initial
#           points and four seeded random sets);
#   memory: dkl-predict over the ~1,000,000 patches of a 1024×1024 image.
# usage: bench/pipeline.sh [BIN]     (DKL_PY_TORCH=python with torch and gpytorch for the anchor)
set -eu
cd "$(dirname "$0")/.."
bin=$(cd "${1:-.build/release}" && pwd)
shared=${DKL_SHARED:-../shared}
data=$(cd "$shared/bench/data" && pwd)
out=bench/out/pipeline
rm -rf "$out"; mkdir -p "$out"
export OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2 OMP_WAIT_POLICY=PASSIVE
/usr/bin/python3 bench/pipeline/prepare.py "$data" "$out"
jsonl=bench/out/pipeline.jsonl
: > "$jsonl"
emit() { /usr/bin/python3 -c "import json,sys; print(json.dumps(json.loads(sys.argv[1])))" "$1" >> "$jsonl"; tail -n 1 "$jsonl" >&2; }
now() { /usr/bin/python3 -c 'import time; print(time.time())'; }
sub() { /usr/bin/python3 -c "print($1 - $2)"; }

sizes="500"; [ "${FULL:-0}" = 1 ] && sizes="500 2000"
for n in $sizes; do
  t0=$(now)
  "$bin/dkl-patches" -w 16 --even shift "$data/image.npy" -o "$out/all.dkl"
  "$bin/dkl-train" "$out/all.dkl" --targets "$out/targets_$n.npy" -o "$out/m$n.h5" -q > "$out/train$n.json"
  t1=$(now)
  "$bin/dkl-predict" --model "$out/m$n.h5" "$out/all.dkl" -J -o "$out/pred$n.ndjson"
  t2=$(now)
  s=$(/usr/bin/python3 bench/pipeline/score.py static "$data" "$out/pred$n.ndjson" "$n")
  emit "{\"what\": \"static\", \"run\": \"dkl\", \"n\": $n, \"patches_train_s\": $(sub "$t1" "$t0"), \"predict_s\": $(sub "$t2" "$t1"), \"scores\": $s}"
  if [ -n "${DKL_PY_TORCH:-}" ] && { [ "$n" = 500 ] || [ "${FULL:-0}" = 1 ]; }; then
    "$DKL_PY_TORCH" "$shared/bench/anchor_dkl.py" run --anchor gpytorch --mode static --n "$n" --seed 0 --data "$data" > "$out/anchor$n.log" 2>&1 || true
    emit "{\"what\": \"static\", \"run\": \"gpytorch\", \"n\": $n, \"result\": $(sed -n 's/^RESULT //p' "$out/anchor$n.log")}"
  fi
done

# Active: EI with xi = 0.01 in standardized units (the target's standard deviation is 0.11149).
active() {   # active LABEL OPTIONS...
  label=$1; shift
  "$bin/dkl-explore" --oracle "$data/spectra.npy" --energy "$data/energy.npy" -S r=ratio:1.35:2.05:2.30:3.10 \
    -w 16 --even shift --init 20 --steps 50 --xi 0.0011149 --trace "$out/$label.ndjson" -q "$@" "$data/image.npy"
  s=$(/usr/bin/python3 bench/pipeline/score.py active "$data" "$out/$label.ndjson")
  emit "{\"what\": \"active\", \"run\": \"$label\", \"scores\": $s}"
}
active canonical-init --init-coords "$out/init_20.npy"
for seed in 1 2 3 4; do active "seed$seed" --seed "$seed"; done
if [ -n "${DKL_PY_TORCH:-}" ]; then
  "$DKL_PY_TORCH" "$shared/bench/anchor_dkl.py" run --anchor gpytorch --mode active --seed 0 --data "$data" > "$out/anchor-active.log" 2>&1 || true
  emit "{\"what\": \"active\", \"run\": \"gpytorch\", \"result\": $(sed -n 's/^RESULT //p' "$out/anchor-active.log")}"
fi

# Memory: about a million patches of a 1024×1024 image through dkl-predict.
/usr/bin/time -v sh -c "'$bin/dkl-patches' -w 16 --even shift '$out/image_1024.npy' | '$bin/dkl-predict' --model '$out/m500.h5' -o '$out/pred1024.dkl'" 2> "$out/time1024.log"
rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$out/time1024.log")
secs=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$out/time1024.log")
count=$("$bin/dkl-cat" --count "$out/pred1024.dkl")
emit "{\"what\": \"memory\", \"patches\": $count, \"peak_rss_mb\": $((rss / 1024)), \"wall\": \"$secs\"}"
/usr/bin/python3 bench/report.py --section pipeline > /dev/null
