#!/usr/bin/env python3
"""promeval's remote write (`rules eval --remote-write`), against a real
Prometheus.

A fixture written here (OpenMetrics data, and rules: recording rules with
labels and aggregations, one whose output series disappears midway so that
a stale marker is written, alerting rules with `for`, `keep_firing_for` and
templated labels and annotations that fire and resolve) is replayed with
`promeval rules eval --output OUT.om --remote-write URL --stats` into
loopback Prometheus 2.42 servers started with
--web.enable-remote-write-receiver and an empty data directory:

1. With an out-of-order window (`out_of_order_time_window: 30d`): a 100m
   replay ending over an hour before now (2 shards, 100 samples a request)
   exits 0; its stats count every sample of OUT as sent (stale markers
   included) and none failed, rejected or dropped; and Prometheus then holds
   exactly OUT: a range selector over the replay gives each series of OUT
   and no other, with OUT's samples (timestamps to the millisecond, values
   equal as floats) except its NaNs, which range selectors skip; each NaN
   is a stale marker (an instant query of its series at its time gives
   nothing, 1ms earlier the sample before it). The same replay sent again
   exits 0 and changes nothing. The same replay 4 days back (out of order
   for the server) exits 0, is stored as exactly, and went through the
   out-of-order head. 40 days back (beyond the window) exits 1: Prometheus
   answers 500, the samples are retried, then counted as failed.
2. Without the window: a 50m replay exits 0 and is stored exactly; sent
   again it exits 1 (HTTP 400, rejected, not retried) and the stored
   samples are unchanged; 4 days back it exits 1 in the same way and stores
   nothing.
3. Without the window, the 100m replay with the default options exits 0
   and is stored exactly: promeval sends a replay in time order, half an
   hour at a time, each slice flushed before the next, so no sample is
   over an hour older than the newest the server holds. (Sent series by
   series, as --output orders them, 271 to 805 of its 1076 samples were
   rejected as out of bounds, varying as the shards raced.)
4. A Prometheus without the receiver (HTTP 404): exit 1, the status and the
   rejected samples named, no retries.
5. Nothing listening (with --remote-write-retry-limit 2): exit 1 within a
   minute, the URL named and the samples said not written; --output is
   still written, the same as when every sample was accepted.
Failures are said on stderr as `remote write URL: N of M samples not
written (...); last error: ...`, checked for "remote write", the URL and
"not written" (and the status where there is one).
In every failure every sample of OUT is counted once, as sent, failed,
rejected or dropped.

What Prometheus 2.42 does with what it receives (tsdb/head_append.go;
measured with this fixture): without an out-of-order window, a sample is
"out of bounds" when it is more than an hour (half the head's 2h chunk
range) older than the newest sample of the head as it was when the request
began, "out of order" when it is older than its series' newest sample, and
either makes it answer the whole request with HTTP 400 (nothing of the
request is stored). The wall clock plays no part: an empty head takes any
time. The same sample again (same timestamp and value) is accepted
silently only if it is its series' newest; another value at that timestamp
is a 400 ("duplicate sample for timestamp"). So a replay is accepted if
none of its requests holds a sample over an hour older than what earlier
requests brought (a replay spanning less than an hour always; a longer one
only sent in time order, and only while no shard runs over an hour ahead of
another), a replay over an hour older than what the server holds never
(hence 4 days back after the near one), and a replay sent twice is refused
the second time. With `out_of_order_time_window: 30d`, a sample refused so
goes to the out-of-order head instead, if it is within 30 days of the
head's newest sample: a replay days back is accepted, and so is a replay
sent twice (the second copy is stored beside the first; queries merge equal
timestamps, so nothing shows twice; a third copy is dropped silently).
Older than the window, the answer is HTTP 500 "too old sample", which
remote write clients retry.

Each prometheus runs on 127.0.0.1 with a free port and a temporary
directory and is stopped by its pid whatever happens.

Usage: remote_write_test.py PROMEVAL SOURCE_DIR
(SOURCE_DIR is taken as remote_read_test.py takes it; the fixture is
written by this script.)
"""
import decimal
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

