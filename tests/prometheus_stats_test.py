#!/usr/bin/env python3
"""Compares promeval's sample accounting with a real Prometheus.

Starts the Debian package's `prometheus` (2.42) on 127.0.0.1 with a free
port over the data of testdata/stats/gen_data.py (loaded with `promtool
tsdb create-blocks-from openmetrics`), and runs every query of
testdata/stats/queries.txt as an instant query and as a range query of 81
steps, asking Prometheus for `stats=all` and promeval for `--stats`:

  * both succeed or both fail;
  * totalQueryableSamples are equal;
  * peakSamples are equal, except on the lines marked "# 3.x:", where
    Prometheus 3.x (which promeval follows) counts differently from 2.42
    (on lines marked "# 3.x, totals too:" totalQueryableSamples may
    differ as well);
  * promeval fails with --max-samples one below its peak and succeeds at
    its peak, with one worker and with two (parallel operands).

Then a second Prometheus with --query.max-samples=1500 answers every query:
promeval with --max-samples 1500 must succeed and fail on the same ones
(again except the "# 3.x:" lines).

Last, promtool's per-query limit of 10000 samples in rule unit tests: a
recording rule `a + b` over n series each holds 2 * 2n + n samples at its
instant query, so `promtool test rules` passes with n = 2000 (exactly
10000) and fails with n = 2001; `promeval test rules` must agree (and
print promtool's error).

Usage: prometheus_stats_test.py PROMEVAL SOURCE_DIR
"""
import json
import os
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request

from loopback_prometheus import prometheus

START = 1700000600
END = START + 2400
STEP = 30
LIMIT = 1500


def ask_prometheus(port, query, instant):
    """(ok, totalQueryableSamples, peakSamples) of Prometheus's answer."""
    params = {"query": query, "stats": "all"}
    if instant:
        path = "query"
        params["time"] = str(END)
    else:
        path = "query_range"
        params.update(start=str(START), end=str(END), step=str(STEP))
    url = f"http://127.0.0.1:{port}/api/v1/{path}?" + urllib.parse.urlencode(
        params)
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            body = json.load(r)
    except urllib.error.HTTPError as e:
        body = json.load(e)
    if body["status"] != "success":
        return False, None, None, body.get("error", "")
    samples = body["data"]["stats"]["samples"]
    return (True, samples["totalQueryableSamples"], samples["peakSamples"],
            "")


def ask_promeval(binary, data, query, instant, max_samples=None, workers=1):
    cmd = [binary]
    if instant:
        cmd += ["query", "--time", str(END)]
    else:
        cmd += ["query-range", "--start", str(START), "--end", str(END),
                "--step", str(STEP)]
    cmd += ["--data", data, "--stats", "--workers", str(workers)]
    if max_samples is not None:
        cmd += ["--max-samples", str(max_samples)]
    cmd += ["--", query]
    r = subprocess.run(cmd, capture_output=True, text=True)
    stats = None
    for line in r.stderr.splitlines():
        if line.startswith("{"):
            stats = json.loads(line)
    if r.returncode != 0 or stats is None:
        return False, None, None, r.stderr.strip()
    return (True, stats["totalQueryableSamples"], stats["peakSamples"], "")


def read_queries(path):
    """[(query, differs_reason or None, totals_differ)]"""
    queries = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            reason, totals = None, False
            for marker in ("# 3.x, totals too:", "# 3.x:"):
                if marker in line:
                    line, reason = line.split(marker, 1)
                    line, reason = line.strip(), reason.strip()
                    totals = marker != "# 3.x:"
                    break
            queries.append((line, reason, totals))
    return queries


