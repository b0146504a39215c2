#!/bin/sh
# Runs every benchmark of the toolkit and rewrites RESULTS.md. usage: bench/run.sh [BIN]
# (BIN: the built tools, default .build/release; run 'make bench' to build them first).
set -eu
cd "$(dirname "$0")/.."
bin=${1:-.build/release}
./bench/stream.sh "$bin"
./bench/formats.sh "$bin"
./bench/instrument.sh "$bin"
./bench/bayes.sh "$bin"
[ -z "${DKL_PY_GPAX:-}" ] || ./bench/bayes-gpax.sh "$bin"
./bench/startup.sh "$bin"
./bench/explore-scaling.sh "$bin"
./bench/dkl.sh
./bench/pipeline.sh "$bin"
./bench/ferrosim.sh "$bin"
./bench/vae.sh "$bin"
/usr/bin/python3 bench/report.py > /dev/null
