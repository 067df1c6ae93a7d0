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

usage: bench/compare_prometheus.py [--build build] [--repeats 5] [--target 10]
                                   [--port 9099] [--keep DIR]
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED_BENCH = os.path.join(ROOT, "..", "shared", "bench")

T0 = 1700000000  # First sample of gen_thanos_like.py.
START = T0 + 3 * 3600  # The window of bench/eval_benchmark.cc.
END = T0 + 5 * 3600
STEP = 30


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


def prometheus_eval_seconds(port, query):
    url = f"http://127.0.0.1:{port}/api/v1/query_range?" + urllib.parse.urlencode(
        {"query": query, "start": START, "end": END, "step": STEP, "stats": "all"})
    with urllib.request.urlopen(url, timeout=300) as r:
        body = json.load(r)
    if body["status"] != "success":
        raise RuntimeError(f"prometheus: {query}: {body}")
    return body["data"]["stats"]["timings"]["evalTotalTime"], len(body["data"]["result"])


def promeval_seconds(binary, queries, index):
    out = subprocess.run(
        [binary] + [f"--query={q}" for q in queries] +
        [f"--benchmark_filter=BM_RangeQuery/{index}$", "--benchmark_format=json",
         "--benchmark_min_time=0.5"],
        check=True, capture_output=True, text=True).stdout
    bench = json.loads(out)["benchmarks"][0]
    if bench.get("error_occurred"):
        raise RuntimeError(f"eval_benchmark: {bench.get('error_message')}")
    assert bench["time_unit"] == "ms"
    return bench["real_time"] / 1000.0, int(bench["series"])


def wait_ready(port, proc):
    for _ in range(600):
        if proc.poll() is not None:
            raise RuntimeError("prometheus exited")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError("prometheus did not become ready")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--target", type=float, default=10.0)
    ap.add_argument("--port", type=int, default=9099)
    ap.add_argument("--keep", help="keep the data and TSDB in this directory")
    args = ap.parse_args()

    binary = os.path.join(args.build, "bench", "eval_benchmark")
    if not os.path.exists(binary):
        sys.exit(f"{binary} not found: build the benchmarks first")
    for tool in ("promtool", "prometheus"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found (Debian package prometheus)")
    with open(os.path.join(SHARED_BENCH, "thanos_queries.txt")) as f:
        queries = [q.strip() for q in f if q.strip() and not q.startswith("#")]
    queries += FUNCTION_QUERIES

    work = args.keep or tempfile.mkdtemp(prefix="promeval-bench-")
    os.makedirs(work, exist_ok=True)
    data = os.path.join(work, "thanos.om")
    tsdb = os.path.join(work, "tsdb")
    if not os.path.exists(tsdb):
        subprocess.run([sys.executable, os.path.join(SHARED_BENCH, "gen_thanos_like.py"), data],
                       check=True)
        subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", data, tsdb],
                       check=True, capture_output=True)
        histograms = os.path.join(work, "histograms.om")
        subprocess.run([sys.executable, os.path.join(HERE, "gen_histograms.py"), histograms],
                       check=True)
        subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", histograms,
                        tsdb], check=True, capture_output=True)
    config = os.path.join(work, "prometheus.yml")
    with open(config, "w") as f:
        f.write("global:\n  scrape_interval: 1h\n")
    proc = subprocess.Popen(
        ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={tsdb}",
         "--storage.tsdb.retention.time=100y", f"--web.listen-address=127.0.0.1:{args.port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rows = []
    try:
        wait_ready(args.port, proc)
        for i, q in enumerate(queries):
            prometheus_eval_seconds(args.port, q)  # Warm up.
            prom, ours = [], []
            for _ in range(args.repeats):
                p, p_series = prometheus_eval_seconds(args.port, q)
                o, o_series = promeval_seconds(binary, queries, i)
                prom.append(p)
                ours.append(o)
            if p_series != o_series:
                raise RuntimeError(f"{q}: prometheus returned {p_series} series, "
                                   f"promeval {o_series}")
            rows.append((q, statistics.median(prom), statistics.median(ours)))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait()
        if not args.keep:
            shutil.rmtree(work)

    print(f"| query | Prometheus 2.42 evalTotalTime | promeval | speed-up |")
    print(f"|---|---:|---:|---:|")
    worst = float("inf")
    for q, p, o in rows:
        ratio = p / o
        worst = min(worst, ratio)
        print(f"| `{q}` | {p * 1000:.1f} ms | {o * 1000:.2f} ms | {ratio:.1f}x |")
    print(f"\nminimum speed-up {worst:.1f}x (target {args.target:g}x)")
    return 0 if worst >= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
