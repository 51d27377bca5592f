"""Care logs and weights: stored once per client id, back-dating rules, weight loss, the timeline."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from app import create_app
from app.animals.models import Animal, AnimalStatus
from app.auth.models import Facility
from app.care import records
from app.care.models import CareLog, Weight
from app.care.services import CareError
from app.common.db import utcnow
from app.extensions import db
from app.reference.models import Species
from tests.care.conftest import NOW
from tests.conftest import fresh_database_url, make_config, reset_schema


def _log(animal, client_id="client-0001", **values):
    values.setdefault("kind", "feed")
    return records.log_care(animal=animal, user=None, client_id=client_id, now=NOW, **values)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_same_client_id_twice_stores_one_log_and_answers_the_same(animal):
    first, created = _log(animal, eaten="half")
    again, created_again = _log(animal, eaten="half")
    assert (created, created_again) == (True, False)
    assert again.id == first.id and _count(CareLog) == 1


def test_a_client_id_of_another_record_is_refused(animal, lot):
    _log(animal)
    with pytest.raises(CareError) as refused:
        _log(lot)
    assert "client_id" in refused.value.fields


@pytest.mark.parametrize(("back", "late"), [(timedelta(0), False), (timedelta(minutes=30), False),
                                            (timedelta(hours=10), True), (timedelta(hours=47), True)])
def test_back_dated_logs_within_the_window_are_late_entries(animal, back, late):
    log, _ = _log(animal, done_at=NOW - back)
    assert log.late_entry is late and log.done_at == NOW - back


@pytest.mark.parametrize(("when", "message"), [(NOW + timedelta(minutes=30), "in the future"),
                                               (NOW - timedelta(hours=49), "up to 48 hours")])
def test_future_and_too_old_times_are_refused_with_a_clear_message(animal, when, message):
    with pytest.raises(CareError) as refused:
        _log(animal, done_at=when)
    assert message in str(refused.value.fields["done_at"][0])
    assert _count(CareLog) == 0


def test_the_back_dating_window_is_configurable(app, animal):
    app.config["CARE_BACKDATE_HOURS"] = 72
    try:
        log, _ = _log(animal, done_at=NOW - timedelta(hours=60))
    finally:
        app.config["CARE_BACKDATE_HOURS"] = 48
    assert log.late_entry


def test_keepers_log_only_at_their_facilities(animal, make_user, other_facility):
    outsider = make_user("keeper", facilities=[other_facility])
    with pytest.raises(CareError) as refused:
        records.log_care(animal=animal, user=outsider, client_id="outsider-1", kind="observe", now=NOW)
    assert "facility" in refused.value.fields


def test_a_lots_head_count_cannot_exceed_the_lot(lot):
    _log(lot, client_id="count-ok-1", kind="observe", head_count=48)
    with pytest.raises(CareError) as refused:
        _log(lot, client_id="count-bad-1", kind="observe", head_count=51)
    assert "head_count" in refused.value.fields


def test_eaten_only_on_feedings(animal):
    with pytest.raises(CareError) as refused:
        _log(animal, kind="clean", eaten="all")
    assert "eaten" in refused.value.fields


def test_no_care_is_logged_for_an_animal_that_left_care(animal):
    animal.status = AnimalStatus.DIED
    with pytest.raises(CareError):
        _log(animal)


@pytest.mark.parametrize(("grams", "bcs", "field"), [(0, None, "grams"), ("heavy", None, "grams"), (100, 10, "bcs")])
def test_bad_weights_are_refused(animal, grams, bcs, field):
    with pytest.raises(CareError) as refused:
        records.record_weight(animal, user=None, grams=grams, bcs=bcs, now=NOW)
    assert field in refused.value.fields


def test_the_same_log_posted_ten_times_at_once_is_stored_once(_tmp_dir):
    """Ten requests racing with one client id (a tablet resending): one row, ten answers with its id."""
    app = create_app(make_config(fresh_database_url(_tmp_dir, "care_retries"),
                                 SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 10, "max_overflow": 5}))
    reset_schema(app)
    with app.app_context():
        facility = Facility(code="PTK", name="Phnom Tamao")
        species = Species(scientific_name="Macaca fascicularis", common_name_en="Long-tailed macaque",
                          taxon_class="mammal")
        db.session.add_all([facility, species])
        db.session.flush()
        from tests.factories import CaseFactory

        case = CaseFactory(facility=facility)
        animal = Animal(accession_number="2026-00001", case_id=case.id, species_id=species.id,
                        facility_id=facility.id, admitted_at=utcnow())
        db.session.add(animal)
        db.session.commit()
        animal_id = animal.id

    start = threading.Barrier(10)
    answers, failures = [], []

    def post():
        with app.app_context():
            try:
                start.wait(timeout=30)
                log, _created = records.log_care(animal=db.session.get(Animal, animal_id), user=None,
                                                  client_id="tablet-7f3a9c", kind="feed", eaten="all")
                db.session.commit()
                answers.append(log.id)
            except Exception as error:  # noqa: BLE001 - every failure is reported below
                failures.append(repr(error))
                db.session.rollback()

    threads = [threading.Thread(target=post) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    with app.app_context():
        stored = db.session.execute(sa.select(CareLog.id)).scalars().all()
        db.engine.dispose()
    assert failures == []
    assert len(stored) == 1
    assert answers == stored * 10


# --- pages -----------------------------------------------------------------------------

def test_logging_care_from_the_record_page(client, login, animal):
    login("keeper")
    form = client.get(f"/animals/{animal.id}/care-logs/new").get_data(as_text=True)
    assert 'name="client_id"' in form
    response = client.post_form(f"/animals/{animal.id}/care-logs/new",
                                {"client_id": "page-log-0001", "kind": "observe", "stool": "soft",
                                 "behaviour": "Lethargic in the afternoon"})
    assert response.status_code == 302
    log = db.session.execute(select(CareLog)).scalar_one()
    assert (log.kind, log.stool, log.behaviour) == ("observe", "soft", "Lethargic in the afternoon")


def test_logging_care_of_a_whole_enclosure(client, login, enclosure):
    login("keeper")
    response = client.post_form(f"/enclosures/{enclosure.id}/care-logs/new",
                                {"client_id": "pen-log-0001", "kind": "enrich", "notes": "Hung a puzzle feeder"})
    assert response.status_code == 302
    log = db.session.execute(select(CareLog)).scalar_one()
    assert (log.enclosure_id, log.animal_id, log.kind) == (enclosure.id, None, "enrich")


def test_a_future_time_on_the_page_keeps_what_was_typed(client, login, animal):
    login("keeper")
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).astimezone().strftime("%Y-%m-%dT%H:%M")
    response = client.post_form(f"/animals/{animal.id}/care-logs/new",
                                {"client_id": "page-log-0002", "kind": "observe", "done_at": tomorrow,
                                 "behaviour": "Climbing well"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "in the future" in html and "Climbing well" in html
    assert _count(CareLog) == 0


def test_a_weight_loss_of_ten_percent_in_two_weeks_warns_on_the_record(client, login, animal):
    now = utcnow()
    records.record_weight(animal, user=None, grams=1000, measured_at=now - timedelta(hours=40), now=now)
    records.record_weight(animal, user=None, grams=960, bcs=4, now=now)
    db.session.commit()
    login("viewer")
    html = client.get(f"/animals/{animal.id}").get_data(as_text=True)
    assert 'data-testid="weight-warning"' not in html
    assert 'data-testid="weight-chart"' in html
    records.record_weight(animal, user=None, grams=890, now=now + timedelta(minutes=1))
    db.session.commit()
    html = client.get(f"/animals/{animal.id}").get_data(as_text=True)
    assert 'data-testid="weight-warning"' in html and "11.0%" in html


def test_weights_from_the_page_and_care_on_the_timeline(client, login, animal):
    login("keeper")
    response = client.post_form(f"/animals/{animal.id}/weights/new",
                                {"client_id": "page-weight-1", "grams": "3120.5", "bcs": "5"})
    assert response.status_code == 302
    client.post_form(f"/animals/{animal.id}/weights/new", {"client_id": "page-weight-1", "grams": "3120.5"})
    assert _count(Weight) == 1
    client.post_form(f"/animals/{animal.id}/care-logs/new", {"client_id": "page-log-0003", "kind": "feed",
                                                             "eaten": "little"})
    html = client.get(f"/animals/{animal.id}").get_data(as_text=True)
    assert "Weighed: 3120.5 g" in html
    assert "Feeding" in html and "eaten: Little" in html
