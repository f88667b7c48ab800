#!/usr/bin/env bash
# The whole durable path, publish → delivered, next to its references, in one run against one
# nginx sink on loopback: for each number of connections, wrk (what the sink can take), herald's
# HTTP client alone (bench_delivery), then bench_pipeline on SQLite (the default storage,
# synchronous FULL) and in memory; then the same over HTTPS. Each line gives the rate and the CPU
# time per delivery: herald's process (bench_pipeline: publisher, dispatcher and storage threads)
# and nginx's.
#
#   bench/run_pipeline_bench.sh [build-dir] [events]   # default: build-rel, 50000
#
# Build first: cmake -S . -B build-rel -G Ninja -DCMAKE_BUILD_TYPE=Release -DHERALD_BUILD_BENCH=ON
#              ninja -C build-rel bench_pipeline bench_delivery
# Needs nginx, wrk, openssl and curl (scripts/install-deps bench).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-rel}
events=${2:-50000}
duration=${HERALD_BENCH_SECONDS:-10}
pipeline=$build/bench/bench_pipeline
delivery=$build/bench/bench_delivery
for b in "$pipeline" "$delivery"; do
    [[ -x $b ]] || { echo "missing $b (build the bench_pipeline and bench_delivery targets)" >&2; exit 1; }
done
source "$root/bench/nginx_sink.sh"

echo "== machine"
lscpu | grep -E '^(Model name|CPU\(s\)):' | sed 's/  */ /g'
echo "commit $(git -C "$root" rev-parse --short HEAD), $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "sink: nginx $(nginx -v 2>&1 | sed 's/.*nginx\///'), 1 worker; $events events, one signed webhook each"

# Runs a command and appends nginx's CPU time per request to its output line.
with_sink_cpu() {  # requests, command...
    local requests=$1 before after
    shift
    before=$(nginx_cpu)
    "$@"
    after=$(nginx_cpu)
    awk -v b="$before" -v a="$after" -v n="$requests" 'BEGIN { printf "    nginx: %.1f us CPU per request\n", (a - b) * 1e6 / n }'
}

wrk_line() {  # url, connections
    wrk -t1 -c"$2" -d"${duration}s" -s "$post_lua" "$1" |
        awk '/requests in/ { n = $1 } /Requests\/sec/ { r = $2 } END { printf "wrk: requests_per_s=%s requests=%s\n", r, n }'
}

for c in 8 64; do
    echo
    echo "== $c connections, HTTP"
    wrk_line "$url" "$c"
    HERALD_BENCH_SINK_URL=$url "$delivery" --benchmark_min_time=5 --benchmark_filter="BM_SignedDelivery/$c/" \
        --benchmark_counters_tabular=true 2>/dev/null | grep -E '^BM_' | sed 's/  */ /g; s/^/http client alone: /'
    for storage in sqlite memory; do
        with_sink_cpu "$events" "$pipeline" --url "$url" --storage "$storage" --connections "$c" \
            --events "$events" --mode stream
    done
    with_sink_cpu "$events" "$pipeline" --url "$url" --storage sqlite --connections "$c" \
        --events "$events" --mode backlog
done

echo
echo "== 64 connections, HTTPS (keep-alive; CA made for this run)"
wrk_line "$tls_url" 64
for mode in stream backlog; do
    with_sink_cpu "$events" "$pipeline" --url "$tls_url" --ca-file "$ca_file" --storage sqlite \
        --connections 64 --events "$events" --mode "$mode"
done
