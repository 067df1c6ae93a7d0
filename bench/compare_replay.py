#!/usr/bin/env python3
"""Recording-rule output of `promeval rules eval` against Prometheus's own.

Generates BatchSQL-shaped data (OpenMetrics, samples every 15s, 2h, shifted
by 7s so that no sample sits on an evaluation window's edge, where
Prometheus 2.42's closed windows and 3.x's left-open ones differ), loads it
into a loopback `prometheus` (2.42), backfills examples/batchsql/rules.yml
with `promtool tsdb create-blocks-from rules`, dumps the blocks with
`promtool tsdb dump`, replays the same rules with `promeval rules eval
--output`, and compares every recorded sample (relative tolerance 1e-9:
Prometheus 3.x and promeval sum with Kahan compensation, 2.42 does not).
Prints the counts and the first differences; exits non-zero if any. It
checks equality only, no timings; compare() returns the result as a row for
bench/run_all.

usage: bench/compare_replay.py [--build build] [--port 9098] [--keep DIR]
"""
import argparse
import math
import os
import re
import shutil
import subprocess
import sys

import benchlib

RULES = os.path.join(benchlib.ROOT, "examples", "batchsql", "rules.yml")
T0 = 1700000000
STEP = 15
SAMPLES = 2 * 3600 // STEP
SHIFT = 7
START = T0 + 600  # Evaluate from 10m in to the end.
END = T0 + 2 * 3600 - 60
BOUNDS = ["0.1", "0.5", "1", "+Inf"]


def generate(path):
    """Two drivers, an error burst and a latency shift on postgres."""
    with open(path, "w") as f:
        f.write("# TYPE batchsql_executions counter\n")
        for d, rate in (("mysql", 100), ("postgres", 80)):
            f.writelines(f'batchsql_executions_total{{driver="{d}"}} {i * rate} '
                         f"{T0 + SHIFT + i * STEP}\n" for i in range(SAMPLES))
        f.write("# TYPE batchsql_errors counter\n")
        for d in ("mysql", "postgres"):
            total = 0
            lines = []
            for i in range(SAMPLES):
                if d == "postgres" and 200 <= i < 260:
                    total += 9
                elif i % 7 == 0:
                    total += 1
                lines.append(f'batchsql_errors_total{{driver="{d}"}} {total} '
                             f"{T0 + SHIFT + i * STEP}\n")
            f.writelines(lines)
        f.write("# TYPE batchsql_duration_seconds histogram\n")
        for d in ("mysql", "postgres"):
            for b, le in enumerate(BOUNDS):
                lines = []
                for i in range(SAMPLES):
                    slow = d == "postgres" and i >= 300
                    share = [50, 85, 97, 100][b] if not slow else [20, 60, 90, 100][b]
                    lines.append(f'batchsql_duration_seconds_bucket{{driver="{d}",le="{le}"}} '
                                 f"{i * share} {T0 + SHIFT + i * STEP}\n")
                f.writelines(lines)
        f.write("# EOF\n")


LINE = re.compile(r"^(\{.*\}) (\S+) (-?\d+)$")


def parse_dump(text):
    """promtool tsdb dump lines: {labels} value timestamp_ms."""
    out = {}
    for line in text.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        labels = ",".join(sorted(p.strip() for p in m.group(1)[1:-1].split(",")))
        out[(labels, int(m.group(3)))] = float(m.group(2))
    return out


OM_LINE = re.compile(r'^([^{ ]+)(\{(.*)\})? (\S+) (\S+)$')


def parse_openmetrics(text):
    out = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = OM_LINE.match(line)
        if not m:
            continue
        parts = [f'__name__="{m.group(1)}"']
        if m.group(3):
            parts += [p.strip() for p in m.group(3).split(",")]
        labels = ",".join(sorted(p.replace("=", "=", 1) for p in parts))
        out[(labels, round(float(m.group(5)) * 1000))] = float(m.group(4))
    return out


