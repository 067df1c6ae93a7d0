#!/usr/bin/env bash
# End-to-end checks of the promeval command line: output, exit codes, error
# positions with the caret line. Usage: cli_test.sh path/to/promeval
set -u
bin="$1"
failures=0

# expect NAME EXPECTED_EXIT EXPECTED_OUTPUT -- ARGS...
expect() {
  local name="$1" want_code="$2" want_out="$3"
  shift 4
  local out code
  out=$("$bin" "$@" 2>&1)
  code=$?
  if [ "$code" != "$want_code" ] || [ "$out" != "$want_out" ]; then
    echo "FAIL $name: exit $code (want $want_code)"
    echo "--- got:"; echo "$out"; echo "--- want:"; echo "$want_out"
    failures=$((failures + 1))
  fi
}

expect canonical 0 'sum by (job) (rate(http_requests_total{job="api"}[5m]))' -- \
  parse 'sum(rate(http_requests_total{job="api"}[5m])) by (job)'

expect negative-literal 0 '-Inf' -- parse -- -Inf

expect tree 0 ' |---- BinaryExpr <0:7> :: foo + 1
 · · · |---- VectorSelector <0:3> :: foo
 · · · |---- NumberLiteral <6:7> :: 1' -- parse --tree 'foo + 1'

expect syntax-error 1 '1:11: parse error: unexpected identifier "c" in label matching, expected "," or "}"
  foo{a="b" c="d"}
            ^' -- parse 'foo{a="b" c="d"}'

expect all-errors 1 '1:6: parse error: expected type range vector in call to function "rate", got instant vector
  rate(foo) + abs(bar[5m])
       ^
1:17: parse error: expected type instant vector in call to function "abs", got range vector
  rate(foo) + abs(bar[5m])
                  ^' -- parse 'rate(foo) + abs(bar[5m])'

expect multiline-error 1 '2:7: parse error: unexpected identifier "bar" in aggregation
    foo bar
        ^' -- parse 'sum(
  foo bar
)'

expect feature-off 1 '1:5: parse error: experimental duration expression is not enabled
  foo[5m+1m]
      ^' -- parse 'foo[5m+1m]'

expect feature-on 0 'foo[5m + 1m]' -- parse --enable-feature=promql-duration-expr 'foo[5m+1m]'

expect feature-list 0 'limitk(1, foo offset (1m + 1m))' -- \
  parse --enable-feature=promql-duration-expr,promql-experimental-functions 'limitk(1, foo offset (1m+1m))'

expect unknown-feature 2 'promeval parse: unknown feature no-such-thing' -- \
  parse --enable-feature=no-such-thing 'foo'

out=$("$bin" parse 2>&1); code=$?
if [ "$code" = 0 ] || ! grep -q "expr is required" <<<"$out"; then
  echo "FAIL missing-expr: exit $code: $out"; failures=$((failures + 1))
fi

out=$("$bin" --version 2>&1); code=$?
if [ "$code" != 0 ] || ! grep -q "^promeval [0-9]" <<<"$out"; then
  echo "FAIL version: $out"; failures=$((failures + 1))
fi

for args in "--help" "parse --help"; do
  out=$("$bin" $args 2>&1); code=$?
  if [ "$code" != 0 ] || ! grep -q "Usage" <<<"$out"; then
    echo "FAIL help ($args): $out"; failures=$((failures + 1))
  fi
done

out=$("$bin" 2>&1); code=$?
if [ "$code" = 0 ]; then echo "FAIL no-subcommand: exit 0"; failures=$((failures + 1)); fi

if [ "$failures" -ne 0 ]; then
  echo "$failures CLI check(s) failed"
  exit 1
fi
echo "all CLI checks passed"
