#!/bin/sh
# The pipeline's table: per run, the points to a top-1% |P| and the final map's RMSE (from
# the traces, the truth and the maps), and for each fit the posterior of α0 (from its
# draws) with the largest R̂ and the elpd by PSIS-LOO (from dkl-fit's summary).
#   summary.sh OUT              the table
#   summary.sh --brief TABLE    a few lines for people
set -eu
if [ "$1" = --brief ]; then
  awk -F'\t' 'NR > 1 { printf "%-7s top 1%% after %s points, map RMSE %s; α0 %s ± %s (95%%: %s to %s), R-hat %s, elpd_loo %s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9 }' "$2"
  exit 0
fi
out=$1
printf 'run\tpoints_to_top1pct\tmap_rmse\ta0_mean\ta0_sd\ta0_q2.5\ta0_q97.5\trhat_max\telpd_loo\n'
n=$(dkl-cat -n "$out/sweep.dkl")
top=$(dkl-cat -T -f p_abs "$out/sweep.dkl" | tail -n +2 | sort -gr | sed -n "$(( (n + 99) / 100 ))p")
first() { dkl-cat -T -f value "$1" | tail -n +2 | awk -v t="$top" '$1 + 0 >= t + 0 { print NR; found = 1; exit } END { if (!found) print "nan" }'; }
rmse() {   # the final mean map against the truth, over the grid
  dkl-cat --import "$1:/mean" -q | dkl-cat -T -f value | tail -n +2 > "$out/.mean"
  dkl-cat --import "$out/truth.npy" -q | dkl-cat -T -f value | tail -n +2 | paste "$out/.mean" - |
    awk '$1 != "nan" && $2 != "nan" { s += ($1 - $2) ^ 2; k++ } END { printf "%.4f", sqrt(s / k) }'
  rm -f "$out/.mean"
}
posterior() {   # FIT DRAWS: α0's mean, sd, 2.5% and 97.5% from the draws; the largest R-hat and elpd_loo from the summary
  dkl-cat -T -f a0 "$2" | tail -n +2 | sort -g | awk '{ v[NR] = $1; s += $1; q += $1 * $1 }
    END { m = s / NR; printf "%.4f\t%.4f\t%.4f\t%.4f", m, sqrt((q - NR * m * m) / (NR - 1)), v[int(0.025 * NR) + 1], v[int(0.975 * NR)] }'
  r=$(grep -o '"rhat":[0-9.e+-]*' "$1" | cut -d: -f2 | sort -g | tail -n 1)
  e=$(grep -o '"elpd_loo":[0-9.e+-]*' "$1" | cut -d: -f2)
  printf '\t%.4f\t%.2f' "$r" "$e"
}
printf 'gp\t%s\t%s\t-\t-\t-\t-\t-\t-\n' "$(first "$out/gp.ndjson")" "$(rmse "$out/gp-maps.h5")"
printf 'landau\t%s\t%s\t%s\n' "$(first "$out/landau.ndjson")" "$(rmse "$out/landau-maps.h5")" "$(posterior "$out/fit-landau.json" "$out/draws-landau.dkl")"
e=$(grep -o '"elpd_loo":[0-9.e+-]*' "$out/fit-wrong.json" | cut -d: -f2)
r=$(grep -o '"rhat":[0-9.e+-]*' "$out/fit-wrong.json" | cut -d: -f2 | sort -g | tail -n 1)
printf 'wrong\t%s\t%s\t-\t-\t-\t-\t%.4f\t%.2f\n' "$(first "$out/wrong.ndjson")" "$(rmse "$out/wrong-maps.h5")" "$r" "$e"
printf 'bayes\t-\t-\t%s\n' "$(posterior "$out/fit-bayes.json" "$out/draws-bayes.dkl")"
