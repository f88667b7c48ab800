#!/usr/bin/env bash
# publish → delivered on PostgreSQL next to SQLite, in one run against one nginx sink on
# loopback, same connections: bench_pipeline with --storage sqlite (synchronous FULL) and
# --storage postgres (a server of its own, started like the tests' but with fsync on, on a Unix
# socket), in stream mode (publishing while delivering) and backlog mode (delivering only);
# then two and three engines delivering from one schema, and wrk on the same sink. With
# HERALD_CLAIM_ROWS=N, bench_claim last: claim and settle latency with N due deliveries.
#
#   bench/run_postgres_bench.sh [build-dir] [events] [connections]   # default: build-rel, 20000, 64
#
# Build first: ninja -C build-rel bench_pipeline bench_claim. Needs nginx, openssl, wrk,
# postgresql.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-rel}
events=${2:-20000}
connections=${3:-64}
pipeline=$build/bench/bench_pipeline
[[ -x $pipeline ]] || { echo "missing $pipeline (build the bench_pipeline target)" >&2; exit 1; }
source "$root/bench/nginx_sink.sh"
state=$work/postgres
HERALD_POSTGRES_FSYNC=on "$root/tests/postgres/server.sh" start "$state" >/dev/null
trap '"$root/tests/postgres/server.sh" stop "$state"; stop_nginx' EXIT

echo "== machine"
lscpu | grep -E '^(Model name|CPU\(s\)):' | sed 's/  */ /g'
echo "commit $(git -C "$root" rev-parse --short HEAD), $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$events events, one signed webhook each, $connections connections; PostgreSQL with fsync on"
conninfo=$(cat "$state/conninfo")
for mode in stream backlog; do
    for storage in sqlite postgres; do
        "$pipeline" --url "$url" --storage "$storage" --postgres "$conninfo" \
            --connections "$connections" --events "$events" --mode "$mode"
    done
done
echo "== several engines on one PostgreSQL schema (backlog)"
for engines in 2 3; do
    "$pipeline" --url "$url" --storage postgres --postgres "$conninfo" --engines "$engines" \
        --connections "$connections" --events "$events" --mode backlog
done
echo "== wrk on the same sink"
wrk -t1 -c"$connections" -d10s -s "$post_lua" "$url" | grep -E 'Requests/sec'
if [[ -n ${HERALD_CLAIM_ROWS:-} ]]; then
    # The rounds' deliveries alone (64 × 500), then a large outbox: the claim should not grow.
    for rows in 32000 "$HERALD_CLAIM_ROWS"; do
        echo "== claim latency, $rows due deliveries in the outbox"
        for storage in sqlite postgres; do
            "$build/bench/bench_claim" --storage "$storage" --postgres "$conninfo" --rows "$rows"
        done
    done
fi
