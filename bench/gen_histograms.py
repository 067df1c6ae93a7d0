#!/usr/bin/env python3
"""Classic-histogram benchmark data, the same bytes as HistogramOpenMetrics()
in bench/thanos_workload.h: per pod one http_request_duration_seconds
histogram with 11 buckets, a sample every 30s for 6h from 1700000000s.

usage: bench/gen_histograms.py OUT.om [PODS]   (default 100 pods)
"""
import sys

T0 = 1700000000
BOUNDS = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "+Inf"]


def main():
    out = sys.argv[1]
    pods = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    with open(out, "w") as f:
        f.write("# TYPE http_request_duration_seconds histogram\n")
        for p in range(pods):
            for b, le in enumerate(BOUNDS):
                f.writelines(
                    f'http_request_duration_seconds_bucket{{pod="p{p}",le="{le}"}} '
                    f"{i * (b + 1 + p % 4)} {T0 + i * 30}\n" for i in range(720))
        f.write("# EOF\n")


if __name__ == "__main__":
    main()
