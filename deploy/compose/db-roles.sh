#!/usr/bin/env bash
# The compose stack's database roles, made or brought up to date by an administrator (libpq's PG*
# variables say where and as whom): safe to run again, so the passwords always follow .env.
#
# SINK_DB_USER: the sink's login. It owns the database, so its migrations create and alter the
#   schema (TimescaleDB itself is already there: the image installs it as the administrator).
# API_DB_USER: the API's login, a member of tickwire_reader (SELECT on the tables the API serves,
#   granted by the sink's migrations 0005 and 0016, which leave that role NOLOGIN), read-only by
#   default as well. Only the owner makes temporary tables; no login but the administrator makes
#   large objects.
set -euo pipefail

: "${PGDATABASE:?PGDATABASE names the database}"
: "${SINK_DB_USER:?}" "${SINK_DB_PASSWORD:?set SINK_DB_PASSWORD}"
: "${API_DB_USER:?}" "${API_DB_PASSWORD:?set API_DB_PASSWORD}"

# psql substitutes :'var' (a quoted literal) and :"var" (a quoted identifier) itself, so neither a
# password nor a role name is ever spliced into the SQL text by the shell.
psql --no-psqlrc --quiet --set ON_ERROR_STOP=1 \
    --set database="$PGDATABASE" \
    --set sink_user="$SINK_DB_USER" --set sink_password="$SINK_DB_PASSWORD" \
    --set api_user="$API_DB_USER" --set api_password="$API_DB_PASSWORD" <<'SQL'
SET client_min_messages = warning;  -- a second run's "already a member" is no news
-- Made here rather than left to migration 0005, so the api's login can join it before the sink's
-- first start; the migration finds it and grants it SELECT.
SELECT 'CREATE ROLE tickwire_reader NOLOGIN'
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tickwire_reader') \gexec
SELECT format('CREATE ROLE %I', :'sink_user')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'sink_user') \gexec
SELECT format('CREATE ROLE %I', :'api_user')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'api_user') \gexec

ALTER ROLE :"sink_user" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE
    PASSWORD :'sink_password';
ALTER DATABASE :"database" OWNER TO :"sink_user";

ALTER ROLE :"api_user" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT
    PASSWORD :'api_password';
GRANT tickwire_reader TO :"api_user";
ALTER ROLE :"api_user" SET default_transaction_read_only = on;

-- Writes outside the schema's tables, which every login may make by default: temporary tables
-- (the owner, the sink, keeps the right: it stages its copies in them) and large objects. The API's
-- login could turn its read-only default off; these stay refused when it does.
REVOKE TEMPORARY ON DATABASE :"database" FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION lo_create(oid), lo_creat(integer), lo_from_bytea(oid, bytea)
    FROM PUBLIC;
SQL
echo "db-roles: ${SINK_DB_USER} owns ${PGDATABASE}; ${API_DB_USER} reads it as tickwire_reader"
