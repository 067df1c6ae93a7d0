#!/usr/bin/env python3
"""Loading OpenMetrics text: promeval against promtool, on the same file.

Generates the dataset of ../shared/bench/gen_thanos_like.py (1000 pods: 4000
series, 2.88M samples, 170 MB) and measures, alternating runs:
  - promeval: `promeval query --stats` over the file (loadSeconds: reading and
    parsing the file into the in-memory store, single-threaded), and the
    in-process figure of build/bench/load_benchmark;
  - promtool: wall time of `promtool tsdb create-blocks-from openmetrics`
    (parsing and writing TSDB blocks).
Prints MB/s for each and the ratio.

usage: bench/compare_load.py [--build build] [--repeats 3]
"""
import argparse
import json
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


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    promeval = os.path.join(args.build, "promeval")
    load_benchmark = os.path.join(args.build, "bench", "load_benchmark")
    if shutil.which("promtool") is None:
        sys.exit("promtool not found (Debian package prometheus)")

    work = tempfile.mkdtemp(prefix="promeval-load-")
    try:
        data = os.path.join(work, "thanos.om")
        subprocess.run([sys.executable, os.path.join(SHARED_BENCH, "gen_thanos_like.py"), data],
                       check=True)
        size_mb = os.path.getsize(data) / 1e6
        ours, theirs = [], []
        for i in range(args.repeats):
            stats = subprocess.run(
                [promeval, "query", "--data", data, "--stats", "vector(1)"],
                check=True, capture_output=True, text=True).stderr.strip().splitlines()[-1]
            ours.append(json.loads(stats)["loadSeconds"])
            out = os.path.join(work, f"tsdb{i}")
            start = time.monotonic()
            subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", data, out],
                           check=True, capture_output=True)
            theirs.append(time.monotonic() - start)
            shutil.rmtree(out)
        bench = json.loads(subprocess.run(
            [load_benchmark, "--benchmark_format=json"], check=True, capture_output=True,
            text=True).stdout)["benchmarks"][0]
        in_process_mb_s = bench["bytes_per_second"] / 1e6
    finally:
        shutil.rmtree(work)

    ours_s, theirs_s = statistics.median(ours), statistics.median(theirs)
    print(f"file: {size_mb:.0f} MB of OpenMetrics text (gen_thanos_like.py, 1000 pods)")
    print(f"| loader | time | throughput |")
    print(f"|---|---:|---:|")
    print(f"| promeval (in process, load_benchmark) | {size_mb / in_process_mb_s:.2f} s "
          f"| {in_process_mb_s:.0f} MB/s |")
    print(f"| promeval query --stats loadSeconds (read + parse) | {ours_s:.2f} s "
          f"| {size_mb / ours_s:.0f} MB/s |")
    print(f"| promtool tsdb create-blocks-from openmetrics | {theirs_s:.2f} s "
          f"| {size_mb / theirs_s:.0f} MB/s |")
    print(f"\npromeval loads {theirs_s / ours_s:.0f}x faster than promtool creates blocks")


if __name__ == "__main__":
    main()
