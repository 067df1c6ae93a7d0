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

usage: bench/compare_replay.py [--build build] [--port 9098] [--keep DIR]
"""
import argparse
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RULES = os.path.join(ROOT, "examples", "batchsql", "rules.yml")
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


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--port", type=int, default=9098)
    ap.add_argument("--keep", help="keep the work files in this directory")
    args = ap.parse_args()
    for tool in ("promtool", "prometheus"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found (Debian package prometheus)")
    work = args.keep or tempfile.mkdtemp(prefix="promeval-replay-")
    os.makedirs(work, exist_ok=True)
    data = os.path.join(work, "batchsql.om")
    generate(data)
    tsdb = os.path.join(work, "tsdb")
    shutil.rmtree(tsdb, ignore_errors=True)
    subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", data, tsdb],
                   check=True, capture_output=True)
    config = os.path.join(work, "prometheus.yml")
    with open(config, "w") as f:
        f.write("global:\n  scrape_interval: 1h\n")
    proc = subprocess.Popen(
        ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={tsdb}",
         "--storage.tsdb.retention.time=100y", f"--web.listen-address=127.0.0.1:{args.port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    backfill = os.path.join(work, "backfill")
    shutil.rmtree(backfill, ignore_errors=True)
    try:
        wait_ready(args.port, proc)
        subprocess.run(["promtool", "tsdb", "create-blocks-from", "rules", "-q",
                        f"--url=http://127.0.0.1:{args.port}", f"--start={START}",
                        f"--end={END}", f"--output-dir={backfill}", RULES],
                       check=True, capture_output=True)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait()
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
    subprocess.run([os.path.join(args.build, "promeval"), "rules", "eval", "--data", data,
                    f"--start={first:.3f}", f"--end={END}", f"--output={out}", RULES],
                   check=True, capture_output=True)
    with open(out) as f:
        ours = {k: v for k, v in parse_openmetrics(f.read()).items()
                if not k[0].split('__name__="')[1].startswith("ALERTS")}
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
    print(f"recorded samples: Prometheus {len(theirs)}, promeval {len(ours)}; "
          f"only Prometheus {len(missing)}, only promeval {len(extra)}, "
          f"different values {len(differ)} (evaluation times the backfill "
          f"skipped at its block edges: {len(skipped)})")
    for k in missing[:5]:
        print("  only Prometheus:", k, theirs[k])
    for k in extra[:5]:
        print("  only promeval:", k, ours[k])
    for k, a, b in differ[:5]:
        print("  differ:", k, "Prometheus", a, "promeval", b)
    if not args.keep:
        shutil.rmtree(work)
    return 0 if not (missing or extra or differ) else 1


if __name__ == "__main__":
    sys.exit(main())
