#!/usr/bin/env bash
# Installs promeval into a temporary prefix and builds examples/embed against
# it twice: with CMake (find_package(promeval) -> promeval::promeval) and with
# pkg-config; each build must run and print the example's alert.
# Usage: install_test.sh BUILD_DIR SOURCE_DIR
set -eu
build="$1"
src="$2"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
want='firing {alertname="QueueBacklog", queue="jobs", severity="ticket"}'

cmake -S "$src/examples/embed" -B "$tmp/cmake" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/cmake" >/dev/null
got="$("$tmp/cmake/embed" "$src/examples/embed/rules.yml" \
  "$src/examples/embed/metrics.prom" 0 2)"
if [ "$got" != "$want" ]; then
  echo "FAIL cmake build: got: $got"; exit 1
fi

g++ -std=c++20 -O1 -o "$tmp/embed-pc" "$src/examples/embed/main.cc" \
  $(PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" pkg-config --cflags --libs promeval)
got="$("$tmp/embed-pc" "$src/examples/embed/rules.yml" \
  "$src/examples/embed/metrics.prom" 0 2)"
if [ "$got" != "$want" ]; then
  echo "FAIL pkg-config build: got: $got"; exit 1
fi
echo "install test passed"
