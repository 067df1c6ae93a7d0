#!/usr/bin/env python3
"""BatchSQL metrics with an incident, as OpenMetrics, for
`promeval rules eval` with examples/batchsql/rules.yml.

Two drivers (mysql, postgres) on two tables, scraped every 15s for 2h from
2024-01-01T00:00:00Z: about 2 executions a second per table, errors at
0.5%, latencies mostly under 0.1s. The incidents: from 0:40 to 0:55
postgres fails 12% of its executions on table orders; from 1:10 to 1:30
mysql slows down on table users (most executions take 1s to 5s).

usage: examples/batchsql/gen_data.py OUT.om
"""
import random
import sys

T0 = 1704067200  # 2024-01-01T00:00:00Z
STEP = 15
SAMPLES = 2 * 3600 // STEP
DRIVERS = ["mysql", "postgres"]
TABLES = ["orders", "users"]
BOUNDS = ["0.01", "0.1", "0.5", "1", "5", "+Inf"]
SHARES = [0.30, 0.92, 0.99, 1.0, 1.0, 1.0]
SLOW_SHARES = [0.01, 0.05, 0.10, 0.20, 1.0, 1.0]


def main():
    out = sys.argv[1]
    rng = random.Random(7)
    execs, errors, buckets = {}, {}, {}
    for d in DRIVERS:
        for t in TABLES:
            n = e = 0
            ex, er, bk = [], [], {le: [] for le in BOUNDS}
            counts = [0] * len(BOUNDS)
            for i in range(SAMPLES):
                calls = 30 + rng.randint(-3, 3)
                n += calls
                incident = d == "postgres" and t == "orders" and 160 <= i < 220
                rate = 0.12 if incident else 0.005
                e += sum(1 for _ in range(calls) if rng.random() < rate)
                slow = d == "mysql" and t == "users" and 280 <= i < 360
                for b, share in enumerate(SLOW_SHARES if slow else SHARES):
                    counts[b] += round(calls * share)
                ex.append(n)
                er.append(e)
                for b, le in enumerate(BOUNDS):
                    bk[le].append(counts[b])
            execs[(d, t)], errors[(d, t)], buckets[(d, t)] = ex, er, bk
    with open(out, "w") as f:
        f.write("# TYPE batchsql_executions counter\n")
        for (d, t), ex in execs.items():
            f.writelines(f'batchsql_executions_total{{driver="{d}",table="{t}",status="ok"}} '
                         f"{v} {T0 + i * STEP}\n" for i, v in enumerate(ex))
        f.write("# TYPE batchsql_errors counter\n")
        for (d, t), er in errors.items():
            f.writelines(f'batchsql_errors_total{{driver="{d}",table="{t}"}} '
                         f"{v} {T0 + i * STEP}\n" for i, v in enumerate(er))
        f.write("# TYPE batchsql_duration_seconds histogram\n")
        for (d, t), bk in buckets.items():
            for le in BOUNDS:
                f.writelines(f'batchsql_duration_seconds_bucket{{driver="{d}",table="{t}",le="{le}"}} '
                             f"{v} {T0 + i * STEP}\n" for i, v in enumerate(bk[le]))
        f.write("# EOF\n")


if __name__ == "__main__":
    main()
