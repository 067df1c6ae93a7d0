#!/usr/bin/env python3
"""A rule file whose expressions all have different shapes.

usage: bench/gen_distinct_rule_file.py OUT.yml [RULES]   (default 10,000)

Like ../shared/bench/gen_rule_file.py (groups of 100 recording and alerting
rules, the alerts with templated annotations), but every expression is a
random tree of aggregations, functions, binary operators with matching,
selectors with 0 to 4 matchers, ranges, subqueries and offsets, drawn until
its sequence of token kinds has not been seen: no rule can reuse another's
parse (the worst case for `promeval check rules`, whose parser reuses the
parse of an expression written like an earlier one).
"""
import random
import re
import sys

AGGS = ["sum", "avg", "min", "max", "count", "group", "stddev"]
RANGE_FUNCS = ["rate", "increase", "delta", "avg_over_time", "max_over_time"]
FUNCS = ["abs", "ceil", "floor", "sqrt", "ln", "exp"]
BINOPS = ["+", "-", "*", "/", "%", ">", "<", "==", "and", "or", "unless"]
LABELS = ["job", "instance", "pod", "namespace", "code", "env", "le"]
MATCH_OPS = ["=", "!=", "=~", "!~"]
DURATIONS = ["1m", "5m", "10m", "1h", "30s", "2h"]


def selector(rng, i):
    matchers = ", ".join(
        f'{rng.choice(LABELS)}{rng.choice(MATCH_OPS)}"v{rng.randint(0, 9)}"'
        for _ in range(rng.randint(0, 4)))
    s = f"m_{i}_{rng.randint(0, 99)}_total"
    return f"{s}{{{matchers}}}" if matchers else s


def expr(rng, i, depth):
    k = rng.randint(0, 6 if depth > 0 else 1)
    if k <= 1:
        s = selector(rng, i)
        if rng.random() < 0.3:
            s += f" offset {rng.choice(DURATIONS)}"
        return s
    if k == 2:
        return f"{rng.choice(RANGE_FUNCS)}({selector(rng, i)}[{rng.choice(DURATIONS)}])"
    if k == 3:
        return f"{rng.choice(FUNCS)}({expr(rng, i, depth - 1)})"
    if k == 4:
        grouping = ", ".join(rng.sample(LABELS, rng.randint(0, 3)))
        mod = rng.choice(["by", "without"])
        return f"{rng.choice(AGGS)} {mod} ({grouping}) ({expr(rng, i, depth - 1)})"
    if k == 5:
        op = rng.choice(BINOPS)
        matching = ""
        if rng.random() < 0.5:
            labels = ", ".join(rng.sample(LABELS, rng.randint(1, 3)))
            matching = f" {rng.choice(['on', 'ignoring'])} ({labels})"
        return f"{expr(rng, i, depth - 1)} {op}{matching} {expr(rng, i, depth - 1)}"
    return (f"max_over_time(({expr(rng, i, depth - 1)})"
            f"[{rng.choice(DURATIONS)}:{rng.choice(['1m', '30s'])}])")


def shape(text):
    """The kinds of the tokens, as the parser sees them (names, strings and
    numbers generalized; keywords, operators and punctuation kept)."""
    text = re.sub(r'"[^"]*"', "S", text)
    text = re.sub(r"\b\d+[smhdwy]\b", "D", text)
    text = re.sub(r"\b(?!(?:" + "|".join(AGGS + ["by", "without", "on", "ignoring",
                                                   "offset", "and", "or", "unless"])
                  + r")\b)[a-z_][a-z0-9_]*", "N", text)
    return text


def main():
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    rng = random.Random(11)
    seen = set()
    with open(out, "w") as f:
        f.write("groups:\n")
        for i in range(n):
            if i % 100 == 0:
                f.write(f"- name: g{i // 100}\n  interval: 1m\n  rules:\n")
            while True:
                e = expr(rng, i, 3)
                if shape(e) not in seen:
                    seen.add(shape(e))
                    break
            e = e.replace("'", "''")
            if i % 4 == 3:
                f.write(f"  - alert: A{i}\n    expr: '{e} > 0'\n    for: 5m\n"
                        f"    annotations:\n"
                        f"      summary: 'Value {{{{ $value }}}} on {{{{ $labels.job }}}}'\n")
            else:
                f.write(f"  - record: r:m{i}\n    expr: '{e}'\n")


if __name__ == "__main__":
    main()
