#!/bin/bash
# Run once by the postgres image when docker-compose.yml's pg-primary initialises its data: lets the standby
# stream from it, and makes every commit wait for the standby (synchronous replication, docs/reliability.md).
set -euo pipefail
echo "host replication all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -c "ALTER SYSTEM SET synchronous_standby_names = '*'"
