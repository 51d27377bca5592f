#!/usr/bin/env bash
# `make run`: the web server and the scheduler of the embedded default, side by side.
# Ctrl-C (or either one stopping) stops both; the scheduler gives its lease back as it goes.
set -uo pipefail

VENV=${VENV:-.venv}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-5000}
WORKERS=${WORKERS:-2}

"$VENV/bin/flask" --app wsgi scheduler run &
scheduler=$!
"$VENV/bin/gunicorn" --bind "$HOST:$PORT" --workers "$WORKERS" --access-logfile - wsgi:app &
web=$!

stop() {
    trap - INT TERM
    kill -TERM "$scheduler" "$web" 2>/dev/null
    wait "$scheduler" "$web" 2>/dev/null
}
trap 'stop; exit 130' INT TERM

# Whichever stops first (a crash, a port in use) takes the other down with it.
wait -n "$scheduler" "$web"
status=$?
stop
exit "$status"
