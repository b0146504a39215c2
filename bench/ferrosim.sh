#!/bin/sh
# ferrosim against a vectorized numpy version and (when available) the original FerroSim,
# run side by side; the sweep of 10,000 histories with 1 and 2 threads; the cost per
# site-step from 10×10 to 200×200.   usage: bench/ferrosim.sh [BIN]
# The original needs a Python with numpy, numba, matplotlib and tqdm (DKL_PY_FERROSIM) and
# its package (DKL_FERROSIM_ORIGINAL: the folder holding ferrosim/).
set -eu
cd "$(dirname "$0")/.."
bin=$(cd "${1:-.build/release}" && pwd)
out=bench/out
mkdir -p "$out/ferrosim"
jsonl=$out/ferrosim.jsonl
: > "$jsonl"
py=/usr/bin/python3
# 1. One history, 20×20, 950 steps: numpy, the tool, the original (same inputs).
line=$($py bench/ferrosim/numpy_ferrosim.py 20 950 5 "$out/ferrosim")
echo "$line" >&2
echo "$line" | $py -c "import sys,json; f=dict(kv.split('=') for kv in sys.stdin.read().split()[2:]); print(json.dumps({'what':'numpy','seconds':float(f['median_s']),'sum_abs_curl':float(f['sum_abs_curl'])}))" >> "$jsonl"
t=$($py - "$bin" "$out/ferrosim" <<'PYEOF'
import json, subprocess, sys, time, statistics
b, d = sys.argv[1], sys.argv[2]
cmd = [b + "/ferrosim", "-n", "20", "--init", d + "/init.npy", "--field-file", d + "/field.npy", "-J", "--no-provenance", "-j", "1"]
times, out = [], ""
for _ in range(7):
    t0 = time.perf_counter(); out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout; times.append(time.perf_counter() - t0)
rec = json.loads(out.splitlines()[1])
print(json.dumps({"what": "ferrosim one run (process included)", "seconds": statistics.median(times), "sum_abs_curl": rec["sum_abs_curl"]}))
PYEOF
)
echo "$t" >> "$jsonl"; echo "$t" >&2
if [ -n "${DKL_PY_FERROSIM:-}" ] && [ -n "${DKL_FERROSIM_ORIGINAL:-}" ]; then
  line=$(PYTHONPATH="$DKL_FERROSIM_ORIGINAL" "$DKL_PY_FERROSIM" bench/ferrosim/original.py "$out/ferrosim")
  echo "$line" >&2
  echo "$line" | $py -c "import sys,json; f=dict(kv.split('=') for kv in sys.stdin.read().split()[2:]); print(json.dumps({'what':'original','seconds':float(f['seconds']),'sum_abs_curl':float(f['sum_abs_curl'])}))" >> "$jsonl"
fi
# 2. The sweep: 10,000 histories of the lecture's family, 900 steps + 50 held, 20×20.
$py -c "
import numpy as np
t = np.linspace(0, 1, 900); r = np.random.default_rng(0); m = 10000
A, al, om, B = r.uniform(0, .75, m), r.uniform(-2.75, 2.75, m), r.uniform(2 * np.pi, 8 * np.pi / 3, m), r.uniform(-.5, .5, m)
np.save('$out/ferrosim/sweep.npy', A[:, None] * np.exp(al[:, None] * t) * np.sin(om[:, None] * t) + B[:, None])"
"$bin/dkl-cat" --import "$out/ferrosim/sweep.npy" --rows --field field --dtype f64 -o "$out/ferrosim/sweep.dkl"
for j in 1 2; do
  s=$($py -c "
import subprocess, time
t0 = time.perf_counter()
subprocess.run(['$bin/ferrosim', '--histories', '$out/ferrosim/sweep.dkl', '-n', '20', '--equilibrate', '50', '-j', '$j', '-q', '-o', '$out/ferrosim/sweep-$j.dkl'], check=True)
print(time.perf_counter() - t0)")
  echo "{\"what\": \"sweep 10000 histories\", \"threads\": $j, \"seconds\": $s}" >> "$jsonl"; tail -n 1 "$jsonl" >&2
done
# The records (not the headers, whose provenance differs) must be identical.
"$bin/dkl-cat" -J "$out/ferrosim/sweep-1.dkl" | tail -n +2 > "$out/ferrosim/r1"
"$bin/dkl-cat" -J "$out/ferrosim/sweep-2.dkl" | tail -n +2 > "$out/ferrosim/r2"
cmp "$out/ferrosim/r1" "$out/ferrosim/r2" && echo '{"what": "sweep records identical with 1 and 2 threads", "ok": true}' >> "$jsonl"
# 3. Cost per site-step from 10×10 to 200×200 (950 steps, one history, one thread).
for n in 10 20 50 100 200; do
  s=$($py -c "
import subprocess, time, statistics
ts = []
for _ in range(3):
    t0 = time.perf_counter()
    subprocess.run(['$bin/ferrosim', '-n', '$n', '-T', '900', '--equilibrate', '50', '-E', '0.5,1,20,0', '-j', '1', '-q', '-o', '/dev/null'], check=True)
    ts.append(time.perf_counter() - t0)
print(statistics.median(ts))")
  echo "{\"what\": \"scaling\", \"n\": $n, \"seconds\": $s}" >> "$jsonl"; tail -n 1 "$jsonl" >&2
done
/usr/bin/python3 bench/report.py --section ferrosim > /dev/null