from loopback_prometheus import free_port, prometheus

RECEIVER = ("--web.enable-remote-write-receiver",)
PLAIN_CONFIG = "global:\n  scrape_interval: 1h\n"  # No scrape jobs.
OOO_CONFIG = PLAIN_CONFIG + ("storage:\n"
                             "  tsdb:\n"
                             "    out_of_order_time_window: 30d\n")
OOO_APPENDED = "prometheus_tsdb_head_out_of_order_samples_appended_total"

SPAN = 100 * 60   # The replay, seconds.
SHORT = 50 * 60   # A replay shorter than the head's hour without the window.
LEAD = 10 * 60    # Data before the replay starts.
STEP = 30         # The data's sample interval.
LOOKBACK_MS = 5 * 60 * 1000

RULES = r"""
groups:
  - name: requests
    interval: 1m
    rules:
      - record: job:http_requests:rate5m
        expr: sum by (job) (rate(http_requests_total[5m]))
      - record: job_code:http_requests:rate5m
        expr: sum by (job, code) (rate(http_requests_total[5m]))
        labels:
          team: platform
      - record: job:http_errors:ratio5m
        expr: >
          sum by (job) (rate(http_requests_total{code=~"5.."}[5m]))
          / sum by (job) (rate(http_requests_total[5m]))
      - alert: HighErrorRate
        expr: job:http_errors:ratio5m > 0.05
        for: 3m
        keep_firing_for: 2m
        labels:
          severity: page
          oncall: "{{ $labels.job }}-team"
        annotations:
          summary: "High error rate on {{ $labels.job }}"
          description: "{{ $value | humanizePercentage }} of requests fail"
      - alert: InstanceDown
        expr: up == 0
        for: 5m
        keep_firing_for: 3m
        labels:
          severity: warning
        annotations:
          summary: "{{ $labels.instance }} of {{ $labels.job }} is down"
  - name: temperature
    interval: 2m
    rules:
      - record: room:temperature_celsius:avg
        expr: avg by (room) (temperature_celsius)
      - record: room:temperature_celsius:max10m
        expr: max by (room) (max_over_time(temperature_celsius[10m]))
        labels:
          note: 'a "quoted" \ value'
      - record: temperature_fahrenheit
        expr: temperature_celsius * 1.8 + 32
      - alert: TooHot
        expr: room:temperature_celsius:avg > 24
        for: 4m
        labels:
          severity: ticket
        annotations:
          summary: "{{ $labels.room }} is at {{ $value }} degrees"
"""


# The fixture.

def data_series(minute):
    """The input series at `minute` of the replay (negative: before it) and
    the counters' increase over one step: [(family, type, name, labels,
    value or increase, is_counter)], None values for absent series."""
    errors = 20 <= minute < 45              # HighErrorRate fires, resolves.
    down = 55 <= minute < 70                # InstanceDown fires, resolves.
    hot = 30 <= minute < 50                 # TooHot fires, resolves.
    step = round((minute * 60 + LEAD) / STEP)
    return [
        ("http_requests", "counter", "http_requests_total",
         {"job": "api", "instance": "a:80", "code": "200"}, 30, True),
        ("http_requests", "counter", "http_requests_total",
         {"job": "api", "instance": "b:80", "code": "200"}, 60, True),
        ("http_requests", "counter", "http_requests_total",
         {"job": "api", "instance": "a:80", "code": "500"},
         15 if errors else 0, True),
        # Gone after 40m: its recorded rates go stale.
        ("http_requests", "counter", "http_requests_total",
         {"job": "batch", "instance": "c:80", "code": "200"},
         10 if minute <= 40 else None, True),
        ("up", "gauge", "up", {"job": "api", "instance": "a:80"}, 1, False),
        ("up", "gauge", "up", {"job": "api", "instance": "b:80"},
         0 if down else 1, False),
        ("temperature_celsius", "gauge", "temperature_celsius",
         {"room": "lab", "sensor": "s1"}, 21.3 + 0.1 * (step % 7), False),
        ("temperature_celsius", "gauge", "temperature_celsius",
         {"room": "office", "sensor": "s2"}, 25.7 if hot else 22.5, False),
        ("temperature_celsius", "gauge", "temperature_celsius",
         {"room": 'hall "north"', "sensor": "s\\3"},
         19.9 + 0.05 * (step % 5), False),
    ]


