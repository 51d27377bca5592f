"""The floor for write throughput: a bare Flask app whose POST /bare does one INSERT and COMMIT.

Served by gunicorn like the real app (`gunicorn -w 2 bench.bare_app:app`) on the same
database, named by BENCH_BARE_DATABASE_URL; bench.care compares the care-log endpoint
with it. The table bench_bare is made by bench.care before the server starts. SQLite
connections get the app's own settings (WAL, synchronous=NORMAL, a busy timeout), so
the only difference measured is the application's work.
"""

import os
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import Flask, jsonify, request

URL = os.environ["BENCH_BARE_DATABASE_URL"]
engine = sa.create_engine(URL, connect_args={"timeout": 30} if URL.startswith("sqlite") else {})

if URL.startswith("sqlite"):
    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

INSERT = sa.text("INSERT INTO bench_bare (client_id, notes, at) VALUES (:client_id, :notes, :at)")

app = Flask(__name__)


@app.post("/bare")
def bare():
    body = request.get_json()
    with engine.begin() as conn:  # one INSERT, one COMMIT
        conn.execute(INSERT, {"client_id": body["client_id"], "notes": body.get("notes", ""),
                              "at": datetime.now(UTC).replace(tzinfo=None)})
    return jsonify(client_id=body["client_id"]), 201
