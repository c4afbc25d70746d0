#!/bin/sh
# Run once by the postgres image on an empty data directory: one database per service of the
# institution (CARREFOUR_DATABASES), owned by the carrefour role. Each service's own
# `migrate` (its init container) creates its tables.
set -eu
for db in $CARREFOUR_DATABASES; do
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -c "CREATE DATABASE \"$db\" OWNER \"$POSTGRES_USER\""
done
