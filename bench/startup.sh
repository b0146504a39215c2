#!/bin/sh
# Start-up of a tool, as every pipeline stage and batch job meets it: `dkl-cat --version`,
# `ferrosim --version` and `ferrosim` on one 20×20 history (950 steps, the inputs of
# bench/ferrosim.sh), from the build tree (Swift's runtime libraries shared) and as
# `make install` builds them (the Swift runtime linked in), beside the machine's floor for
# starting a process (/bin/true) and `python3 -c pass`. Rounds of every command in turn
# (alternating, so that the machine's load falls on all alike), wall-clock medians, and the
# peak resident memory of each (/usr/bin/time); the original FerroSim on the same history when it is
# installed (DKL_PY_FERROSIM, DKL_FERROSIM_ORIGINAL: see bench/ferrosim.sh).
# usage: bench/startup.sh [BIN]      writes bench/out/startup.jsonl and bench/RESULTS.md
set -eu
cd "$(dirname "$0")/.."
bin=$(cd "${1:-.build/release}" && pwd)
out=bench/out
mkdir -p "$out/ferrosim"
# The installed build: the same tools with the Swift runtime linked in (make install's flags).
for t in dkl-cat ferrosim; do
  swift build -c release --static-swift-stdlib --scratch-path .build-static --product $t >&2
done
static=$(cd .build-static/release && pwd)
/usr/bin/python3 bench/ferrosim/numpy_ferrosim.py 20 950 1 "$out/ferrosim" > /dev/null
original=
if [ -n "${DKL_PY_FERROSIM:-}" ] && [ -n "${DKL_FERROSIM_ORIGINAL:-}" ]; then
  original=$(PYTHONPATH="$DKL_FERROSIM_ORIGINAL" "$DKL_PY_FERROSIM" bench/ferrosim/original.py "$out/ferrosim" | sed 's/.*seconds=\([0-9.]*\).*/\1/')
fi
OPENBLAS_NUM_THREADS=1 /usr/bin/python3 - "$bin" "$static" "$out/ferrosim" "$original" > "$out/startup.jsonl" <<'PY'
import json, os, statistics, subprocess, sys, time
build, static, d, original = sys.argv[1:5]
history = ["-n", "20", "--init", d + "/init.npy", "--field-file", d + "/field.npy", "-J", "--no-provenance", "-j", "1", "-q"]
commands = [
    ("/bin/true", ["/bin/true"]),
    ("python3 -c pass", ["/usr/bin/python3", "-c", "pass"]),
    ("dkl-cat --version (build tree)", [build + "/dkl-cat", "--version"]),
    ("dkl-cat --version (installed)", [static + "/dkl-cat", "--version"]),
    ("ferrosim --version (build tree)", [build + "/ferrosim", "--version"]),
    ("ferrosim --version (installed)", [static + "/ferrosim", "--version"]),
    ("ferrosim, one 20×20 history (build tree)", [build + "/ferrosim"] + history),
    ("ferrosim, one 20×20 history (installed)", [static + "/ferrosim"] + history),
]
devnull = os.open(os.devnull, os.O_WRONLY)
def run(argv):
    t0 = time.perf_counter_ns()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 1)])
    _, status = os.waitpid(pid, 0)
    t = (time.perf_counter_ns() - t0) / 1e6
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench: {' '.join(argv)} failed")
    return t
def peak_kb(argv):
    # Through /usr/bin/time, whose own small process is the one forked: a child forked from
    # this Python would count Python's pages in its peak.
    r = subprocess.run(["/usr/bin/time", "-f", "%M"] + argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True)
    return int(r.stderr.strip().splitlines()[-1])
times = {name: [] for name, _ in commands}
for _ in range(10):          # warm the page cache
    for _, argv in commands: run(argv)
for _ in range(200):
    for name, argv in commands:
        times[name].append(run(argv))
rss = {name: max(peak_kb(argv) for _ in range(3)) for name, argv in commands}
for name, _ in commands:
    ts = sorted(times[name])
    print(json.dumps({"what": name, "median_ms": statistics.median(ts), "p10_ms": ts[len(ts) // 10], "p90_ms": ts[9 * len(ts) // 10], "max_rss_kb": rss[name]}))
if original:
    print(json.dumps({"what": "original FerroSim, one 20×20 history (its own timer, import excluded)", "median_ms": float(original) * 1000}))
PY
cat "$out/startup.jsonl" >&2
/usr/bin/python3 bench/report.py --section startup