def escape(value):
    """A label value as OpenMetrics and PromQL quote it."""
    return (value.replace("\\", "\\\\").replace('"', '\\"')
            .replace("\n", "\\n"))


def write_data(path, start):
    """OpenMetrics input for a replay starting at `start` (Unix seconds):
    samples every STEP seconds from LEAD before it to SPAN after it."""
    series = {}  # (family, type, name, labels) -> lines
    totals = {}
    for t in range(start - LEAD, start + SPAN + 1, STEP):
        for family, kind, name, labels, value, counter in data_series(
                (t - start) / 60):
            key = (family, kind, name, tuple(sorted(labels.items())))
            lines = series.setdefault(key, [])
            if value is None:
                continue
            if counter:
                totals[key] = totals.get(key, 0) + value
                value = totals[key]
            lines.append(f"{value!r} {t}")
    with open(path, "w") as f:
        family_seen = set()
        for (family, kind, name, labels), lines in series.items():
            if family not in family_seen:
                family_seen.add(family)
                f.write(f"# TYPE {family} {kind}\n")
            text = ",".join(f'{k}="{escape(v)}"' for k, v in labels)
            for line in lines:
                f.write(f"{name}{{{text}}} {line}\n")
        f.write("# EOF\n")


def write_fixtures(work, windows):
    """The rule file, and a data file for each window's start."""
    rules = os.path.join(work, "rules.yml")
    with open(rules, "w") as f:
        f.write(RULES)
    data = {}
    for name, start in windows.items():
        data[name] = os.path.join(work, f"data-{name}.om")
        write_data(data[name], start)
    return rules, data


# OpenMetrics, as promeval writes it.

def parse_labels(line, i):
    """The labels of `line` from just after its "{": (dict, index after
    the "}")."""
    labels = {}
    while True:
        while line[i] in ", ":
            i += 1
        if line[i] == "}":
            return labels, i + 1
        eq = line.index("=", i)
        name = line[i:eq].strip()
        if line[eq + 1] != '"':
            raise ValueError(f"unquoted label value: {line!r}")
        i, value = eq + 2, []
        while line[i] != '"':
            if line[i] == "\\":
                i += 1
                value.append({"n": "\n"}.get(line[i], line[i]))
            else:
                value.append(line[i])
            i += 1
        labels[name] = "".join(value)
        i += 1


def to_ms(seconds):
    """Unix seconds (a string or Decimal, maybe with a fraction) as
    milliseconds, exactly."""
    ms = decimal.Decimal(seconds) * 1000
    if ms != ms.to_integral_value():
        raise ValueError(f"timestamp {seconds} is not a whole millisecond")
    return int(ms)


def parse_openmetrics(text):
    """{series key: [(ms, float)]} of an OpenMetrics text (a series key is
    its sorted (name, value) label pairs, __name__ included), in order."""
    series = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        brace, space = line.find("{"), line.find(" ")
        if brace != -1 and brace < space:
            labels, end = parse_labels(line, brace + 1)
            name, rest = line[:brace], line[end:].split()
        else:
            labels, name, rest = {}, line[:space], line[space:].split()
        if len(rest) != 2:
            raise ValueError(f"not 'series value timestamp': {line!r}")
        labels["__name__"] = name
        key = tuple(sorted(labels.items()))
        series.setdefault(key, []).append((to_ms(rest[1]), float(rest[0])))
    return series


def read_output(path):
    with open(path) as f:
        return parse_openmetrics(f.read())


def sample_count(series):
    return sum(len(samples) for samples in series.values())


def show(key):
    """A series key as PromQL selects it."""
    return "{" + ",".join(f'{k}="{escape(v)}"' for k, v in key) + "}"


# The server.