def backfill_and_replay(build, port, work):
    """Backfills RULES with promtool and replays them with promeval over the
    data, in work; returns the samples of each: {(labels, ms): value}."""
    data = os.path.join(work, "batchsql.om")
    generate(data)
    tsdb = os.path.join(work, "tsdb")
    shutil.rmtree(tsdb, ignore_errors=True)
    subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", data, tsdb],
                   check=True, capture_output=True)
    backfill = os.path.join(work, "backfill")
    shutil.rmtree(backfill, ignore_errors=True)
    with benchlib.prometheus_server(work, tsdb, port):
        subprocess.run(["promtool", "tsdb", "create-blocks-from", "rules", "-q",
                        f"--url=http://127.0.0.1:{port}", f"--start={START}",
                        f"--end={END}", f"--output-dir={backfill}", RULES],
                       check=True, capture_output=True)
    # `tsdb dump` opens the blocks as a TSDB, which needs a WAL folder.
    os.makedirs(os.path.join(backfill, "wal"), exist_ok=True)
    dump = subprocess.run(["promtool", "tsdb", "dump", backfill], check=True,
                          capture_output=True, text=True).stdout
    theirs = parse_dump(dump)
    # The backfill evaluates at the group's server alignment (an offset from
    # a hash of the group name and file, computed by 2.42 from its own label
    # encoding); replay from the same first time so the steps coincide.
    first = min(t for _, t in theirs) / 1000
    out = os.path.join(work, "promeval.om")
    subprocess.run([os.path.join(build, "promeval"), "rules", "eval", "--data", data,
                    f"--start={first:.3f}", f"--end={END}", f"--output={out}", RULES],
                   check=True, capture_output=True)
    with open(out) as f:
        ours = {k: v for k, v in parse_openmetrics(f.read()).items()
                if not k[0].split('__name__="')[1].startswith("ALERTS")}
    return theirs, ours


def compare(build=benchlib.DEFAULT_BUILD, port=9098, keep=None):
    """Runs the comparison; returns one row: "workload", "passed" (every
    recorded sample equal), "summary" (the counts, one line) and "details"
    (up to 5 lines per kind of difference). It has no timings."""
    benchlib.require_binary(os.path.join(build, "promeval"))
    benchlib.require_tools("promtool", "prometheus")
    with benchlib.work_dir("promeval-replay-", keep) as work:
        theirs, ours = backfill_and_replay(build, port, work)
    # The backfill skips an evaluation that falls in the last second of one
    # of its 2h blocks (it truncates each block's end to whole seconds);
    # compare at the times it evaluated.
    evaluated = {t for _, t in theirs}
    skipped = sorted({t for _, t in ours} - evaluated)
    ours = {k: v for k, v in ours.items() if k[1] in evaluated}
    missing = sorted(set(theirs) - set(ours))
    extra = sorted(set(ours) - set(theirs))
    differ = []
    for k in sorted(set(theirs) & set(ours)):
        a, b = theirs[k], ours[k]
        if math.isnan(a) and math.isnan(b):
            continue
        if a != b and abs(a - b) > 1e-9 * max(abs(a), abs(b)):
            differ.append((k, a, b))
    details = ([f"  only Prometheus: {k} {theirs[k]}" for k in missing[:5]] +
               [f"  only promeval: {k} {ours[k]}" for k in extra[:5]] +
               [f"  differ: {k} Prometheus {a} promeval {b}" for k, a, b in differ[:5]])
    return [{
        "workload": "`promeval rules eval` vs `promtool tsdb create-blocks-from rules` "
                    "(examples/batchsql/rules.yml)",
        "passed": not (missing or extra or differ),
        "summary": f"recorded samples: Prometheus {len(theirs)}, promeval {len(ours)}; "
                   f"only Prometheus {len(missing)}, only promeval {len(extra)}, "
                   f"different values {len(differ)} (evaluation times the backfill "
                   f"skipped at its block edges: {len(skipped)})",
        "details": details,
    }]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=benchlib.DEFAULT_BUILD)
    ap.add_argument("--port", type=int, default=9098)
    ap.add_argument("--keep", help="keep the work files in this directory")
    args = ap.parse_args()
    try:
        [result] = compare(args.build, args.port, args.keep)
    except benchlib.BenchError as e:
        sys.exit(str(e))
    print(result["summary"])
    for line in result["details"]:
        print(line)
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
