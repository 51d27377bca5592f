"""Intake figures: a mass seizure admitted in one request, and reads over 2,000 animal records.

Runs in-process on a fresh SQLite file (and on PostgreSQL when BENCH_DATABASE_URL
is set), so the figures are the application's own cost, without a network.
"""

import os
import statistics
import tempfile
import time

import sqlalchemy as sa

from app import create_app
from app.extensions import db
from tests.conftest import make_config, reset_schema

PASSWORD = "bench password 123"
SEIZURE = [  # the Customs operation of DOMAIN.md: 8 species, 700 animals
    ("Heosemys annandalii", 8), ("Heosemys grandis", 21), ("Cyclemys dentata", 178), ("Cuora amboinensis", 4),
    ("Python bivittatus", 2), ("Ptyas korros", 468), ("Manis javanica", 1), ("Macaca fascicularis", 18),
]
RECORDS = 2000
ROUNDS = 50


def _timed(call, rounds=ROUNDS) -> dict:
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {"median_ms": round(statistics.median(timings), 1), "p95_ms": round(timings[int(len(timings) * 0.95)], 1)}


def _count_queries(call) -> int:
    statements = []

    def record(*_args):
        statements.append(1)

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        call()
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    return len(statements)


def _setup(url: str):
    app = create_app(make_config(url))
    reset_schema(app)
    with app.app_context():
        from app.demo import seed_demo

        seed_demo(password=PASSWORD)
        db.session.commit()
    return app


def _bench(app) -> dict:
    from app.reference.models import Enclosure, Species

    client = app.test_client()
    token = client.post("/api/v1/auth/tokens", json={"email": "coordinator@example.org", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {token.json['token']}"}
    with app.app_context():
        species = dict(db.session.execute(sa.select(Species.scientific_name, Species.id)).all())
        enclosure_id = db.session.execute(sa.select(Enclosure.id).where(Enclosure.code == "Q-T1")).scalar_one()
        facility_id = db.session.execute(sa.select(Enclosure.facility_id).where(Enclosure.id == enclosure_id)).scalar()

    def new_case():
        body = {"facility_id": facility_id, "occurred_at": "2026-11-20T06:30:00+07:00", "source": "customs_seizure"}
        return client.post("/api/v1/cases", json=body, headers=headers).json["id"]

    rows = [{"species_id": species[name], "quantity": n, "enclosure_id": enclosure_id} for name, n in SEIZURE]
    case_id = new_case()
    started = time.perf_counter()
    response = client.post(f"/api/v1/cases/{case_id}/animals", json={"animals": rows}, headers=headers)
    seizure_ms = (time.perf_counter() - started) * 1000
    assert response.status_code == 201, response.json

    individuals = [{"species_id": species["Macaca fascicularis"], "enclosure_id": enclosure_id}] * 50
    case_id = new_case()
    started = time.perf_counter()
    client.post(f"/api/v1/cases/{case_id}/animals", json={"animals": individuals}, headers=headers)
    individuals_ms = (time.perf_counter() - started) * 1000

    while True:  # fill up to RECORDS records, 200 rows per request
        total = client.get("/api/v1/animals?per_page=1", headers=headers).json["meta"]["total"]
        if total >= RECORDS:
            break
        case_id = new_case()
        client.post(f"/api/v1/cases/{case_id}/animals", json={"animals": individuals * 4}, headers=headers)

    animal_id = client.get("/api/v1/animals?per_page=1", headers=headers).json["items"][0]["id"]
    with app.app_context():
        list_queries = _count_queries(lambda: client.get("/api/v1/animals?per_page=200", headers=headers))
    return {
        "admit the 8-species, 700-animal seizure (one request)": f"{seizure_ms:.0f} ms",
        "admit 50 individuals in one request": f"{individuals_ms:.0f} ms",
        f"GET /api/v1/animals?per_page=200 over {RECORDS} records": _timed(
            lambda: client.get("/api/v1/animals?per_page=200", headers=headers)),
        "GET /api/v1/animals?q=2026-0 (search)": _timed(
            lambda: client.get("/api/v1/animals?q=2026-0&per_page=50", headers=headers)),
        "GET /api/v1/animals/<id>/timeline": _timed(
            lambda: client.get(f"/api/v1/animals/{animal_id}/timeline", headers=headers)),
        "queries per animal list request (200 rows)": list_queries,
    }


def run() -> dict:
    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, url in (("SQLite", f"sqlite:///{tmp}/bench.sqlite3"),
                          ("PostgreSQL", os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL"))):
            if not url:
                figures[f"{name}"] = "skipped (set BENCH_DATABASE_URL, or run `make bench` which starts one)"
                continue
            for key, value in _bench(_setup(url)).items():
                figures[f"{name}: {key}"] = value
    return figures