def api(port, path, params):
    url = (f"http://127.0.0.1:{port}/api/v1/{path}?" +
           urllib.parse.urlencode(params))
    with urllib.request.urlopen(url, timeout=30) as r:
        answer = json.loads(r.read(), parse_float=decimal.Decimal)
    if answer.get("status") != "success":
        raise RuntimeError(f"{url}: {answer}")
    return answer["data"]["result"]


def time_param(ms):
    return f"{ms // 1000}.{ms % 1000:03d}"


def stored(port, start, end):
    """What Prometheus holds from `start` to `end` (Unix seconds):
    {series key: [(ms, float)]}, stale markers left out."""
    window = end - start + 60
    result = api(port, "query", {"query": f'{{__name__=~".+"}}[{window}s]',
                                 "time": str(end)})
    return {tuple(sorted(r["metric"].items())):
            [(to_ms(t), float(v)) for t, v in r["values"]] for r in result}


def at(port, key, ms):
    """The samples an instant query of the series gives at `ms`."""
    return [float(r["value"][1]) for r in
            api(port, "query", {"query": show(key), "time": time_param(ms)})]


def metric(port, name):
    """A number from Prometheus's own /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics",
                                timeout=30) as r:
        for line in r.read().decode().splitlines():
            if line.split(" ")[0] == name:
                return float(line.split(" ")[1])
    raise RuntimeError(f"no {name} in /metrics")


def write_url(port):
    return f"http://127.0.0.1:{port}/api/v1/write"


def check_stored(port, expected, start, end, what, failures):
    """Prometheus holds exactly `expected` (OUT) from `start` to `end`:
    the same series and non-NaN samples, and each NaN a stale marker.
    Returns (samples compared, stale markers checked)."""
    want = {k: [(t, v) for t, v in s if not math.isnan(v)]
            for k, s in expected.items()}
    want = {k: s for k, s in want.items() if s}
    got = stored(port, start, end)
    for key in sorted(set(want) | set(got)):
        if key not in got:
            failures.append(f"{what}: {show(key)} not stored "
                            f"({len(want[key])} samples in OUT)")
        elif key not in want:
            failures.append(f"{what}: {show(key)} stored, not in OUT "
                            f"({got[key][:3]}...)")
        elif got[key] != want[key]:
            diff = next((i for i, (g, w) in enumerate(zip(got[key], want[key]))
                         if g != w), min(len(got[key]), len(want[key])))
            failures.append(
                f"{what}: {show(key)}: stored {len(got[key])} samples, OUT "
                f"{len(want[key])}; from #{diff}: stored "
                f"{got[key][diff:diff + 2]}, OUT {want[key][diff:diff + 2]}")
    return sample_count(want), check_stale_markers(port, expected, what,
                                                   failures)


def check_stale_markers(port, expected, what, failures):
    """Each NaN of OUT is a stale marker in Prometheus: its series is
    absent at its time and, when the sample before it is within the
    lookback, that sample 1ms earlier. Returns how many were checked."""
    checked = 0
    for key, samples in expected.items():
        for i, (t, v) in enumerate(samples):
            if not math.isnan(v):
                continue
            checked += 1
            now = at(port, key, t)
            if now:
                failures.append(f"{what}: {show(key)} at {t}ms, its stale "
                                f"marker's time, gives {now}")
            if i == 0 or math.isnan(samples[i - 1][1]):
                continue
            before_t, before_v = samples[i - 1]
            if t - 1 - before_t < LOOKBACK_MS:
                before = at(port, key, t - 1)
                if before != [before_v]:
                    failures.append(
                        f"{what}: {show(key)} at {t - 1}ms gives {before}, "
                        f"not the sample at {before_t}ms ({before_v})")
    return checked


# promeval.

class Run:
    """One `promeval rules eval` run: its process result, the path of its
    --output, its remote write stats (None if none) and its seconds."""

    def __init__(self, proc, out, seconds):
        self.proc, self.out, self.seconds = proc, out, seconds
        self.stats = None
        for line in proc.stderr.splitlines():
            line = line.strip()
            if line.startswith("{"):
                try:
                    self.stats = json.loads(line).get("remoteWrite",
                                                      self.stats)
                except ValueError:
                    pass

    def describe(self):
        return (f"exit {self.proc.returncode}, stats {self.stats}, stderr "
                f"{self.proc.stderr[-600:]!r}")


def rules_eval(binary, work, name, rules, data, start, end, url, extra=()):
    """Replays `rules` over `data` from `start` to `end` (Unix seconds)
    with --output and --stats, remote writing to `url` (if any)."""
    out = os.path.join(work, f"{name}.om")
    args = [binary, "rules", "eval", "--data", data, "--start", str(start),
            "--end", str(end), "--output", out, "--stats"]
    if url:
        args += ["--remote-write", url, *extra]
    began = time.monotonic()
    proc = subprocess.run(args + [rules], capture_output=True, text=True,
                          timeout=120)
    return Run(proc, out, time.monotonic() - began)


def check_accepted(run, what, failures):
    """Exit 0, every sample of OUT sent and none failed, rejected or
    dropped. Returns OUT ({} if unreadable)."""
    try:
        out = read_output(run.out)
    except (OSError, ValueError) as e:
        failures.append(f"{what}: no readable --output ({e}); "
                        f"{run.describe()}")
        return {}
    s, n = run.stats or {}, sample_count(out)
    if (run.proc.returncode != 0 or s.get("samplesSent") != n or
            any(s.get(k) != 0 for k in ("samplesFailed", "samplesRejected",
                                        "samplesDropped"))):
        failures.append(f"{what}: expected exit 0 and {n} samples sent; "
                        f"{run.describe()}")
    return out


def check_not_written(run, url, what, failures, stderr_has=(), **stats):
    """Exit 1, the URL named and samples said not written on stderr
    (with `stderr_has` too), every sample of OUT counted once in the stats,
    and the stats satisfying `stats` (name: predicate). Returns OUT."""
    out = read_output(run.out) if os.path.exists(run.out) else {}
    s, n = run.stats or {}, sample_count(out)
    err = run.proc.stderr
    problems = []
    if run.proc.returncode != 1:
        problems.append("exit status not 1")
    if not all(w in err for w in ("remote write", url, "not written")):
        problems.append(f"stderr does not say 'remote write {url}: ... "
                        "not written'")
    problems += [f"stderr lacks {w!r}" for w in stderr_has
                 if w.lower() not in err.lower()]
    counted = sum(s.get(k, 0) for k in ("samplesSent", "samplesFailed",
                                        "samplesRejected", "samplesDropped"))
    if not s or counted != n:
        problems.append(f"{n} samples in OUT, {counted} counted in the stats")
    problems += [f"{k} is {s.get(k)}" for k, ok in stats.items()
                 if not ok(s.get(k, 0))]
    if problems:
        failures.append(f"{what}: {'; '.join(problems)}; {run.describe()}")
    return out


def check_fixture(out, failures):
    """The replay produced what the test is about: recorded series with
    labels (one with a quote and a backslash), a recorded series going
    stale, alerts pending, firing and resolving, ALERTS_FOR_STATE."""
    names = {dict(k)["__name__"] for k in out}
    alerts = {}
    for key, samples in out.items():
        labels = dict(key)
        if labels["__name__"] == "ALERTS" and labels["alertstate"] == "firing":
            alerts[labels["alertname"]] = (labels, samples)
    wanted = {
        "ALERTS_FOR_STATE written": "ALERTS_FOR_STATE" in names,
        "three alerts firing": set(alerts) == {"HighErrorRate", "InstanceDown",
                                               "TooHot"},
        "every firing alert resolved (a stale marker last)": all(
            math.isnan(s[-1][1]) for _, s in alerts.values()),
        "templated alert label": alerts.get("HighErrorRate", ({},))[0].get(
            "oncall") == "api-team",
        "a recorded series going stale": any(
            math.isnan(v) for k, s in out.items() if dict(k).get("job") ==
            "batch" and not dict(k)["__name__"].startswith("ALERTS")
            for _, v in s),
        "a label value with a quote and a backslash": any(
            dict(k).get("note") == 'a "quoted" \\ value' for k in out),
        "fractional values": any(v != int(v) for s in out.values()
                                 for _, v in s if math.isfinite(v)),
    }
    for what, ok in wanted.items():
        if not ok:
            failures.append(f"fixture: expected {what}")


# The cases.

class Totals:
    def __init__(self):
        self.runs = self.samples = self.stale = 0

    def add(self, compared):
        self.samples += compared[0]
        self.stale += compared[1]


def with_ooo_window(binary, work, rules, data, windows, totals, failures):
    """Case 1; returns the near replay's --output text (the reference)."""
    near, back, ancient = windows["near"], windows["back"], windows["ancient"]
    tsdb = os.path.join(work, "ooo-tsdb")
    os.makedirs(tsdb)
    with prometheus(work, tsdb, OOO_CONFIG, RECEIVER) as (port, _):
        url = write_url(port)
        run = rules_eval(binary, work, "ooo-near", rules, data["near"], near,
                         near + SPAN, url,
                         ("--remote-write-shards", "2",
                          "--remote-write-max-samples-per-send", "100"))
        out = check_accepted(run, "OOO server, near now", failures)
        check_fixture(out, failures)
        totals.add(check_stored(port, out, near, near + SPAN,
                                "OOO server, near now", failures))
        reference = open(run.out).read() if os.path.exists(run.out) else ""

        again = rules_eval(binary, work, "ooo-near-again", rules,
                           data["near"], near, near + SPAN, url)
        check_accepted(again, "OOO server, near now sent again", failures)
        totals.add(check_stored(port, out, near, near + SPAN,
                                "OOO server, after sending again", failures))

        ooo_before = metric(port, OOO_APPENDED)
        run = rules_eval(binary, work, "ooo-back", rules, data["back"], back,
                         back + SPAN, url)
        out_back = check_accepted(run, "OOO server, 4 days back", failures)
        totals.add(check_stored(port, out_back, back, back + SPAN,
                                "OOO server, 4 days back", failures))
        ooo = metric(port, OOO_APPENDED) - ooo_before
        if ooo != sample_count(out_back):
            failures.append(f"OOO server, 4 days back: {ooo:g} samples "
                            f"appended out of order, not "
                            f"{sample_count(out_back)}")
        check_stored(port, out, near, near + SPAN,
                     "OOO server, near now after 4 days back", failures)

        run = rules_eval(binary, work, "ooo-ancient", rules, data["ancient"],
                         ancient, ancient + SPAN, url,
                         ("--remote-write-retry-limit", "2"))
        check_not_written(run, url, "OOO server, 40 days back (HTTP 500)",
                          failures, ("500",),
                          samplesSent=lambda n: n == 0,
                          samplesFailed=lambda n: n > 0,
                          retries=lambda n: n > 0)
        if stored(port, ancient, ancient + SPAN):
            failures.append("OOO server: samples stored 40 days back")
        totals.runs += 4
    print(f"out-of-order window: replays near now, again, 4 days back "
          f"accepted and stored exactly; 40 days back failed")
    return reference


