"""Helpers shared by the bench/compare_*.py scripts and bench/run_all.

Paths of the project and of ../shared/bench, running a command for its wall
time and peak RSS, eval_benchmark's range-query times, interleaved repeats and their medians, a loopback
`prometheus` server, temporary work directories and markdown tables.

Each compare script has a function returning structured rows, one dict per
workload, with these keys:
  workload        what was measured (markdown text);
  promeval        promeval's median, in `unit`;
  reference       the reference tool's median, in `unit`;
  unit            "s" (wall time), "MB" (peak RSS) or "MB/s" (throughput);
  reference_tool  what the reference column measured;
  ratio           how many times better promeval is: reference / promeval
                  for time and memory, promeval / reference for throughput;
  target          the target as text, or None for a row shown for context;
  met             whether the target is met, or None without a target.
Rows may carry more keys for their script's own output.

Not a command: import it from a script in bench/.
"""
import collections
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED_BENCH = os.path.join(ROOT, "..", "shared", "bench")
DEFAULT_BUILD = os.path.join(ROOT, "build")


class BenchError(Exception):
    """A missing binary or tool: the comparison cannot run."""


def require_tools(*tools):
    """Raises BenchError unless every tool is on PATH."""
    for tool in tools:
        if shutil.which(tool) is None:
            raise BenchError(f"{tool} not found (Debian package prometheus)")


def require_binary(path, hint="build first"):
    """Returns path; raises BenchError if it does not exist."""
    if not os.path.exists(path):
        raise BenchError(f"{path} not found: {hint}")
    return path


def generate(script, *args):
    """Runs a workload generator (a Python script) with args."""
    subprocess.run([sys.executable, script] + [str(a) for a in args], check=True)


# One finished command: wall seconds, peak RSS in KB, its stdout (None unless
# captured) and its stderr.
Run = collections.namedtuple("Run", "wall rss_kb stdout stderr")


def run_measured(cmd, capture=False):
    """Runs cmd under /usr/bin/time -f %M; returns a Run.

    Raises RuntimeError if cmd fails. stdout is discarded unless capture;
    stderr is always kept (for errors and for what the command reports
    there), without /usr/bin/time's own output, which goes to a file.
    """
    with tempfile.NamedTemporaryFile("r", prefix="promeval-time-") as rss_file:
        start = time.monotonic()
        proc = subprocess.run(
            ["/usr/bin/time", "-f", "%M", "-o", rss_file.name] + cmd,
            stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True)
        wall = time.monotonic() - start
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr}")
        rss_kb = int(rss_file.read().strip().splitlines()[-1])
    return Run(wall, rss_kb, proc.stdout, proc.stderr)


def interleave(repeats, measures):
    """Runs each (name, function) of measures once per round, in order, for
    `repeats` rounds, so that machine noise affects all of them alike.
    Returns a dict name -> list of the function's results."""
    results = {name: [] for name, _ in measures}
    for _ in range(repeats):
        for name, measure in measures:
            results[name].append(measure())
    return results


def eval_benchmark(binary, queries, *args):
    """Runs eval_benchmark's BM_RangeQuery over queries (--query each) with
    further args (a --benchmark_filter narrows it); returns its benchmark
    entries (JSON), each with real_time in milliseconds. Raises RuntimeError
    if a query failed."""
    out = subprocess.run(
        [binary] + [f"--query={q}" for q in queries] +
        ["--benchmark_filter=BM_RangeQuery", "--benchmark_format=json"] + list(args),
        check=True, capture_output=True, text=True).stdout
    benches = json.loads(out)["benchmarks"]
    for bench in benches:
        if bench.get("error_occurred"):
            raise RuntimeError(f"eval_benchmark: {bench.get('error_message')}")
        if bench["time_unit"] != "ms":
            raise RuntimeError(f"eval_benchmark: time unit {bench['time_unit']}")
    return benches


def median(values):
    """The median of a non-empty sequence of numbers."""
    return statistics.median(values)


@contextlib.contextmanager
def work_dir(prefix, keep=None):
    """A directory for generated data: `keep` if given (created, and left in
    place), else a new temporary one removed afterwards."""
    if keep:
        os.makedirs(keep, exist_ok=True)
        yield keep
        return
    path = tempfile.mkdtemp(prefix=prefix)
    try:
        yield path
    finally:
        shutil.rmtree(path)


def wait_ready(port, proc):
    """Waits until the prometheus at 127.0.0.1:port answers /-/ready."""
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


@contextlib.contextmanager
def prometheus_server(work, tsdb, port, flags=()):
    """A `prometheus` serving the TSDB at tsdb on 127.0.0.1:port (its config
    file is written in work; `flags` added to its command line), ready when
    entered, stopped on exit."""
    config = os.path.join(work, "prometheus.yml")
    with open(config, "w") as f:
        f.write("global:\n  scrape_interval: 1h\n")
    proc = subprocess.Popen(
        ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={tsdb}",
         "--storage.tsdb.retention.time=100y", f"--web.listen-address=127.0.0.1:{port}",
         *flags],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(port, proc)
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait()


def print_table(header, rows, align, file=None):
    """Prints a markdown table: header and rows are sequences of cells,
    align one letter per column ("l" left, "r" right)."""
    def line(cells):
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"
    print(line(header), file=file)
    print("|" + "|".join("---:" if a == "r" else "---" for a in align) + "|", file=file)
    for row in rows:
        print(line(row), file=file)


def format_value(value, unit):
    """A measured value for a table: seconds below 1 as ms; other units
    with two decimals below 100."""
    if unit == "s":
        if value < 1:
            return f"{value * 1000:.2f} ms"
        return f"{value:.2f} s"
    if value < 100:
        return f"{value:.2f} {unit}"
    return f"{value:.0f} {unit}"
