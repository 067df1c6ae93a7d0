#!/usr/bin/env python3
"""Range-query evaluation time: promeval against a loopback Prometheus.

Generates the datasets of ../shared/bench/gen_thanos_like.py and
bench/gen_histograms.py, loads them into a Prometheus TSDB with `promtool tsdb
create-blocks-from openmetrics`, starts `prometheus` on 127.0.0.1, and for
each query of ../shared/bench/thanos_queries.txt and of FUNCTION_QUERIES runs, interleaved:
  - Prometheus: query_range with stats=all, reading its own evalTotalTime;
  - promeval: build/bench/eval_benchmark, which evaluates the same query over
    the same data and range (2h at a 30s step), single-threaded.
Prints a table with the median of each and the ratio, and exits non-zero if
any ratio is below --target (default 10).

compare() returns the same results as rows (see bench/benchlib.py), for
bench/run_all.

usage: bench/compare_prometheus.py [--build build] [--repeats 5] [--target 10]
                                   [--port 9099] [--keep DIR] [--min-time 0.5]
"""
import argparse
import json
import os
import subprocess
import sys
import urllib.parse
import urllib.request

import benchlib

T0 = 1700000000  # First sample of gen_thanos_like.py.
START = T0 + 3 * 3600  # The window of bench/eval_benchmark.cc.
END = T0 + 5 * 3600
STEP = 30
TARGET = 10.0  # Every range query at least this many times faster.
REFERENCE_TOOL = "Prometheus 2.42 evalTotalTime"


# The function-library queries, after those of thanos_queries.txt; the
# histogram ones read the data of gen_histograms.py.
FUNCTION_QUERIES = [
    "increase(http_requests_total[5m])",
    "avg_over_time(http_requests_total[5m])",
    "max_over_time(http_requests_total[5m])",
    "quantile_over_time(0.9, http_requests_total[5m])",
    "histogram_quantile(0.9, rate(http_request_duration_seconds_bucket[5m]))",
    "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))",
]


def load_queries():
    """The queries of thanos_queries.txt, then FUNCTION_QUERIES: the order of
    eval_benchmark's built-in ones."""
    with open(os.path.join(benchlib.SHARED_BENCH, "thanos_queries.txt")) as f:
        listed = [q.strip() for q in f if q.strip() and not q.startswith("#")]
    return listed + FUNCTION_QUERIES


def prometheus_eval_seconds(port, query):
    """Prometheus's own evalTotalTime of one range query, and its series."""
    url = f"http://127.0.0.1:{port}/api/v1/query_range?" + urllib.parse.urlencode(
        {"query": query, "start": START, "end": END, "step": STEP, "stats": "all"})
    with urllib.request.urlopen(url, timeout=300) as r:
        body = json.load(r)
    if body["status"] != "success":
        raise RuntimeError(f"prometheus: {query}: {body}")
    return body["data"]["stats"]["timings"]["evalTotalTime"], len(body["data"]["result"])


def promeval_seconds(binary, queries, index, min_time):
    """eval_benchmark's time for query number index, and its series."""
    bench = benchlib.eval_benchmark(binary, queries, f"--benchmark_filter=BM_RangeQuery/{index}$",
                                    f"--benchmark_min_time={min_time:g}")[0]
    return bench["real_time"] / 1000.0, int(bench["series"])


def bandwidth(build=benchlib.DEFAULT_BUILD, min_time=0.5):
    """How far the bare selector and rate() queries are from the memory
    bandwidth: the bytes of samples each reads per second (16 per sample)
    against memcpy's bytes per second on the same machine (eval_benchmark's
    BM_Memcpy); a list of lines."""
    binary = benchlib.require_binary(os.path.join(build, "bench", "eval_benchmark"),
                                     "eval_benchmark")
    out = subprocess.run(
        [binary, "--benchmark_filter=BM_RangeQuery/(0|1)$|BM_Memcpy",
         "--benchmark_format=json", f"--benchmark_min_time={min_time:g}"],
        check=True, capture_output=True, text=True).stdout
    benches = json.loads(out)["benchmarks"]
    memcpy = next(b["bytes_per_second"] for b in benches if b["name"] == "BM_Memcpy")
    lines = []
    for b in benches:
        if b["name"] == "BM_Memcpy":
            continue
        touched = b["touched_bytes_per_second"]
        lines.append(f"bandwidth, `{b['label']}`: reads samples at {touched / 1e9:.2f} GB/s, "
                     f"{100 * touched / memcpy:.0f}% of memcpy's {memcpy / 1e9:.2f} GB/s")
    return lines


