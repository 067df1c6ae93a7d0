#!/usr/bin/env python3
"""Whole-process comparison of promeval and promtool on rule workloads.

- `test rules` on ../shared/bench/gen_rules_bench.py OUT SERIES HOURS
  (default 100 series, 6 hours);
- `check rules` on ../shared/bench/gen_rule_file.py OUT RULES (default
  10,000 rules), and, for context (no target), on
  bench/gen_distinct_rule_file.py OUT RULES, whose expressions all have
  different shapes, so that none reuses another's parse.
Each command runs --repeats times, interleaved (promtool, promeval, ...);
prints the median wall time and peak RSS of each and the ratios. compare()
returns the same as rows (see bench/benchlib.py) for bench/run_all.

usage: bench/compare_rules.py [--build build] [--repeats 5] [--series 100]
                              [--hours 6] [--rules 10000]
"""
import argparse
import os
import sys

import benchlib

TEST_SPEEDUP = 30.0  # `test rules`: at least this many times faster,
TEST_RSS = 4.0  # and at most 1/TEST_RSS of promtool's peak RSS.
CHECK_SPEEDUP = 3.0  # `check rules`: at least this many times faster.
REFERENCE_TOOL = "promtool 2.42"


def measure(name, promtool_cmd, promeval_cmd, repeats):
    """Runs both commands interleaved (promtool, promeval, ...) repeats
    times; returns the median wall seconds and peak RSS (MB) of each as
    {"name", "promtool": (s, MB), "promeval": (s, MB)}."""
    runs = benchlib.interleave(repeats, [
        ("promtool", lambda: benchlib.run_measured(promtool_cmd)),
        ("promeval", lambda: benchlib.run_measured(promeval_cmd)),
    ])
    out = {"name": name}
    for tool, tool_runs in runs.items():
        out[tool] = (benchlib.median([r.wall for r in tool_runs]),
                     benchlib.median([r.rss_kb for r in tool_runs]) / 1024)
    return out


def row(m, what, index, command, target, target_text):
    """A row of a measure() result: index 0 wall time, 1 peak RSS. The
    ratio is promtool's over promeval's; target its least value."""
    ours, theirs = m["promeval"][index], m["promtool"][index]
    return {"workload": f"{m['name']}: {what}", "name": m["name"],
            "promeval": ours, "reference": theirs, "unit": ("s", "MB")[index],
            "reference_tool": f"{REFERENCE_TOOL} {command}", "ratio": theirs / ours,
            "target": target_text if target else None,
            "met": theirs / ours >= target if target else None}


def compare(build=benchlib.DEFAULT_BUILD, repeats=5, series=100, hours=6, rules=10000):
    """Generates the workloads and measures them; returns the rows (see
    bench/benchlib.py): time and peak RSS of `test rules`, then of `check
    rules` (whose RSS has no target), then the time of `check rules` over
    expressions of distinct shapes (no target)."""
    promeval = benchlib.require_binary(os.path.join(build, "promeval"))
    benchlib.require_tools("promtool")
    with benchlib.work_dir("promeval-rules-bench-") as work:
        unit = os.path.join(work, "unit")
        benchlib.generate(os.path.join(benchlib.SHARED_BENCH, "gen_rules_bench.py"),
                          unit, series, hours)
        rule_file = os.path.join(work, "rules.yml")
        benchlib.generate(os.path.join(benchlib.SHARED_BENCH, "gen_rule_file.py"),
                          rule_file, rules)
        test = os.path.join(unit, "test.yml")
        test_m = measure(f"test rules, {series} series x {hours:g}h",
                         ["promtool", "test", "rules", test],
                         # Single-threaded, as the target is.
                         [promeval, "test", "rules", "--workers", "1", test],
                         repeats)
        check_m = measure(f"check rules, {rules} rules",
                          ["promtool", "check", "rules", rule_file],
                          [promeval, "check", "rules", rule_file], repeats)
        distinct_file = os.path.join(work, "distinct.yml")
        benchlib.generate(os.path.join(benchlib.ROOT, "bench", "gen_distinct_rule_file.py"),
                          distinct_file, rules)
        distinct_m = measure(f"check rules, {rules} rules of distinct shapes",
                             ["promtool", "check", "rules", distinct_file],
                             [promeval, "check", "rules", distinct_file], repeats)
    return [row(test_m, "time", 0, "test rules", TEST_SPEEDUP, f">= {TEST_SPEEDUP:g}x"),
            row(test_m, "peak RSS", 1, "test rules", TEST_RSS,
                f"<= 1/{TEST_RSS:g} (>= {TEST_RSS:g}x)"),
            row(check_m, "time", 0, "check rules", CHECK_SPEEDUP, f">= {CHECK_SPEEDUP:g}x"),
            row(check_m, "peak RSS", 1, "check rules", None, None),
            row(distinct_m, "time", 0, "check rules", None, None)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=benchlib.DEFAULT_BUILD)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--series", type=int, default=100)
    ap.add_argument("--hours", type=float, default=6)
    ap.add_argument("--rules", type=int, default=10000)
    args = ap.parse_args()
    try:
        rows = compare(args.build, args.repeats, args.series, args.hours, args.rules)
    except benchlib.BenchError as e:
        sys.exit(str(e))
    table = []
    for wall, rss in (rows[0:2], rows[2:4], (rows[4], None)):
        table.append((
            wall["name"],
            f"{wall['reference']:.2f} s" + (f", {rss['reference']:.0f} MB" if rss else ""),
            f"{wall['promeval']:.2f} s" + (f", {rss['promeval']:.0f} MB" if rss else ""),
            f"{wall['ratio']:.1f}x",
            f"{rss['promeval'] / rss['reference']:.2f}" if rss else "-"))
    benchlib.print_table(
        ["workload", "promtool (time, peak RSS)", "promeval", "speed-up", "RSS ratio"],
        table, "lrrrr")
    return 0


if __name__ == "__main__":
    sys.exit(main())
