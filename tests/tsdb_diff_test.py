#!/usr/bin/env python3
"""promeval over Prometheus data directories, against Prometheus itself.

1. Blocks: the data of testdata/stats/gen_data.py written as blocks by
   `promtool tsdb create-blocks-from openmetrics`. Every query of
   testdata/stats/queries.txt and testdata/tsdb/queries.txt, as an instant
   and as a range query, must give byte for byte the same JSON from
   `promeval --tsdb DIR` as from `promeval --data FILE` (the same samples as
   text), and the same series and values (within 1e-9, relative) as a
   loopback Prometheus 2.42 serving a copy of the directory (except the
   queries testdata/tsdb/known_differences.txt lists, where 2.42 and 3.x
   differ).
2. A live directory: a Prometheus scraping itself and a static target (a
   loopback HTTP server of this script exposing the series the query set
   reads: x, y, c, h, changing every scrape) every second for a minute. Its
   directory is copied while it runs, and again after it stops; `promeval
   --tsdb COPY` must answer every query of the set, and a few of the
   server's own series, as an instant query a second before the copy's last
   scrape and as a range query over the 40 seconds before that, as the
   server does; the copy made after the stop must answer them as the
   running copy does.
3. `promeval tsdb info` on both.
4. `promeval rules eval` of examples/batchsql/rules.yml over its data as a
   block (--tsdb) and as text (--data): the same alert timeline and the
   same recorded series, byte for byte.

Each prometheus runs on 127.0.0.1 with a free port and a temporary
directory and is stopped by its pid whatever happens.

Usage: tsdb_diff_test.py PROMEVAL SOURCE_DIR
"""
import contextlib
import http.server
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from loopback_prometheus import prometheus

START = 1700000600
END = START + 2400
STEP = 30


def api(port, path, params):
    url = f"http://127.0.0.1:{port}/api/v1/{path}?" + urllib.parse.urlencode(
        params)
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        return json.load(e)


def promeval(binary, source_args, query, instant, at=END,
             span=(START, END, STEP)):
    cmd = [binary, "query" if instant else "query-range", *source_args,
           "--format", "json"]
    if instant:
        cmd += ["--time", str(at)]
    else:
        cmd += ["--start", str(span[0]), "--end", str(span[1]), "--step",
                str(span[2])]
    cmd += ["--", query]
    r = subprocess.run(cmd, capture_output=True, text=True)
    return r.stdout.strip(), r.stderr.strip(), r.returncode


def normalize(body):
    """{labels-json: [(t, v)...]} of an API body's data, or the error."""
    if body.get("status") != "success":
        return ("error", body.get("errorType"))
    data = body["data"]
    kind, result = data["resultType"], data["result"]
    if kind in ("scalar", "string"):
        return (kind, [(result[0], result[1])])
    out = {}
    for s in result:
        key = json.dumps(s["metric"], sort_keys=True)
        points = s.get("values") or [s["value"]]
        out[key] = [(float(t), v) for t, v in points]
    return (kind, out)


def same_value(a, b):
    if a == b:
        return True
    try:
        x, y = float(a), float(b)
    except ValueError:
        return False
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    return abs(x - y) <= 1e-9 * max(abs(x), abs(y))


def differ(a, b):
    """A description of how normalized results a and b differ, or ''."""
    if a[0] != b[0]:
        return f"{a[0]} vs {b[0]}"
    if a[0] == "error":
        return "" if a[1] == b[1] else f"error {a[1]} vs {b[1]}"
    if a[0] in ("scalar", "string"):
        return "" if same_value(a[1][0][1], b[1][0][1]) else f"{a[1]} vs {b[1]}"
    if set(a[1]) != set(b[1]):
        return (f"series only in one: {sorted(set(a[1]) ^ set(b[1]))[:3]}")
    for key in a[1]:
        pa, pb = a[1][key], b[1][key]
        if len(pa) != len(pb):
            return f"{key}: {len(pa)} points vs {len(pb)}"
        for (ta, va), (tb, vb) in zip(pa, pb):
            if ta != tb or not same_value(va, vb):
                return f"{key}: ({ta}, {va}) vs ({tb}, {vb})"
    return ""


def read_list(path):
    out = []
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            line = line.split("# 3.x")[0].strip()
            if line and not line.startswith("#"):
                out.append(line)
    return out


