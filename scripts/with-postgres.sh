#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL cluster: starts it in a temporary folder
# on a free port, exports TEST_DATABASE_URL, runs "$@", and stops the cluster, also on
# failure. Run as root, the cluster runs as the `postgres` OS user (initdb refuses root).
# Exit code 3 means no PostgreSQL server binaries were found.
set -euo pipefail

find_bin() {
  if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v pg_ctl)")"
    return
  fi
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [[ -x $dir/pg_ctl && -x $dir/initdb ]]; then echo "$dir"; return; fi
  done
}

PG_BIN=$(find_bin || true)
if [[ -z $PG_BIN ]]; then
  echo "with-postgres: no PostgreSQL server binaries (pg_ctl, initdb) found" >&2
  exit 3
fi

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
DATA_DIR=$(mktemp -d /tmp/rescue-ledger-pg.XXXXXX)
RUN_AS=()
if [[ $(id -u) -eq 0 ]]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  chown postgres "$DATA_DIR"
  RUN_AS=(runuser -u postgres --)
fi

stop_cluster() {
  "${RUN_AS[@]}" "$PG_BIN/pg_ctl" -D "$DATA_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$DATA_DIR"
}
trap stop_cluster EXIT

"${RUN_AS[@]}" "$PG_BIN/initdb" -D "$DATA_DIR/data" -U postgres --auth=trust --encoding=UTF8 --no-locale >/dev/null
"${RUN_AS[@]}" "$PG_BIN/pg_ctl" -D "$DATA_DIR/data" -l "$DATA_DIR/server.log" -w -t 60 \
  -o "-p $PORT -k $DATA_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start >/dev/null
"${RUN_AS[@]}" "$PG_BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres rescue_ledger_test

export TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$PORT/rescue_ledger_test"
echo "with-postgres: PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on port $PORT" >&2
"$@"
