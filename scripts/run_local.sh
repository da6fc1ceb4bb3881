#!/usr/bin/env bash
# Start the web server and a Celery worker with beat side by side; Ctrl-C stops both.
# Without REDIS_URL the broker is kombu's filesystem transport under var/broker (no server).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
# Links in e-mails and API answers (survey links, status pages) point at this server.
export SITE_URL=${SITE_URL:-http://$HOST:$PORT}
mkdir -p var

.venv/bin/celery -A cem worker --beat --loglevel=INFO --concurrency=2 \
  --schedule=var/celerybeat-schedule >var/celery.log 2>&1 &
CELERY_PID=$!
trap 'kill $CELERY_PID 2>/dev/null; wait $CELERY_PID 2>/dev/null' EXIT INT TERM

echo "Celery worker and beat running (log: var/celery.log)."
echo "Open http://$HOST:$PORT/ — demo logins are listed above."
$PY manage.py runserver "$HOST:$PORT"
