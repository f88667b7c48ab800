#!/usr/bin/env bash
# `herald publish` fed through a pipe, as a host streaming events would run it: N alias events,
# each firing one webhook automation (so each records one firing and its delivery), into a fresh
# SQLite database (the default: WAL, every commit fsynced). With -m, N metric events of one run
# instead, one value each, watched by a threshold automation that never fires (so each records
# only what it changed in the run's window). Reports events/s (wall clock from the first byte
# written to the last receipt read) and CPU µs per event (user + system of the herald process,
# /usr/bin/time), the median of R runs, for each herald binary given.
#
#   bench/run_publish_bench.sh [-m] [-n EVENTS] [-r RUNS] HERALD [HERALD...] [-- PUBLISH OPTIONS]
#   bench/run_publish_bench.sh -n 100000 /tmp/main/herald build/dev/src/cli/herald
#
# Each binary is a `herald` tool (the herald_cli target). Options after `--` go to `publish`
# (e.g. `-- --window 64`); a binary that does not know one fails and the script says so.
set -euo pipefail

events=100000
runs=3
metrics=false
while getopts "mn:r:" opt; do
    case $opt in
        m) metrics=true ;;
        n) events=$OPTARG ;;
        r) runs=$OPTARG ;;
        *) exit 2 ;;
    esac
done
shift $((OPTIND - 1))
binaries=()
while [[ $# -gt 0 && $1 != -- ]]; do
    binaries+=("$1")
    shift
done
[[ ${1:-} == -- ]] && shift
publish_options=("$@")
[[ ${#binaries[@]} -gt 0 ]] || { echo "usage: $0 [-n EVENTS] [-r RUNS] HERALD [HERALD...] [-- OPTIONS]" >&2; exit 2; }
for b in "${binaries[@]}"; do
    [[ -x $b ]] || { echo "not an executable: $b" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HERALD_SECRET_KEY=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff

cat >"$work/integration.json" <<'EOF'
{"type": "WEBHOOK", "entity": "acme", "name": "deploy", "url": "https://hooks.example.com/deploy"}
EOF
if $metrics; then
    cat >"$work/automation.json" <<'EOF'
{"name": "loss-diverged",
 "scope": {"type": "PROJECT", "entity": "acme", "project": "mnist"},
 "trigger": {"type": "RUN_METRIC_THRESHOLD", "metric": "loss", "window": 5, "operator": ">",
             "threshold": 1000},
 "action": {"type": "WEBHOOK", "integration": "deploy"}}
EOF
    awk -v n="$events" 'BEGIN {
        for (i = 1; i <= n; i++)
            printf "{\"type\": \"RUN_METRICS_LOGGED\", \"entity\": \"acme\", " \
                   "\"project\": \"mnist\", \"run\": {\"id\": \"r-1\", \"name\": \"one\", " \
                   "\"user\": \"alice\"}, \"step\": %d, \"metrics\": {\"loss\": %.2f}}\n", \
                   i, (i % 100) / 100
    }' >"$work/events.jsonl"
    what="metric events of one watched run, 1 value each"
else
    cat >"$work/automation.json" <<'EOF'
{"name": "deploy-production",
 "scope": {"type": "REGISTRY", "entity": "acme", "registry": "model-registry"},
 "trigger": {"type": "ADD_ARTIFACT_ALIAS", "alias": "production"},
 "action": {"type": "WEBHOOK", "integration": "deploy",
            "payload": {"version": "${artifact_version_string}"}}}
EOF
    awk -v n="$events" 'BEGIN {
        for (i = 1; i <= n; i++)
            printf "{\"type\": \"ALIAS_ADDED\", \"author\": \"alice\", \"entity\": \"acme\", " \
                   "\"project\": \"model-registry\", \"alias\": \"production\", " \
                   "\"version\": {\"collection\": \"classifier\", \"index\": %d}}\n", i
    }' >"$work/events.jsonl"
    what="alias events, 1 firing each"
fi

echo "== machine"
lscpu | grep -E '^(Model name|CPU\(s\)):' | sed 's/  */ /g'
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== herald publish from a pipe: $events $what, median of $runs runs"

# One run: prints "events_per_s cpu_us_per_event".
run_once() {
    local herald=$1 db=$work/herald.db
    rm -f "$db" "$db-wal" "$db-shm"
    "$herald" --db "$db" integrations apply "$work/integration.json" >/dev/null
    "$herald" --db "$db" automations apply "$work/automation.json" >/dev/null
    local start end
    start=$(date +%s.%N)
    cat "$work/events.jsonl" |
        /usr/bin/time -f '%U %S' -o "$work/time" "$herald" --db "$db" publish \
            "${publish_options[@]}" >"$work/receipts"
    end=$(date +%s.%N)
    local receipts
    receipts=$(wc -l <"$work/receipts")
    [[ $receipts -eq $events ]] || { echo "$herald printed $receipts receipts, not $events" >&2; exit 1; }
    read -r user sys <"$work/time"
    awk -v n="$events" -v s="$start" -v e="$end" -v u="$user" -v k="$sys" \
        'BEGIN { printf "%.0f %.1f\n", n / (e - s), (u + k) * 1e6 / n }'
}

for herald in "${binaries[@]}"; do
    results=()
    for ((r = 0; r < runs; r++)); do
        results+=("$(run_once "$herald")")
    done
    printf '%s\n' "${results[@]}" | sort -n | awk -v b="$herald" -v runs="$runs" '
        { rate[NR] = $1; cpu[NR] = $2; all = all sprintf(" %s", $1) }
        END {
            m = int((NR + 1) / 2)
            printf "%s: %s events/s, %s CPU us/event (runs, events/s:%s)\n", b, rate[m], cpu[m], all
        }'
done
