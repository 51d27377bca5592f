"""Alerts and job runs over the API: lists and filters, who sees what, acknowledging and resolving."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from app.alerts.models import Alert, AlertStatus, JobRun, JobRunStatus
from app.care.models import CareTask
from app.common.db import utcnow
from tests import factories
from tests.alerts.conftest import NOW
from tests.list_queries import assert_same_count_for_1_and_20

KHMER = re.compile("[\u1780-\u17ff]")


@pytest.fixture
def animal(db, facility):
    return factories.AnimalFactory(case=factories.CaseFactory(facility=facility), name="Srey")


@pytest.fixture
def outsider(db, other_facility):
    return factories.AnimalFactory(case=factories.CaseFactory(facility=other_facility))


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.json
    return [item["id"] for item in response.json["items"]]


def _fresh(db, alert_id: int) -> Alert:
    db.session.expire_all()
    return db.session.get(Alert, alert_id)


# --- lists and filters -----------------------------------------------------------------------

def test_the_list_is_the_unresolved_alerts_unless_a_status_is_given(client, bearer, make_alert, animal):
    opened = make_alert(animal=animal)
    seen = make_alert("weight_loss", animal=animal, status=AlertStatus.ACKNOWLEDGED, reference_value=12.5,
                      reference_at=NOW - timedelta(days=1), raised_at=NOW - timedelta(hours=1))
    done = make_alert("quarantine_ending", animal=animal, status=AlertStatus.RESOLVED)
    headers = bearer("vet")

    assert set(_ids(client.get("/api/v1/alerts", headers=headers))) == {opened.id, seen.id}
    for status, expected in (("open", [opened.id]), ("acknowledged", [seen.id]), ("resolved", [done.id])):
        assert _ids(client.get(f"/api/v1/alerts?status={status}", headers=headers)) == expected


def test_filters_by_kind_animal_and_facility(client, bearer, make_alert, animal, facility, other_facility, outsider):
    other_animal = factories.AnimalFactory(case=animal.case)
    weight = make_alert(animal=animal)
    loss = make_alert("weight_loss", animal=other_animal, reference_value=11, reference_at=NOW)
    far = make_alert(animal=outsider)
    headers = bearer("coordinator")  # network-wide

    assert _ids(client.get("/api/v1/alerts?kind=weight_loss", headers=headers)) == [loss.id]
    assert _ids(client.get(f"/api/v1/alerts?animal_id={animal.id}", headers=headers)) == [weight.id]
    assert set(_ids(client.get(f"/api/v1/alerts?facility_id={facility.id}", headers=headers))) == {weight.id,
                                                                                                    loss.id}
    assert _ids(client.get(f"/api/v1/alerts?facility_id={other_facility.id}&kind=weight_missing",
                           headers=headers)) == [far.id]


def test_worst_then_newest_first(client, bearer, make_alert, animal):
    older = make_alert(animal=animal, raised_at=NOW - timedelta(hours=2))
    newer = make_alert(animal=animal)
    critical = make_alert("dose_overdue", animal=animal, severity="critical", reference_at=NOW,
                          raised_at=NOW - timedelta(days=3))
    assert _ids(client.get("/api/v1/alerts", headers=bearer("keeper"))) == [critical.id, newer.id, older.id]


def test_an_alert_reads_with_its_message_and_who_handled_it(client, bearer, make_alert, make_user, animal, db):
    vet = make_user("vet", name="Dr Sokha")
    alert = make_alert("weight_loss", animal=animal, status=AlertStatus.ACKNOWLEDGED, reference_value=12.5,
                       reference_at=NOW - timedelta(days=1))
    alert.acknowledged_by_id, alert.acknowledged_at = vet.id, NOW
    db.session.flush()

    body = client.get(f"/api/v1/alerts/{alert.id}", headers=bearer("keeper")).json
    assert {k: body[k] for k in ("id", "kind", "kind_label", "severity", "facility_id", "animal_id", "task_id",
                                 "case_id", "reference_value", "status", "acknowledged_by", "resolved_at",
                                 "resolved_by", "resolved_automatically")} == {
        "id": alert.id, "kind": "weight_loss", "kind_label": "Weight loss", "severity": "warning",
        "facility_id": animal.facility_id, "animal_id": animal.id, "task_id": None, "case_id": None,
        "reference_value": 12.5, "status": "acknowledged", "acknowledged_by": "Dr Sokha", "resolved_at": None,
        "resolved_by": None, "resolved_automatically": False}
    assert _at(body["acknowledged_at"]) == NOW and _at(body["raised_at"]) == NOW
    assert _at(body["reference_at"]) == NOW - timedelta(days=1)
    assert animal.accession_number in body["message"] and "12.5%" in body["message"]


def test_an_alert_a_job_resolved_says_so(client, bearer, make_alert, animal, db):
    alert = make_alert(animal=animal, status=AlertStatus.RESOLVED)
    alert.resolved_at = NOW
    db.session.flush()
    body = client.get(f"/api/v1/alerts/{alert.id}", headers=bearer("vet")).json
    assert (body["status"], body["resolved_by"], body["resolved_automatically"]) == ("resolved", None, True)


def test_the_message_follows_accept_language(client, bearer, make_alert, animal):
    # select_locale (app.common.i18n) falls back to Accept-Language for a user with no saved locale.
    alert = make_alert(animal=animal, reference_at=NOW - timedelta(days=20))
    headers = bearer("vet")
    english = client.get(f"/api/v1/alerts/{alert.id}", headers=headers).json["message"]
    khmer = client.get(f"/api/v1/alerts/{alert.id}", headers={**headers, "Accept-Language": "km"}).json["message"]
    assert not KHMER.search(english)
    assert KHMER.search(khmer) and khmer != english


# --- who sees what ---------------------------------------------------------------------------

def test_each_role_sees_the_kinds_it_is_for(client, bearer, make_alert, animal):
    weight = make_alert(animal=animal)
    ready = make_alert("release_ready", animal=animal)

    assert _ids(client.get("/api/v1/alerts", headers=bearer("keeper"))) == [weight.id]
    keeper = bearer("keeper")
    assert client.get(f"/api/v1/alerts/{ready.id}", headers=keeper).status_code == 404
    assert client.post(f"/api/v1/alerts/{ready.id}/acknowledge", headers=keeper).status_code == 404
    assert set(_ids(client.get("/api/v1/alerts", headers=bearer("coordinator")))) == {weight.id, ready.id}

    viewer = bearer("viewer")
    assert client.get("/api/v1/alerts", headers=viewer).status_code == 403
    assert client.get(f"/api/v1/alerts/{weight.id}", headers=viewer).status_code == 403
    assert client.post(f"/api/v1/alerts/{weight.id}/acknowledge", headers=viewer).status_code == 403
    assert client.get("/api/v1/alerts").status_code == 401


def test_another_facilitys_alert_does_not_exist_for_you(client, bearer, make_alert, animal, outsider, db):
    mine = make_alert(animal=animal)
    theirs = make_alert(animal=outsider)
    headers = bearer("vet")

    assert _ids(client.get("/api/v1/alerts", headers=headers)) == [mine.id]
    assert _ids(client.get(f"/api/v1/alerts?facility_id={outsider.facility_id}", headers=headers)) == []
    response = client.get(f"/api/v1/alerts/{theirs.id}", headers=headers)
    assert (response.status_code, response.json["error"]["code"]) == (404, "not_found")
    for action in ("acknowledge", "resolve"):
        assert client.post(f"/api/v1/alerts/{theirs.id}/{action}", json={}, headers=headers).status_code == 404
    assert _fresh(db, theirs.id).status == AlertStatus.OPEN


# --- acknowledging and resolving -------------------------------------------------------------

def test_acknowledging_records_who_and_when_and_again_changes_nothing(client, bearer, make_alert, make_user,
                                                                      animal, db):
    keeper = make_user("keeper", name="Dara")
    token = client.post("/api/v1/auth/tokens", json={"email": keeper.email, "password": factories.DEFAULT_PASSWORD})
    headers = {"Authorization": f"Bearer {token.json['token']}"}
    alert = make_alert(animal=animal)

    before = utcnow()
    response = client.post(f"/api/v1/alerts/{alert.id}/acknowledge", headers=headers)  # no body at all
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["id"], body["status"], body["acknowledged_by"]) == (alert.id, "acknowledged", "Dara")
    assert before <= _at(body["acknowledged_at"]) <= utcnow()
    stored = _fresh(db, alert.id)
    assert (stored.status, stored.acknowledged_by_id, stored.resolved_at) == (AlertStatus.ACKNOWLEDGED, keeper.id,
                                                                              None)

    again = client.post(f"/api/v1/alerts/{alert.id}/acknowledge", json={}, headers=bearer("vet"))
    assert again.status_code == 200, again.json
    assert (again.json["acknowledged_by"], again.json["acknowledged_at"]) == ("Dara", body["acknowledged_at"])


def test_resolving_records_who_and_when_and_twice_is_a_conflict(client, bearer, make_alert, make_user, animal, db):
    vet = make_user("vet", name="Dr Sokha")
    token = client.post("/api/v1/auth/tokens", json={"email": vet.email, "password": factories.DEFAULT_PASSWORD})
    headers = {"Authorization": f"Bearer {token.json['token']}"}
    alert = make_alert(animal=animal, status=AlertStatus.ACKNOWLEDGED)

    response = client.post(f"/api/v1/alerts/{alert.id}/resolve", json={}, headers=headers)
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["status"], body["resolved_by"], body["resolved_automatically"]) == ("resolved", "Dr Sokha", False)
    stored = _fresh(db, alert.id)
    assert (stored.status, stored.resolved_by_id) == (AlertStatus.RESOLVED, vet.id)
    assert _at(body["resolved_at"]) == stored.resolved_at

    for action in ("resolve", "acknowledge"):
        refused = client.post(f"/api/v1/alerts/{alert.id}/{action}", json={}, headers=bearer("keeper"))
        assert refused.status_code == 409, refused.json
        error = refused.json["error"]
        assert error["code"] == "conflict" and error["message"]
        assert error["fields"]["status"] and error["current"]["resolved_by"] == "Dr Sokha"
    assert _fresh(db, alert.id).resolved_by_id == vet.id


def test_a_retried_resolve_with_its_idempotency_key_gets_the_first_answer(client, bearer, make_alert, animal):
    alert = make_alert(animal=animal)
    headers = {**bearer("vet"), "Idempotency-Key": "resolve-once-0001"}
    first = client.post(f"/api/v1/alerts/{alert.id}/resolve", json={}, headers=headers)
    retried = client.post(f"/api/v1/alerts/{alert.id}/resolve", json={}, headers=headers)
    assert (first.status_code, retried.status_code) == (200, 200)
    assert retried.json == first.json and retried.headers["Idempotent-Replayed"] == "true"


# --- bad input -------------------------------------------------------------------------------

@pytest.mark.parametrize(("query", "field"), [("status=closed", "status"), ("status=unresolved", "status"),
                                              ("kind=flood", "kind"), ("animal_id=x", "animal_id")])
def test_a_bad_filter_is_422_with_its_field(client, bearer, query, field):
    response = client.get(f"/api/v1/alerts?{query}", headers=bearer("vet"))
    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] == "validation_error"
    assert response.json["error"]["fields"][field]


def test_an_action_with_fields_in_its_body_is_422(client, bearer, make_alert, animal, db):
    alert = make_alert(animal=animal)
    response = client.post(f"/api/v1/alerts/{alert.id}/acknowledge", json={"note": "x"}, headers=bearer("vet"))
    assert response.status_code == 422, response.json
    assert response.json["error"]["fields"]["note"]
    assert _fresh(db, alert.id).status == AlertStatus.OPEN


# --- job runs --------------------------------------------------------------------------------

def _run(db, job, *, status=JobRunStatus.SUCCEEDED, started_at=NOW, **kwargs) -> JobRun:
    run = JobRun(job=job, as_of=started_at, started_at=started_at, status=status,
                 finished_at=started_at + timedelta(seconds=2), runner="cli", **kwargs)
    db.session.add(run)
    db.session.flush()
    return run


def test_admins_read_the_job_runs(client, bearer, db):
    weights = _run(db, "flag_weights", items=3, scheduled_for=NOW)
    failed = _run(db, "flag_quarantine", status=JobRunStatus.FAILED, error="Traceback ...",
                  started_at=NOW + timedelta(minutes=1))
    headers = bearer("admin")

    response = client.get("/api/v1/job-runs", headers=headers)
    assert _ids(response) == [failed.id, weights.id]
    assert response.json["items"][1] == {
        "id": weights.id, "job": "flag_weights", "scheduled_for": response.json["items"][1]["scheduled_for"],
        "as_of": response.json["items"][1]["as_of"], "started_at": response.json["items"][1]["started_at"],
        "finished_at": response.json["items"][1]["finished_at"], "status": "succeeded", "items": 3, "error": "",
        "runner": "cli"}
    assert _at(response.json["items"][1]["scheduled_for"]) == NOW
    assert _ids(client.get("/api/v1/job-runs?job=flag_weights", headers=headers)) == [weights.id]
    assert _ids(client.get("/api/v1/job-runs?status=failed", headers=headers)) == [failed.id]

    bad = client.get("/api/v1/job-runs?job=make_coffee", headers=headers)
    assert (bad.status_code, list(bad.json["error"]["fields"])) == (422, ["job"])
    for role in ("coordinator", "vet", "keeper", "viewer"):
        assert client.get("/api/v1/job-runs", headers=bearer(role)).status_code == 403


# --- lists cost the same for 1 row and 20 ----------------------------------------------------

def test_alert_list_queries(client, bearer, count_queries, make_alert, facility, animal, db):
    """Every kind of subject, each acknowledged by someone else: still one SELECT for all their names."""
    enclosure = factories.EnclosureFactory(facility=facility)

    def add_one(n):
        if n % 3 == 0:
            alert = make_alert(animal=factories.AnimalFactory(case=animal.case, name=f"Lot {n}"),
                               reference_at=NOW - timedelta(days=n + 10))
        elif n % 3 == 1:
            task = CareTask(facility_id=facility.id, enclosure_id=enclosure.id, kind="clean",
                            due_at=NOW - timedelta(hours=n))
            db.session.add(task)
            db.session.flush()
            alert = make_alert("care_overdue", task=task, reference_at=task.due_at)
        else:
            alert = make_alert("hold_review", case=factories.CaseFactory(facility=facility), reference_at=NOW)
        alert.status, alert.acknowledged_at = AlertStatus.ACKNOWLEDGED, NOW
        alert.acknowledged_by_id = factories.UserFactory(role="keeper", facilities=[facility]).id
        db.session.flush()

    assert_same_count_for_1_and_20(client, bearer("coordinator"), count_queries, "/api/v1/alerts", add_one)


def test_job_run_list_queries(client, bearer, count_queries, db):
    def add_one(n):
        _run(db, "flag_weights", started_at=datetime(2026, 6, 1, tzinfo=UTC) + timedelta(hours=n))

    assert_same_count_for_1_and_20(client, bearer("admin"), count_queries, "/api/v1/job-runs", add_one)
