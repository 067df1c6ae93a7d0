#!/usr/bin/env python3
"""promeval over a Prometheus data directory, against the same data loaded
as text and against a loopback Prometheus serving the directory.

The dataset: bench/gen_batchsql.py DAYS TABLES (BatchSQL-shaped series,
15s apart; 7 days and 63 tables give 1008 series and 40.6 million samples),
written as blocks by `promtool tsdb create-blocks-from openmetrics`. Runs,
interleaved, --repeats times each:
  replay   `promeval rules eval --stats examples/batchsql/rules.yml` over
           the whole range, with --tsdb BLOCKS (opening the directory and
           the replay) and with --data TEXT (the replay, without the text's
           loading, which is shown beside it); neither counts starting the
           process or writing the output;
  query    a range query over the whole range at a 1m step touching 1% of
           the series (QUERY: 10 of 1008) on a loopback `prometheus` (2.42)
           serving a copy of the blocks (stats=all: its evalTotalTime, the
           querier over its open blocks, postings, chunk decoding and
           evaluation) and in promeval: bench/tsdb_benchmark's BM_TsdbQuery
           (the same stages, in process over the directory opened once,
           single-threaded: as bench/compare_prometheus.py compares
           eval_benchmark with evalTotalTime); for context `promeval
           query-range --tsdb --stats` (its evalSeconds in a new process,
           whose first reads of the mapped files fault their pages in, and
           the whole process: start, opening the directory, the query, the
           text output, against the server's HTTP answer, JSON) and with
           --data TEXT (for its memory);
  decode   bench/tsdb_benchmark (XOR chunks of the first block decoded on
           one core, samples per second) and eval_benchmark's BM_Memcpy (the
           memory bandwidth, for context).
Checks that the replay over the blocks writes the same samples as over the
text, and that the query gives the same answer both ways (raises if not).
Rows (see benchlib) with targets: the replay within 2x of the text replay's
time excluding loading, with peak RSS under 1/4 of it; the query at least
10x faster than Prometheus, with peak RSS under 1/20 of the text-loaded
query's; decoding at >= 200 million samples per second.

usage: bench/compare_tsdb.py [--build build] [--repeats 3] [--days 7]
                             [--tables 63] [--port 9097] [--keep DIR]
  --keep DIR  keep the dataset in DIR (and reuse it when it is there)
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import benchlib

RULES = os.path.join(benchlib.ROOT, "examples", "batchsql", "rules.yml")
T0 = 1704067200  # gen_batchsql.py's first sample.
STEP = 15
QUERY = ('sum by (table) (rate(batchsql_executions_total'
         '{driver="mysql",table=~"t00[0-9]"}[5m]))')
QUERY_STEP = 60


def dataset(work, days, tables):
    """The text and the blocks in work, made unless already there (a file
    `complete` marks a finished dataset of these dimensions)."""
    text = os.path.join(work, "batchsql.om")
    blocks = os.path.join(work, "blocks")
    marker = os.path.join(work, "complete")
    want = f"{days} {tables}\n"
    if os.path.exists(marker) and open(marker).read() == want:
        return text, blocks
    log(f"generating {days} days x {tables} tables")
    with open(text, "w") as f:
        subprocess.run([sys.executable, os.path.join(benchlib.HERE, "gen_batchsql.py"),
                        str(days), str(tables)], stdout=f, check=True)
    shutil.rmtree(blocks, ignore_errors=True)
    log("writing blocks with promtool")
    subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", text, blocks],
                   check=True, capture_output=True)
    with open(marker, "w") as f:
        f.write(want)
    return text, blocks


def prometheus_query(port, end):
    """The query on the server: (wall seconds, its evalTotalTime, body)."""
    params = urllib.parse.urlencode({"query": QUERY, "start": T0, "end": end,
                                     "step": QUERY_STEP, "stats": "all"})
    start = time.monotonic()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/query_range?{params}",
                                timeout=600) as r:
        body = json.load(r)
    wall = time.monotonic() - start
    if body.get("status") != "success":
        raise RuntimeError(f"prometheus: {body}")
    return wall, body["data"]["stats"]["timings"]["evalTotalTime"], body


def query_in_process(build, blocks, end):
    """BM_TsdbQuery's median wall time over 3 repetitions, in seconds."""
    binary = benchlib.require_binary(os.path.join(build, "bench", "tsdb_benchmark"))
    first = sorted(d for d in os.listdir(blocks)
                   if os.path.isdir(os.path.join(blocks, d, "chunks")))[0]
    out = subprocess.run([binary, f"--chunks={os.path.join(blocks, first, 'chunks')}",
                          f"--dir={blocks}", f"--query={QUERY}", f"--start={T0}",
                          f"--end={end}", f"--step={QUERY_STEP}",
                          "--benchmark_filter=BM_TsdbQuery", "--benchmark_format=json",
                          "--benchmark_min_time=0.5", "--benchmark_repetitions=3"],
                         check=True, capture_output=True, text=True).stdout
    runs = [b for b in json.loads(out)["benchmarks"] if b.get("run_type") == "iteration"]
    if any(b.get("error_occurred") for b in runs):
        raise RuntimeError(f"tsdb_benchmark: {runs[0].get('error_message')}")
    return benchlib.median([b["real_time"] / 1000 for b in runs])  # ms -> s


