#!/usr/bin/env bash
# The SQLite backend's benchmarks (bench/sqlite_bench.cpp) as BENCHMARKS.md reports them, with
# what the machine was doing meanwhile: the disk's synchronous write latency before, and the CPU
# time stolen by the hypervisor and spent waiting for I/O during the run (vmstat).
#
#   bench/run_sqlite_bench.sh [build-dir] [repetitions]   # default: build-sqlite-rel, 3
#
# Build first: cmake -S . -B build-sqlite-rel -G Ninja -DCMAKE_BUILD_TYPE=Release \
#                  -DHERALD_BUILD_TESTS=OFF -DHERALD_BUILD_EXAMPLES=OFF
#              ninja -C build-sqlite-rel bench_sqlite
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-sqlite-rel}
repetitions=${2:-3}
bench=$build/bench/bench_sqlite
[[ -x $bench ]] || { echo "missing $bench (build the bench_sqlite target)" >&2; exit 1; }

work=$(mktemp -d)
trap 'kill "$vmstat" 2>/dev/null || true; rm -rf "$work"' EXIT

echo "== machine"
lscpu | grep -E '^(Model name|CPU\(s\)):' | sed 's/  */ /g'
echo "commit $(git -C "$root" rev-parse --short HEAD), $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
dd if=/dev/zero of="$work/dsync" bs=4k count=500 oflag=dsync 2>&1 | tail -1 |
    awk '{printf "synchronous 4 KiB writes: %.2f ms each\n", $(NF-3) * 1000 / 500}'

vmstat 1 >"$work/vmstat" &
vmstat=$!

echo "== durable publish (medians of $repetitions runs)"
"$bench" --benchmark_filter='DurablePublish' --benchmark_min_time=2 \
    --benchmark_repetitions="$repetitions" --benchmark_report_aggregates_only=true 2>/dev/null |
    grep -E '_median' | sed 's/  */ /g'
echo "== 1,000,000 deliveries in the outbox"
"$bench" --benchmark_filter='NextDue' 2>/dev/null | grep -E '^BM_' | sed 's/  */ /g'

kill "$vmstat"
echo "== during the run: CPU stolen by the hypervisor and waiting for I/O (vmstat, % of time)"
awk 'NR > 2 { st += $17; wa += $16; n++ } END { printf "steal %.1f %%, iowait %.1f %% (%d s)\n", st / n, wa / n, n }' \
    "$work/vmstat"
