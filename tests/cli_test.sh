#!/usr/bin/env bash
# End-to-end checks of the promeval command line: output, exit codes, error
# positions with the caret line. Usage: cli_test.sh path/to/promeval
set -u
bin="$1"
data="$(cd "$(dirname "$0")/../testdata/cli" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
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

# A misspelt subcommand: the nearest one, exit 2 (testdata/bad/args has more).
expect unknown-command 2 'promeval: unknown command "querry"; did you mean "query"?' -- querry up
expect unknown-subcommand 2 'promeval check: unknown command "rulez"; did you mean "rules"?' -- check rulez

# promeval query / query-range: the Prometheus API JSON body, text lines,
# errors. The expected bodies are what Prometheus's /api/v1/query returns for
# the same data (checked against a loopback prometheus).
expect query-json 0 '{"status":"success","data":{"resultType":"vector","result":[{"metric":{"code":"200"},"value":[1700000060,"160"]},{"metric":{"code":"500"},"value":[1700000060,"1"]}]}}' -- \
  query --data "$data/requests.om" --time 1700000060 --format json 'sum by (code) (http_requests_total)'

# Without --time: the newest sample's time (1700000060.5).
expect query-default-time 0 'http_requests_total{code="500", job="api"} => 4 @[1700000060.5]' -- \
  query --data "$data/requests.om" 'http_requests_total{code="500"}'

expect query-rfc3339 0 'scalar: 2 @[1700000060]' -- \
  query --data "$data/requests.om" --time 2023-11-14T22:14:20Z 'scalar(count(http_requests_total))'

expect query-range-json 0 '{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"http_requests_total","code":"200","job":"api"},"values":[[1700000000,"100"],[1700000030,"100"],[1700000060,"160"]]}]}}' -- \
  query-range --data "$data/requests.om" --start 1700000000 --end 1700000060 --step 30s \
  --format json 'http_requests_total{code="200"}'

expect query-bad-data 1 '{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:5: parse error: unclosed left parenthesis"}' -- \
  query --data "$data/requests.om" --format json 'sum('

