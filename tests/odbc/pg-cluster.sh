#!/usr/bin/env bash
# A throwaway PostgreSQL server for the ODBC tests.
#
#   pg-cluster.sh start <dir>   a new cluster: initdb in <dir>/data (a server
#                               left there by an earlier run is stopped and its
#                               data removed) and start a server listening only
#                               on a Unix socket in <dir>
#   pg-cluster.sh halt <dir>    stop the server, keep its data
#   pg-cluster.sh resume <dir>  start the halted server again
#   pg-cluster.sh stop <dir>    stop the server and remove <dir>
#
# Run as root, the server runs as the unprivileged user "postgres" (created by
# Debian's postgresql package); otherwise as the calling user. Clients connect
# with Servername=<dir>, Port=5432, Username=postgres, no password.
set -euo pipefail

usage() {
    echo "usage: $0 start|halt|resume|stop <dir>" >&2
    exit 2
}
[ $# -eq 2 ] || usage
cmd=$1
dir=$2
case $dir in
/*) ;;
*) dir=$(pwd)/$dir ;;
esac

# The PostgreSQL server programs: on PATH, or Debian's newest version.
find_bin() {
    local p
    if p=$(command -v "$1" 2>/dev/null); then
        echo "$p"
        return
    fi
    for p in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$p/$1" ]; then
            echo "$p/$1"
            return
        fi
    done
    echo "pg-cluster.sh: $1 not found: install postgresql (./dev.sh deps)" >&2
    exit 1
}

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        id postgres >/dev/null 2>&1 || {
            echo "pg-cluster.sh: running as root needs the user postgres" >&2
            exit 1
        }
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

pg_ctl=$(find_bin pg_ctl)

# Starts the server of <dir>/data.
run_server() {
    # listen_addresses='': no TCP at all; the socket lives in <dir>.
    as_owner "$pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses='' -c unix_socket_directories='$dir' -c fsync=off" start >/dev/null || {
        cat "$dir/server.log" >&2
        exit 1
    }
}

# Stops the server of <dir>/data if one runs, and removes <dir>.
remove_cluster() {
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_owner "$pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null || true
    fi
    rm -rf "$dir"
}

case $cmd in
start)
    # A Unix socket path is limited to 107 bytes.
    socket=$dir/.s.PGSQL.5432
    if [ ${#socket} -gt 107 ]; then
        echo "pg-cluster.sh: $socket is too long for a Unix socket" >&2
        exit 1
    fi
    initdb=$(find_bin initdb)
    remove_cluster
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    as_owner "$initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C \
        >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        exit 1
    }
    run_server
    ;;
halt)
    as_owner "$pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
resume)
    run_server
    ;;
stop)
    remove_cluster
    ;;
*)
    usage
    ;;
esac
