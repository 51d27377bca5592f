"""Recording a dose over the API: a medicate task completed with what became of it, by whom it may be."""

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.care.models import CareLog, CareTask, TaskStatus, Weight
from app.common.db import utcnow
from app.vet.prescriptions import prescribe


def _dose_task(db, animal, *, keeper_may_give: bool) -> CareTask:
    """The first dose of a fresh prescription (Meloxicam SID for 3 days) for the animal, due now."""
    db.session.add(Weight(animal_id=animal.id, measured_at=utcnow() - timedelta(hours=1), grams=Decimal(6000)))
    db.session.flush()
    prescription, _warnings = prescribe(animal, user=None, drug="Meloxicam", dose_mg_per_kg=Decimal("0.2"),
                                        route="PO", frequency="SID", days=3, keeper_may_give=keeper_may_give)
    task = db.session.execute(
        sa.select(CareTask).where(CareTask.schedule_id == prescription.schedule_id).order_by(CareTask.due_at).limit(1)
    ).scalar_one()
    # The course starts at the next dosing time; a dose is recorded only around its time.
    task.due_at = utcnow() - timedelta(minutes=10)
    task.overdue_at = task.due_at + timedelta(hours=1)
    db.session.flush()
    return task


def test_a_dose_is_not_recorded_hours_before_its_time(client, bearer, animal, db):
    task = _dose_task(db, animal, keeper_may_give=True)
    task.due_at = utcnow() + timedelta(hours=6)
    task.overdue_at = task.due_at + timedelta(hours=1)
    db.session.flush()
    response = _complete(client, task, bearer("vet"), given="given")
    assert response.status_code == 422 and "done_at" in response.json["error"]["fields"]


def _complete(client, task, headers, **body):
    return client.post(f"/api/v1/tasks/{task.id}/complete", json={"client_id": "dose-tablet-0001", **body},
                       headers=headers)


def _status(db, task) -> str:
    return db.session.execute(sa.select(CareTask.status).where(CareTask.id == task.id)).scalar_one()


def _logs(db) -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(CareLog)).scalar_one()


def test_a_vet_records_a_dose_with_what_became_of_it(client, bearer, animal, db):
    task = _dose_task(db, animal, keeper_may_give=False)
    headers = bearer("vet")
    response = _complete(client, task, headers, given="vomited", notes="Within ten minutes")
    assert response.status_code == 201, response.json
    log = response.json
    assert (log["kind"], log["given"], log["task_id"], log["animal_id"]) == ("medicate", "vomited", task.id, animal.id)
    assert _complete(client, task, headers, given="vomited", notes="Within ten minutes").json == log  # a retry
    assert _status(db, task) == TaskStatus.DONE
    listed = client.get(f"/api/v1/animals/{animal.id}/care-logs", headers=bearer("viewer")).json["items"]
    assert [(item["kind"], item["given"]) for item in listed] == [("medicate", "vomited")]


@pytest.mark.parametrize(("body", "field"), [
    ({}, "given"),
    ({"given": None}, "given"),
    ({"given": ""}, "given"),
    ({"given": "spat out"}, "given"),
    ({"given": True}, "given"),
    ({"given": "given", "eaten": "all"}, "eaten"),
])
def test_a_dose_without_what_became_of_it_is_422(client, bearer, animal, db, body, field):
    task = _dose_task(db, animal, keeper_may_give=True)
    response = _complete(client, task, bearer("vet"), **body)
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"], response.json
    assert _status(db, task) == TaskStatus.OPEN
    assert _logs(db) == 0


def test_a_keeper_gives_only_the_doses_the_vet_allowed(client, bearer, animal, db):
    vets_only = _dose_task(db, animal, keeper_may_give=False)
    keeper = bearer("keeper")
    refused = _complete(client, vets_only, keeper, given="given")
    assert refused.status_code == 403, refused.json
    assert refused.json["error"]["code"] == "forbidden"
    assert "Only a vet may record this dose" in refused.json["error"]["message"]
    assert _status(db, vets_only) == TaskStatus.OPEN

    allowed = _dose_task(db, animal, keeper_may_give=True)
    done = client.post(f"/api/v1/tasks/{allowed.id}/complete", json={"client_id": "dose-tablet-0002",
                                                                       "given": "given"}, headers=keeper)
    assert done.status_code == 201, done.json
    assert done.json["given"] == "given"
    assert _logs(db) == 1


@pytest.mark.parametrize("role", ["coordinator", "admin"])
def test_coordinators_and_admins_record_no_dose(client, bearer, animal, db, role):
    task = _dose_task(db, animal, keeper_may_give=True)
    response = _complete(client, task, bearer(role), given="given")
    assert response.status_code == 403, response.json
    assert response.json["error"]["message"]
    assert _logs(db) == 0


def test_only_a_dose_is_given(client, bearer, animal, facility, db):
    feed = CareTask(facility_id=facility.id, kind="feed", animal_id=animal.id, due_at=utcnow() - timedelta(hours=1))
    db.session.add(feed)
    db.session.flush()
    response = _complete(client, feed, bearer("keeper"), given="given")
    assert response.status_code == 422 and "given" in response.json["error"]["fields"]
    care_log = client.post(f"/api/v1/animals/{animal.id}/care-logs",
                           json={"kind": "observe", "client_id": "dose-log-0001", "given": "given"},
                           headers=bearer("keeper"))
    assert care_log.status_code == 422 and "given" in care_log.json["error"]["fields"]
    assert _logs(db) == 0
