#!/bin/sh
# DKL training and prediction on the shared canonical workload, against GPyTorch run in the
# same invocation (../shared/bench/anchor_dkl.py). Both use 2 threads.
# usage: bench/dkl.sh            (N=500, seeds 0-2; FULL=1 adds N=2000, seeds 0-2, GPyTorch on seed 0;
#                                  seed 0 also compares float32 and float64 variance products)
# The anchor needs a Python with torch and gpytorch: DKL_PY_TORCH=/path/to/python
# (see ../shared/bench/README.md); without it only the toolkit's rows are measured.
set -eu
cd "$(dirname "$0")/.."
shared=${DKL_SHARED:-../shared}
out=bench/out
mkdir -p "$out"
# A clean build: SwiftPM can miss files added to a path dependency since the last build.
(cd bench/dkl && swift package clean && swift build -c release -q)
bin=bench/dkl/.build/release/dkl-bench
export OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2 OMP_WAIT_POLICY=PASSIVE
jsonl=$out/dkl.jsonl
: > "$jsonl"
run() {   # run LABEL COMMAND...: appends RESULT + peak RSS
  /usr/bin/time -v "$@" > "$out/run.log" 2> "$out/time.log" || { echo "bench: $* failed" >&2; cat "$out/run.log" "$out/time.log" >&2; return 0; }
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$out/time.log")
  sed -n 's/^RESULT //p' "$out/run.log" | /usr/bin/python3 -c "import json,sys; r=json.load(sys.stdin); r['peak_rss_mb']=$rss/1024; print(json.dumps(r))" >> "$jsonl"
  tail -n 1 "$jsonl" >&2
}
run "$bin" --setting peak --data "$shared/bench/data"
run "$bin" --setting million --n 500 --data "$shared/bench/data"
# N:seed:anchor — the anchor (GPyTorch, about 5 minutes per run at N=2000) runs once at N=2000.
plan="500:0:1 500:1:1 500:2:1"
[ "${FULL:-0}" = 1 ] && plan="$plan 2000:0:1 2000:1:0 2000:2:0"
for item in $plan; do
  n=${item%%:*}; rest=${item#*:}; s=${rest%%:*}; anchor=${rest#*:}
  run "$bin" --n "$n" --seed "$s" --setting canonical --data "$shared/bench/data"
  run "$bin" --n "$n" --seed "$s" --setting default --data "$shared/bench/data"
  if [ "$s" = 0 ]; then
    run "$bin" --n "$n" --seed "$s" --setting precision --data "$shared/bench/data"
    run "$bin" --n "$n" --seed "$s" --setting phases --data "$shared/bench/data"
  fi
  if [ -n "${DKL_PY_TORCH:-}" ] && [ "$anchor" = 1 ]; then
    run "$DKL_PY_TORCH" "$shared/bench/anchor_dkl.py" run --anchor gpytorch --mode static --n "$n" --seed "$s" --data "$shared/bench/data"
  fi
done
/usr/bin/python3 bench/report.py --section dkl > /dev/null
