#!/usr/bin/env bash
# Starts and stops the PostgreSQL server the tests run against: a new cluster in a temporary
# directory, listening on a Unix socket in that directory only (no TCP), trusting local
# connections. initdb refuses root, so as root the server runs as the `postgres` user.
# Usage: server.sh start <state dir>   — writes <state dir>/conninfo (a libpq keyword string)
#        server.sh stop <state dir>    — stops the server and removes its directory
# HERALD_POSTGRES_FSYNC=on makes commits durable (the benchmarks); the tests run with it off.
set -euo pipefail
command=${1:?usage: server.sh start|stop <state dir>}
state=${2:?usage: server.sh start|stop <state dir>}

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

stop() {
    [[ -f "$state/datadir" ]] || return 0
    local dir
    dir=$(cat "$state/datadir")
    if [[ -f "$dir/data/postmaster.pid" ]]; then
        "${as_server[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null || true
    fi
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
        # fsync off by default: the tests need a server, not durability across power loss.
        fsync=${HERALD_POSTGRES_FSYNC:-off}
        "${as_server[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
            -o "-c listen_addresses='' -k $dir -c fsync=$fsync -c max_connections=200" start \
            >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
        "${as_server[@]}" "$bindir/createdb" -h "$dir" -U herald herald_test
        echo "host=$dir user=herald dbname=herald_test" >"$state/conninfo"
        echo "PostgreSQL test server: $(cat "$state/conninfo")" ;;
    stop)
        stop ;;
    *)
        echo "usage: server.sh start|stop <state dir>" >&2
        exit 2 ;;
esac
