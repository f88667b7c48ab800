#!/usr/bin/env bash
# Pruning a large history while herald publishes and delivers: bench_pipeline on SQLite (the
# default storage, synchronous FULL), streaming (publish and deliver at once) into one nginx sink
# on loopback, 64 connections, with wrk on the same sink first. In turns, each round:
#   fresh     an empty database
#   old       OLD settled firings 60 days old recorded first, never pruned
#   pruning   the same, with Engine::prune (default policy: 30 days) running from the start
#   alone     the same pass with almost no traffic (1,000 events): what pruning takes by itself
# Each line gives the rate and herald's CPU time per delivery; the pruning lines add how long
# the pass took and the file's size after seeding, after the run and after a VACUUM.
#
#   bench/run_prune_bench.sh [build-dir] [events] [old] [rounds]   # build-rel, 200000, 1000000, 2
#
# Build first: ninja -C build-rel bench_pipeline   (Release, -DHERALD_BUILD_BENCH=ON)
# Needs nginx, wrk, openssl and curl (scripts/install-deps bench).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-rel}
events=${2:-200000}
old=${3:-1000000}
rounds=${4:-2}
pipeline=$build/bench/bench_pipeline
[[ -x $pipeline ]] || { echo "missing $pipeline (build the bench_pipeline target)" >&2; exit 1; }
source "$root/bench/nginx_sink.sh"

echo "== machine"
lscpu | grep -E '^(Model name|CPU\(s\)):' | sed 's/  */ /g'
echo "commit $(git -C "$root" rev-parse --short HEAD), $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$events events streamed, $old old firings, 64 connections"
wrk -t1 -c64 -d10s -s "$post_lua" "$url" |
    awk '/Requests\/sec/ { printf "wrk: requests_per_s=%s\n", $2 }'
for round in $(seq "$rounds"); do
    for run in fresh old pruning alone; do
        printf 'round=%s run=%s ' "$round" "$run"
        n=$events
        [[ $run == alone ]] && n=1000
        args=(--url "$url" --storage sqlite --connections 64 --events "$n" --mode stream)
        case $run in
            old) args+=(--old-firings "$old") ;;
            pruning | alone) args+=(--old-firings "$old" --prune on) ;;
        esac
        "$pipeline" "${args[@]}" 2>/dev/null
    done
done
