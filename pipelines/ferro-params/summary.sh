#!/bin/sh
# The pipeline's table: the grid search, each BO run and each random path: simulations run,
# the best response found, its rank on the grid (1: the true maximum), the simulations it
# took to reach the top 1% of the grid (a grid search knows its best only when every point
# is done), and the seconds taken (BO: the trace's seconds of training, prediction,
# acquisition and simulation, so that a continued run counts what it spent).
#   summary.sh OUT RESPONSE
set -eu
out=$1
response=$2
printf 'method\tsimulations\tbest\tbest_rank\tsimulations_to_top1pct\tseconds\n'
dkl-cat -T --fields "$response" "$out/grid.dkl" | tail -n +2 |
  awk -v s="$(cat "$out/grid.seconds")" 'BEGIN { OFS = "\t" }
    { n++; if (n == 1 || $1 > b) b = $1 }
    END { print "grid search", n, b, 1, n, s }'
for path in "$out"/replay-*.ndjson; do
  name=$(basename "$path" .ndjson); name=${name#replay-}
  first=$(dkl-cat -H "$path" | sed -n 's/.*"first_top_points":\([0-9a-z]*\).*/\1/p')
  case $name in random-*) seconds=nan; label="random points, seed ${name#random-}" ;;
                *) label="BO, $name"
                   seconds=$(dkl-cat -T --fields seconds_train,seconds_predict,seconds_acquire,seconds_measure "$out/bo-$name.ndjson" |
                     awk 'NR > 1 { s += $1 + $2 + $3 + $4 } END { printf "%.2f", s }') ;; esac
  dkl-cat -T --tail 1 --fields points,best,best_rank "$path" | tail -n 1 |
    awk -v l="$label" -v f="$first" -v s="$seconds" 'BEGIN { OFS = "\t" } { print l, $1, $2, $3, (f == "null" ? "nan" : f), s }'
done
