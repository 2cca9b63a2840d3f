#!/bin/sh
# pg_test_server.sh start DIR | stop DIR | uri DIR
#
# A throw-away PostgreSQL cluster for tests. `start` runs initdb into DIR/data (once), starts the
# server listening only on a unix socket in DIR (listen_addresses=''), with fsync off, waits until
# it accepts connections and prints the storage URI to stdout, e.g.
#   postgresql:host=/tmp/petit-pg port=54330 user=postgres dbname=postgres
# Use it as PETIT_TEST_POSTGRES_URI. `start` on a running cluster only prints the URI; `stop` on a
# stopped or missing one does nothing. As root the server runs as the `postgres` user (PostgreSQL
# refuses to run as root), so DIR must be reachable by that user: choose one under /tmp.
# PGBIN overrides the binaries' directory (default /usr/lib/postgresql/15/bin).
set -eu

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

usage() {
  echo "usage: $0 start|stop|uri DIR" >&2
  exit 2
}

die() {
  echo "pg_test_server: $*" >&2
  exit 1
}

[ $# -eq 2 ] || usage
cmd=$1
case "$2" in
  /*) dir=$2 ;;
  *) dir=$(pwd)/$2 ;;
esac
dir=${dir%/}
case "$dir" in
  *[!A-Za-z0-9_./-]*) die "DIR may hold only [A-Za-z0-9_./-] (it goes into a conninfo string): $dir" ;;
esac
data=$dir/data

# Runs a command as the user that owns the cluster.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

running() {
  [ -f "$data/PG_VERSION" ] && as_owner "$PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1
}

print_uri() {
  echo "postgresql:host=$dir port=$(cat "$dir/port") user=postgres dbname=postgres"
}

# The socket lives in DIR, so any port is free there; still skip ports with a TCP listener or a
# stale socket file so the URI never names something else.
choose_port() {
  port=54330
  while [ "$port" -lt 54430 ]; do
    hex=$(printf '%04X' "$port")
    if [ ! -e "$dir/.s.PGSQL.$port" ] && ! grep -Eq ":$hex [0-9A-F]+:0000 0A" /proc/net/tcp /proc/net/tcp6 2>/dev/null; then
      echo "$port"
      return 0
    fi
    port=$((port + 1))
  done
  die "no free port in 54330-54429"
}

start() {
  if running; then
    print_uri
    return 0
  fi
  mkdir -p "$dir"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres:postgres "$dir"
    as_owner test -w "$dir" || die "$dir is not writable by user postgres (choose a directory under /tmp)"
  fi
  if [ ${#dir} -gt 90 ]; then
    die "DIR is too long for a unix socket path (keep it under 90 characters): $dir"
  fi
  if [ ! -f "$data/PG_VERSION" ]; then
    as_owner "$PGBIN/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --no-sync \
      >"$dir/initdb.log" 2>&1 || die "initdb failed, see $dir/initdb.log"
  fi
  if [ ! -f "$dir/port" ]; then
    choose_port >"$dir/port.tmp"
    mv "$dir/port.tmp" "$dir/port"
  fi
  port=$(cat "$dir/port")
  as_owner "$PGBIN/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses='' -c unix_socket_directories='$dir' -p $port -c fsync=off -c full_page_writes=off -c synchronous_commit=off" \
    start >/dev/null || die "the server did not start, see $dir/server.log"
  print_uri
}

stop() {
  if running; then
    as_owner "$PGBIN/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null
  fi
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  uri)
    running || die "no server running in $dir"
    print_uri
    ;;
  *) usage ;;
esac
