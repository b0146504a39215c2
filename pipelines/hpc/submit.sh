#!/bin/sh
# Submits a job array and the merge step that waits for it (afterok), and prints their job
# ids; with --wait, waits for both and fails unless both completed.
#   submit.sh [--wait] sweep N OUTDIR RESULT [ferrosim options]
#   submit.sh [--wait] predict N OUTDIR RESULT MODEL PATCHES [dkl-predict options]
# The tasks find the tools on the PATH given at submission (Slurm exports it). Extra sbatch
# options (partition, account, time) go in SBATCH_* variables or #SBATCH lines of a copy.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
wait=no
if [ "${1:-}" = --wait ]; then wait=yes; shift; fi
usage="usage: submit.sh [--wait] sweep|predict N OUTDIR RESULT [options]"
kind=${1:?$usage}
n=${2:?$usage}
out=${3:?$usage}
result=${4:?$usage}
shift 4
case $kind in sweep) key=id ;; predict) key=y,x ;; *) echo "submit.sh: unknown kind '$kind' (sweep or predict)" >&2; exit 64 ;; esac
case $n in ''|*[!0-9]*) echo "submit.sh: N must be a whole number of tasks" >&2; exit 64 ;; esac
mkdir -p "$out"
out=$(cd "$out" && pwd)
array=$(sbatch --parsable --array="1-$n" --output="$out/slurm-%A_%a.out" "$here/$kind.sbatch" "$out" "$@")
array=${array%%;*}
merge=$(sbatch --parsable --dependency="afterok:$array" --kill-on-invalid-dep=yes --output="$out/slurm-%j.out" \
  "$here/merge.sbatch" "$key" "$n" "$out" "$result")
merge=${merge%%;*}
echo "array $array merge $merge"
[ $wait = yes ] || exit 0
exec "$here/wait.sh" "$array" "$merge"
