#!/usr/bin/env python3
"""promeval over remote read, against a real Prometheus.

A loopback Prometheus 2.42 serves the data of testdata/stats/gen_data.py,
written as blocks by `promtool tsdb create-blocks-from openmetrics`:

1. Every query of testdata/stats/queries.txt and testdata/tsdb/queries.txt,
   instant and range, through `--remote-read http://127.0.0.1:PORT/api/v1/read`
   with each response type (streamed XOR chunks, samples), and streamed with
   the query's selections in one request (--remote-read-batch), gives byte
   for byte
   the JSON `--tsdb` gives over the same blocks, and the same series and
   values (within 1e-9, relative) as the server's own /api/v1/query and
   /api/v1/query_range (except the queries
   testdata/tsdb/known_differences.txt lists, where 2.42 and 3.x differ).
2. --remote-read with --data holding the same samples gives what --data
   gives alone (the fanout merges equal samples).
3. `rules eval` of examples/batchsql/rules.yml over its data served by a
   second Prometheus gives, through --remote-read, the timeline and the
   recorded series it gives over --data.
4. One request per selector (`--stats`), one in all with
   --remote-read-batch; --remote-read-required-matcher
   keeps selectors without the matcher from the endpoint.
5. Errors name the endpoint and exit non-zero: nothing listening, a path
   the server does not serve (HTTP 404 with its message), an answer larger
   than --remote-read-max-bytes.

Each prometheus runs on 127.0.0.1 with a free port and a temporary
directory and is stopped by its pid whatever happens.

Usage: remote_read_test.py PROMEVAL SOURCE_DIR
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

from loopback_prometheus import free_port, prometheus
from tsdb_diff_test import (END, START, STEP, api, differ, normalize,
                            promeval, read_list)


def read_url(port, path="/api/v1/read"):
    return f"http://127.0.0.1:{port}{path}"


def make_blocks(source, work, generator, name):
    """The generator's data (it prints it, or writes the file it is given),
    as blocks, and a copy of them for a server."""
    data = os.path.join(work, f"{name}.om")
    script = os.path.join(source, generator)
    if generator.startswith("examples/"):
        subprocess.run([sys.executable, script, data], check=True)
    else:
        with open(data, "w") as f:
            subprocess.run([sys.executable, script], stdout=f, check=True)
    blocks = os.path.join(work, f"{name}-blocks")
    subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics",
                    data, blocks], check=True, stdout=subprocess.DEVNULL)
    served = os.path.join(work, f"{name}-served")
    shutil.copytree(blocks, served)
    return data, blocks, served


def compare_queries(binary, source, work, failures):
    data, blocks, served = make_blocks(source, work,
                                       "testdata/stats/gen_data.py", "stats")
    queries = (read_list(os.path.join(source, "testdata/stats/queries.txt")) +
               read_list(os.path.join(source, "testdata/tsdb/queries.txt")))
    known = set(read_list(
        os.path.join(source, "testdata/tsdb/known_differences.txt")))
    compared = 0
    with prometheus(work, served) as (port, _):
        url = read_url(port)
        for query in queries:
            for instant in (True, False):
                kind = "instant" if instant else "range"
                tsdb = promeval(binary, ["--tsdb", blocks], query, instant)
                for rtype, extra in (("streamed", []), ("samples", []),
                                     ("streamed", ["--remote-read-batch"])):
                    got = promeval(binary, ["--remote-read", url,
                                            "--remote-read-response-type",
                                            rtype, *extra], query, instant)
                    compared += 1
                    if got[0] != tsdb[0] or got[2] != tsdb[2]:
                        failures.append(
                            f"{kind} {query!r} ({rtype} {extra}): --remote-read "
                            f"{got[0][:200]} {got[1][:300]} != --tsdb "
                            f"{tsdb[0][:200]} {tsdb[1][:200]}")
                        continue
                params = {"query": query}
                if instant:
                    params["time"] = str(END)
                else:
                    params.update(start=str(START), end=str(END),
                                  step=str(STEP))
                ref = api(port, "query" if instant else "query_range", params)
                mine = json.loads(got[0]) if got[0] else {"status": "error"}
                how = differ(normalize(ref), normalize(mine))
                if how and query not in known:
                    failures.append(f"{kind} {query!r}: prometheus and "
                                    f"promeval --remote-read differ: {how}")

        # 2. Merged with the same samples from a file.
        for query in ("x", "rate(c[5m])", "sum by (i) (y)"):
            alone = promeval(binary, ["--data", data], query, False)
            both = promeval(binary, ["--data", data, "--remote-read", url],
                            query, False)
            if alone[:1] != both[:1] or both[2] != 0:
                failures.append(f"--data with --remote-read {query!r}: "
                                f"{both[0][:200]} {both[1][:200]} != "
                                f"{alone[0][:200]}")

        # 4. One request per selector; required matchers.
        r = subprocess.run(
            [binary, "query-range", "--remote-read", url, "--start",
             str(START), "--end", str(END), "--step", str(STEP), "--stats",
             "--", "rate(c[5m]) + on() group_left x{i=\"0\"} * y"],
            capture_output=True, text=True)
        stats = json.loads(r.stderr.strip().splitlines()[-1])
        if stats.get("remoteRequests") != 3:
            failures.append(f"three selectors made {stats.get('remoteRequests')}"
                            f" remote read requests, not 3 ({r.stderr[-300:]})")
        batched = subprocess.run(
            [binary, "query-range", "--remote-read", url, "--remote-read-batch",
             "--start", str(START), "--end", str(END), "--step", str(STEP),
             "--stats", "--", "rate(c[5m]) + on() group_left x{i=\"0\"} * y"],
            capture_output=True, text=True)
        stats = json.loads(batched.stderr.strip().splitlines()[-1])
        if stats.get("remoteRequests") != 1:
            failures.append(f"--remote-read-batch: three selectors made "
                            f"{stats.get('remoteRequests')} requests, not 1 "
                            f"({batched.stderr[-300:]})")
        if batched.stdout != r.stdout:
            failures.append("--remote-read-batch changed the answer: "
                            f"{batched.stdout[:200]} != {r.stdout[:200]}")
        required = ["--remote-read", url, "--remote-read-required-matcher",
                    "i=0"]
        with_it = promeval(binary, required, 'x{i="0"}', True)
        without = promeval(binary, required, "x", True)
        if '"i":"0"' not in with_it[0]:
            failures.append(f"required matcher present: {with_it}")
        if json.loads(without[0])["data"]["result"] != []:
            failures.append(f"required matcher absent, yet: {without[0][:200]}")
    print(f"remote read: {compared} queries compared")


def compare_replay(binary, source, work, failures):
    data, _, served = make_blocks(source, work, "examples/batchsql/gen_data.py",
                                  "batchsql")
    rules = os.path.join(source, "examples/batchsql/rules.yml")
    outs = {}
    with prometheus(work, served) as (port, _):
        for name, args in (("data", ["--data", data]),
                           ("remote", ["--remote-read", read_url(port)])):
            out = os.path.join(work, f"replay-{name}.om")
            r = subprocess.run(
                [binary, "rules", "eval", *args, "--start",
                 "2024-01-01T00:00:00Z", "--end", "2024-01-01T02:00:00Z",
                 "--output", out, rules], capture_output=True, text=True)
            if r.returncode != 0:
                failures.append(f"rules eval --{name}: {r.stderr[-300:]}")
                return
            with open(out) as f:
                outs[name] = (r.stdout, f.read())
    if outs["data"] != outs["remote"]:
        failures.append("rules eval over remote read differs from over --data")
    elif "firing" not in outs["data"][0]:
        failures.append("rules eval: no alert fired over the example's data")
    print(f"replay: {outs['remote'][1].count(chr(10))} lines of recorded "
          f"series, the same over --remote-read and --data")


def check_errors(binary, work, failures):
    def run(args):
        return subprocess.run([binary, "query", "--time", str(END), *args,
                               "--", "x"], capture_output=True, text=True)

    port = free_port()
    r = run(["--remote-read", read_url(port)])
    if r.returncode == 0 or f"remote read http://127.0.0.1:{port}" not in r.stderr:
        failures.append(f"nothing listening: {r.returncode} {r.stderr!r}")
    empty = os.path.join(work, "empty-tsdb")
    os.makedirs(empty)
    with prometheus(work, empty) as (p, _):
        r = run(["--remote-read", read_url(p, "/api/v1/nothing")])
        if r.returncode == 0 or "HTTP 404" not in r.stderr:
            failures.append(f"404: {r.returncode} {r.stderr!r}")
    print("remote read errors checked")


def check_too_large(binary, source, work, failures):
    _, _, served = make_blocks(source, work, "testdata/stats/gen_data.py",
                               "large")
    with prometheus(work, served) as (port, _):
        r = subprocess.run(
            [binary, "query-range", "--remote-read", read_url(port),
             "--remote-read-max-bytes", "1KB", "--start", str(START), "--end",
             str(END), "--step", str(STEP), "--", "x"],
            capture_output=True, text=True)
        if r.returncode == 0 or "larger than 1000 bytes" not in r.stderr:
            failures.append(f"max bytes: {r.returncode} {r.stderr!r}")


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    binary, source = os.path.abspath(sys.argv[1]), sys.argv[2]
    failures = []
    with tempfile.TemporaryDirectory(prefix="promeval-remote-") as work:
        compare_queries(binary, source, work, failures)
        compare_replay(binary, source, work, failures)
        check_errors(binary, work, failures)
        check_too_large(binary, source, work, failures)
    for f in failures:
        print("FAIL", f)
    print(f"remote read comparison: {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
