#!/bin/sh
# The postgres service's command. A data volume made by the earlier stack lets every connection in
# without a password ("trust" in pg_hba.conf), and the init scripts that set passwords never run
# on an existing volume: refuse to serve it rather than keep it silently open.
set -e
hba="${PGDATA:-/var/lib/postgresql/data}/pg_hba.conf"
if [ -f "$hba" ] && grep -Eq '^[[:space:]]*(local|host)[^#]*[[:space:]]trust([[:space:]]|$)' "$hba"; then
  echo "This PostgreSQL volume was made by an older stack that needed no passwords." >&2
  echo "Remove it (and its data) with 'docker compose down -v', then 'docker compose up'." >&2
  exit 1
fi
exec docker-entrypoint.sh "$@"
