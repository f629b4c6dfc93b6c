#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the tests.
#
# Two ways to use it:
#   bash scripts/postgres.sh CMD [ARGS...]
#       starts a cluster, runs CMD with LAMINA_TEST_PG_URL (and the LAMINA_TEST_PG_*
#       variables below) in its environment, then stops and deletes the cluster
#       whatever CMD did; exits with CMD's status.
#   source scripts/postgres.sh
#       starts a cluster in the current shell and exports the variables; the
#       cluster is stopped and deleted when that shell exits (an EXIT trap).
#
# What it does: installs Debian's `postgresql` package when `initdb` is missing,
# runs `initdb` in a temp dir (as the user `lamina-pg`, created when missing, when
# run as root: PostgreSQL refuses to run as root), starts the server on a free
# 127.0.0.1 port with its unix socket in the temp dir and fsync on, and creates the
# database `lamina` owned by that user (password auth is not used: trust on
# 127.0.0.1 only).
#
# Exported:
#   LAMINA_TEST_PG_URL   postgres://USER@127.0.0.1:PORT/lamina
#   LAMINA_TEST_PG_DATA  the cluster's data directory
#   LAMINA_TEST_PG_BIN   the directory of pg_ctl, postgres, psql
#   LAMINA_TEST_PG_USER  the system user the server runs as
#
# An outage for failure tests: `bash scripts/postgres-outage.sh SECONDS` (in CMD's
# environment) stops the server for SECONDS and starts it again on the same port.

_lamina_pg_start() {
  local bin
  bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  if [[ -z "$bin" || ! -x "$bin/initdb" ]]; then
    echo "postgres.sh: installing Debian's postgresql package" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends postgresql >&2
    bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  fi

  local user
  user="$(id -un)"
  local as=()
  if [[ "$(id -u)" == 0 ]]; then
    user=lamina-pg
    if ! id -u "$user" >/dev/null 2>&1; then
      useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
    fi
    as=(runuser -u "$user" --)
  fi

  local dir
  dir="$(mktemp -d /tmp/lamina-pg.XXXXXX)"
  chmod 755 "$dir"
  [[ "$(id -u)" == 0 ]] && chown "$user" "$dir"

  # A free port: ask the kernel for one, then hand it to the server.
  local port
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"

  "${as[@]}" "$bin/initdb" -D "$dir/data" -U "$user" --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; return 1; }
  cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = on
synchronous_commit = on
max_connections = 200
shared_buffers = 128MB
EOF
  "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null \
    || { cat "$dir/server.log" >&2; return 1; }
  "${as[@]}" "$bin/psql" -h "$dir" -p "$port" -U "$user" -d postgres -qAt \
    -c "CREATE DATABASE lamina" >/dev/null

  export LAMINA_TEST_PG_URL="postgres://$user@127.0.0.1:$port/lamina"
  export LAMINA_TEST_PG_DATA="$dir/data"
  export LAMINA_TEST_PG_BIN="$bin"
  export LAMINA_TEST_PG_USER="$user"
  _LAMINA_PG_DIR="$dir"
  echo "postgres.sh: LAMINA_TEST_PG_URL=$LAMINA_TEST_PG_URL" >&2
}

_lamina_pg_stop() {
  [[ -n "${_LAMINA_PG_DIR:-}" && -d "$_LAMINA_PG_DIR" ]] || return 0
  local as=()
  [[ "$(id -u)" == 0 ]] && as=(runuser -u "$LAMINA_TEST_PG_USER" --)
  "${as[@]}" "$LAMINA_TEST_PG_BIN/pg_ctl" -D "$LAMINA_TEST_PG_DATA" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$_LAMINA_PG_DIR"
  _LAMINA_PG_DIR=
}

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
  # Sourced: start now, clean up when the shell exits.
  _lamina_pg_start || return 1
  trap _lamina_pg_stop EXIT
else
  set -euo pipefail
  if [[ $# -eq 0 ]]; then
    echo "usage: bash scripts/postgres.sh CMD [ARGS...]   (or: source scripts/postgres.sh)" >&2
    exit 2
  fi
  _lamina_pg_start
  trap _lamina_pg_stop EXIT
  status=0
  "$@" || status=$?
  exit "$status"
fi
