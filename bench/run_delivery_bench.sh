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

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $work/body;
    proxy_temp_path $work/proxy;
    fastcgi_temp_path $work/fastcgi;
    uwsgi_temp_path $work/uwsgi;
    scgi_temp_path $work/scgi;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$port;
        location / { return 200 "ok"; }
    }
}
CONF
cat >"$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"event_type":"ADD_ARTIFACT_ALIAS","event_author":"grace","entity_name":"acme","project_name":"vision","artifact_version_string":"acme/vision/resnet:production","artifact_collection_name":"resnet","alias":"production","automation_name":"deploy"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Herald-Delivery-Id"] = "bench-1"
wrk.headers["X-Herald-Attempt"] = "1"
wrk.headers["X-Wandb-Signature"] = "f4pM9X2sN5aJfS0mGv8vY8y0tZ3bq1b0q4w6e8r0t2Y="
LUA

nginx -c "$work/nginx.conf" -p "$work"
stop_nginx() {
    [[ -f $work/nginx.pid ]] && kill "$(cat "$work/nginx.pid")" 2>/dev/null
    sleep 0.5
    rm -rf "$work"
}
trap stop_nginx EXIT
for _ in $(seq 50); do [[ -f $work/nginx.pid ]] && break; sleep 0.1; done
url="http://127.0.0.1:$port/hook"
curl -fsS -X POST -d '{}' "$url" >/dev/null

echo "machine: $(nproc) cores, $(lscpu | grep 'Model name' | sed 's/Model name: *//'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "sink: nginx $(nginx -v 2>&1 | sed 's/.*nginx\///'), 1 worker, $url"
# wrk and herald take turns per connection count, so both see the same machine load.
for c in "${connections[@]}"; do
    echo
    echo "== wrk -t1 -c$c -d${duration}s (POST, same body and headers)"
    wrk -t1 -c"$c" -d"${duration}s" -s "$work/post.lua" "$url" | grep -E 'Requests/sec|Latency|requests in'
    echo "== herald HttpClient, $c connections (1 thread, signing each request)"
    HERALD_BENCH_SINK_URL=$url "$bench" --benchmark_min_time="$duration" --benchmark_filter="/$c/" \
        --benchmark_counters_tabular=true 2>/dev/null | grep -E '^(Benchmark|BM_)'
done