def without_ooo_window(binary, work, rules, data, windows, totals, failures):
    """Cases 2 and 3."""
    near, back = windows["near"], windows["back"]
    tsdb = os.path.join(work, "plain-tsdb")
    os.makedirs(tsdb)
    with prometheus(work, tsdb, PLAIN_CONFIG, RECEIVER) as (port, _):
        url = write_url(port)
        run = rules_eval(binary, work, "plain-short", rules, data["near"],
                         near, near + SHORT, url)
        out = check_accepted(run, "plain server, 50m near now", failures)
        totals.add(check_stored(port, out, near, near + SHORT,
                                "plain server, 50m near now", failures))

        again = rules_eval(binary, work, "plain-short-again", rules,
                           data["near"], near, near + SHORT, url)
        check_not_written(again, url, "plain server, 50m sent again",
                          failures, ("400", "rejected"),
                          samplesRejected=lambda n: n > 0,
                          retries=lambda n: n == 0)
        check_stored(port, out, near, near + SHORT,
                     "plain server, after sending again", failures)

        run = rules_eval(binary, work, "plain-back", rules, data["back"],
                         back, back + SPAN, url)
        check_not_written(run, url, "plain server, 4 days back", failures,
                          ("400", "rejected"),
                          samplesSent=lambda n: n == 0,
                          samplesRejected=lambda n: n > 0,
                          retries=lambda n: n == 0)
        if stored(port, back, back + SPAN):
            failures.append("plain server: samples stored 4 days back")
        totals.runs += 3

    print("no out-of-order window: 50m accepted and stored exactly, refused "
          "when sent again and 4 days back")

    tsdb = os.path.join(work, "plain-long-tsdb")
    os.makedirs(tsdb)
    with prometheus(work, tsdb, PLAIN_CONFIG, RECEIVER) as (port, _):
        url = write_url(port)
        run = rules_eval(binary, work, "plain-long", rules, data["near"],
                         near, near + SPAN, url)
        what = "plain server, 100m near now"
        out = check_accepted(run, what, failures)
        totals.add(check_stored(port, out, near, near + SPAN, what, failures))
        print("no out-of-order window: 100m accepted, stored exactly")
        totals.runs += 1


