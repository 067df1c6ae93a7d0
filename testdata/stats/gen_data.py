#!/usr/bin/env python3
"""Writes the OpenMetrics data of the sample-accounting comparison
(tests/prometheus_stats_test.py) to stdout.

Two hours from 1700000000 (2023-11-14T22:13:20Z): every sample is off the
30s grid of the queries' steps and of their 1m subquery steps (timestamps
end in 7, 3 or 11 seconds past a multiple of 15s or 2m), so no sample sits
on a window's edge, where Prometheus 2.42's closed windows and 3.x's
left-open ones differ. Series start and stop at different times so that
the samples per step vary.
"""
BASE = 1700000000
END = BASE + 7200


def family(out, name, kind, series):
    out.append(f"# TYPE {name} {kind}")
    for labels, offset, every, start, stop, value in series:
        t = BASE + offset + start
        k = 0
        while t <= min(END, BASE + stop):
            out.append(f"{name}{{{labels}}} {value(k)} {t}")
            t += every
            k += 1


def main():
    out = []
    family(out, "x", "gauge", [
        (f'i="{i}"', 7, 15, 0, 7200, lambda k, i=i: (i + 1) * k % 97)
        for i in range(10)])
    family(out, "y", "gauge", [
        (f'i="{i}"', 7, 15, 0, 7200, lambda k, i=i: k * 0.5 + i)
        for i in range(10)])
    family(out, "c", "counter", [
        (f'instance="{n}",job="{j}"', 3, 15, 0, 7200,
         lambda k, n=n: (k % (40 + 7 * n)) * (n + 1))
        for j in ("a", "b") for n in range(5)])
    # Every 2m, each series only part of the time.
    family(out, "sparse", "gauge", [
        (f'i="{i}"', 11, 120, 600 * i, 3000 + 900 * i, lambda k, i=i: k + i)
        for i in range(4)])
    # Series that start or stop inside the queries' range.
    family(out, "late", "gauge", [
        (f'i="{i}"', 7, 15, 1200 + 300 * i, 7200, lambda k: k)
        for i in range(5)])
    family(out, "early", "gauge", [
        (f'i="{i}"', 7, 15, 0, 1500 + 300 * i, lambda k: 2 * k)
        for i in range(5)])
    bounds = ("0.1", "0.5", "1", "+Inf")
    family(out, "h", "histogram", [
        (f'job="{j}",le="{le}"', 3, 15, 0, 7200,
         lambda k, b=b, j=j: k * (b + 1) * (2 if j == "b" else 1))
        for j in ("a", "b") for b, le in enumerate(bounds)])
    out.append("# EOF")
    print("\n".join(out))


if __name__ == "__main__":
    main()