def load_tsdb(work, tsdb):
    """Generates the datasets in work and writes them as TSDB blocks."""
    data = os.path.join(work, "thanos.om")
    benchlib.generate(os.path.join(benchlib.SHARED_BENCH, "gen_thanos_like.py"), data)
    subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", data, tsdb],
                   check=True, capture_output=True)
    histograms = os.path.join(work, "histograms.om")
    benchlib.generate(os.path.join(benchlib.HERE, "gen_histograms.py"), histograms)
    subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", histograms,
                    tsdb], check=True, capture_output=True)


def compare(build=benchlib.DEFAULT_BUILD, repeats=5, target=TARGET, port=9099, keep=None,
            min_time=0.5):
    """Runs every query on Prometheus and promeval, interleaved, repeats
    times; returns one row per query (see benchlib), with the query as
    "query". min_time is eval_benchmark's --benchmark_min_time."""
    binary = benchlib.require_binary(os.path.join(build, "bench", "eval_benchmark"),
                                     "build the benchmarks first")
    benchlib.require_tools("promtool", "prometheus")
    all_queries = load_queries()
    rows = []
    with benchlib.work_dir("promeval-bench-", keep) as work:
        tsdb = os.path.join(work, "tsdb")
        if not os.path.exists(tsdb):
            load_tsdb(work, tsdb)
        with benchlib.prometheus_server(work, tsdb, port):
            for i, q in enumerate(all_queries):
                prometheus_eval_seconds(port, q)  # Warm up.
                runs = benchlib.interleave(repeats, [
                    ("prometheus", lambda: prometheus_eval_seconds(port, q)),
                    ("promeval", lambda: promeval_seconds(binary, all_queries, i, min_time)),
                ])
                p_series, o_series = runs["prometheus"][-1][1], runs["promeval"][-1][1]
                if p_series != o_series:
                    raise RuntimeError(f"{q}: prometheus returned {p_series} series, "
                                       f"promeval {o_series}")
                prom = benchlib.median([t for t, _ in runs["prometheus"]])
                ours = benchlib.median([t for t, _ in runs["promeval"]])
                rows.append({
                    "workload": f"`{q}`", "query": q,
                    "promeval": ours, "reference": prom, "unit": "s",
                    "reference_tool": REFERENCE_TOOL,
                    "ratio": prom / ours, "target": f">= {target:g}x",
                    "met": prom / ours >= target,
                })
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=benchlib.DEFAULT_BUILD)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--target", type=float, default=TARGET)
    ap.add_argument("--port", type=int, default=9099)
    ap.add_argument("--keep", help="keep the data and TSDB in this directory")
    ap.add_argument("--min-time", type=float, default=0.5,
                    help="eval_benchmark's --benchmark_min_time (seconds)")
    args = ap.parse_args()
    try:
        rows = compare(args.build, args.repeats, args.target, args.port, args.keep,
                       args.min_time)
    except benchlib.BenchError as e:
        sys.exit(str(e))

    benchlib.print_table(
        ["query", "Prometheus 2.42 evalTotalTime", "promeval", "speed-up"],
        [(row["workload"], f"{row['reference'] * 1000:.1f} ms",
          f"{row['promeval'] * 1000:.2f} ms", f"{row['ratio']:.1f}x") for row in rows],
        "lrrr")
    worst = min(row["ratio"] for row in rows)
    print(f"\nminimum speed-up {worst:.1f}x (target {args.target:g}x)")
    return 0 if worst >= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
