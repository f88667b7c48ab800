#!/usr/bin/env bash
# Starts and stops the PostgreSQL server the tests run against: a new cluster in a temporary
# directory, listening on a Unix socket in that directory only (no TCP), trusting local
# connections. initdb refuses root, so as root the server runs as the `postgres` user.
# Usage: server.sh start <state dir>   — writes <state dir>/conninfo (a libpq keyword string)
#        server.sh stop <state dir>    — stops the server and removes its directory
#        server.sh halt <state dir>    — stops the server at once, as a crash would (-m
#                                        immediate), keeping its data
#        server.sh resume <state dir>  — starts a halted server again on its data and socket
# HERALD_POSTGRES_FSYNC=on makes commits durable (the benchmarks); the tests run with it off.
set -euo pipefail
usage="usage: server.sh start|stop|halt|resume <state dir>"
command=${1:?$usage}
state=${2:?$usage}

bindir=$(pg_config --bindir 2>/dev/null || true)
if [[ ! -x "$bindir/initdb" ]]; then
    bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
fi
if [[ ! -x "$bindir/initdb" ]]; then
    echo "server.sh: initdb not found (install the postgresql package: scripts/install-deps)" >&2
    exit 1
fi
as_server=()
if [[ $(id -u) -eq 0 ]]; then as_server=(runuser -u postgres --); fi

# Stops the server of the cluster in $1, if it runs, without a checkpoint.
halt() {
    if [[ -f "$1/data/postmaster.pid" ]]; then
        "${as_server[@]}" "$bindir/pg_ctl" -D "$1/data" -m immediate -w stop >/dev/null || true
    fi
}

# Starts the server of the cluster in $1, on a socket in $1 only.
serve() {
    # fsync off by default: the tests need a server, not durability across power loss.
    local fsync=${HERALD_POSTGRES_FSYNC:-off}
    "${as_server[@]}" "$bindir/pg_ctl" -D "$1/data" -l "$1/server.log" -w \
        -o "-c listen_addresses='' -k $1 -c fsync=$fsync -c max_connections=200" start \
        >/dev/null || { cat "$1/server.log" >&2; exit 1; }
}

stop() {
    [[ -f "$state/datadir" ]] || return 0
    local dir
    dir=$(cat "$state/datadir")
    halt "$dir"
    rm -rf "$dir"
    rm -f "$state/datadir" "$state/conninfo"
}

case "$command" in
    start)
        mkdir -p "$state"
        stop  # a server a previous run left behind
        # Under /tmp, not the build tree: the server's user must reach it, and a socket path
        # must stay short.
        dir=$(mktemp -d /tmp/herald-pg.XXXXXX)
        chmod 755 "$dir"
        if [[ $(id -u) -eq 0 ]]; then chown postgres:postgres "$dir"; fi
        echo "$dir" >"$state/datadir"
        "${as_server[@]}" "$bindir/initdb" -D "$dir/data" -U herald -A trust -E UTF8 \
            --locale=C --no-sync >"$dir/initdb.log" 2>&1 ||
            { cat "$dir/initdb.log" >&2; exit 1; }
        serve "$dir"
        "${as_server[@]}" "$bindir/createdb" -h "$dir" -U herald herald_test
        echo "host=$dir user=herald dbname=herald_test" >"$state/conninfo"
        echo "PostgreSQL test server: $(cat "$state/conninfo")" ;;
    stop)
        stop ;;
    halt)
        halt "$(cat "$state/datadir")" ;;
    resume)
        serve "$(cat "$state/datadir")" ;;
    *)
        echo "$usage" >&2
        exit 2 ;;
esac
