#!/usr/bin/env python3
"""Remote read: promeval over a loopback Prometheus's remote read endpoint
against the same Prometheus answering the query itself.

The dataset of ../shared/bench/gen_thanos_like.py as promtool-written blocks
(compare_prometheus.load_tsdb), served by `prometheus` on 127.0.0.1. For
each query of ../shared/bench/thanos_queries.txt (a range of 2h at 30s),
interleaved:
  - Prometheus: the wall time of its HTTP answer to /api/v1/query_range
    (reading its blocks, evaluating, encoding JSON), measured by the client;
  - promeval: `promeval query-range --remote-read URL --format json
    --stats`: the time of its work from its --stats (the requests, their
    transfer and decoding, the evaluation and the JSON output; not the
    process's start), and of that the time transferring and decoding.
Both answers must have the same series. Targets (issue 16): no slower than
Prometheus on any query, at least 3x faster on the aggregation and
binary-operator queries.

compare() returns the rows (see bench/benchlib.py) for bench/run_all.

usage: bench/compare_remote.py [--build build] [--repeats 5] [--port 9098]
                               [--keep DIR]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import benchlib
import compare_prometheus

START, END, STEP = compare_prometheus.START, compare_prometheus.END, 30
REFERENCE_TOOL = "Prometheus 2.42 over HTTP (same server)"


def is_aggregation_or_binary(query):
    """Whether the query aggregates or has a binary operator (the 3x
    target)."""
    aggregations = ("sum", "avg", "min", "max", "count", "topk", "bottomk",
                    "quantile", "stddev", "stdvar", "group")
    head = re.match(r"\w*", query.strip()).group(0)
    binary = any(f" {op} " in query for op in ("+", "-", "*", "/", "and",
                                                "or", "unless", ">", "<"))
    return head in aggregations or binary


def prometheus_seconds(port, query):
    url = f"http://127.0.0.1:{port}/api/v1/query_range?" + urllib.parse.urlencode(
        {"query": query, "start": START, "end": END, "step": STEP})
    start = time.monotonic()
    with urllib.request.urlopen(url, timeout=300) as r:
        body = json.load(r)
    wall = time.monotonic() - start
    if body["status"] != "success":
        raise RuntimeError(f"prometheus: {query}: {body}")
    return wall, len(body["data"]["result"])


def promeval_seconds(binary, port, query):
    r = subprocess.run(
        [binary, "query-range", "--remote-read",
         f"http://127.0.0.1:{port}/api/v1/read", "--start", str(START), "--end",
         str(END), "--step", str(STEP), "--format", "json", "--stats", "--",
         query], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"promeval: {query}: {r.stderr}")
    stats = json.loads(r.stderr.strip().splitlines()[-1])
    work = stats["loadSeconds"] + stats["evalSeconds"] + stats["outputSeconds"]
    remote = stats["remoteTransferSeconds"] + stats["remoteDecodeSeconds"]
    series = len(json.loads(r.stdout)["data"]["result"])
    return work, remote, series


def compare(build=benchlib.DEFAULT_BUILD, repeats=5, port=9098, keep=None):
    binary = benchlib.require_binary(os.path.join(build, "promeval"))
    benchlib.require_tools("promtool", "prometheus")
    with open(os.path.join(benchlib.SHARED_BENCH, "thanos_queries.txt")) as f:
        queries = [q.strip() for q in f if q.strip() and not q.startswith("#")]
    rows = []
    with benchlib.work_dir("promeval-remote-", keep) as work:
        tsdb = os.path.join(work, "tsdb")
        if not os.path.exists(tsdb):
            compare_prometheus.load_tsdb(work, tsdb)
        with benchlib.prometheus_server(work, tsdb, port):
            for q in queries:
                prometheus_seconds(port, q)  # Warm up both.
                promeval_seconds(binary, port, q)
                runs = benchlib.interleave(repeats, [
                    ("prometheus", lambda: prometheus_seconds(port, q)),
                    ("promeval", lambda: promeval_seconds(binary, port, q)),
                ])
                if runs["prometheus"][-1][1] != runs["promeval"][-1][2]:
                    raise RuntimeError(
                        f"{q}: prometheus returned {runs['prometheus'][-1][1]} "
                        f"series, promeval {runs['promeval'][-1][2]}")
                prom = benchlib.median([r[0] for r in runs["prometheus"]])
                ours = benchlib.median([r[0] for r in runs["promeval"]])
                remote = benchlib.median([r[1] for r in runs["promeval"]])
                target = 3.0 if is_aggregation_or_binary(q) else 1.0
                rows.append({
                    "workload": f"`{q}` over remote read (transfer and "
                                f"decoding {1000 * remote:.1f} ms of it)",
                    "query": q, "promeval": ours, "reference": prom,
                    "unit": "s", "reference_tool": REFERENCE_TOOL,
                    "ratio": prom / ours, "target": f">= {target:g}x",
                    "met": prom / ours >= target,
                })
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=benchlib.DEFAULT_BUILD)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--port", type=int, default=9098)
    ap.add_argument("--keep", help="keep the data and TSDB in this directory")
    args = ap.parse_args()
    try:
        rows = compare(args.build, args.repeats, args.port, args.keep)
    except benchlib.BenchError as e:
        sys.exit(str(e))
    benchlib.print_table(
        ["query", "Prometheus (HTTP)", "promeval --remote-read", "speed-up",
         "target"],
        [(row["workload"], f"{row['reference'] * 1000:.1f} ms",
          f"{row['promeval'] * 1000:.1f} ms", f"{row['ratio']:.1f}x",
          row["target"]) for row in rows],
        "lrrrl")
    met = sum(row["met"] for row in rows)
    print(f"\ntargets met: {met} of {len(rows)}")
    return 0 if met == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
