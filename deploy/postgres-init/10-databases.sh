#!/bin/sh
# Run by the postgres image once, when its data volume is first initialised (as the superuser,
# with PGPASSWORD set). Two roles with passwords from deploy/secrets/postgres.env, each owning its
# own database and allowed into no other: the portal cannot read the simulator's data and the
# simulator cannot read the portal's. Neither role is a superuser.
set -e
: "${MOJEID_DB_PASSWORD:?is not set: run deploy/make-secrets}"
: "${GOVSIM_DB_PASSWORD:?is not set: run deploy/make-secrets}"

# The passwords reach psql through its environment (\getenv), not its command line, where any
# process on the host could read them.
psql --no-psqlrc --set ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
\getenv mojeid_password MOJEID_DB_PASSWORD
\getenv govsim_password GOVSIM_DB_PASSWORD
CREATE ROLE mojeid LOGIN PASSWORD :'mojeid_password';
CREATE ROLE govsim LOGIN PASSWORD :'govsim_password';
CREATE DATABASE mojeid OWNER mojeid;
CREATE DATABASE govsim OWNER govsim;
-- Any role may connect to any database unless told otherwise: here only the owner may.
REVOKE ALL ON DATABASE mojeid FROM PUBLIC;
REVOKE ALL ON DATABASE govsim FROM PUBLIC;
REVOKE ALL ON DATABASE postgres FROM PUBLIC;
SQL
