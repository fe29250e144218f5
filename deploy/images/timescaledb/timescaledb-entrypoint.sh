#!/bin/bash
# Starts PostgreSQL as the official postgres image does: on first start, initdb with
# POSTGRES_USER / POSTGRES_PASSWORD, POSTGRES_DB created, the timescaledb extension created in it
# (and in template1), /docker-entrypoint-initdb.d/*.sh|*.sql run; then the server replaces this
# script as PID 1. TIMESCALEDB_TELEMETRY is accepted and moot: the build has no telemetry.
# A command other than `postgres` (a one-shot job's psql) runs as it is.
set -euo pipefail

if [[ ${1:-} != postgres ]]; then
  exec "$@"
fi

user=${POSTGRES_USER:-postgres}
database=${POSTGRES_DB:-$user}
# Sockets in both: /var/run/postgresql is gone under a read-only root with a fresh /run.
sockets="/var/run/postgresql,/tmp"

if [[ ! -s $PGDATA/PG_VERSION ]]; then
  [[ -n ${POSTGRES_PASSWORD:-} ]] || { echo "timescaledb: set POSTGRES_PASSWORD" >&2; exit 1; }
  password_file=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" >"$password_file"
  initdb --username="$user" --pwfile="$password_file" --auth-local=trust \
    --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$password_file"
  cat >>"$PGDATA/postgresql.conf" <<CONF
listen_addresses = '*'
unix_socket_directories = '$sockets'
shared_preload_libraries = 'timescaledb'
CONF
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"

  # First-start work over the socket only, so nobody connects before it is over.
  pg_ctl --wait --silent --options="-c listen_addresses='' -c unix_socket_directories=/tmp" start
  psql=(psql --host=/tmp --username="$user" --no-psqlrc --set=ON_ERROR_STOP=1 --quiet)
  if [[ $database != postgres ]]; then
    "${psql[@]}" --dbname=postgres --command="CREATE DATABASE \"$database\""
  fi
  for db in template1 "$database"; do
    "${psql[@]}" --dbname="$db" --command="CREATE EXTENSION IF NOT EXISTS timescaledb"
  done
  for file in /docker-entrypoint-initdb.d/*; do
    case $file in
      *.sh) PGHOST=/tmp PGUSER=$user PGDATABASE=$database bash "$file" ;;
      *.sql) "${psql[@]}" --dbname="$database" --file="$file" ;;
    esac
  done
  pg_ctl --wait --silent --mode=fast stop
fi

exec "$@"