def compare_rule_tests(binary, work):
    """Failures of promeval test rules against promtool at the limit."""
    failures = []
    with open(os.path.join(work, "rules.yml"), "w") as f:
        f.write("groups:\n- name: g\n  rules:\n"
                "  - record: r\n    expr: a + b\n")
    for n in (2000, 2001):
        test = os.path.join(work, f"limit_{n}.test.yml")
        with open(test, "w") as f:
            f.write("rule_files: [rules.yml]\nevaluation_interval: 1m\n"
                    "tests:\n- interval: 1m\n  input_series:\n")
            for i in range(n):
                for name in ("a", "b"):
                    f.write(f"  - series: '{name}{{i=\"{i}\"}}'\n"
                            "    values: '1+1x5'\n")
            f.write("  promql_expr_test:\n  - expr: count(r)\n"
                    "    eval_time: 2m\n    exp_samples:\n"
                    f"    - labels: '{{}}'\n      value: {n}\n")
        ref = subprocess.run(["promtool", "test", "rules", test],
                             capture_output=True, text=True)
        got = subprocess.run([binary, "test", "rules", test],
                             capture_output=True, text=True)
        if ref.returncode != got.returncode:
            failures.append(f"test rules with {n} series: promtool exit "
                            f"{ref.returncode}, promeval {got.returncode}")
        limit_error = "query processing would load too many samples"
        if (limit_error in ref.stdout + ref.stderr) != (
                limit_error in got.stdout + got.stderr):
            failures.append(f"test rules with {n} series: promtool says "
                            f"{ref.stdout.strip()!r}, promeval "
                            f"{got.stdout.strip()!r}")
        print(f"ok   test rules with {n} series: exit {got.returncode}")
    return failures


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    binary, source = os.path.abspath(sys.argv[1]), sys.argv[2]
    queries = read_queries(os.path.join(source, "testdata/stats/queries.txt"))
    failures = []
    compared = 0
    with tempfile.TemporaryDirectory(prefix="promeval-stats-") as work:
        data = os.path.join(work, "data.om")
        with open(data, "w") as f:
            subprocess.run(
                [sys.executable,
                 os.path.join(source, "testdata/stats/gen_data.py")],
                stdout=f, check=True)
        tsdb = os.path.join(work, "tsdb")
        subprocess.run(["promtool", "tsdb", "create-blocks-from",
                        "openmetrics", data, tsdb],
                       check=True, stdout=subprocess.DEVNULL)

        with prometheus(work, tsdb, extra=["--query.max-samples=100000000"]) as (port, _):
            for query, differs, totals_differ in queries:
                for instant in (True, False):
                    kind = "instant" if instant else "range"
                    ref = ask_prometheus(port, query, instant)
                    got = ask_promeval(binary, data, query, instant)
                    compared += 1
                    where = f"{kind} {query!r}"
                    if ref[0] != got[0]:
                        failures.append(
                            f"{where}: prometheus {'ok' if ref[0] else ref[3]}"
                            f", promeval {'ok' if got[0] else got[3]}")
                        continue
                    if not ref[0]:
                        continue
                    if ref[1] != got[1] and not totals_differ:
                        failures.append(f"{where}: totalQueryableSamples "
                                        f"{ref[1]} (prometheus) != {got[1]}")
                    if differs is None and ref[2] != got[2]:
                        failures.append(f"{where}: peakSamples {ref[2]} "
                                        f"(prometheus) != {got[2]}")
                    peak = got[2]
                    # The limit is at least 1, and (a documented
                    # difference) at least the number of steps.
                    least = 1 if instant else (END - START) // STEP + 1
                    for workers in (1, 2):
                        at = ask_promeval(binary, data, query, instant,
                                          max(peak, least), workers)
                        if not at[0] or at[2] != peak:
                            failures.append(
                                f"{where}: fails with --max-samples {peak} "
                                f"(its peak), {workers} workers: {at[3]}")
                        if peak <= least:
                            continue
                        below = ask_promeval(binary, data, query, instant,
                                             peak - 1, workers)
                        if below[0] or "too many samples" not in below[3]:
                            failures.append(
                                f"{where}: --max-samples {peak - 1} (below "
                                f"its peak), {workers} workers: "
                                f"{'succeeds' if below[0] else below[3]}")
                    print(f"ok   {where}: total {got[1]}, peak {got[2]}"
                          + (f" (2.42: total {ref[1]}, peak {ref[2]}; "
                             f"3.x: {differs})"
                             if differs and ref[1:3] != got[1:3] else ""))

        with prometheus(work, tsdb, extra=[f"--query.max-samples={LIMIT}"]) as (port, _):
            for query, differs, _ in queries:
                if differs is not None:
                    continue
                for instant in (True, False):
                    kind = "instant" if instant else "range"
                    ref = ask_prometheus(port, query, instant)
                    got = ask_promeval(binary, data, query, instant, LIMIT, 2)
                    if ref[0] != got[0]:
                        failures.append(
                            f"{kind} {query!r} with a limit of {LIMIT}: "
                            f"prometheus {'ok' if ref[0] else ref[3]}, "
                            f"promeval {'ok' if got[0] else got[3]}")
        failures += compare_rule_tests(binary, work)
    for f in failures:
        print("FAIL", f)
    print(f"prometheus stats comparison: {compared} queries compared, "
          f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
