#!/usr/bin/env python3
"""Loading OpenMetrics text: promeval against promtool, on the same file.

Generates the dataset of ../shared/bench/gen_thanos_like.py (1000 pods: 4000
series, 2.88M samples, 170 MB) and measures, alternating runs:
  - promeval: `promeval query --stats` over the file (loadSeconds: reading and
    parsing the file into the in-memory store, single-threaded), and the
    in-process figure of build/bench/load_benchmark;
  - promtool: wall time of `promtool tsdb create-blocks-from openmetrics`
    (parsing and writing TSDB blocks).
Prints MB/s for each and the ratio. compare() returns the same as rows (see
bench/benchlib.py) for bench/run_all. --pods sets the size of the file
(load_benchmark always loads its own 1000 pods).

usage: bench/compare_load.py [--build build] [--repeats 3] [--pods 1000]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

import benchlib

TARGET_MB_S = 150.0  # promeval's read + parse throughput.
REFERENCE_TOOL = "promtool 2.42 tsdb create-blocks-from openmetrics"


def promeval_load_seconds(promeval, data):
    """loadSeconds of `promeval query --stats` over data."""
    stats = benchlib.run_measured([promeval, "query", "--data", data, "--stats", "vector(1)"])
    return json.loads(stats.stderr.strip().splitlines()[-1])["loadSeconds"]


def promtool_create_blocks_seconds(data, out):
    """Wall time of `promtool tsdb create-blocks-from openmetrics` into out."""
    seconds = benchlib.run_measured(
        ["promtool", "tsdb", "create-blocks-from", "openmetrics", data, out]).wall
    shutil.rmtree(out)
    return seconds


def in_process_load(load_benchmark):
    """build/bench/load_benchmark's throughput (MB/s) and time (s) for one
    load of its own 1000-pod data."""
    bench = json.loads(subprocess.run(
        [load_benchmark, "--benchmark_format=json"], check=True, capture_output=True,
        text=True).stdout)["benchmarks"][0]
    assert bench["time_unit"] == "ms"
    return bench["bytes_per_second"] / 1e6, bench["real_time"] / 1000.0


def compare(build=benchlib.DEFAULT_BUILD, repeats=3, pods=1000):
    """Generates the data (pods pods) and measures both loaders, alternating,
    repeats times; returns the rows (see bench/benchlib.py), in MB/s: the
    read + parse of `promeval query --stats` (with the target), then the
    in-process figure of load_benchmark (for context: not interleaved, on
    its own 1000-pod data). Each row also has "seconds", promeval's time
    for one load, and the first "file_mb", the size of the file."""
    promeval = benchlib.require_binary(os.path.join(build, "promeval"))
    load_benchmark = benchlib.require_binary(os.path.join(build, "bench", "load_benchmark"),
                                             "build the benchmarks first")
    benchlib.require_tools("promtool")
    with benchlib.work_dir("promeval-load-") as work:
        data = os.path.join(work, "thanos.om")
        benchlib.generate(os.path.join(benchlib.SHARED_BENCH, "gen_thanos_like.py"),
                          data, pods)
        size_mb = os.path.getsize(data) / 1e6
        runs = benchlib.interleave(repeats, [
            ("promeval", lambda: promeval_load_seconds(promeval, data)),
            ("promtool", lambda: promtool_create_blocks_seconds(
                data, os.path.join(work, "tsdb"))),
        ])
        in_process, in_process_seconds = in_process_load(load_benchmark)
    ours = size_mb / benchlib.median(runs["promeval"])
    theirs = size_mb / benchlib.median(runs["promtool"])
    common = {"unit": "MB/s", "reference": theirs, "reference_tool": REFERENCE_TOOL}
    return [
        dict(common, workload=f"OpenMetrics loading, {size_mb:.0f} MB ({pods} pods): "
             "`promeval query --stats` loadSeconds (read + parse)",
             promeval=ours, seconds=size_mb / ours, file_mb=size_mb, ratio=ours / theirs,
             target=f">= {TARGET_MB_S:g} MB/s", met=ours >= TARGET_MB_S),
        dict(common, workload="OpenMetrics loading, in process (`load_benchmark`, "
             "1000 pods, not interleaved)",
             promeval=in_process, seconds=in_process_seconds, ratio=in_process / theirs,
             target=None, met=None),
    ]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=benchlib.DEFAULT_BUILD)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--pods", type=int, default=1000)
    args = ap.parse_args()
    try:
        ours, in_process = compare(args.build, args.repeats, args.pods)
    except benchlib.BenchError as e:
        sys.exit(str(e))

    size_mb = ours["file_mb"]
    print(f"file: {size_mb:.0f} MB of OpenMetrics text (gen_thanos_like.py, {args.pods} pods)")
    benchlib.print_table(["loader", "time", "throughput"], [
        ("promeval (in process, load_benchmark)",
         f"{in_process['seconds']:.2f} s", f"{in_process['promeval']:.0f} MB/s"),
        ("promeval query --stats loadSeconds (read + parse)",
         f"{ours['seconds']:.2f} s", f"{ours['promeval']:.0f} MB/s"),
        ("promtool tsdb create-blocks-from openmetrics",
         f"{size_mb / ours['reference']:.2f} s", f"{ours['reference']:.0f} MB/s"),
    ], "lrr")
    print(f"\npromeval loads {ours['ratio']:.0f}x faster than promtool creates blocks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
