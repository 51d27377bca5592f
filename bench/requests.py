"""Baseline request figures: latency of /healthz and of the species API, and their query counts."""

import statistics
import tempfile
import time

import sqlalchemy as sa

from app import create_app
from app.extensions import db
from tests.conftest import make_config, reset_schema

ROUNDS = 200


def _measure(client, path, headers=None) -> dict:
    timings = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    timings.sort()
    return {"median_ms": round(statistics.median(timings), 2), "p95_ms": round(timings[int(ROUNDS * 0.95)], 2)}


def _queries(app, client, path, headers) -> int:
    statements = []
    with app.app_context():
        engine = db.engine

    def record(*_args):
        statements.append(1)

    sa.event.listen(engine, "before_cursor_execute", record)
    client.get(path, headers=headers)
    sa.event.remove(engine, "before_cursor_execute", record)
    return len(statements)


def run() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(make_config(f"sqlite:///{tmp}/bench.sqlite3"))
        reset_schema(app)
        with app.app_context():
            from app.demo import seed_demo

            seed_demo(password="bench password 123")
            db.session.commit()
        client = app.test_client()
        token = client.post("/api/v1/auth/tokens", json={"email": "viewer@example.org",
                                                         "password": "bench password 123"}).json["token"]
        headers = {"Authorization": f"Bearer {token}"}
        return {
            "healthz (in-process, SQLite)": _measure(client, "/healthz"),
            "GET /api/v1/species?per_page=200 (in-process, SQLite)": _measure(
                client, "/api/v1/species?per_page=200", headers),
            "queries per species list request": _queries(app, client, "/api/v1/species?per_page=200", headers),
        }
