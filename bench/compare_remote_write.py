#!/usr/bin/env python3
"""Remote write: samples per second sustained into a loopback Prometheus.

bench/remote_write_benchmark (a RemoteWriter fed SERIES series, a sample
each a commit; two shapes, see SHAPES) writes to a
fresh `prometheus` (2.42) started with --web.enable-remote-write-receiver
on 127.0.0.1. A first run creates the series (not measured); then --repeats
runs, each with later timestamps, measure the samples per second from the
first commit until everything was accepted, and the CPU each side used in
that time (the writer's from getrusage, Prometheus's from /proc/PID/stat):
the side whose CPU is near the machine's cores is the bottleneck. A run
against a client that sends nothing gives the sender's own ceiling.

Target (issue 16): at least 1 million samples/s on two cores.

compare() returns the rows (see bench/benchlib.py) for bench/run_all.

usage: bench/compare_remote_write.py [--build build] [--repeats 5]
                                     [--port 9097]
"""
import argparse
import json
import os
import subprocess
import sys
import time

import benchlib

TARGET = 1e6
INTERVAL_MS = 15000


def cpu_seconds(pid):
    """A process's user + system CPU seconds, from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(binary, args):
    r = subprocess.run([binary, *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"remote_write_benchmark {' '.join(args)}: {r.stderr}")
    return json.loads(r.stdout)


# The shapes measured: (name, series, samples a series, shards, samples a
# request). "scrape": many series, one sample each a commit, as a server's
# scrapes or rule evaluations append them, so a request holds one sample of
# each of its series; "backfill": fewer series with samples queued faster
# than the receiver takes them (a replay), so a request holds several of
# each series (sent as one TimeSeries: one series lookup each).
SHAPES = (("scrape", 10000, 100, 4, 10000), ("backfill", 1000, 1000, 4, 10000))


def measure(binary, work, port, repeats, series, samples, shards, per_send):
    """Medians over the runs into a fresh Prometheus: samples/s, the
    writer's cores, Prometheus's cores; and the sender alone's samples/s."""
    common = ["--series", str(series), "--samples", str(samples), "--shards", str(shards),
              "--max-samples-per-send", str(per_send)]
    null = [run(binary, ["--null", *common]) for _ in range(repeats)]
    measured = []
    tsdb = os.path.join(work, f"tsdb-{series}-{samples}")
    with benchlib.prometheus_server(work, tsdb, port,
                                    flags=("--web.enable-remote-write-receiver",)) as proc:
        url = f"http://127.0.0.1:{port}/api/v1/write"
        # Timestamps from an hour ago on, each run after the one before
        # (in order: no out-of-order window needed).
        start = int(time.time() * 1000) - 3600 * 1000
        for i in range(repeats + 1):
            t0 = start + i * samples * INTERVAL_MS
            prom_cpu = cpu_seconds(proc.pid)
            result = run(binary, ["--url", url, "--start-ms", str(t0), *common])
            result["prometheusCpuSeconds"] = cpu_seconds(proc.pid) - prom_cpu
            if i > 0:  # The first created the series.
                measured.append(result)
            log(f"{series} x {samples}, run {i}: "
                f"{result['samplesPerSecond'] / 1e6:.2f} M samples/s, "
                f"promeval {result['cpuSeconds'] / result['seconds']:.2f} cores, "
                f"prometheus {result['prometheusCpuSeconds'] / result['seconds']:.2f} cores")
    return (benchlib.median([m["samplesPerSecond"] for m in measured]),
            benchlib.median([m["cpuSeconds"] / m["seconds"] for m in measured]),
            benchlib.median([m["prometheusCpuSeconds"] / m["seconds"] for m in measured]),
            benchlib.median([m["samplesPerSecond"] for m in null]))


def compare(build=benchlib.DEFAULT_BUILD, repeats=5, port=9097):
    binary = benchlib.require_binary(os.path.join(build, "bench", "remote_write_benchmark"))
    benchlib.require_tools("prometheus")
    rows = []
    cores = os.cpu_count()
    with benchlib.work_dir("promeval-remote-write-") as work:
        for name, series, samples, shards, per_send in SHAPES:
            rate, ours, theirs, alone = measure(binary, work, port, repeats, series,
                                                samples, shards, per_send)
            bottleneck = "the receiver" if theirs > ours else "the sender"
            rows.append(dict(
                workload=f"remote write into a loopback Prometheus 2.42, {name}: {series} "
                         f"series x {samples} samples a run, {shards} shards of {per_send} "
                         f"samples a request (CPU while writing: promeval {ours:.2f} cores, "
                         f"Prometheus {theirs:.2f} of {cores}: {bottleneck} is the "
                         f"bottleneck; the sender alone: {alone / 1e6:.1f} M samples/s)",
                promeval=rate / 1e6, reference=TARGET / 1e6, unit="M samples/s",
                reference_tool="the target", ratio=rate / TARGET, target=">= 1x",
                met=rate >= TARGET))
    return rows


def log(message):
    print(f"compare_remote_write: {message}", file=sys.stderr, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=benchlib.DEFAULT_BUILD)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--port", type=int, default=9097)
    args = ap.parse_args()
    try:
        rows = compare(args.build, args.repeats, args.port)
    except benchlib.BenchError as e:
        sys.exit(str(e))
    benchlib.print_table(
        ["workload", "samples/s", "target", "met"],
        [(r["workload"], f"{r['promeval']:.2f} M", r["target"],
          "yes" if r["met"] else "no") for r in rows],
        "lrll")
    return 0 if all(r["met"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
