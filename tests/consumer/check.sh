#!/usr/bin/env bash
# Builds and runs tests/consumer against herald.
# Usage: check.sh install <herald build dir>   — install that build to a temporary prefix, find_package
#        check.sh subdirectory <herald source>  — add_subdirectory on the source tree
set -euo pipefail
mode=$1
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

case "$mode" in
    install)
        cmake --install "$2" --prefix "$work/prefix" >/dev/null
        cmake -S "$here" -B "$work/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null ;;
    subdirectory)
        cmake -S "$here" -B "$work/build" -G Ninja -DHERALD_SOURCE_DIR="$2" >/dev/null ;;
    *) echo "usage: check.sh install|subdirectory DIR" >&2; exit 2 ;;
esac
cmake --build "$work/build" -j2 >/dev/null
"$work/build/consumer"
if [[ -x "$work/build/consumer_sqlite" ]]; then "$work/build/consumer_sqlite"; fi
if [[ -x "$work/build/consumer_postgres" ]]; then "$work/build/consumer_postgres"; fi
if [[ -x "$work/build/consumer_prometheus" ]]; then "$work/build/consumer_prometheus"; fi
# --warn NoTests: fails when no case ran, as when the suite's objects were not linked.
if [[ -x "$work/build/consumer_storage_suite" ]]; then
    "$work/build/consumer_storage_suite" --warn NoTests
fi
echo "consumer via $mode: ok"
