"""The veterinary API: exams, problems, prescriptions and their doses, lab results, quarantine, deaths."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.animals.models import Animal, AnimalStatus, Outcome
from app.care.models import CareTask, TaskStatus, Weight
from app.common.db import utcnow
from app.vet.models import Exam, LabResult, Prescription, Problem
from app.vet.quarantine import add_quarantine_test
from tests import factories
from tests.list_queries import assert_same_count_for_1_and_20
from tests.vet.conftest import weigh

# The API runs on the real clock: records made here are relative to it, not to the fixtures' NOW.


def _now():
    return utcnow()


def _iso(when) -> str:
    return when.isoformat()


def _count(db, model, *where) -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(model).where(*where)).scalar_one()


def _fresh_weight(animal, grams):
    return weigh(animal, grams, at=_now() - timedelta(hours=1))


def _post(client, url, body, headers, status=201):
    response = client.post(url, json=body, headers=headers)
    assert response.status_code == status, response.json
    return response.json


_RX = {"drug": "Meloxicam", "dose_mg_per_kg": 0.2, "concentration_mg_per_ml": 1.5, "route": "PO",
       "frequency": "BID", "days": 5}


# --- exams -----------------------------------------------------------------------------------------

def test_an_exam_with_a_weight_joins_the_weighings(client, bearer, animal, db):
    headers = bearer("vet")
    url = f"/api/v1/animals/{animal.id}/exams"
    exam = _post(client, url, {"weight_g": 6150.26, "bcs": 5, "temperature_c": 38.46, "findings": "Alert, thin",
                               "assessment": "Healing wound", "plan": "Recheck in a week",
                               "examined_at": _iso(_now() - timedelta(minutes=30))}, headers)
    assert (exam["weight_g"], exam["bcs"], exam["temperature_c"]) == (6150.3, 5, 38.5)
    assert exam["examined_by"]["id"] == exam["examined_by_id"] and exam["examined_by"]["name"]
    weight = db.session.get(Weight, exam["weight_id"])
    assert (weight.animal_id, float(weight.grams)) == (animal.id, 6150.3)
    _post(client, url, {"findings": "Eating well"}, headers)

    listed = client.get(url, headers=bearer("viewer")).json
    assert listed["meta"]["total"] == 2
    assert [e["findings"] for e in listed["items"]] == ["Eating well", "Alert, thin"]  # newest first
    assert listed["items"][1]["examined_by"] == exam["examined_by"]
    weights = client.get(f"/api/v1/animals/{animal.id}/weights", headers=headers).json["items"]
    assert weights[0]["id"] == exam["weight_id"]


@pytest.mark.parametrize(("body", "field"), [
    ({}, "findings"),
    ({"findings": "   "}, "findings"),
    ({"temperature_c": 60}, "temperature_c"),
    ({"temperature_c": "warm"}, "temperature_c"),
    ({"bcs": 5, "findings": "x"}, "weight_g"),
    ({"weight_g": "heavy"}, "weight_g"),
    ({"weight_g": 0}, "weight_g"),
    ({"weight_g": 500, "bcs": 12}, "bcs"),
    ({"weight_g": 500, "bcs": 4.5}, "bcs"),
    ({"findings": "x", "examined_at": "2026-01-01T08:00:00"}, "examined_at"),
    ({"findings": "x", "examined_at": "yesterday"}, "examined_at"),
    ({"findings": "x", "examined_at": "2099-01-01T08:00:00Z"}, "examined_at"),
    ({"findings": "x", "examined_at": "2020-01-01T08:00:00Z"}, "examined_at"),
    ({"findings": "x", "examined_at": "0001-01-01T00:00:00+14:00"}, "examined_at"),
    ({"findings": "x", "examined_at": "9999-12-31T23:59:59-14:00"}, "examined_at"),
    ({"findings": "x", "colour": "blue"}, "colour"),
])
def test_bad_exams_are_422_with_field_messages(client, bearer, animal, body, field, db):
    response = client.post(f"/api/v1/animals/{animal.id}/exams", json=body, headers=bearer("vet"))
    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] == "validation_error"
    assert field in response.json["error"]["fields"], response.json
    assert _count(db, Exam) == 0


def test_an_exam_is_posted_once_with_an_idempotency_key(client, bearer, animal, db):
    headers = {**bearer("vet"), "Idempotency-Key": "exam-6c1d"}
    url = f"/api/v1/animals/{animal.id}/exams"
    first = _post(client, url, {"findings": "Bright"}, headers)
    assert _post(client, url, {"findings": "Bright"}, headers) == first
    other = client.post(url, json={"findings": "Dull"}, headers=headers)
    assert other.status_code == 422 and "Idempotency-Key" in other.json["error"]["fields"]
    assert _count(db, Exam) == 1


# --- problems --------------------------------------------------------------------------------------

def test_a_problem_is_added_resolved_and_a_stale_edit_is_409(client, bearer, animal):
    headers = bearer("vet")
    onset = (_now() - timedelta(days=3)).date()
    created = _post(client, f"/api/v1/animals/{animal.id}/problems",
                    {"diagnosis": "Snare wound, left wrist", "onset_on": onset.isoformat(), "notes": "Clean daily"},
                    headers)
    assert (created["status"], created["resolved_on"], created["version"]) == ("active", None, 1)
    url = f"/api/v1/problems/{created['id']}"
    assert client.get(url, headers=bearer("viewer")).json == created

    resolved = client.patch(url, json={"version": 1, "status": "resolved"}, headers=headers)
    assert resolved.status_code == 200, resolved.json
    assert resolved.json["status"] == "resolved" and resolved.json["resolved_on"] >= onset.isoformat()
    assert resolved.json["version"] == 2 and resolved.json["diagnosis"] == "Snare wound, left wrist"

    stale = client.patch(url, json={"version": 1, "diagnosis": "Fracture"}, headers=headers)
    assert stale.status_code == 409
    assert stale.json["error"]["code"] == "conflict"
    assert stale.json["error"]["current"]["status"] == "resolved"
    assert client.patch(url, json={"diagnosis": "Fracture"}, headers=headers).status_code == 422  # no version
    backwards = client.patch(url, json={"version": 2, "resolved_on": (onset - timedelta(days=1)).isoformat()},
                             headers=headers)
    assert backwards.status_code == 422 and "resolved_on" in backwards.json["error"]["fields"]

    _post(client, f"/api/v1/animals/{animal.id}/problems", {"diagnosis": "Intestinal parasites"}, headers)
    listed = client.get(f"/api/v1/animals/{animal.id}/problems", headers=headers).json
    assert [p["status"] for p in listed["items"]] == ["active", "resolved"]  # active first
    active = client.get(f"/api/v1/animals/{animal.id}/problems?status=active", headers=headers).json
    assert [p["diagnosis"] for p in active["items"]] == ["Intestinal parasites"]
    assert client.get(f"/api/v1/animals/{animal.id}/problems?status=gone", headers=headers).status_code == 422


@pytest.mark.parametrize(("body", "field"), [
    ({}, "diagnosis"),
    ({"diagnosis": "  "}, "diagnosis"),
    ({"diagnosis": None}, "diagnosis"),
    ({"diagnosis": "x" * 301}, "diagnosis"),
    ({"diagnosis": "Wound", "status": "cured"}, "status"),
    ({"diagnosis": "Wound", "onset_on": "2099-01-01"}, "onset_on"),
    ({"diagnosis": "Wound", "onset_on": "last week"}, "onset_on"),
    ({"diagnosis": "Wound", "onset_on": "2026-06-05", "status": "resolved", "resolved_on": "2026-06-01"},
     "resolved_on"),
])
def test_bad_problems_are_422(client, bearer, animal, body, field, db):
    response = client.post(f"/api/v1/animals/{animal.id}/problems", json=body, headers=bearer("vet"))
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"], response.json
    assert _count(db, Problem) == 0


def test_bad_problem_edits_are_422(client, bearer, animal):
    headers = bearer("vet")
    created = _post(client, f"/api/v1/animals/{animal.id}/problems", {"diagnosis": "Wound"}, headers)
    url = f"/api/v1/problems/{created['id']}"
    for body, field in [({"version": 1, "status": None}, "status"), ({"version": 1, "diagnosis": ""}, "diagnosis"),
                        ({"version": "one"}, "version"), ({"version": 1, "animal_id": 3}, "animal_id")]:
        response = client.patch(url, json=body, headers=headers)
        assert response.status_code == 422, (body, response.json)
        assert field in response.json["error"]["fields"], (body, response.json)


# --- prescriptions ---------------------------------------------------------------------------------

def test_a_prescription_works_out_the_dose_from_the_latest_weight(client, bearer, animal, db):
    weight = _fresh_weight(animal, 6000)
    headers = bearer("vet")
    rx = _post(client, f"/api/v1/animals/{animal.id}/prescriptions",
               {**_RX, "instructions": "With food", "keeper_may_give": True}, headers)
    assert (rx["dose_mg"], rx["volume_ml"], rx["weight_g_used"]) == (1.2, 0.8, 6000.0)
    assert all(isinstance(rx[k], float) for k in ("dose_mg", "volume_ml", "dose_mg_per_kg", "weight_g_used"))
    assert (rx["dose_mg_per_kg"], rx["concentration_mg_per_ml"]) == (0.2, 1.5)
    assert (rx["weight_was_stale"], rx["warnings"], rx["status"]) == (False, [], "active")
    assert rx["weight_measured_at"][:19] == weight.measured_at.isoformat()[:19]
    assert (rx["doses"], rx["days"], rx["keeper_may_give"], rx["frequency"]) == (10, 5, True, "BID")
    assert rx["ends_on"] >= rx["starts_on"] and rx["prescribed_by_id"]
    tasks = db.session.execute(sa.select(CareTask).where(CareTask.schedule_id == rx["schedule_id"])).scalars().all()
    assert len(tasks) == 10 and {t.kind for t in tasks} == {"medicate"}

    got = client.get(f"/api/v1/prescriptions/{rx['id']}", headers=bearer("keeper")).json
    assert got == rx
    listed = client.get(f"/api/v1/animals/{animal.id}/prescriptions", headers=bearer("viewer")).json
    assert [p["id"] for p in listed["items"]] == [rx["id"]]


def test_a_lot_gets_the_dose_of_one_animal_and_ends_on_gives_the_days(client, bearer, lot):
    _fresh_weight(lot, 400)
    starts = (_now() + timedelta(days=2)).date()
    rx = _post(client, f"/api/v1/animals/{lot.id}/prescriptions",
               {"drug": "Ivermectin", "dose_mg_per_kg": 0.2, "route": "SC", "frequency": "q48h",
                "starts_on": starts.isoformat(), "ends_on": (starts + timedelta(days=4)).isoformat()},
               bearer("vet"))
    assert (rx["dose_mg"], rx["volume_ml"], rx["days"], rx["doses"]) == (0.08, None, 5, 3)
    assert rx["starts_on"] == starts.isoformat()


def test_a_stale_weight_is_used_with_a_warning(client, bearer, animal):
    # The fixture's only weighing was months before the real clock's now.
    rx = _post(client, f"/api/v1/animals/{animal.id}/prescriptions", _RX, bearer("vet"))
    assert rx["weight_was_stale"] is True and rx["dose_mg"] == 1.2
    assert len(rx["warnings"]) == 1 and "days old" in rx["warnings"][0]


def test_no_weight_no_prescription(client, bearer, facility, db):
    unweighed = factories.AnimalFactory(case=factories.CaseFactory(facility=facility))
    response = client.post(f"/api/v1/animals/{unweighed.id}/prescriptions", json=_RX, headers=bearer("vet"))
    assert response.status_code == 422, response.json
    assert "no weight" in response.json["error"]["fields"]["weight"][0]
    assert _count(db, Prescription) == 0 and _count(db, CareTask) == 0


@pytest.mark.parametrize(("change", "field"), [
    ({"drug": ""}, "drug"),
    ({"drug": None}, "drug"),
    ({"dose_mg_per_kg": 0}, "dose_mg_per_kg"),
    ({"dose_mg_per_kg": -1}, "dose_mg_per_kg"),
    ({"dose_mg_per_kg": "lots"}, "dose_mg_per_kg"),
    ({"dose_mg_per_kg": 200000}, "dose_mg_per_kg"),
    ({"dose_mg_per_kg": 0.00001}, "dose_mg_per_kg"),
    ({"concentration_mg_per_ml": 0}, "concentration_mg_per_ml"),
    ({"concentration_mg_per_ml": 0.00001}, "concentration_mg_per_ml"),
    ({"route": "nasal"}, "route"),
    ({"frequency": "q5h"}, "frequency"),
    ({"frequency": "twice"}, "frequency"),
    ({"frequency": 2}, "frequency"),
    ({"days": 0}, "days"),
    ({"days": 400}, "days"),
    ({"days": "5"}, "days"),
    ({"days": None}, "days"),
    ({"days": None, "starts_on": "2099-01-10", "ends_on": "2099-01-01"}, "ends_on"),
    ({"starts_on": "2020-01-01"}, "starts_on"),
    ({"starts_on": "9999-12-01"}, "starts_on"),
    ({"starts_on": "9999-12-01", "days": None, "ends_on": "9999-12-31"}, "starts_on"),
    ({"keeper_may_give": "perhaps"}, "keeper_may_give"),
    ({"dose_mg": 3}, "dose_mg"),
])
def test_bad_prescriptions_are_422(client, bearer, animal, change, field, db):
    _fresh_weight(animal, 6000)
    response = client.post(f"/api/v1/animals/{animal.id}/prescriptions", json={**_RX, **change},
                           headers=bearer("vet"))
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"], response.json
    assert _count(db, Prescription) == 0


def test_a_dose_too_large_to_store_is_422_not_500(client, bearer, facility, db):
    elephant = factories.AnimalFactory(case=factories.CaseFactory(facility=facility))
    _fresh_weight(elephant, 4_000_000)
    response = client.post(f"/api/v1/animals/{elephant.id}/prescriptions",
                           json={**_RX, "dose_mg_per_kg": 90000, "concentration_mg_per_ml": 0.0001},
                           headers=bearer("vet"))
    assert response.status_code == 422, response.json
    assert _count(db, Prescription) == 0


def test_stopping_a_prescription_cancels_the_doses_to_come(client, bearer, animal, db):
    _fresh_weight(animal, 6000)
    headers = bearer("vet")
    rx = _post(client, f"/api/v1/animals/{animal.id}/prescriptions", _RX, headers)
    url = f"/api/v1/prescriptions/{rx['id']}/stop"
    stopped = client.post(url, json={"reason": "Wound healed"}, headers=headers)
    assert stopped.status_code == 200, stopped.json
    assert (stopped.json["status"], stopped.json["stop_reason"]) == ("stopped", "Wound healed")
    assert stopped.json["stopped_at"] and stopped.json["stopped_by_id"]
    statuses = db.session.execute(sa.select(CareTask.status).where(CareTask.schedule_id == rx["schedule_id"])
                                  ).scalars().all()
    assert set(statuses) == {TaskStatus.CANCELLED}

    again = client.post(url, json={}, headers=headers)
    assert again.status_code == 409
    assert again.json["error"]["current"]["status"] == "stopped"
    assert client.post(url, json={"reason": 5}, headers=headers).status_code == 422
    assert client.post("/api/v1/prescriptions/999999/stop", json={}, headers=headers).status_code == 404


# --- lab results -----------------------------------------------------------------------------------

def test_a_pending_lab_result_gets_its_result_once(client, bearer, animal, db):
    headers = bearer("vet")
    sampled = (_now() - timedelta(days=2)).date().isoformat()
    url = f"/api/v1/animals/{animal.id}/lab-results"
    pending = _post(client, url, {"test": "Faecal parasitology", "sampled_on": sampled}, headers)
    assert (pending["interpretation"], pending["pending"], pending["resulted_on"]) == (None, True, None)
    done = _post(client, url, {"test": "Herpes B serology", "sampled_on": sampled, "result": "No antibodies",
                               "interpretation": "negative"}, headers)
    assert done["pending"] is False and done["resulted_on"]

    result_url = f"/api/v1/lab-results/{pending['id']}/result"
    missing = client.post(result_url, json={"result": "Strongyles"}, headers=headers)
    assert missing.status_code == 422 and "interpretation" in missing.json["error"]["fields"]
    recorded = client.post(result_url, json={"result": "Strongyle eggs", "interpretation": "positive"},
                           headers=headers)
    assert recorded.status_code == 200, recorded.json
    assert (recorded.json["interpretation"], recorded.json["result"], recorded.json["pending"]) == \
        ("positive", "Strongyle eggs", False)
    twice = client.post(result_url, json={"interpretation": "negative"}, headers=headers)
    assert twice.status_code == 422 and "interpretation" in twice.json["error"]["fields"]
    assert client.get(f"/api/v1/lab-results/{pending['id']}", headers=bearer("viewer")).json == recorded.json

    listed = client.get(url, headers=bearer("viewer")).json
    assert listed["meta"]["total"] == 2


@pytest.mark.parametrize(("body", "field"), [
    ({"sampled_on": "2026-06-05"}, "test"),
    ({"test": "  ", "sampled_on": "2026-06-05"}, "test"),
    ({"test": "Faecal"}, "sampled_on"),
    ({"test": "Faecal", "sampled_on": None}, "sampled_on"),
    ({"test": "Faecal", "sampled_on": "2099-01-01"}, "sampled_on"),
    ({"test": "Faecal", "sampled_on": "2026-06-05", "interpretation": "maybe"}, "interpretation"),
    ({"test": "Faecal", "sampled_on": "2026-06-05", "attachment_id": 1}, "attachment_id"),
])
def test_bad_lab_results_are_422(client, bearer, animal, body, field, db):
    response = client.post(f"/api/v1/animals/{animal.id}/lab-results", json=body, headers=bearer("vet"))
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"], response.json
    assert _count(db, LabResult) == 0


# --- quarantine ------------------------------------------------------------------------------------

def test_quarantine_is_cleared_once_the_required_tests_have_results(client, bearer, animal, db):
    add_quarantine_test(test="Tuberculin skin test", species_id=animal.species_id)
    headers = bearer("vet")
    url = f"/api/v1/animals/{animal.id}/quarantine-clearance"
    refused = client.post(url, json={"notes": "All well"}, headers=headers)
    assert refused.status_code == 422
    assert "Tuberculin skin test" in refused.json["error"]["fields"]["tests"][0]
    future = client.post(url, json={"cleared_on": "2099-01-01"}, headers=headers)
    assert future.status_code == 422 and "cleared_on" in future.json["error"]["fields"]

    _post(client, f"/api/v1/animals/{animal.id}/lab-results",
          {"test": "tuberculin  skin test", "sampled_on": _now().date().isoformat(), "interpretation": "negative"},
          headers)
    cleared = client.post(url, json={"notes": "All well"}, headers=headers)
    assert cleared.status_code == 200, cleared.json
    assert cleared.json["animal_id"] == animal.id and cleared.json["in_quarantine"] is False
    assert cleared.json["quarantine_cleared_on"] and cleared.json["quarantine_notes"] == "All well"
    assert cleared.json["quarantine_cleared_by_id"]
    assert client.get(f"/api/v1/animals/{animal.id}", headers=headers).json["in_quarantine"] is False
    again = client.post(url, json={}, headers=headers)
    assert again.status_code == 422 and "cleared_on" in again.json["error"]["fields"]
    assert client.post(url, json={"cleared_on": "soon"}, headers=headers).status_code == 422


# --- deaths and euthanasia -------------------------------------------------------------------------

def test_a_death_takes_the_count_off_the_record(client, bearer, lot, db):
    headers = bearer("vet")
    url = f"/api/v1/animals/{lot.id}/outcomes"
    outcome = _post(client, url, {"kind": "died", "count": 3, "occurred_at": _iso(_now() - timedelta(hours=2)),
                                  "cause": "Shell rot", "necropsy_findings": "Septicaemia"}, headers)
    assert (outcome["kind"], outcome["count"], outcome["cause"], outcome["animal_id"]) == \
        ("died", 3, "Shell rot", lot.id)
    db.session.expire_all()
    assert db.session.get(Animal, lot.id).quantity == 37
    too_many = client.post(url, json={"kind": "died", "count": 38, "occurred_at": _iso(_now())}, headers=headers)
    assert too_many.status_code == 422 and "count" in too_many.json["error"]["fields"]


def test_a_death_stops_the_animals_prescriptions(client, bearer, animal, db):
    _fresh_weight(animal, 6000)
    headers = bearer("vet")
    rx = _post(client, f"/api/v1/animals/{animal.id}/prescriptions", _RX, headers)
    _post(client, f"/api/v1/animals/{animal.id}/outcomes",
          {"kind": "died", "occurred_at": _iso(_now() - timedelta(minutes=5))}, headers)
    db.session.expire_all()
    assert db.session.get(Animal, animal.id).status == AnimalStatus.DIED
    assert client.get(f"/api/v1/prescriptions/{rx['id']}", headers=headers).json["status"] == "stopped"
    gone = client.post(f"/api/v1/animals/{animal.id}/exams", json={"findings": "x"}, headers=headers)
    assert gone.status_code == 422 and "animal" in gone.json["error"]["fields"]


@pytest.mark.parametrize(("body", "field", "message"), [
    ({"kind": "released"}, "kind", "Releases are recorded by completing a release plan."),
    ({"kind": "eaten"}, "kind", None),
    ({}, "kind", None),
    ({"kind": "died", "occurred_at": None}, "occurred_at", None),
    ({"kind": "died", "occurred_at": "2099-01-01T00:00:00Z"}, "occurred_at", None),
    ({"kind": "died", "occurred_at": "2026-12-01T00:00:00"}, "occurred_at", None),
    ({"kind": "died", "occurred_at": "2020-01-01T00:00:00Z"}, "occurred_at", None),
    ({"kind": "died", "occurred_at": "0001-01-01T00:00:00+14:00"}, "occurred_at", None),
    ({"kind": "died", "occurred_at": "9999-12-31T23:59:59-14:00"}, "occurred_at", None),
    ({"kind": "died", "count": 2}, "count", None),
    ({"kind": "died", "count": "1"}, "count", None),
    ({"kind": "euthanized"}, "reason", None),
    ({"kind": "euthanized", "reason": "  "}, "reason", None),
])
def test_bad_outcomes_are_422(client, bearer, animal, body, field, message, db):
    body = {"occurred_at": _iso(_now() - timedelta(hours=1)), **body}
    response = client.post(f"/api/v1/animals/{animal.id}/outcomes", json=body, headers=bearer("vet"))
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"], response.json
    if message:
        assert response.json["error"]["fields"][field] == [message]
    assert _count(db, Outcome) == 0


@pytest.mark.parametrize("kind", ["transferred", "escaped"])
def test_a_vet_may_not_record_transfers_or_escapes(client, bearer, animal, kind, db):
    body = {"kind": kind, "occurred_at": _iso(_now() - timedelta(hours=1)), "institution": "Zoo", "country": "TH",
            "permit_numbers": "CITES 1"}
    response = client.post(f"/api/v1/animals/{animal.id}/outcomes", json=body, headers=bearer("vet"))
    assert response.status_code == 403, response.json
    assert _count(db, Outcome) == 0


def test_euthanasia_under_an_evidence_hold_needs_a_coordinators_authorisation(client, bearer, animal, db):
    case = animal.case
    vet, coordinator = bearer("vet"), bearer("coordinator")
    auth_url = f"/api/v1/animals/{animal.id}/euthanasia-authorisations"
    not_held = client.post(auth_url, json={"reason": "Suffering"}, headers=coordinator)
    assert not_held.status_code == 422 and "reason" in not_held.json["error"]["fields"]
    case.evidence_hold = True
    db.session.flush()

    body = {"kind": "euthanized", "reason": "Untreatable spinal injury", "occurred_at": _iso(_now())}
    refused = client.post(f"/api/v1/animals/{animal.id}/outcomes", json=body, headers=vet)
    assert refused.status_code == 422 and "evidence_hold" in refused.json["error"]["fields"]
    assert client.post(auth_url, json={"reason": "Suffering"}, headers=vet).status_code == 403
    assert client.post(auth_url, json={}, headers=coordinator).status_code == 422
    authorisation = _post(client, auth_url, {"reason": "Suffering; the court was told"}, coordinator)
    assert (authorisation["animal_id"], authorisation["outcome_id"]) == (animal.id, None)

    outcome = _post(client, f"/api/v1/animals/{animal.id}/outcomes", body, vet)
    assert (outcome["kind"], outcome["reason"], outcome["hold_override_reason"]) == \
        ("euthanized", "Untreatable spinal injury", "Suffering; the court was told")
    assert outcome["authorised_by_id"] and outcome["hold_override_by_id"] == authorisation["authorised_by_id"]


# --- who may do what -------------------------------------------------------------------------------

def _writes(animal, ids):
    today = _now().date().isoformat()
    return [
        ("POST", f"/api/v1/animals/{animal.id}/exams", {"findings": "x"}),
        ("POST", f"/api/v1/animals/{animal.id}/problems", {"diagnosis": "x"}),
        ("PATCH", f"/api/v1/problems/{ids['problem']}", {"version": 1}),
        ("POST", f"/api/v1/animals/{animal.id}/prescriptions", _RX),
        ("POST", f"/api/v1/prescriptions/{ids['prescription']}/stop", {}),
        ("POST", f"/api/v1/animals/{animal.id}/lab-results", {"test": "Faecal", "sampled_on": today}),
        ("POST", f"/api/v1/lab-results/{ids['lab']}/result", {"interpretation": "negative"}),
        ("POST", f"/api/v1/animals/{animal.id}/quarantine-clearance", {}),
        ("POST", f"/api/v1/animals/{animal.id}/outcomes", {"kind": "died", "occurred_at": _iso(_now())}),
    ]


def _reads(animal, ids):
    return [f"/api/v1/animals/{animal.id}/{part}" for part in ("exams", "problems", "prescriptions", "lab-results")] \
        + [f"/api/v1/problems/{ids['problem']}", f"/api/v1/prescriptions/{ids['prescription']}",
           f"/api/v1/lab-results/{ids['lab']}"]


@pytest.fixture
def records(client, bearer, animal):
    _fresh_weight(animal, 6000)
    headers = bearer("vet")
    today = _now().date().isoformat()
    return {
        "problem": _post(client, f"/api/v1/animals/{animal.id}/problems", {"diagnosis": "Wound"}, headers)["id"],
        "prescription": _post(client, f"/api/v1/animals/{animal.id}/prescriptions", _RX, headers)["id"],
        "lab": _post(client, f"/api/v1/animals/{animal.id}/lab-results", {"test": "Faecal", "sampled_on": today},
                     headers)["id"],
    }


@pytest.mark.parametrize("role", ["viewer", "keeper", "coordinator", "admin"])
def test_only_vets_write_medical_records(client, bearer, animal, records, role, db):
    headers = bearer(role)
    for method, url, body in _writes(animal, records):
        response = client.open(url, method=method, json=body, headers=headers)
        assert response.status_code == 403, (role, url, response.status_code)
    for url in _reads(animal, records):
        assert client.get(url, headers=headers).status_code == 200, (role, url)
    assert client.post(f"/api/v1/animals/{animal.id}/outcomes", json={"kind": "euthanized", "reason": "x"},
                       headers=headers).status_code == 403
    assert _count(db, Exam) == 0 and _count(db, Outcome) == 0


def test_another_facilitys_vet_gets_404(client, bearer, animal, records, other_facility, db):
    headers = bearer("vet", facilities=[other_facility])
    for method, url, body in _writes(animal, records):
        response = client.open(url, method=method, json=body, headers=headers)
        assert response.status_code == 404, (url, response.status_code, response.json)
    for url in _reads(animal, records):
        assert client.get(url, headers=headers).status_code == 404, url
    coordinator = bearer("coordinator", facilities=[other_facility])
    assert client.post(f"/api/v1/animals/{animal.id}/euthanasia-authorisations", json={"reason": "x"},
                       headers=coordinator).status_code == 404
    assert _count(db, Exam) == 0


def test_anonymous_callers_get_401(client, animal, records):
    for method, url, body in _writes(animal, records):
        assert client.open(url, method=method, json=body).status_code == 401, url
    for url in _reads(animal, records):
        assert client.get(url).status_code == 401, url


# --- query counts ----------------------------------------------------------------------------------

def _vets(animal):
    return [factories.UserFactory(role="vet", facilities=[animal.case.facility]) for _ in range(3)]


def test_exam_list_query_count(client, bearer, animal, count_queries):
    from app.vet.services import record_exam

    vets = _vets(animal)

    def add(n):
        record_exam(animal, user=vets[n % 3], findings=f"Exam {n}", examined_at=_now() - timedelta(minutes=n))

    assert_same_count_for_1_and_20(client, bearer("viewer"), count_queries,
                             f"/api/v1/animals/{animal.id}/exams?per_page=200", add)


def test_problem_list_query_count(client, bearer, animal, count_queries):
    from app.vet.services import add_problem

    def add(n):
        add_problem(animal, user=None, diagnosis=f"Problem {n}", status="resolved" if n % 2 else "active")

    assert_same_count_for_1_and_20(client, bearer("viewer"), count_queries,
                             f"/api/v1/animals/{animal.id}/problems?per_page=200", add)


def test_prescription_list_query_count(client, bearer, animal, count_queries):
    from app.vet.prescriptions import prescribe

    _fresh_weight(animal, 6000)
    vets = _vets(animal)

    def add(n):
        prescribe(animal, user=vets[n % 3], drug=f"Drug {n}", dose_mg_per_kg="0.5", route="PO", frequency="SID",
                  days=2)

    assert_same_count_for_1_and_20(client, bearer("viewer"), count_queries,
                             f"/api/v1/animals/{animal.id}/prescriptions?per_page=200", add)


def test_lab_result_list_query_count(client, bearer, animal, count_queries):
    from app.vet.services import add_lab_result

    def add(n):
        add_lab_result(animal, user=None, test=f"Test {n}", sampled_on=_now().date() - timedelta(days=n % 5),
                       interpretation="negative" if n % 2 else None)

    assert_same_count_for_1_and_20(client, bearer("viewer"), count_queries,
                             f"/api/v1/animals/{animal.id}/lab-results?per_page=200", add)
