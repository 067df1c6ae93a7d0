#!/usr/bin/env python3
"""Whole-process comparison of promeval and promtool on rule workloads.

- `test rules` on ../shared/bench/gen_rules_bench.py OUT SERIES HOURS
  (default 100 series, 6 hours);
- `check rules` on ../shared/bench/gen_rule_file.py OUT RULES (default
  10,000 rules).
Each command runs --repeats times, interleaved (promtool, promeval, ...);
prints the median wall time and peak RSS of each and the ratios.

usage: bench/compare_rules.py [--build build] [--repeats 5] [--series 100]
                              [--hours 6] [--rules 10000]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED_BENCH = os.path.join(ROOT, "..", "shared", "bench")


def run(cmd):
    """Wall seconds and peak RSS (KB) of one run; fails if it fails."""
    start = time.monotonic()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr}")
    rss = int(proc.stderr.strip().splitlines()[-1])
    return wall, rss


def compare(name, promtool_cmd, promeval_cmd, repeats):
    times = {"promtool": [], "promeval": []}
    rss = {"promtool": [], "promeval": []}
    for _ in range(repeats):
        for tool, cmd in (("promtool", promtool_cmd), ("promeval", promeval_cmd)):
            t, m = run(cmd)
            times[tool].append(t)
            rss[tool].append(m)
    pt, et = statistics.median(times["promtool"]), statistics.median(times["promeval"])
    pm, em = statistics.median(rss["promtool"]), statistics.median(rss["promeval"])
    print(f"| {name} | {pt:.2f} s, {pm / 1024:.0f} MB | {et:.2f} s, {em / 1024:.0f} MB "
          f"| {pt / et:.1f}x | {em / pm:.2f} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--series", type=int, default=100)
    ap.add_argument("--hours", type=float, default=6)
    ap.add_argument("--rules", type=int, default=10000)
    args = ap.parse_args()
    promeval = os.path.join(args.build, "promeval")
    if not os.path.exists(promeval):
        sys.exit(f"{promeval} not found: build first")
    if shutil.which("promtool") is None:
        sys.exit("promtool not found (Debian package prometheus)")
    work = tempfile.mkdtemp(prefix="promeval-rules-bench-")
    try:
        unit = os.path.join(work, "unit")
        subprocess.run([sys.executable, os.path.join(SHARED_BENCH, "gen_rules_bench.py"),
                        unit, str(args.series), str(args.hours)], check=True)
        rule_file = os.path.join(work, "rules.yml")
        subprocess.run([sys.executable, os.path.join(SHARED_BENCH, "gen_rule_file.py"),
                        rule_file, str(args.rules)], check=True)
        test = os.path.join(unit, "test.yml")
        print("| workload | promtool (time, peak RSS) | promeval | speed-up | RSS ratio |")
        print("|---|---:|---:|---:|---:|")
        compare(f"test rules, {args.series} series x {args.hours:g}h",
                ["promtool", "test", "rules", test],
                [promeval, "test", "rules", test], args.repeats)
        compare(f"check rules, {args.rules} rules",
                ["promtool", "check", "rules", rule_file],
                [promeval, "check", "rules", rule_file], args.repeats)
    finally:
        shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
