#!/bin/sh
# The pipeline's table from dkl-replay's records: one row per path, its last record, and the
# points it took to measure one of the top 1% (from the replay's header).
#   summary.sh OUT PATH...      (PATH: active, random-1, …, all: OUT/replay-PATH.ndjson)
#   summary.sh --brief TABLE    a few lines for people
set -eu
if [ "$1" = --brief ]; then
  awk -F'\t' 'NR > 1 { split($1, p, "-"); kind = p[1] }
    NR > 1 && kind == "active" { printf "active: top 1%% reached after %s points (%.1f%% of the grid); %d points measured, map RMSE %.4f\n", $9, 100 * $10, $2, $4 }
    NR > 1 && kind == "random" { n++; top[n] = $9 == "nan" ? 1e18 : $9 + 0; rmse += $4 }
    NR > 1 && kind == "all" { printf "all data (%d points): map RMSE %.4f\n", $2, $4 }
    END { if (n) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (top[j] < top[i]) { t = top[i]; top[i] = top[j]; top[j] = t }
                  m = top[int((n + 1) / 2)]
                  printf "random (%d seeds): top 1%% reached after a median of %s; mean map RMSE %.4f\n", n, (m >= 1e18 ? "never" : m " points"), rmse / n } }' "$2"
  exit 0
fi
out=$1; shift
printf 'path\tpoints\tfraction\trmse\tnlpd\tcoverage\tbest\tbest_rank\tpoints_to_top1pct\tfraction_to_top1pct\n'
for p in "$@"; do
  f=$out/replay-$p.ndjson
  header=$(dkl-cat -H "$f")
  top=$(printf '%s' "$header" | sed -n 's/.*"first_top_points":\([0-9a-z]*\).*/\1/p')
  cand=$(printf '%s' "$header" | sed -n 's/.*"candidates":\([0-9]*\).*/\1/p')
  dkl-cat -T --tail 1 --fields points,fraction,rmse,nlpd,coverage,best,best_rank "$f" | tail -n 1 |
    awk -F'\t' -v p="$p" -v top="$top" -v cand="$cand" 'BEGIN { OFS = "\t" }
      { frac = top == "null" ? "nan" : sprintf("%.4f", top / cand); if (top == "null") top = "nan"
        print p, $1, sprintf("%.4f", $2), sprintf("%.5f", $3), sprintf("%.3f", $4), sprintf("%.3f", $5), $6, $7, top, frac }'
done
