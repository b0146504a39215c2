#!/bin/sh
# Reading speed of instrument files: a generated float32 spectrum image of about 2 GiB
# (512 × 512 × 2048) as DigitalMicrograph DM4 (stored as energy planes, as DigitalMicrograph
# does) and as NPY (y, x, E: the NPY path's order, the anchor), each read whole by
# dkl-scalarize (one row of spectra at a time, the mean of every spectrum), against cat on
# the same bytes, in the same invocation: medians of 5 alternating runs after a warm-up
# (hyperfine), from the page cache; peak resident memory from /usr/bin/time.
# usage: bench/formats.sh [BIN] [GIB]    writes bench/out/formats.json and bench/RESULTS.md
set -eu
cd "$(dirname "$0")/.."
bin=$(cd "${1:-.build/release}" && pwd)
gib=${2:-2}
out=bench/out
mkdir -p "$out"
command -v hyperfine >/dev/null || { echo "bench: hyperfine is needed (apt-get install hyperfine)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time is needed (apt-get install time)" >&2; exit 1; }
export OPENBLAS_NUM_THREADS=1
if [ ! -s "$out/si.dm4" ] || [ ! -s "$out/si.npy" ] || [ "$(cat "$out/si.gib" 2>/dev/null)" != "$gib" ]; then
  /usr/bin/python3 Tests/Fixtures/make_dm.py --big "$out/si.dm4" "$gib"
  /usr/bin/python3 - "$out/si.dm4" "$out/si.npy" <<'EOF'
import sys, numpy as np
# The same values as make_dm.py --big writes: (y*7 + x*3 + k) % 1000 at (y, x, channel k).
size = __import__("os").path.getsize(sys.argv[1])
e = 2048
side = int(round((size / 4 / e) ** 0.5))
a = np.lib.format.open_memmap(sys.argv[2], mode="w+", dtype="<f4", shape=(side, side, e))
k = np.arange(e)[None, :]
x = np.arange(side)[:, None]
for y in range(side):
    a[y] = ((y * 7 + x * 3 + k) % 1000).astype("<f4")
a.flush()
EOF
  echo "$gib" > "$out/si.gib"
fi
cd "$out"
scalarize="'$bin/dkl-scalarize' -q -S m=mean:-400:700"
# Both files give the same means (the values are the same, the axis is given for NPY).
"$bin/dkl-scalarize" -q -S m=mean:-400:700 si.dm4 -o dm4.dkl
"$bin/dkl-scalarize" -q -S m=mean:-400:700 --energy -400:0.5 si.npy -o npy.dkl
[ "$("$bin/dkl-cat" -f m -T dm4.dkl | md5sum)" = "$("$bin/dkl-cat" -f m -T npy.dkl | md5sum)" ] \
  || { echo "bench: the DM4 and NPY means differ" >&2; exit 1; }
hyperfine --runs 5 --warmup 1 --style basic --export-json formats.json \
  -n "cat si.dm4" "cat si.dm4 > /dev/null" \
  -n "dkl-scalarize si.dm4 (DM4, energy planes)" "$scalarize si.dm4 -o /dev/null" \
  -n "dkl-scalarize si.npy (NPY, y x E)" "$scalarize --energy -400:0.5 si.npy -o /dev/null" >&2
for f in si.dm4 si.npy; do
  /usr/bin/time -f "%M" -o "$f.rss" "$bin/dkl-scalarize" -q -S m=mean:-400:700 --energy -400:0.5 "$f" -o /dev/null
done
/usr/bin/python3 - <<'EOF'
import json, os
j = json.load(open("formats.json"))
j["bytes"] = {"si.dm4": os.path.getsize("si.dm4"), "si.npy": os.path.getsize("si.npy")}
j["peak_rss_kb"] = {f: int(open(f + ".rss").read().split()[-1]) for f in ("si.dm4", "si.npy")}
json.dump(j, open("formats.json", "w"))
EOF
cd ../..
/usr/bin/python3 bench/report.py --section formats
