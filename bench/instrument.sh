#!/bin/sh
# The instrument protocol's cost per measurement: dkl-explore measuring 500 initial points
# (then one quick step) of the bundled spectrum image through dkl-twin over a pipe
# (--instrument, a persistent session) against reading them from the file (--oracle), in
# the same invocation: medians of 5 runs after a warm-up (hyperfine). The difference over
# the 500 measurements is what the protocol adds per measurement (JSON and binary payloads).
# usage: bench/instrument.sh [BIN]      writes bench/out/instrument.json and bench/RESULTS.md
set -eu
cd "$(dirname "$0")/.."
bin=$(cd "${1:-.build/release}" && pwd)
out=bench/out
mkdir -p "$out"
command -v hyperfine >/dev/null || { echo "bench: hyperfine is needed (apt-get install hyperfine)" >&2; exit 1; }
export OPENBLAS_NUM_THREADS=1
share=$(pwd)/share/plasmon
run="-S gap=integral:1.35:2.05 -w 1 --extractor none --init 500 --steps 1 -n 5 --ensemble 1 -q $share/image.npy"
cd "$out"
hyperfine --runs 5 --warmup 1 --style basic --export-json instrument.json \
  --prepare "rm -f file.ndjson json.ndjson binary.ndjson" \
  -n "file (--oracle)" "'$bin/dkl-explore' --oracle $share/spectra.h5:/spectra --trace file.ndjson $run" \
  -n "dkl-twin, JSON values" "'$bin/dkl-explore' --instrument '$bin/dkl-twin' --instrument-arg $share/spectra.h5:/spectra --trace json.ndjson $run" \
  -n "dkl-twin, binary payload" "'$bin/dkl-explore' --instrument '$bin/dkl-twin' --instrument-arg --binary --instrument-arg $share/spectra.h5:/spectra --trace binary.ndjson $run" >&2
cd ../..
/usr/bin/python3 bench/report.py --section instrument