def without_receiver(binary, work, rules, data, windows, totals, failures):
    """Case 4."""
    near = windows["near"]
    tsdb = os.path.join(work, "no-receiver-tsdb")
    os.makedirs(tsdb)
    with prometheus(work, tsdb, PLAIN_CONFIG) as (port, _):
        url = write_url(port)
        run = rules_eval(binary, work, "no-receiver", rules, data["near"],
                         near, near + SPAN, url)
        check_not_written(run, url, "no receiver (HTTP 404)", failures,
                          ("404", "rejected"),
                          samplesSent=lambda n: n == 0,
                          samplesRejected=lambda n: n > 0,
                          retries=lambda n: n == 0)
    totals.runs += 1
    print("no receiver: HTTP 404, rejected without retries")


def nothing_listening(binary, work, rules, data, windows, reference, totals,
                      failures):
    """Case 5."""
    near = windows["near"]
    url = write_url(free_port())
    run = rules_eval(binary, work, "unreachable", rules, data["near"], near,
                     near + SPAN, url, ("--remote-write-retry-limit", "2"))
    check_not_written(run, url, "nothing listening", failures,
                      samplesSent=lambda n: n == 0,
                      retries=lambda n: n > 0)
    if run.seconds >= 60:
        failures.append(f"nothing listening: took {run.seconds:.1f}s")
    written = open(run.out).read() if os.path.exists(run.out) else None
    if written != reference:
        failures.append("nothing listening: --output "
                        f"{'missing' if written is None else 'differs'} "
                        "(expected the replay's series, as when accepted)")
    totals.runs += 1
    print(f"nothing listening: failed in {run.seconds:.2f}s, --output "
          "written")


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__)
        return 2
    binary = os.path.abspath(sys.argv[1])
    # A few hours before now, on the hour; the same 4 and 40 days back.
    near = int(time.time()) // 3600 * 3600 - 3 * 3600
    windows = {"near": near, "back": near - 4 * 86400,
               "ancient": near - 40 * 86400}
    failures, totals = [], Totals()
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="promeval-remote-write-") as work:
        rules, data = write_fixtures(work, windows)
        reference = with_ooo_window(binary, work, rules, data, windows,
                                    totals, failures)
        without_ooo_window(binary, work, rules, data, windows, totals,
                           failures)
        without_receiver(binary, work, rules, data, windows, totals, failures)
        nothing_listening(binary, work, rules, data, windows, reference,
                          totals, failures)
    for f in failures:
        print("FAIL", f)
    print(f"remote write: {totals.runs} replays, {totals.samples} stored "
          f"samples and {totals.stale} stale markers compared with --output "
          f"in {time.monotonic() - began:.1f}s; {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
