#!/bin/sh
# Waits for Slurm jobs (array jobs: every task) to finish, polling scontrol every 2 s rather
# than sbatch --wait's 10 s; exits 0 when all completed, 1 naming a job that did not.
#   wait.sh JOBID...
set -eu
[ $# -gt 0 ] || { echo "usage: wait.sh JOBID..." >&2; exit 64; }
for job in "$@"; do
  while :; do
    states=$(scontrol -o show job "$job" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | sort -u | tr '\n' ' ')
    case $states in
      '') echo "wait.sh: job $job is unknown to Slurm" >&2; exit 1 ;;
      *PENDING*|*RUNNING*|*CONFIGURING*|*COMPLETING*|*REQUEUED*|*SUSPENDED*) sleep 2 ;;
      'COMPLETED ') break ;;
      *) echo "wait.sh: job $job ended $states" >&2; exit 1 ;;
    esac
  done
done
