#!/usr/bin/env bash
# What logging and metrics cost on the whole durable path: bench_pipeline built without them
# (BEFORE, e.g. main's tree built apart) and with them (AFTER), run in turns against one nginx
# sink on loopback, 64 connections: in memory streaming (publish and deliver at once), and on
# SQLite from a backlog. Each line gives the rate and herald's CPU time per delivery.
#
#   bench/run_metrics_overhead.sh BEFORE-BUILD-DIR AFTER-BUILD-DIR [events] [rounds]
#
# Build first, in both trees: ninja -C BUILD-DIR bench_pipeline   (Release)
# Needs nginx, openssl and curl (scripts/install-deps bench).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
before=$1/bench/bench_pipeline
after=$2/bench/bench_pipeline
events=${3:-50000}
rounds=${4:-3}
for b in "$before" "$after"; do
    [[ -x $b ]] || { echo "missing $b (build the bench_pipeline target)" >&2; exit 1; }
done
source "$root/bench/nginx_sink.sh"

echo "== machine"
lscpu | grep -E '^(Model name|CPU\(s\)):' | sed 's/  */ /g'
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg); $events events, 64 connections"
for round in $(seq "$rounds"); do
    for run in "memory stream" "sqlite backlog"; do
        set -- $run
        for build in before after; do
            binary=$before
            [[ $build == after ]] && binary=$after
            printf 'round=%s build=%s ' "$round" "$build"
            "$binary" --url "$url" --storage "$1" --mode "$2" --connections 64 --events "$events" \
                2>/dev/null
        done
    done
done
