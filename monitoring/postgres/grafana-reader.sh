#!/bin/sh
# A read-only role for Grafana's PostgreSQL data source. The postgres image runs this once, when
# its data volume is new (/docker-entrypoint-initdb.d), with POSTGRES_USER / POSTGRES_DB set;
# GRAFANA_DB_USER and GRAFANA_DB_PASSWORD come from compose.yaml. pg_read_all_data (PostgreSQL 14+)
# covers the tables and partitions migrations add later, and grants no writes.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v role="${GRAFANA_DB_USER:-grafana_reader}" -v password="$GRAFANA_DB_PASSWORD" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
GRANT pg_read_all_data TO :"role";
SQL
