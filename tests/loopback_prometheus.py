"""A loopback `prometheus` (the Debian package, 2.42) for the Python tests
that compare promeval with it: tests/prometheus_stats_test.py and
tests/tsdb_diff_test.py.

Not a test: imported by them (they run with tests/ on sys.path).
"""
import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.request


def free_port():
    """A TCP port on 127.0.0.1 nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def prometheus(work, tsdb, config_text="global:\n  scrape_interval: 1h\n",
               extra=()):
    """A prometheus serving `tsdb` on a free loopback port (its config file
    and log written in `work`; "PORT" in `config_text` is its own port;
    `extra` flags added), ready when entered; yields (port, process) and
    stops it by its pid on exit, whatever happens."""
    port = free_port()
    config = os.path.join(work, f"prometheus-{port}.yml")
    with open(config, "w") as f:
        f.write(config_text.replace("PORT", str(port)))
    log = open(os.path.join(work, f"prometheus-{port}.log"), "w")
    proc = subprocess.Popen(
        ["prometheus", f"--config.file={config}",
         f"--storage.tsdb.path={tsdb}", "--storage.tsdb.retention.time=100y",
         f"--web.listen-address=127.0.0.1:{port}", *extra],
        stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"prometheus exited; see {log.name}")
            try:
                with urllib.request.urlopen(
                        f"http://127.0.0.1:{port}/-/ready", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("prometheus did not become ready")
            time.sleep(0.2)
        yield port, proc
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()
