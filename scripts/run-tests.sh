#!/usr/bin/env bash
# The whole suite on SQLite, then again on a throwaway PostgreSQL when its server
# binaries are found. REQUIRE_POSTGRES=1 turns a missing PostgreSQL into a failure;
# REQUIRE_BROWSER=1 does the same for Chromium (checked by the browser tests).
# Extra arguments go to pytest (e.g. scripts/run-tests.sh -k species).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
REPORTS=$(mktemp -d)
trap 'rm -rf "$REPORTS"' EXIT

summary() {  # summary NAME XML -> "NAME: P passed, F failed, S skipped"
  "$PY" - "$1" "$2" <<'PYEOF'
import sys, xml.etree.ElementTree as ET
name, path = sys.argv[1], sys.argv[2]
try:
    root = ET.parse(path).getroot()
except (OSError, ET.ParseError):
    print(f"{name}: 0 passed, 1 failed (no report)")
    sys.exit()
suites = [root] if root.tag == "testsuite" else list(root)
total = sum(int(s.get("tests", 0)) for s in suites)
failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
skipped = sum(int(s.get("skipped", 0)) for s in suites)
print(f"{name}: {total - failed - skipped} passed, {failed} failed, {skipped} skipped")
PYEOF
}

echo "=== Test suite on SQLite ==="
"$PY" -m pytest --junitxml="$REPORTS/sqlite.xml" "$@"
sqlite_status=$?

echo "=== Test suite on PostgreSQL ==="
bash scripts/with-postgres.sh "$PY" -m pytest --junitxml="$REPORTS/postgresql.xml" "$@"
pg_status=$?
if [[ $pg_status -eq 3 ]]; then
  if [[ ${REQUIRE_POSTGRES:-0} == 1 ]]; then
    echo "PostgreSQL: REQUIRE_POSTGRES=1 but no PostgreSQL server binaries were found" >&2
  else
    echo "PostgreSQL: skipped (no PostgreSQL server binaries found; install postgresql to run it)"
    pg_status=0
  fi
fi

echo
echo "=== Summary ==="
summary SQLite "$REPORTS/sqlite.xml"
[[ -f $REPORTS/postgresql.xml ]] && summary PostgreSQL "$REPORTS/postgresql.xml"
if [[ $sqlite_status -ne 0 || $pg_status -ne 0 ]]; then
  echo "FAILED (SQLite exit $sqlite_status, PostgreSQL exit $pg_status)"
  exit 1
fi