# In text, parse errors print as `promeval parse` prints them.
expect query-bad-data-text 1 'promeval query: 1:5: parse error: unclosed left parenthesis
  sum(
      ^' -- query --data "$data/requests.om" 'sum('

expect query-execution-error 1 '{"status":"error","errorType":"execution","error":"vector cannot contain metrics with the same labelset"}' -- \
  query --data "$data/requests.om" --format json 'label_replace(http_requests_total, "code", "x", "", "")'

expect query-range-end-before-start 1 '{"status":"error","errorType":"bad_data","error":"invalid parameter \"end\": end timestamp must not be before start time"}' -- \
  query-range --data "$data/requests.om" --start 100 --end 50 --step 10 --format json 'up'

expect query-scalar-json 0 '{"status":"success","data":{"resultType":"scalar","result":[1700000060.5,"3.5"]}}' -- \
  query --data "$data/requests.om" --time 1700000060.5 --format json '7 / 2'

expect query-bad-file 1 "promeval query: $data/bad.om:3:15: invalid value \"one\"" -- \
  query --data "$data/bad.om" up

expect query-series-script 0 'up{job="api"} => 0 @[120]
up{job="web"} => 1 @[120]' -- query --data "$data/series.load" --time 120 up

expect query-lookback 0 'up{job="api"} => 1 @[200]' -- \
  query --data "$data/series.load" --time 200 --lookback-delta 30s 'up{job="api"}'

out=$("$bin" query --data "$data/requests.om" --stats 'count(http_requests_total)' 2>&1 >/dev/null)
if ! grep -Eq '^\{"loadSeconds":[0-9.]+,"evalSeconds":[0-9.]+,"outputSeconds":[0-9.]+,"samplesRead":[0-9]+,"peakSamples":[0-9]+,"totalQueryableSamples":[0-9]+,"peakBytes":[0-9]+,"remoteRequests":0,"remoteBytes":0,"remoteTransferSeconds":[0-9.]+,"remoteDecodeSeconds":[0-9.]+\}$' <<<"$out"; then
  echo "FAIL query-stats: $out"; failures=$((failures + 1))
fi

# Limits: the same query under and over each limit (testdata/bad/args has
# more failing cases).
expect query-under-byte-limit 0 '{} => 6 @[120]' -- \
  query --data "$data/series.load" --time 120 --max-query-bytes 1MiB 'count(up) * 3'
expect query-over-byte-limit 1 'promeval query: 1:7: query processing would use more than 200 bytes of memory in query execution (the query byte limit)
  count(up) * 3
        ^' -- \
  query --data "$data/series.load" --time 120 --max-query-bytes 200 'count(up) * 3'
expect query-under-sample-limit 0 '{} => 2 @[120]' -- \
  query --data "$data/series.load" --time 120 --max-samples 2 'count(up)'
expect query-over-sample-limit 1 'promeval query: 1:7: query processing would load too many samples into memory in query execution
  count(up)
        ^' -- \
  query --data "$data/series.load" --time 120 --max-samples 1 'count(up)'
expect query-no-timeout 0 '{} => 2 @[120]' -- \
  query --data "$data/series.load" --time 120 --timeout 0 'count(up)'
expect query-single-worker 0 '{} => 2 @[120]' -- \
  query --data "$data/series.load" --time 120 --workers 1 'count(up)'

# promeval test: summary line and exit code.
expect test-pass 0 'conformance: 2 passed, 0 failed, 0 skipped of 2' -- test "$data/passing.test"

expect test-fail 1 "$data/failing.test:4: eval instant at 2m up: expected 1 for {__name__=\"up\", job=\"api\"} but got 0
conformance: 2 passed, 1 failed, 0 skipped of 3" -- test "$data/failing.test" "$data/passing.test"

# promeval check rules: promtool check rules's output and exit codes (0 ok or
# lint findings only, 1 errors, 3 lint findings with --lint-fatal).
rules="$(cd "$(dirname "$0")/../testdata/rules" && pwd)"

expect check-rules-ok 0 "Checking $rules/basic.good.yaml
  SUCCESS: 4 rules found" -- check rules "$rules/basic.good.yaml"

expect check-rules-errors 1 "Checking $rules/basic.good.yaml
  SUCCESS: 4 rules found

Checking $rules/record_and_alert.bad.yaml
  FAILED:
$rules/record_and_alert.bad.yaml: 4:17: 5:16: group \"kinds\", rule 1, \"BothAlert\": only one of 'record' and 'alert' must be set
$rules/record_and_alert.bad.yaml: 7:9: group \"kinds\", rule 2, \"\": one of 'record' or 'alert' must be set
$rules/record_and_alert.bad.yaml: 10:17: group \"kinds\", rule 3, \"\": one of 'record' or 'alert' must be set
Checking $rules/empty.good.yaml
  SUCCESS: 0 rules found" -- \
  check rules "$rules/basic.good.yaml" "$rules/record_and_alert.bad.yaml" "$rules/empty.good.yaml"

lint_out="Checking $rules/duplicates.good.yaml
  FAILED:
lint error 3 duplicate rule(s) found.
Metric: a:first
Label(s):
Metric: job:up:sum
Label(s):
	env: prod
Metric: z:last
Label(s):
Might cause inconsistency while recording expressions"
expect check-rules-lint 0 "$lint_out" -- check rules "$rules/duplicates.good.yaml"
expect check-rules-lint-fatal 3 "$lint_out" -- check rules --lint-fatal "$rules/duplicates.good.yaml"
expect check-rules-lint-none 0 "Checking $rules/duplicates.good.yaml
  SUCCESS: 8 rules found" -- check rules --lint=none --lint-fatal "$rules/duplicates.good.yaml"
expect check-rules-lint-unknown 0 "WARNING: unknown lint option bogus
Checking $rules/basic.good.yaml
  SUCCESS: 4 rules found" -- check rules --lint=bogus "$rules/basic.good.yaml"

expect check-rules-unknown-fields 1 "Checking $rules/unknown_fields.bad.yaml
  FAILED:
$rules/unknown_fields.bad.yaml: 1:1: field version not found in type rulefmt.RuleGroups
$rules/unknown_fields.bad.yaml: 4:5: field owner not found in type rulefmt.RuleGroup
$rules/unknown_fields.bad.yaml: 8:9: field description not found in type rulefmt.Rule
$rules/unknown_fields.bad.yaml: 11:9: field severity not found in type rulefmt.Rule" -- \
  check rules "$rules/unknown_fields.bad.yaml"
expect check-rules-ignore-unknown-fields 0 "Checking $rules/unknown_fields.bad.yaml
  SUCCESS: 2 rules found" -- check rules --ignore-unknown-fields "$rules/unknown_fields.bad.yaml"

expect check-rules-empty-file 0 "Checking /dev/null
  SUCCESS: 0 rules found" -- check rules /dev/null
expect check-rules-missing-file 1 "promeval: error: path '$rules/nope.yaml' does not exist" -- \
  check rules "$rules/basic.good.yaml" "$rules/nope.yaml"

out=$("$bin" check rules < "$rules/basic.good.yaml" 2>&1); code=$?
if [ "$code" != 0 ] || [ "$out" != "Checking standard input
  SUCCESS: 4 rules found" ]; then
  echo "FAIL check-rules-stdin: exit $code: $out"; failures=$((failures + 1))
fi
out=$(printf 'groups:\n  - name: g\n    rules:\n      - record: x\n        expr: sum(\n' |
  "$bin" check rules 2>&1); code=$?
if [ "$code" != 1 ] || [ "$out" != "Checking standard input
  FAILED:
5:15: group \"g\", rule 1, \"x\": could not parse expression: 1:5: parse error: unclosed left parenthesis" ]; then
  echo "FAIL check-rules-stdin-error: exit $code: $out"; failures=$((failures + 1))
fi
out=$(echo 'groups: [{name: g, rules: [{record: x, expr: "foo[5m+1m]"}]}]' |
  "$bin" check rules --enable-feature=promql-duration-expr 2>&1); code=$?
if [ "$code" != 0 ] || [ "$out" != "Checking standard input
  SUCCESS: 1 rules found" ]; then
  echo "FAIL check-rules-feature: exit $code: $out"; failures=$((failures + 1))
fi

# promeval test rules: promtool's unit-test files, outcomes and exit codes.
unit="$(cd "$data/../rules/tests" && pwd)"
expect test-rules-pass 0 "Unit Testing:  $unit/alerts.test.yml
  SUCCESS" -- test rules "$unit/alerts.test.yml"

expect test-rules-fail 1 "Unit Testing:  $data/rules/failing.test.yml
  FAILED:
    test group 1 (\"wrong expectations\"): alert \"HighErrors\" at 4m: expected 0 firing, got 1 (- expected, + got)
        + {alertname=\"HighErrors\", instance=\"a\", severity=\"page\"} annotations {summary=\"a has 12 errors\"}
    test group 1 (\"wrong expectations\"): expr \"errors_total\" at 1m: expected 1 samples, got 1 (- expected, + got)
        - {__name__=\"errors_total\", instance=\"a\"} 4
        + {__name__=\"errors_total\", instance=\"a\"} 3" -- test rules "$data/rules/failing.test.yml"

expect test-rules-single-threaded 0 "Unit Testing:  $unit/alerts.test.yml
  SUCCESS" -- test rules --workers 1 "$unit/alerts.test.yml"

expect test-rules-example 0 "Unit Testing:  $data/../../examples/batchsql/rules.test.yml
  SUCCESS" -- test rules "$data/../../examples/batchsql/rules.test.yml"

# --run selects test groups by name: none of the failing file's match.
expect test-rules-run 0 "Unit Testing:  $data/rules/failing.test.yml
  SUCCESS" -- test rules --run '^nothing$' "$data/rules/failing.test.yml"

expect test-rules-missing 1 "Unit Testing:  /nonexistent.yml
  FAILED:
    open /nonexistent.yml: No such file or directory" -- test rules /nonexistent.yml

junit="$tmp/report.xml"
"$bin" test rules --junit "$junit" "$data/rules/failing.test.yml" >/dev/null 2>&1
if ! grep -q '<testcase name="wrong expectations"' "$junit" ||
   ! grep -q '<failure message="    test group 1 (&#34;wrong expectations&#34;): alert' "$junit"; then
  echo "FAIL test-rules-junit: $(cat "$junit")"; failures=$((failures + 1))
fi

# promeval rules eval: the alert timeline of a replay (worked out by hand in
# testdata/replay/batchsql.data) and the produced series.
replay="$(cd "$data/../replay" && pwd)"
out_om="$tmp/replay.om"
expect rules-eval 0 '{alertname="BatchSQLHighErrorRate", driver="postgres", severity="warning"}
  1970-01-01T00:09:00.000Z  pending  value=0.06
      description: Error rate is 6% for postgres
      summary: BatchSQL error rate is high
  1970-01-01T00:11:00.000Z  firing  value=0.09999999999999999
      description: Error rate is 10% for postgres
      summary: BatchSQL error rate is high
  1970-01-01T00:18:00.000Z  resolved
      description: Error rate is 7.5% for postgres
      summary: BatchSQL error rate is high' -- rules eval --data "$replay/batchsql.data" \
  --start 0 --end 1200 --output "$out_om" "$data/../../examples/batchsql/rules.yml"
if [ "$(grep -c '^ALERTS{.*alertstate="firing"' "$out_om")" != 8 ] ||
   [ "$(tail -1 "$out_om")" != "# EOF" ]; then
  echo "FAIL rules-eval-output: $(head -5 "$out_om")"; failures=$((failures + 1))
fi
# --golden: the replay of our example rules must reproduce the checked-in
# series; a changed value gives a per-series diff and exit 1.
golden_args=(rules eval --data "$replay/batchsql.data" --start 0 --end 1200)
rules_file="$data/../../examples/batchsql/rules.yml"
err=$("$bin" "${golden_args[@]}" --golden "$replay/batchsql.golden.om" "$rules_file" 2>&1 >/dev/null); code=$?
if [ "$code" != 0 ] || [ -n "$err" ]; then
  echo "FAIL rules-eval-golden: exit $code: $err"; failures=$((failures + 1))
fi
changed="$tmp/golden.om"
sed 's/^\(driver:batchsql_error_ratio:rate5m{driver="postgres"}\) 0.06 540$/\1 0.07 540/' \
  "$replay/batchsql.golden.om" > "$changed"
err=$("$bin" "${golden_args[@]}" --golden "$changed" "$rules_file" 2>&1 >/dev/null); code=$?
if [ "$code" != 1 ] || [ "$err" != "produced series differ from $changed (- golden, + produced):
driver:batchsql_error_ratio:rate5m{driver=\"postgres\"}
  - 0.07 540
  + 0.06 540" ]; then
  echo "FAIL rules-eval-golden-diff: exit $code: $err"; failures=$((failures + 1))
fi

# A bad rule file: its errors (as in its .bad.errors file), exit 1.
expect rules-eval-bad-rules 1 "$(sed "s|^|$data/../rules/|" "$data/../rules/record_and_alert.bad.errors")" -- \
  rules eval --data "$replay/batchsql.data" --start 0 --end 60 "$data/../rules/record_and_alert.bad.yaml"

# A rule failing at every evaluation: the rules around it still record, the
# failing rule's health and last error are reported, exit 1.
faulty_om="$tmp/faulty.om"
expect rules-eval-faulty-rule 1 'rule "bad:match" of group "faulty": failed 3 of 3 evaluations (1970-01-01T00:00:00.000Z to 1970-01-01T00:02:00.000Z), health err at the end; last error: found duplicate series for the match group {} on the right hand-side of the operation: [{__name__="up", job="api"}, {__name__="up", job="web"}];many-to-many matching not allowed: matching labels must be unique on one side' -- \
  rules eval --data "$data/series.load" --start 0 --end 120 --output "$faulty_om" "$data/rules/faulty.yml"
if [ "$(grep -c '^before \|^after ' "$faulty_om")" != 6 ]; then
  echo "FAIL rules-eval-faulty-output: want 3 samples each of before and after"
  cat "$faulty_om"
  failures=$((failures + 1))
fi

# --remote-write: a URL that is not HTTP, a header the protocol sets (usage
# errors, exit 2, before anything is replayed); nothing listening (exit 1
# after the timeline and --output, the samples counted as not written).
expect rules-eval-remote-write-url 2 'promeval rules eval: remote write ftp://127.0.0.1:1/w: the URL must start with http:// or https://' -- \
  rules eval --data "$replay/batchsql.data" --start 0 --end 60 --remote-write ftp://127.0.0.1:1/w "$data/rules/faulty.yml"
expect rules-eval-remote-write-header 2 'promeval rules eval: remote write http://127.0.0.1:1/w: the header Content-Type is set by the protocol and cannot be given' -- \
  rules eval --data "$replay/batchsql.data" --start 0 --end 60 --header Content-Type=text/plain --remote-write http://127.0.0.1:1/w "$data/rules/faulty.yml"
down_om="$tmp/down.om"
out=$("$bin" rules eval --data "$data/series.load" --start 0 --end 120 --output "$down_om" \
  --remote-write http://127.0.0.1:1/api/v1/write --remote-write-retry-limit 2 "$data/rules/faulty.yml" 2>&1)
code=$?
if [ "$code" != 1 ] || ! grep -q '^promeval rules eval: remote write http://127.0.0.1:1/api/v1/write: 6 of 6 samples not written (6 failed after retries); last error: 6 samples failed after 2 attempts: ' <<<"$out" ||
   [ "$(grep -c '^before \|^after ' "$down_om")" != 6 ]; then
  echo "FAIL rules-eval-remote-write-down: exit $code: $out"; failures=$((failures + 1))
fi

# Data directories (testdata/tsdb/README): a block, a head, both with the
# same data as text (merged: one series each), a torn WAL tail tolerated with
# a warning.
tsdb="$data/../tsdb"
expect tsdb-info 0 "$tsdb/blocks
BLOCK ULID                   MIN TIME                 MAX TIME                      SAMPLES     CHUNKS   SERIES LEVEL
01M97CSF192PHZJVENP0T399MZ   2023-11-14T22:13:20.000Z 2023-11-14T22:14:20.501Z            4          2        2     1
head: none (no wal/)
$tsdb/head
BLOCK ULID                   MIN TIME                 MAX TIME                      SAMPLES     CHUNKS   SERIES LEVEL
head: 2026-12-07T04:41:24.516Z to 2026-12-07T04:41:25.516Z, 14 samples, 7 series (1 WAL segments, 0 head chunks, 0 out-of-order samples)" -- \
  tsdb info "$tsdb/blocks" "$tsdb/head"
expect tsdb-info-json 0 '[{"blocks":[{"chunks":2,"compactionLevel":1,"maxTime":1700000060501,"minTime":1700000000000,"samples":4,"series":2,"ulid":"01M97CSF192PHZJVENP0T399MZ"}],"dir":"'"$tsdb/blocks"'","head":null}]' -- \
  tsdb info --format json "$tsdb/blocks"
expect tsdb-merged 0 '{code="200", job="api"} => 160 @[1700000060]
{code="500", job="api"} => 1 @[1700000060]' -- \
  query --tsdb "$tsdb/blocks" --tsdb "$tsdb/head" --data "$data/requests.om" \
  --time 1700000060 'count by (code, job) (http_requests_total) * http_requests_total'
expect tsdb-head-range 0 'up{instance="127.0.0.1:19391", job="self"} =>
1 @[1796618485]
1 @[1796618486]' -- \
  query-range --tsdb "$tsdb/head" --start 2026-12-07T04:41:24Z \
  --end 2026-12-07T04:41:26Z --step 1 up
mkdir -p "$tmp/torn" && cp -r "$tsdb/head/wal" "$tmp/torn/"
truncate -s 500 "$tmp/torn/wal/00000000"
expect tsdb-torn-tail 0 "promeval query: warning: $tmp/torn/wal/00000000: offset 430: torn last record: the replay of the WAL ends there
{} => 7 @[1796618486]" -- \
  query --tsdb "$tmp/torn" --time 2026-12-07T04:41:26Z 'count({__name__=~".+"})'

if [ "$failures" -ne 0 ]; then
  echo "$failures CLI check(s) failed"
  exit 1
fi
echo "all CLI checks passed"
