#!/bin/sh
# The stream format's speed: dkl-cat binary -> binary through a pipe (against cat on the
# same bytes, in the same run), binary -> NDJSON and NDJSON -> binary, on 100,000 records
# of {y i32, x i32, patch f32[16,16]}. Medians of 7 runs (hyperfine), one warm-up each.
# usage: bench/stream.sh [BIN]       writes bench/out/stream.json and bench/RESULTS.md
set -eu
cd "$(dirname "$0")/.."
bin=$(cd "${1:-.build/release}" && pwd)
out=bench/out
mkdir -p "$out"
command -v hyperfine >/dev/null || { echo "bench: hyperfine is needed (apt-get install hyperfine)" >&2; exit 1; }
export OPENBLAS_NUM_THREADS=1
if [ ! -s "$out/patches.dkl" ]; then
  /usr/bin/python3 -c "
import numpy as np
np.save('$out/patches.npy', np.random.default_rng(0).random((250, 400, 16, 16), dtype=np.float32))"
  "$bin/dkl-cat" --import "$out/patches.npy" --field patch --no-provenance -o "$out/patches.dkl"
  "$bin/dkl-cat" -J "$out/patches.dkl" -o "$out/patches.ndjson"
  rm -f "$out/patches.npy"
fi
cd "$out"
hyperfine --runs 7 --warmup 1 --style basic --export-json stream.json \
  -n "cat | cat (binary)" "cat patches.dkl | cat > /dev/null" \
  -n "dkl-cat | cat (binary to binary)" "'$bin/dkl-cat' patches.dkl | cat > /dev/null" \
  -n "cat | dkl-cat | cat (binary to binary, pipe in and out)" "cat patches.dkl | '$bin/dkl-cat' | cat > /dev/null" \
  -n "dkl-cat | dkl-cat --check (write and validate)" "'$bin/dkl-cat' patches.dkl | '$bin/dkl-cat' --check > /dev/null" \
  -n "dkl-cat -J (binary to NDJSON)" "'$bin/dkl-cat' -J patches.dkl > /dev/null" \
  -n "dkl-cat -B (NDJSON to binary)" "'$bin/dkl-cat' -B patches.ndjson > /dev/null" >&2
cd ../..
/usr/bin/python3 bench/report.py
