#!/bin/sh
# Run by the postgres image once, when it initialises an empty data directory
# (/docker-entrypoint-initdb.d): creates the platform's roles from workforce-roles.sql with the
# passwords of the container's environment (set in .env, see compose.yaml).
set -e
if [ -z "$WORKFORCE_DB_OWNER_PASSWORD" ] || [ -z "$WORKFORCE_DB_PASSWORD" ]; then
  echo "init-workforce-roles: set WORKFORCE_DB_OWNER_PASSWORD and WORKFORCE_DB_PASSWORD (openssl rand -hex 32)" >&2
  exit 1
fi
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v database="$POSTGRES_DB" \
  -v owner_role="${WORKFORCE_DB_OWNER:-workforce_owner}" -v owner_password="$WORKFORCE_DB_OWNER_PASSWORD" \
  -v app_login="${WORKFORCE_DB_USER:-workforce_platform}" -v app_password="$WORKFORCE_DB_PASSWORD" \
  -f "${WORKFORCE_ROLES_SQL:-/workforce/workforce-roles.sql}"
