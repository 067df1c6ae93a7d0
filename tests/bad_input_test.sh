#!/usr/bin/env bash
# The bad-input catalog (testdata/bad/): every case must make promeval fail
# cleanly (exit status 1 for bad input, 2 for a bad command line; never
# success, never a crash) with exactly the expected error, and must leave no
# output file behind.
#
# Usage: bad_input_test.sh path/to/promeval [--update]
#
# A case is an input file AREA/NAME.EXT with its expected output (stdout and
# stderr together, then "[exit N]") in AREA/NAME.EXT.err; the area says how
# promeval runs it,
# from testdata/bad/:
#   promql/*.promql        promeval parse EXPR (the file's content)
#   query/*.promql         promeval query --data query/_data.load --time 600 EXPR
#   range/*.promql         promeval query-range ... --start 0 --end 1200 --step 60 EXPR
#   data/*.om|*.prom|*.load  promeval query --data FILE --data-format FORMAT up
#   promqltest/*.test      promeval test FILE
#   rules/*.yml            promeval check rules FILE
#   ruletests/*.test.yml   promeval test rules FILE (its rule files beside it)
#   replay/*.yml           promeval rules eval FILE --data replay/_data.load
#                            --start 0 --end 1200 --output OUT (OUT must not
#                            exist afterwards)
#   args/*.args            promeval with these arguments, one per line; a
#                            line @OUT@ is an output file in a temporary
#                            directory that must not exist afterwards
#   tsdb/*.sh              a bash script run in a new directory holding
#                            copies of testdata/tsdb/blocks and
#                            testdata/tsdb/head (see testdata/tsdb/README): it
#                            damages them and runs "$bin" (promeval), with
#                            $out an output file that must not exist
#                            afterwards; paths in messages are relative
# Files and folders whose names start with "_" are shared inputs, not cases.
# --update rewrites the .err files from the current output (review the diff).
set -u
bin="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
update="${2:-}"
cd "$(dirname "$0")/../testdata/bad"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
cases=0

run_case() {  # run_case FILE -> output in $tmp/out, exit code in $code
  local f="$1" area="${1%%/*}"
  local out="$tmp/replay.om"
  rm -f "$out"
  case "$area" in
    promql) "$bin" parse -- "$(cat "$f")" ;;
    query) "$bin" query --data query/_data.load --time 600 -- "$(cat "$f")" ;;
    range) "$bin" query-range --data query/_data.load --start 0 --end 1200 \
             --step 60 -- "$(cat "$f")" ;;
    data)
      local format
      case "$f" in
        *.om) format=openmetrics ;;
        *.prom) format=prometheus ;;
        *.load) format=promqltest ;;
      esac
      "$bin" query --data "$f" --data-format "$format" --time 600 up ;;
    promqltest) "$bin" test "$f" ;;
    rules) "$bin" check rules "$f" ;;
    ruletests) "$bin" test rules "$f" ;;
    replay) "$bin" rules eval "$f" --data replay/_data.load --start 0 \
              --end 1200 --output "$out" ;;
    tsdb)
      local work
      work=$(mktemp -d "$tmp/tsdb.XXXXXX")
      cp -r ../tsdb/blocks "$work/blocks"
      cp -r ../tsdb/head "$work/head"
      local status=0
      (cd "$work" && bin="$bin" out="$out" bash -eu "$OLDPWD/$f") || status=$?
      rm -rf "$work"
      (exit "$status") ;;
    args)
      local args=()
      mapfile -t args <"$f"
      args=("${args[@]/#@OUT@/$out}")
      "$bin" "${args[@]}" ;;
    *) echo "unknown area $area"; return 99 ;;
  esac >"$tmp/out" 2>&1
  code=$?
  if [ -e "$out" ]; then
    echo "partial output file written" >>"$tmp/out"
    code=98
  fi
  echo "[exit $code]" >>"$tmp/out"
}

while IFS= read -r f; do
  case "/$f" in
    */_*|*.err|*.rules.yml) continue ;;
  esac
  cases=$((cases + 1))
  run_case "$f"
  if [ "$update" = --update ]; then
    cp "$tmp/out" "$f.err"
  fi
  if [ "$code" != 1 ] && [ "$code" != 2 ]; then
    echo "FAIL $f: exit status $code (want 1 or 2)"
    cat "$tmp/out"
    failures=$((failures + 1))
  elif [ ! -f "$f.err" ]; then
    echo "FAIL $f: no $f.err"
    failures=$((failures + 1))
  elif ! cmp -s "$tmp/out" "$f.err"; then
    echo "FAIL $f: output differs (- expected, + got)"
    diff "$f.err" "$tmp/out" | sed -n 's/^[<>]/&/p' | sed 's/^</-/; s/^>/+/'
    failures=$((failures + 1))
  fi
done < <(find . -type f | sed 's|^\./||' | LC_ALL=C sort)

echo "bad-input catalog: $cases cases, $failures failed"
[ "$failures" -eq 0 ] && [ "$cases" -ge 100 ]
