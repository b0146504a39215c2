#!/bin/sh
# VAE training on the lecture's 7,500 field trajectories (900 steps): vae-encode against the
# same architecture, normalization, loss and schedule in PyTorch (bench/vae/anchor_vae.py),
# run alternately in the same invocation.   usage: bench/vae.sh [BIN]
# The anchor needs a Python with torch (DKL_PY_TORCH); without it only the tool is timed.
# VAE_EPOCHS (default 30; 100 with FULL=1) and VAE_RUNS (default 3; 5 with FULL=1) set the size.
set -eu
cd "$(dirname "$0")/.."
bin=$(cd "${1:-.build/release}" && pwd)
out=bench/out/vae
mkdir -p "$out"
jsonl=bench/out/vae.jsonl
: > "$jsonl"
epochs=${VAE_EPOCHS:-$([ "${FULL:-0}" = 1 ] && echo 100 || echo 30)}
runs=${VAE_RUNS:-$([ "${FULL:-0}" = 1 ] && echo 5 || echo 3)}
# The machine's single-precision matrix-product rate: sgemm of 2,048×2,048 matrices on 2
# threads (numpy over OpenBLAS), the most the cores give to a product of any shape.
OPENBLAS_NUM_THREADS=2 /usr/bin/python3 - >> "$jsonl" <<'PYEOF'
import json, time, statistics
import numpy as np
rng = np.random.default_rng(0)
a, b = rng.standard_normal((2048, 2048), dtype=np.float32), rng.standard_normal((2048, 2048), dtype=np.float32)
for _ in range(3): a @ b
rates = []
for _ in range(7):
    t0 = time.perf_counter(); a @ b; rates.append(2 * 2048 ** 3 / (time.perf_counter() - t0) / 1e9)
print(json.dumps({"what": "sgemm", "gflops": statistics.median(rates), "n": 2048}))
PYEOF
"$bin/dkl-synth" trajectories -n 7500 --seed 0 -q -o "$out/traj.dkl"
"$bin/dkl-cat" --export "$out/traj.npy" --field field "$out/traj.dkl"
r=1
while [ "$r" -le "$runs" ]; do
  "$bin/vae-encode" train -q --epochs "$epochs" --patience 0 --seed "$r" -o "$out/model-$r.h5" "$out/traj.dkl" > "$out/summary-$r.json"
  /usr/bin/python3 - "$out/model-$r.h5" "$out/summary-$r.json" "$r" >> "$jsonl" <<'PYEOF'
import json, sys, h5py
f = h5py.File(sys.argv[1], "r"); s = json.load(open(sys.argv[2]))
print(json.dumps({"what": "vae-encode", "run": int(sys.argv[3]), "threads": 2, "epochs": s["epochs"],
                  "seconds_per_epoch": s["seconds_per_epoch"], "train_loss": list(map(float, f["loss/train"][:])),
                  "validation_loss": list(map(float, f["loss/validation"][:]))}))
PYEOF
  tail -n 1 "$jsonl" | cut -c1-120 >&2
  if [ -n "${DKL_PY_TORCH:-}" ]; then
    "$DKL_PY_TORCH" bench/vae/anchor_vae.py "$out/traj.npy" "$epochs" 2 "$r" | /usr/bin/python3 -c "
import json, sys; r = json.load(sys.stdin); r['what'] = 'pytorch'; r['run'] = $r; print(json.dumps(r))" >> "$jsonl"
    tail -n 1 "$jsonl" | cut -c1-120 >&2
  fi
  r=$((r + 1))
done
/usr/bin/python3 bench/report.py --section vae > /dev/null
