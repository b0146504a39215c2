#!/bin/sh
# The job arrays tested for real: starts a one-node Slurm (local-slurm.sh, as root), runs
# a ferrosim parameter sweep and a dkl-predict over a 192×192 grid as sbatch --array jobs
# with their merge steps, checks that each merged result equals the one-process result
# record for record, checks that a failing task leaves no merged result, and stops every
# daemon it started, also on failure or ^C.
#   test.sh [BIN]        (BIN: the built tools, default .build/release)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=$(cd "${1:-$here/../../.build/release}" && pwd)
PATH=$bin:$PATH
export PATH
work=$(mktemp -d /tmp/dkl-hpc.XXXXXX)
cleanup() { "$here/local-slurm.sh" stop "$work/slurm"; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() { echo "test-hpc: FAIL: $*" >&2; exit 1; }
# The records of two streams (not their headers: the provenance differs) are the same.
same() {
  dkl-cat -J "$1" | tail -n +2 > "$work/a.txt"
  dkl-cat -J "$2" | tail -n +2 > "$work/b.txt"
  [ -s "$work/a.txt" ] && cmp -s "$work/a.txt" "$work/b.txt"
}
start=$(date +%s)
conf=$("$here/local-slurm.sh" start "$work/slurm")
eval "$conf"
echo "test-hpc: a one-node Slurm is up ($(sinfo -h -o '%c CPUs, partition %P'))"

# 1. A FerroSIM sweep over a 12×10 grid of coupling and depolarization, in four tasks.
sweep="--sweep k=0.5:2:12 --sweep dep-alpha=0:1:10 -E 0.5,1,20,0 -T 300 -n 12"
ferrosim $sweep -q -o "$work/sweep-single.dkl"
"$here/submit.sh" --wait sweep 4 "$work/sweep" "$work/sweep.dkl" $sweep
same "$work/sweep.dkl" "$work/sweep-single.dkl" || fail "the merged sweep differs from the one-process sweep"
echo "test-hpc: sweep: 4 array tasks merged = one process ($(dkl-cat -n "$work/sweep.dkl") records)"

# 2. dkl-predict over a 192×192 scan (33,856 patches) in chunks of 2,000, in three tasks.
dkl-synth --size 192x192 --seed 1 -q "$work/scan"
dkl-scalarize -S gap=integral:1.35:2.05 -q "$work/scan/spectra.h5:/spectra" -o "$work/targets.dkl"
dkl-patches -w 9 --stride 6 -q "$work/scan/image.npy" | dkl-train --targets "$work/targets.dkl" --iterations 60 --ensemble 2 -q -o "$work/model.h5" > /dev/null
dkl-patches -w 9 -q "$work/scan/image.npy" -o "$work/patches.dkl"
dkl-predict --model "$work/model.h5" --chunk 2000 -q -o "$work/predict-single.dkl" "$work/patches.dkl"
"$here/submit.sh" --wait predict 3 "$work/predict" "$work/predict.dkl" "$work/model.h5" "$work/patches.dkl" --chunk 2000
same "$work/predict.dkl" "$work/predict-single.dkl" || fail "the merged prediction differs from the one-process prediction"
echo "test-hpc: predict: 3 array tasks merged = one process ($(dkl-cat -n "$work/predict.dkl") records)"

# 3. A task that fails (no such model): the merge is cancelled, nothing is merged.
if "$here/submit.sh" --wait predict 2 "$work/bad" "$work/bad.dkl" "$work/missing.h5" "$work/patches.dkl" 2> "$work/bad.err"; then
  fail "a failing array was reported as completed"
fi
[ ! -e "$work/bad.dkl" ] || fail "a failing array left a merged result"
grep -q "missing.h5: no such file" "$work"/bad/slurm-*_1.out || fail "the failing task's log does not say why"
echo "test-hpc: a failing task: $(cat "$work/bad.err")"
echo "test-hpc: ok in $(( $(date +%s) - start )) s"