def decode_speed(build, blocks):
    """tsdb_benchmark on the first block: samples per second, chunk bytes
    per sample."""
    binary = benchlib.require_binary(os.path.join(build, "bench", "tsdb_benchmark"))
    first = sorted(d for d in os.listdir(blocks)
                   if os.path.isdir(os.path.join(blocks, d, "chunks")))[0]
    out = subprocess.run([binary, f"--chunks={os.path.join(blocks, first, 'chunks')}",
                          "--benchmark_format=json", "--benchmark_min_time=1",
                          "--benchmark_repetitions=3"],
                         check=True, capture_output=True, text=True).stdout
    runs = [b for b in json.loads(out)["benchmarks"] if b.get("run_type") == "iteration"]
    return (benchlib.median([b["items_per_second"] for b in runs]),
            runs[0]["chunk_bytes_per_sample"])


def memcpy_bandwidth(build):
    """eval_benchmark's BM_Memcpy: bytes per second."""
    binary = benchlib.require_binary(os.path.join(build, "bench", "eval_benchmark"))
    out = subprocess.run([binary, "--benchmark_filter=BM_Memcpy", "--benchmark_format=json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["benchmarks"][0]["bytes_per_second"]


def compare(build=benchlib.DEFAULT_BUILD, repeats=3, days=7, tables=63, port=9097, keep=None):
    """Runs the comparison; returns its rows (see benchlib)."""
    promeval = benchlib.require_binary(os.path.join(build, "promeval"))
    benchlib.require_tools("promtool", "prometheus")
    end = T0 + days * 86400 - STEP
    with benchlib.work_dir("promeval-tsdb-", keep) as work:
        text, blocks = dataset(work, days, tables)
        out_tsdb = os.path.join(work, "replay-tsdb.om")
        out_text = os.path.join(work, "replay-text.om")
        replay = [promeval, "rules", "eval", RULES, f"--start={T0}", f"--end={end}"]
        query = [promeval, "query-range", f"--start={T0}", f"--end={end}",
                 f"--step={QUERY_STEP}", QUERY]
        served = os.path.join(work, "served")
        shutil.rmtree(served, ignore_errors=True)
        shutil.copytree(blocks, served)
        with benchlib.prometheus_server(work, served, port,
                                        ["--storage.tsdb.max-block-duration=2h"]):
            prometheus_query(port, end)  # Its caches warmed, as ours are.
            measures = [
                ("replay_tsdb", lambda: benchlib.run_measured(
                    replay + ["--stats", "--tsdb", blocks, f"--output={out_tsdb}"])),
                ("replay_text", lambda: benchlib.run_measured(
                    replay + ["--stats", "--data", text, f"--output={out_text}"])),
                ("query_tsdb", lambda: benchlib.run_measured(
                    query[:2] + ["--stats", "--tsdb", blocks] + query[2:], capture=True)),
                ("query_text", lambda: benchlib.run_measured(
                    query[:2] + ["--data", text] + query[2:], capture=True)),
                ("query_prometheus", lambda: prometheus_query(port, end)),
                ("query_inprocess", lambda: query_in_process(build, blocks, end)),
            ]
            log(f"{repeats} rounds of {', '.join(n for n, _ in measures)}")
            r = benchlib.interleave(repeats, measures)
        with open(out_tsdb) as a, open(out_text) as b:
            if a.read() != b.read():
                raise RuntimeError(f"the replay over the blocks ({out_tsdb}) differs from "
                                   f"the replay over the text ({out_text})")
        if r["query_tsdb"][0].stdout != r["query_text"][0].stdout:
            raise RuntimeError("the query over the blocks differs from the query over the text")
        series = len(r["query_prometheus"][0][2]["data"]["result"])
        decode, chunk_bytes = decode_speed(build, blocks)
    memcpy = memcpy_bandwidth(build)

    def med(name, field):
        return benchlib.median([getattr(run, field) for run in r[name]])

    tsdb_stats = [json.loads(run.stderr.strip().splitlines()[-1]) for run in r["replay_tsdb"]]
    replay_tsdb = benchlib.median([s["loadSeconds"] + s["replaySeconds"] for s in tsdb_stats])
    text_stats = [json.loads(run.stderr.strip().splitlines()[-1]) for run in r["replay_text"]]
    replay_text_eval = benchlib.median([s["replaySeconds"] for s in text_stats])
    load_text = benchlib.median([s["loadSeconds"] for s in text_stats])
    query_tsdb = med("query_tsdb", "wall")
    query_in = benchlib.median(r["query_inprocess"])
    query_eval = benchlib.median([json.loads(run.stderr.strip().splitlines()[-1])["evalSeconds"]
                                  for run in r["query_tsdb"]])
    prom_wall = benchlib.median([w for w, _, _ in r["query_prometheus"]])
    prom_eval = benchlib.median([e for _, e, _ in r["query_prometheus"]])
    mb = lambda kb: kb / 1024  # noqa: E731
    size = f"{days} days x {tables * 16} series, 15s"
    rows = [
        dict(workload=f"`rules eval` BatchSQL rules, {size}: --tsdb blocks (opening them "
                      f"and the replay) vs --data text (the replay without the text's "
                      f"loading, {load_text:.1f} s)",
             promeval=replay_tsdb, reference=replay_text_eval, unit="s",
             reference_tool="promeval --data (text)", ratio=replay_text_eval / replay_tsdb,
             target=">= 0.5x (within 2x)", met=replay_text_eval / replay_tsdb >= 0.5),
        dict(workload=f"`rules eval` BatchSQL rules, {size}: peak RSS",
             promeval=mb(med("replay_tsdb", "rss_kb")), reference=mb(med("replay_text", "rss_kb")),
             unit="MB", reference_tool="promeval --data (text)",
             ratio=med("replay_text", "rss_kb") / med("replay_tsdb", "rss_kb"),
             target=">= 4x", met=med("replay_text", "rss_kb") / med("replay_tsdb", "rss_kb") >= 4),
        dict(workload=f"range query, 1% of series ({series} of {tables * 16}), {days} days "
                      "at 1m over the blocks: evaluation (BM_TsdbQuery vs evalTotalTime)",
             promeval=query_in, reference=prom_eval, unit="s",
             reference_tool="Prometheus 2.42 evalTotalTime (same blocks)",
             ratio=prom_eval / query_in, target=">= 10x", met=prom_eval / query_in >= 10),
        dict(workload="range query, 1% of series: evaluation in a new process "
                      "(`query-range --tsdb --stats` evalSeconds)",
             promeval=query_eval, reference=prom_eval, unit="s",
             reference_tool="Prometheus 2.42 evalTotalTime (same blocks)",
             ratio=prom_eval / query_eval, target=None, met=None),
        dict(workload="range query, 1% of series: the whole process (start, open, query, "
                      "text output) vs the server's HTTP answer (JSON)",
             promeval=query_tsdb, reference=prom_wall, unit="s",
             reference_tool="Prometheus 2.42 over HTTP", ratio=prom_wall / query_tsdb,
             target=None, met=None),
        dict(workload="range query, 1% of series: peak RSS, --tsdb vs --data",
             promeval=mb(med("query_tsdb", "rss_kb")), reference=mb(med("query_text", "rss_kb")),
             unit="MB", reference_tool="promeval --data (text)",
             ratio=med("query_text", "rss_kb") / med("query_tsdb", "rss_kb"),
             target=">= 20x", met=med("query_text", "rss_kb") / med("query_tsdb", "rss_kb") >= 20),
        dict(workload=f"XOR chunk decoding, one core ({chunk_bytes:.2f} chunk bytes a sample; "
                      f"16 bytes a decoded sample at memcpy's {memcpy / 1e9:.1f} GB/s would be "
                      f"{memcpy / 16 / 1e6:.0f} M samples/s)",
             promeval=decode / 1e6, reference=200, unit="M samples/s",
             reference_tool="the target", ratio=decode / 200e6,
             target=">= 200 M/s", met=decode >= 200e6),
    ]
    return rows


def log(message):
    print(f"compare_tsdb: {message}", file=sys.stderr, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=benchlib.DEFAULT_BUILD)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--tables", type=int, default=63)
    ap.add_argument("--port", type=int, default=9097)
    ap.add_argument("--keep", help="keep (and reuse) the dataset in this directory")
    args = ap.parse_args()
    rows = compare(os.path.abspath(args.build), args.repeats, args.days, args.tables,
                   args.port, args.keep)
    benchlib.print_table(
        ["workload", "promeval", "reference", "reference tool", "ratio", "target", "met"],
        [(r["workload"], benchlib.format_value(r["promeval"], r["unit"]),
          benchlib.format_value(r["reference"], r["unit"]), r["reference_tool"],
          f"{r['ratio']:.1f}x", r["target"] or "-",
          "-" if r["met"] is None else ("yes" if r["met"] else "no")) for r in rows],
        "lrrlrll")


if __name__ == "__main__":
    main()
