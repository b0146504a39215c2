"""Writes bench/RESULTS.md from the JSON that the benchmark scripts leave in bench/out."""
import json, os, platform, statistics, subprocess, datetime

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "out")


def machine():
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = os.getloadavg()
    return f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB, Linux {platform.release()}; load average at the end {load[0]:.2f}"


def stream_table():
    data = json.load(open(os.path.join(out, "stream.json")))
    sizes = {"binary": os.path.getsize(os.path.join(out, "patches.dkl")),
             "ndjson": os.path.getsize(os.path.join(out, "patches.ndjson"))}
    rows = {r["command"]: r for r in data["results"]}
    med = {k: statistics.median(r["times"]) for k, r in rows.items()}
    cat = med["cat | cat (binary)"]
    lines = ["| command | input | median s (min–max) | throughput | vs cat |", "|---|---|---|---|---|"]
    for name, r in rows.items():
        size = sizes["ndjson"] if "NDJSON to" in name else sizes["binary"]
        t = med[name]
        lines.append(f"| `{name.replace(chr(124), chr(92) + chr(124))}` | {size / 1e6:.0f} MB | {t:.3f} ({min(r['times']):.3f}–{max(r['times']):.3f}) "
                     f"| {size / t / 1e9:.2f} GB/s | {t / cat:.2f}× |")
    targets = [
        ("binary → binary ≥ 1 GB/s", sizes["binary"] / med["cat | dkl-cat | cat (binary to binary, pipe in and out)"] / 1e9 >= 1),
        ("binary → binary within 3× of cat", med["cat | dkl-cat | cat (binary to binary, pipe in and out)"] <= 3 * cat),
        ("NDJSON parse ≥ 100 MB/s", sizes["ndjson"] / med["dkl-cat -B (NDJSON to binary)"] / 1e6 >= 100),
    ]
    lines.append("")
    lines.append("Targets: " + "; ".join(f"{n}: **{'met' if ok else 'NOT met'}**" for n, ok in targets) + ".")
    return "\n".join(lines)


text = f"""# Performance results

Reproduce everything here with `make bench` (or `bench/run.sh` after `make`). Each figure is
the median of several runs measured in the same invocation as its anchor, because the
machine is shared and noisy; ratios are the figures to compare.

Last run: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}, on {machine()}.

## Streams (`bench/stream.sh`)

100,000 records of `{{y i32, x i32, patch f32[16,16]}}` (1,032 bytes each) through `dkl-cat`,
against `cat` on the same bytes. 7 runs each after a warm-up (hyperfine); the file is in the
page cache.

{stream_table()}
"""
open(os.path.join(here, "RESULTS.md"), "w").write(text)
print(text)
