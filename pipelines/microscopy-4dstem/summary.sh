#!/bin/sh
# The pipeline's table from dkl-replay's records: per dose, one row per path (its last
# record) with the points it took to measure one of the top 1%; the all-data reference last.
#   summary.sh OUT DOSE...      (OUT/dose-DOSE/replay-{active,random-*}.ndjson, OUT/replay-all.ndjson)
#   summary.sh --brief TABLE    a few lines for people
set -eu
if [ "$1" = --brief ]; then
  awk -F'\t' 'NR > 1 && $2 == "active" { printf "dose %s e-/pattern, active: top 1%% reached after %s points; %d points measured, map RMSE %.4f px\n", $1, $10, $3, $5 }
    NR > 1 && $2 ~ /^random/ { n[$1]++; top[$1, n[$1]] = $10 == "nan" ? 1e18 : $10 + 0; rmse[$1] += $5 }
    NR > 1 && $2 == "all" { all = sprintf("all data, clean (%d points): map RMSE %.4f px", $3, $5) }
    END { for (d in n) { k = n[d]
            for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (top[d, j] < top[d, i]) { t = top[d, i]; top[d, i] = top[d, j]; top[d, j] = t }
            m = top[d, int((k + 1) / 2)]
            printf "dose %s e-/pattern, random (%d seeds): top 1%% reached after a median of %s; mean map RMSE %.4f px\n", d, k, (m >= 1e18 ? "never" : m " points"), rmse[d] / k }
          print all }' "$2"
  exit 0
fi
out=$1; shift
printf 'dose\tpath\tpoints\tfraction\trmse\tnlpd\tcoverage\tbest\tbest_rank\tpoints_to_top1pct\n'
row() {
  header=$(dkl-cat -H "$3")
  top=$(printf '%s' "$header" | sed -n 's/.*"first_top_points":\([0-9a-z]*\).*/\1/p')
  dkl-cat -T --tail 1 --fields points,fraction,rmse,nlpd,coverage,best,best_rank "$3" | tail -n 1 |
    awk -F'\t' -v d="$1" -v p="$2" -v top="$top" 'BEGIN { OFS = "\t" }
      { if (top == "null" || top == "") top = "nan"
        print d, p, $1, sprintf("%.4f", $2), sprintf("%.5f", $3), sprintf("%.3f", $4), sprintf("%.3f", $5), sprintf("%.4f", $6), $7, top }'
}
for d in "$@"; do
  for f in "$out/dose-$d"/replay-*.ndjson; do
    p=$(basename "$f" .ndjson); row "$d" "${p#replay-}" "$f"
  done
done
row clean all "$out/replay-all.ndjson"
