#!/usr/bin/env python3
"""BatchSQL-shaped metrics (examples/batchsql/rules.yml's inputs) for the
data directory benchmark: two drivers on TABLES tables, each pair with an
executions counter, an errors counter and six latency buckets (8 series a
pair: TABLES=63 gives 1008 series), scraped every 15s for DAYS days from
2024-01-01T00:00:00Z, with an error incident and a latency incident a day.
OpenMetrics on standard output (what `promtool tsdb create-blocks-from
openmetrics` reads).

usage: bench/gen_batchsql.py DAYS TABLES > OUT.om
"""
import random
import sys

T0 = 1704067200  # 2024-01-01T00:00:00Z
STEP = 15
DRIVERS = ["mysql", "postgres"]
BOUNDS = ["0.01", "0.1", "0.5", "1", "5", "+Inf"]
SHARES = [0.30, 0.92, 0.99, 1.0, 1.0, 1.0]
SLOW_SHARES = [0.01, 0.05, 0.10, 0.20, 1.0, 1.0]
DAY = 86400 // STEP


def main():
    days, tables = int(sys.argv[1]), int(sys.argv[2])
    samples = days * DAY
    rng = random.Random(7)
    out = sys.stdout
    families = {"executions": [], "errors": [], "duration": []}
    for d in DRIVERS:
        for t in range(tables):
            table = f"t{t:03d}"
            n = e = 0
            counts = [0] * len(BOUNDS)
            ex, er = [], []
            bk = [[] for _ in BOUNDS]
            for i in range(samples):
                calls = 30 + rng.randint(-3, 3)
                n += calls
                k = i % DAY
                # A 15 minute error incident and a 20 minute slowdown a
                # day, on a few tables each.
                incident = (t % 16 == 3 and d == "postgres" and
                            DAY // 3 <= k < DAY // 3 + 60)
                # The expected errors, rounded at random (cheaper than a
                # draw per call).
                e += int(calls * (0.12 if incident else 0.005) + rng.random())
                slow = (t % 16 == 5 and d == "mysql" and
                        2 * DAY // 3 <= k < 2 * DAY // 3 + 80)
                for b, share in enumerate(SLOW_SHARES if slow else SHARES):
                    counts[b] += round(calls * share)
                    bk[b].append(counts[b])
                ex.append(n)
                er.append(e)
            families["executions"].append((d, table, ex))
            families["errors"].append((d, table, er))
            families["duration"].append((d, table, bk))
    out.write("# TYPE batchsql_executions counter\n")
    for d, table, ex in families["executions"]:
        labels = f'driver="{d}",table="{table}",status="ok"'
        out.writelines(f"batchsql_executions_total{{{labels}}} {v} "
                       f"{T0 + i * STEP}\n" for i, v in enumerate(ex))
    out.write("# TYPE batchsql_errors counter\n")
    for d, table, er in families["errors"]:
        labels = f'driver="{d}",table="{table}"'
        out.writelines(f"batchsql_errors_total{{{labels}}} {v} "
                       f"{T0 + i * STEP}\n" for i, v in enumerate(er))
    out.write("# TYPE batchsql_duration_seconds histogram\n")
    for d, table, bk in families["duration"]:
        for b, le in enumerate(BOUNDS):
            labels = f'driver="{d}",table="{table}",le="{le}"'
            out.writelines(f"batchsql_duration_seconds_bucket{{{labels}}} "
                           f"{v} {T0 + i * STEP}\n"
                           for i, v in enumerate(bk[b]))
    out.write("# EOF\n")


if __name__ == "__main__":
    main()
