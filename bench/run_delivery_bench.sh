#!/usr/bin/env bash
# Signed deliveries per second through herald's HTTP client next to wrk, against one nginx sink on
# loopback, in one run: starts nginx (temporary config, `return 200` for every request), runs wrk
# and bench_delivery with the same numbers of connections (16, 64), stops nginx. At 16 connections
# bench_delivery also runs beside 100 endpoints that never answer (isolation).
#
#   bench/run_delivery_bench.sh [build-dir]        # default: build-net-rel (a Release build)
#
# Build first: cmake -S . -B build-net-rel -G Ninja -DCMAKE_BUILD_TYPE=Release
#              ninja -C build-net-rel bench_delivery
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-net-rel}
bench=$build/bench/bench_delivery
duration=${HERALD_BENCH_SECONDS:-10}
connections=(16 64)
[[ -x $bench ]] || { echo "missing $bench (build the bench_delivery target)" >&2; exit 1; }

source "$root/bench/nginx_sink.sh"

echo "machine: $(nproc) cores, $(lscpu | grep 'Model name' | sed 's/Model name: *//'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "sink: nginx $(nginx -v 2>&1 | sed 's/.*nginx\///'), 1 worker, $url"
# wrk and herald take turns per connection count, so both see the same machine load.
for c in "${connections[@]}"; do
    echo
    echo "== wrk -t1 -c$c -d${duration}s (POST, same body and headers)"
    wrk -t1 -c"$c" -d"${duration}s" -s "$post_lua" "$url" | grep -E 'Requests/sec|Latency|requests in'
    echo "== herald HttpClient, $c connections (1 thread, signing each request)"
    HERALD_BENCH_SINK_URL=$url "$bench" --benchmark_min_time="$duration" --benchmark_filter="/$c/" \
        --benchmark_counters_tabular=true 2>/dev/null | grep -E '^(Benchmark|BM_)'
done
