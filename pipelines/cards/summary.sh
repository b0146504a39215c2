#!/bin/sh
# The cards pipeline's table:
#   static DKL, per target: the training cards, the RMSE of the prediction over every card,
#     and for the suit the share of cards whose rounded prediction is the true suit;
#   DKL-BO and random cards, for the shear and the angle: the best card's rank and the cards
#     it took to reach the top 1%; for the hearts: the hearts found.
#   summary.sh OUT TRAIN
set -eu
out=$1
train=$2
printf 'experiment\ttarget\tpoints\trmse\taccuracy\tbest_rank\tpoints_to_top1pct\tfound\n'
for t in suit angle shear; do
  dkl-cat -T --fields mean,truth "$out/joined-static-$t.dkl" | tail -n +2 |
    awk -F'\t' -v t=$t -v n="$train" 'BEGIN { OFS = "\t" }
      { k++; e = $1 - $2; se += e * e; r = int($1 + ($1 < 0 ? -0.5 : 0.5)); if (r == $2) hit++ }
      END { print "static DKL", t, n, sprintf("%.5g", sqrt(se / k)), (t == "suit" ? sprintf("%.4f", hit / k) : "nan"), "nan", "nan", "nan" }'
done
for t in shear angle; do
  for m in active random; do
    f=$out/replay-$m-$t.ndjson
    top=$(dkl-cat -H "$f" | sed -n 's/.*"first_top_points":\([0-9a-z]*\).*/\1/p')
    dkl-cat -T --tail 1 --fields points,rmse,best_rank "$f" | tail -n 1 |
      awk -F'\t' -v t=$t -v m=$m -v top="$top" 'BEGIN { OFS = "\t" }
        { print (m == "active" ? "DKL-BO" : "random"), t, $1, sprintf("%.5g", $2), "nan", $3, (top == "null" ? "nan" : top), "nan" }'
  done
done
for m in active random; do
  dkl-cat -T --fields value "$out/$m-hearts.ndjson" | tail -n +2 |
    awk -v m=$m 'BEGIN { OFS = "\t" } { n++; s += $1 } END { print (m == "active" ? "DKL-BO" : "random"), "hearts", n, "nan", "nan", "nan", "nan", s }'
done
