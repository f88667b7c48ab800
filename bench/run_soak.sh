#!/usr/bin/env bash
# The soak run (bench/soak.cpp): publish and delivery at a fixed rate for a chosen time against
# loopback receivers that fail, stall and recover; then the checks (nothing lost, the history
# agrees, RSS and file descriptors flat, p99 stable). Not in CI: it takes as long as it is told.
# Builds bench_soak when it is missing (Release, tests and examples off), prints the machine and
# the command, then the program's table and checks; exits with its status.
#
#   bench/run_soak.sh [seconds] [rate]   # default: 600, 50 events/s (× 4 receivers)
#
# HERALD_SOAK_BUILD: the build folder (default build-soak); HERALD_SOAK_ARGS: more flags for
# bench_soak (--receivers, --seed, --interval, the checks' bounds; see bench/soak.cpp).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-600}
rate=${2:-50}
build=${HERALD_SOAK_BUILD:-$root/build-soak}
soak=$build/bench/bench_soak

if [[ ! -x $soak ]]; then
    [[ -f $build/build.ninja ]] ||
        cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DHERALD_BUILD_BENCH=ON \
            -DHERALD_BUILD_TESTS=OFF -DHERALD_BUILD_EXAMPLES=OFF >/dev/null
    cmake --build "$build" --target bench_soak -j2
fi

echo "== machine"
lscpu | grep -E '^(Model name|CPU\(s\)):' | sed 's/  */ /g'
echo "commit $(git -C "$root" rev-parse --short HEAD), $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
read -ra extra <<<"${HERALD_SOAK_ARGS:-}"
command=("$soak" --seconds "$seconds" --rate "$rate" "${extra[@]}")
echo "== ${command[*]#"$root/"}"
"${command[@]}"
