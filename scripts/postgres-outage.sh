#!/usr/bin/env bash
# Stops the test PostgreSQL cluster started by scripts/postgres.sh for SECONDS
# seconds, then starts it again on the same port (for failure tests).
#   bash scripts/postgres-outage.sh SECONDS
# Needs the LAMINA_TEST_PG_DATA / _BIN / _USER variables postgres.sh exports.
set -euo pipefail
seconds="${1:?usage: postgres-outage.sh SECONDS}"
: "${LAMINA_TEST_PG_DATA:?run inside scripts/postgres.sh}"
as=()
[[ "$(id -u)" == 0 ]] && as=(runuser -u "$LAMINA_TEST_PG_USER" --)
"${as[@]}" "$LAMINA_TEST_PG_BIN/pg_ctl" -D "$LAMINA_TEST_PG_DATA" -m fast -w stop >/dev/null
echo "postgres-outage.sh: PostgreSQL stopped for ${seconds}s" >&2
sleep "$seconds"
"${as[@]}" "$LAMINA_TEST_PG_BIN/pg_ctl" -D "$LAMINA_TEST_PG_DATA" -l "$(dirname "$LAMINA_TEST_PG_DATA")/server.log" -w -t 60 start >/dev/null
echo "postgres-outage.sh: PostgreSQL is back" >&2