def compare_blocks(binary, source, work, failures):
    data = os.path.join(work, "data.om")
    with open(data, "w") as f:
        subprocess.run([sys.executable,
                        os.path.join(source, "testdata/stats/gen_data.py")],
                       stdout=f, check=True)
    blocks = os.path.join(work, "blocks")
    subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics",
                    data, blocks], check=True, stdout=subprocess.DEVNULL)
    served = os.path.join(work, "served")
    shutil.copytree(blocks, served)
    queries = (read_list(os.path.join(source, "testdata/stats/queries.txt")) +
               read_list(os.path.join(source, "testdata/tsdb/queries.txt")))
    known = set(read_list(
        os.path.join(source, "testdata/tsdb/known_differences.txt")))
    compared = 0
    with prometheus(work, served,
                    "global:\n  scrape_interval: 1h\n") as (port, _):
        for query in queries:
            for instant in (True, False):
                kind = "instant" if instant else "range"
                text = promeval(binary, ["--data", data], query, instant)
                tsdb = promeval(binary, ["--tsdb", blocks], query, instant)
                compared += 1
                if text[0] != tsdb[0] or text[2] != tsdb[2]:
                    failures.append(f"{kind} {query!r}: --tsdb {tsdb[0][:200]}"
                                    f" {tsdb[1][:200]} != --data "
                                    f"{text[0][:200]} {text[1][:200]}")
                    continue
                params = {"query": query}
                if instant:
                    params["time"] = str(END)
                else:
                    params.update(start=str(START), end=str(END),
                                  step=str(STEP))
                ref = api(port, "query" if instant else "query_range", params)
                got = json.loads(tsdb[0]) if tsdb[0] else {"status": "error"}
                how = differ(normalize(ref), normalize(got))
                if how and query not in known:
                    failures.append(f"{kind} {query!r}: prometheus and "
                                    f"promeval --tsdb differ: {how}")
    print(f"blocks: {compared} queries compared")
    info = subprocess.run([binary, "tsdb", "info", blocks],
                          capture_output=True, text=True)
    if info.returncode != 0 or "BLOCK ULID" not in info.stdout:
        failures.append(f"tsdb info on blocks: {info.stderr.strip()}")


@contextlib.contextmanager
def static_target():
    """A loopback HTTP server exposing series of the query set's names (x, y,
    c, h) whose values change every second; yields its port."""
    def page():
        k = int(time.time())
        lines = [f'x{{i="{i}"}} {(i + 1) * k % 97}' for i in range(10)]
        lines += [f'y{{i="{i}"}} {k * 0.5 + i}' for i in range(10)]
        # Counters without resets: over a directory a minute old, the first
        # sample of a 5-minute window is far from its start, where rate's
        # extrapolation differs between 2.42 and 3.x when a reset makes the
        # first value small (the two limits are applied in another order).
        lines += [f'c{{instance="{n}",job="{j}"}} {k * (n + 1)}'
                  for j in ("a", "b") for n in range(5)]
        lines += [f'h{{job="{j}",le="{le}"}} {k * (b + 1) * (2 if j == "b" else 1)}'
                  for j in ("a", "b")
                  for b, le in enumerate(("0.1", "0.5", "1", "+Inf"))]
        return ("\n".join(lines) + "\n").encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = page()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def compare_live(binary, source, work, failures):
    live = os.path.join(work, "live")
    queries = (read_list(os.path.join(source, "testdata/stats/queries.txt")) +
               read_list(os.path.join(source, "testdata/tsdb/queries.txt")) +
               ["up", "prometheus_http_requests_total",
                'count({__name__=~".+"})', "scrape_samples_scraped",
                "rate(prometheus_http_requests_total[10s])"])
    known = set(read_list(
        os.path.join(source, "testdata/tsdb/known_differences.txt")))
    compared = answered = 0
    with static_target() as target:
        config = ("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                  "scrape_configs:\n- job_name: self\n  static_configs:\n"
                  "  - targets: ['127.0.0.1:PORT']\n"
                  "- job_name: static\n  honor_labels: true\n  static_configs:\n"
                  f"  - targets: ['127.0.0.1:{target}']\n")
        with prometheus(work, live, config) as (port, proc):
            time.sleep(60)
            running = os.path.join(work, "live-running")
            shutil.copytree(live, running,
                            ignore=shutil.ignore_patterns("lock"))
            # About a second before the copy's newest scrape of `up` (every
            # sample up to then was committed before the copy was made), at
            # a fraction of a second far from both targets' scrape phases
            # and from whole seconds (subquery steps): no sample sits on a
            # window's edge, where Prometheus 2.42's closed windows and
            # 3.x's left-open ones differ.
            at = newest_up(binary, running, failures)
            if at is not None:
                phases = [0.0] + scrape_phases(binary, running, at)
                fraction = max((0.2, 0.4, 0.6, 0.8), key=lambda f: min(
                    min(abs(f - p), 1 - abs(f - p)) for p in phases))
                at = math.floor(at) - 2 + fraction
                span = (at - 40, at, 5)
                for query in queries:
                    for instant in (True, False):
                        if instant:
                            ref = api(port, "query", {"query": query,
                                                      "time": str(at)})
                        else:
                            ref = api(port, "query_range", {
                                "query": query, "start": str(span[0]),
                                "end": str(span[1]), "step": str(span[2])})
                        out = promeval(binary, ["--tsdb", running], query,
                                       instant, at, span)
                        got = (json.loads(out[0]) if out[0]
                               else {"status": "error"})
                        how = differ(normalize(ref), normalize(got))
                        compared += 1
                        result = normalize(got)
                        if result[0] != "error" and result[1]:
                            answered += 1
                        if how and query not in known:
                            failures.append(
                                f"live copy, {'instant' if instant else 'range'}"
                                f" {query!r} at {at}: {how}")
            os.kill(proc.pid, signal.SIGTERM)
            proc.wait(timeout=60)
    stopped = os.path.join(work, "live-stopped")
    shutil.copytree(live, stopped, ignore=shutil.ignore_patterns("lock"))
    for d in (running, stopped):
        info = subprocess.run([binary, "tsdb", "info", d],
                              capture_output=True, text=True)
        if info.returncode != 0 or "head:" not in info.stdout:
            failures.append(f"tsdb info {d}: {info.stderr.strip()}")
        else:
            print(info.stdout.strip())
    # The stopped directory holds everything the running copy did.
    if at is not None:
        for query in queries:
            for instant in (True, False):
                a = promeval(binary, ["--tsdb", running], query, instant, at,
                             span)
                b = promeval(binary, ["--tsdb", stopped], query, instant, at,
                             span)
                if a[0] != b[0]:
                    failures.append(
                        f"{query!r} at {at}: the copy of the running server "
                        f"and of the stopped one differ")
    # Most queries select the static target's series: an empty answer from
    # both would compare equal without showing anything.
    if compared and answered < compared // 2:
        failures.append(f"live copy: only {answered} of {compared} queries "
                        f"gave a non-empty answer")
    print(f"live directory: {compared} queries compared with the server, "
          f"{answered} with a non-empty answer")


