"""Concurrent intakes get unique, gap-free accession numbers (on SQLite and PostgreSQL)."""

import threading

import sqlalchemy as sa

from app import create_app
from app.animals import services
from app.animals.models import Animal, Case
from app.auth.models import Facility
from app.extensions import db
from app.reference.models import Species
from tests.conftest import fresh_database_url, make_config, reset_schema

INTAKES = 50


def test_fifty_concurrent_intakes_get_unique_gap_free_numbers(_tmp_dir):
    app = create_app(make_config(fresh_database_url(_tmp_dir, "concurrency"),
                                 SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 10, "max_overflow": 45}))
    reset_schema(app)
    with app.app_context():
        facility = Facility(code="PTK", name="Phnom Tamao")
        species = Species(scientific_name="Cuora amboinensis", common_name_en="Amboina box turtle",
                          taxon_class="reptile")
        db.session.add_all([facility, species])
        db.session.flush()
        case = services.create_case(facility=facility, user=None, occurred_at=_now(),
                                    source="customs_seizure")
        db.session.commit()
        case_id, species_id = case.id, species.id

    start = threading.Barrier(INTAKES)
    failures = []

    def intake():
        with app.app_context():
            try:
                start.wait(timeout=30)
                held_case = db.session.get(Case, case_id)
                services.admit_animals(held_case, [{"species_id": species_id, "quantity": 3}], user=None)
                db.session.commit()
            except Exception as error:  # noqa: BLE001 - every failure is reported below
                failures.append(repr(error))
                db.session.rollback()

    threads = [threading.Thread(target=intake) for _ in range(INTAKES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert failures == []
    with app.app_context():
        numbers = sorted(db.session.execute(sa.select(Animal.accession_number)).scalars())
        db.engine.dispose()
    year = numbers[0][:4]
    assert numbers == [f"{year}-{n:05d}" for n in range(1, INTAKES + 1)]


def _now():
    from app.common.db import utcnow

    return utcnow()
