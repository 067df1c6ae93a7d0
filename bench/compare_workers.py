#!/usr/bin/env python3
"""Parallel evaluation: eval_benchmark with N workers against one.

Runs build/bench/eval_benchmark over its Thanos-shaped data with
--workers=1 and --workers=N in turn (benchlib.interleave), each time for a
set of range queries (selectors, range functions, a subquery, aggregations
over them, a ratio of two aggregations, a group_left match), and prints a
markdown table of the median wall time per query for each worker count and
the speed-up.

usage: bench/compare_workers.py [--build build] [--repeats 5] [--workers 2]
"""
import argparse
import os

import benchlib

QUERIES = (
    "http_requests_total",
    "rate(http_requests_total[1m])",
    "avg_over_time(http_requests_total[5m])",
    "max_over_time(rate(http_requests_total[1m])[10m:1m])",
    "sum by (pod) (rate(http_requests_total[1m]))",
    "sum by (pod) (rate(http_requests_total[5m])) / "
    "sum by (pod) (rate(http_responses_total[5m]))",
    "http_requests_total / on (pod) group_left http_responses_total",
)


def times_ms(benchmark, workers):
    """One eval_benchmark run over QUERIES: query -> wall milliseconds."""
    runs = benchlib.eval_benchmark(benchmark, QUERIES, f"--workers={workers}")
    if len(runs) != len(QUERIES):
        raise RuntimeError(f"eval_benchmark ran {len(runs)} of {len(QUERIES)} queries")
    return {q: r["real_time"] for q, r in zip(QUERIES, runs)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default=benchlib.DEFAULT_BUILD)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if args.workers < 2:
        parser.error("--workers must be at least 2 (compared with 1)")
    benchmark = benchlib.require_binary(
        os.path.join(args.build, "bench", "eval_benchmark"))
    results = benchlib.interleave(args.repeats, [
        (1, lambda: times_ms(benchmark, 1)),
        (args.workers, lambda: times_ms(benchmark, args.workers)),
    ])
    rows = []
    for q in QUERIES:
        one = benchlib.median([r[q] for r in results[1]])
        many = benchlib.median([r[q] for r in results[args.workers]])
        rows.append([f"`{q}`", f"{one:.2f} ms", f"{many:.2f} ms",
                     f"{one / many:.1f}x"])
    benchlib.print_table(
        ["query", "1 worker", f"{args.workers} workers", "speed-up"], rows,
        "lrrr")


if __name__ == "__main__":
    main()