def compare_replay(binary, source, work, failures):
    data = os.path.join(work, "batchsql.om")
    subprocess.run([sys.executable,
                    os.path.join(source, "examples/batchsql/gen_data.py"),
                    data], check=True)
    blocks = os.path.join(work, "batchsql-blocks")
    subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics",
                    data, blocks], check=True, stdout=subprocess.DEVNULL)
    rules = os.path.join(source, "examples/batchsql/rules.yml")
    outs = {}
    for name, args in (("data", ["--data", data]), ("tsdb", ["--tsdb", blocks])):
        out = os.path.join(work, f"replay-{name}.om")
        r = subprocess.run(
            [binary, "rules", "eval", *args, "--start", "2024-01-01T00:00:00Z",
             "--end", "2024-01-01T02:00:00Z", "--output", out, rules],
            capture_output=True, text=True)
        with open(out) as f:
            outs[name] = (r.returncode, r.stdout, f.read())
    if outs["data"] != outs["tsdb"]:
        failures.append("rules eval over the block differs from over the text")
    elif "firing" not in outs["data"][1]:
        failures.append("rules eval: no alert fired over the example's data")
    print(f"replay: {outs['tsdb'][2].count(chr(10))} lines of recorded series, "
          f"the same over --tsdb and --data")


def newest_up(binary, d, failures):
    out = promeval(binary, ["--tsdb", d], 'timestamp(up{job="self"})', True,
                   time.time())
    try:
        body = json.loads(out[0])
        return float(body["data"]["result"][0]["value"][1])
    except (ValueError, KeyError, IndexError):
        failures.append(f"no up sample in the live copy: {out[1]}")
        return None


def scrape_phases(binary, d, at):
    """The fractions of a second at which the targets of the copy d are
    scraped (from the timestamps of their `up` samples)."""
    out = promeval(binary, ["--tsdb", d], "timestamp(up)", True, at)
    try:
        return [float(s["value"][1]) % 1
                for s in json.loads(out[0])["data"]["result"]]
    except (ValueError, KeyError):
        return []


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    binary, source = os.path.abspath(sys.argv[1]), sys.argv[2]
    failures = []
    with tempfile.TemporaryDirectory(prefix="promeval-tsdb-") as work:
        compare_blocks(binary, source, work, failures)
        compare_replay(binary, source, work, failures)
        compare_live(binary, source, work, failures)
    for f in failures:
        print("FAIL", f)
    print(f"tsdb comparison: {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
