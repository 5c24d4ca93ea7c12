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

exec "$@"
