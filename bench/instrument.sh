#!/bin/sh
# The instrument protocol's cost per measurement: dkl-explore measuring 500 initial points
# (then one quick step) of the bundled spectrum image (96 channels) from the file
# (--oracle), through dkl-twin over a pipe (--instrument, one persistent session; values as
# JSON numbers and as a binary payload), and by the per-point process mode (--measure: the
# cheapest program there is, /bin/sh exec'ing cat of the point's spectrum cut beforehand
# as NPY); then 300 points of a generated 4D-STEM cube (64×64 patterns, 32 KiB each as
# float64) from the file and through the twin. All in one hyperfine invocation per data
# set: medians of 5 runs after a warm-up. The difference from the file's run, per
# measurement, is what the protocol (or the process start) adds.
# usage: bench/instrument.sh [BIN]      writes bench/out/instrument*.json and bench/RESULTS.md
set -eu
cd "$(dirname "$0")/.."
bin=$(cd "${1:-.build/release}" && pwd)
out=bench/out
mkdir -p "$out"
command -v hyperfine >/dev/null || { echo "bench: hyperfine is needed (apt-get install hyperfine)" >&2; exit 1; }
export OPENBLAS_NUM_THREADS=1
share=$(pwd)/share/plasmon
cd "$out"
# Each spectrum of the sample cube as its own NPY file, for the per-point program.
if [ ! -f points/63-63.npy ]; then
  mkdir -p points
  /usr/bin/python3 -c "
import h5py, numpy as np
s = h5py.File('$share/spectra.h5', 'r')['spectra'][()]
for y in range(s.shape[0]):
    for x in range(s.shape[1]): np.save(f'points/{y}-{x}.npy', s[y, x])"
fi
[ -f d4/cube.h5 ] || "$bin/dkl-synth" 4dstem --size 48x48 -k 64 -q d4
run="-S gap=integral:1.35:2.05 -w 1 --extractor none --init 500 --steps 1 -n 5 --ensemble 1 -q $share/image.npy"
hyperfine --runs 5 --warmup 1 --style basic --export-json instrument.json \
  --prepare "rm -f file.ndjson json.ndjson binary.ndjson point.ndjson" \
  -n "file (--oracle)" "'$bin/dkl-explore' --oracle $share/spectra.h5:/spectra --trace file.ndjson $run" \
  -n "dkl-twin, JSON values" "'$bin/dkl-explore' --instrument '$bin/dkl-twin' --instrument-arg $share/spectra.h5:/spectra --trace json.ndjson $run" \
  -n "dkl-twin, binary payload" "'$bin/dkl-explore' --instrument '$bin/dkl-twin' --instrument-arg --binary --instrument-arg $share/spectra.h5:/spectra --trace binary.ndjson $run" \
  -n "per-point process (--measure)" "'$bin/dkl-explore' --measure /bin/sh --measure-arg -c --measure-arg 'exec cat points/\$0-\$1.npy' --energy 0.5:0.042105263157894736 --trace point.ndjson $run" >&2
run="-S com --centre 31.5,31.5 -w 1 --extractor none --init 300 --steps 1 -n 5 --ensemble 1 -q d4/image.npy"
hyperfine --runs 5 --warmup 1 --style basic --export-json instrument-4dstem.json \
  --prepare "rm -f file4.ndjson file4.patterns.dkl json4.ndjson json4.patterns.dkl binary4.ndjson binary4.patterns.dkl" \
  -n "file (--oracle)" "'$bin/dkl-explore' --oracle d4/cube.h5 --trace file4.ndjson $run" \
  -n "dkl-twin, JSON values" "'$bin/dkl-explore' --instrument '$bin/dkl-twin' --instrument-arg d4/cube.h5 --trace json4.ndjson $run" \
  -n "dkl-twin, binary payload" "'$bin/dkl-explore' --instrument '$bin/dkl-twin' --instrument-arg --binary --instrument-arg d4/cube.h5 --trace binary4.ndjson $run" >&2
cd ../..
/usr/bin/python3 bench/report.py --section instrument
