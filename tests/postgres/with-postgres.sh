#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL: initdb into a temporary directory, start
# `postgres` on a free loopback port (as `nobody` when run as root: PostgreSQL refuses root),
# export CHINWAG_TEST_POSTGRES (a connection string to its `postgres` database) and
# CHINWAG_TEST_STORE=postgres, run the command, then stop the server by its PID and remove the
# directory. A missing PostgreSQL is a failure, never a skip.
#
#   tests/postgres/with-postgres.sh cargo test -p chinwag-server --test rest
set -euo pipefail

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ] || [ ! -x "$bindir/postgres" ]; then
  echo "with-postgres: PostgreSQL is not installed (Debian: apt-get install -y postgresql)" >&2
  exit 1
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/chinwag-pg.XXXXXX")
as=()
if [ "$(id -u)" = 0 ]; then
  chown nobody "$dir"
  as=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
fi

pid=
cleanup() {
  if [ -n "$pid" ]; then
    kill -INT "$pid" 2>/dev/null || true # fast shutdown
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT

if ! "${as[@]}" "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale \
  >"$dir/initdb.log" 2>&1; then
  cat "$dir/initdb.log" >&2
  echo "with-postgres: initdb failed" >&2
  exit 1
fi

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# fsync off: these tests kill servers, not the machine, and every test creates a database.
"${as[@]}" "$bindir/postgres" -D "$dir/data" -k "$dir" -p "$port" \
  -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off -c full_page_writes=off \
  >"$dir/postgres.log" 2>&1 &
pid=$!

for _ in $(seq 1 300); do
  if "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port"; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then
    cat "$dir/postgres.log" >&2
    echo "with-postgres: postgres exited during start-up" >&2
    exit 1
  fi
  sleep 0.1
done
if ! "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port"; then
  cat "$dir/postgres.log" >&2
  echo "with-postgres: postgres did not accept connections within 30 s" >&2
  exit 1
fi

export CHINWAG_TEST_POSTGRES="host=127.0.0.1 port=$port user=postgres dbname=postgres"
export CHINWAG_TEST_STORE=postgres
"$@"
