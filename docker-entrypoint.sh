#!/bin/sh
# Prepares the databases, then runs the command (by default gunicorn, see the Dockerfile).
# Every step is idempotent, so this runs on every start.
set -eu

if [ -n "${DYNAMODB_ENDPOINT_URL:-}" ]; then
    # A local DynamoDB (docker compose) may still be starting.
    python -m devtools.dynamodb_local wait --endpoint "$DYNAMODB_ENDPOINT_URL" --timeout 60
fi
python manage.py migrate --noinput
python manage.py createcachetable
python manage.py init_dynamodb
if [ -n "${DYNAMODB_ENDPOINT_URL:-}" ]; then
    # A local DynamoDB's payments of an earlier version get their row facts (a Scan; on AWS
    # an operator runs it once, see the README's "Upgrading to the row facts").
    python manage.py backfill_row_facts
fi

exec "$@"
