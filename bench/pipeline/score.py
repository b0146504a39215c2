"""Scores for the pipeline benchmark. usage:
  score.py static DATA PRED.ndjson N        held-out RMSE/NLPD/coverage in standardized units
  score.py active DATA TRACE.ndjson          best found, its rank, the step it was found at"""
import json
import sys
import numpy as np

mode, data = sys.argv[1], sys.argv[2]
truth = np.load(f"{data}/truth_ratio.npy").astype(np.float64)
i, j = np.divmod(np.arange(12769), 113)
y_raw = truth[i + 8, j + 8]
mean, std = y_raw.mean(), y_raw.std()
lines = open(sys.argv[3]).read().splitlines()[1:]
recs = [json.loads(l) for l in lines]
if mode == "static":
    n = int(sys.argv[4])
    train = set(np.load(f"{data}/train_idx_{n}.npy").tolist())
    noise = json.loads(open(sys.argv[3]).readline())["attrs"]["noise_var"]
    se = nl = inside = cnt = 0.0
    for r in recs:
        k = (r["y"] - 8) * 113 + (r["x"] - 8)
        if k in train:
            continue
        mu, v = (r["mean"] - mean) / std, (r["var"] + noise) / std ** 2
        e = mu - (y_raw[k] - mean) / std
        se += e * e; nl += 0.5 * np.log(2 * np.pi * v) + e * e / (2 * v); inside += abs(e) <= 2 * np.sqrt(v); cnt += 1
    print(json.dumps({"rmse": np.sqrt(se / cnt), "nlpd": nl / cnt, "coverage_2sd": inside / cnt, "n_test": cnt}))
else:
    vals = np.array([r["value"] for r in recs])
    best = vals.max()
    rank = int((y_raw > best + 1e-12).sum()) + 1
    top = np.sort(y_raw)[::-1][127]           # the top 1%: rank ≤ 128
    hits = [k for k, r in enumerate(recs) if r["value"] >= top - 1e-12]
    steps = [r for r in recs if r["step"] > 0]
    per_step = [r["seconds_train"] + r["seconds_predict"] + r["seconds_acquire"] for r in steps]
    print(json.dumps({"best_std": (best - mean) / std, "rank": rank, "top1pct_found": bool(hits),
                      "measurements_to_top1pct": (hits[0] + 1) if hits else None,
                      "median_step_s": float(np.median(per_step)), "steps": len(steps)}))
