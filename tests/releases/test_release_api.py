"""The release and outcomes API: criteria, readiness, assessments, sites, plans, outcomes, transfers, observations."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.animals.models import Animal, AnimalStatus, Outcome
from app.common.db import utcnow
from app.releases.models import Assessment, Observation, PlannedAnimal, ReleaseCriterion, ReleasePlan, Transfer
from app.vet.deaths import record_death
from tests import factories
from tests.list_queries import assert_same_count_for_1_and_20
from tests.releases.conftest import MACAQUE_MANUAL, assess, weigh

# The API runs on the real clock: records made here are relative to it.


def _iso(when) -> str:
    return when.isoformat()


def _local_day(days: int = 0) -> str:
    return (datetime.now(ZoneInfo("Asia/Phnom_Penh")).date() + timedelta(days=days)).isoformat()


def _count(db, model, *where) -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(model).where(*where)).scalar_one()


def _post(client, url, body, headers, status=201):
    response = client.post(url, json=body, headers=headers)
    assert response.status_code == status, response.json
    return response.json


def _fresh(db, model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


@pytest.fixture
def saved_site(db, site):
    db.session.add(site)
    db.session.flush()
    return site


@pytest.fixture
def unready(db, facility, criteria):
    """A macaque in quarantine still (otherwise like the ready one)."""
    case = factories.CaseFactory(facility=facility)
    macaque = factories.AnimalFactory(case=case, name="Bopha", admitted_at=utcnow() - timedelta(days=10))
    weigh(macaque, 5000, bcs=5)
    for key in MACAQUE_MANUAL:
        assess(macaque, key)
    return macaque


def _plan(client, headers, site, rows, status=201, **extra):
    return _post(client, "/api/v1/release-plans",
                 {"site_id": site.id, "planned_on": _local_day(1), "animals": rows, **extra}, headers, status)


def _approved_plan(client, bearer, site, rows):
    coordinator = bearer("coordinator")
    plan = _plan(client, coordinator, site, rows)
    _post(client, f"/api/v1/release-plans/{plan['id']}/vet-signoff", {"notes": "Fit"}, bearer("vet"), 200)
    _post(client, f"/api/v1/release-plans/{plan['id']}/approve", {"permit_reference": "MAFF 12/2026"}, coordinator,
          200)
    return plan, coordinator


# --- readiness and assessments -------------------------------------------------------------

def test_a_ready_animals_readiness(client, bearer, ready_macaque):
    body = client.get(f"/api/v1/animals/{ready_macaque.id}/readiness", headers=bearer("viewer")).json
    assert (body["ready"], body["unmet"], body["releasability"]) == (True, [], ready_macaque.releasability)
    keys = {c["key"]: c for c in body["criteria"]}
    assert {"quarantine_cleared", "no_evidence_hold", *MACAQUE_MANUAL} <= set(keys)
    assert keys["climbs_well"]["kind"] == "manual" and keys["climbs_well"]["label"]
    assert all(c["met"] for c in body["criteria"])


def test_readiness_says_what_is_unmet(client, bearer, unready, facility):
    body = client.get(f"/api/v1/animals/{unready.id}/readiness", headers=bearer("keeper")).json
    assert body["ready"] is False
    assert [u["key"] for u in body["unmet"]] == ["quarantine_cleared"]
    assert "Quarantine" in body["unmet"][0]["reason"]
    assert {c["key"]: c["met"] for c in body["criteria"]}["quarantine_cleared"] is False

    stale = factories.AnimalFactory(case=factories.CaseFactory(facility=facility), species=unready.species,
                                    admitted_at=utcnow() - timedelta(days=100),
                                    quarantine_cleared_on=(utcnow() - timedelta(days=60)).date())
    weigh(stale, 5000, bcs=5)
    assess(stale, "avoids_humans")
    assess(stale, "climbs_well")
    assess(stale, "forages_natural_food", at=utcnow() - timedelta(days=40), expires_days=30)
    expired = client.get(f"/api/v1/animals/{stale.id}/readiness", headers=bearer("keeper")).json
    assert expired["ready"] is False
    assert [u["key"] for u in expired["unmet"]] == ["forages_natural_food"]
    assert "expired" in expired["unmet"][0]["reason"]


def test_an_assessment_is_recorded_and_listed(client, bearer, unready, db):
    url = f"/api/v1/animals/{unready.id}/assessments"
    keeper = bearer("keeper")
    made = _post(client, url, {"criterion": "avoids_humans", "result": "fail", "notes": "Takes food from hands",
                               "assessed_at": _iso(utcnow() - timedelta(minutes=10))}, keeper)
    assert (made["criterion"], made["result"], made["animal_id"]) == ("avoids_humans", "fail", unready.id)
    assert made["expires_at"] and made["assessed_by_id"]
    listed = client.get(url, headers=bearer("viewer")).json
    assert listed["meta"]["total"] == 4 and listed["items"][0]["id"] == made["id"]
    readiness = client.get(f"/api/v1/animals/{unready.id}/readiness", headers=keeper).json
    assert "avoids_humans" in [u["key"] for u in readiness["unmet"]]

    unknown = client.post(url, json={"criterion": "sings_well", "result": "pass"}, headers=keeper)
    assert unknown.status_code == 422 and "criterion" in unknown.json["error"]["fields"]
    bad = client.post(url, json={"criterion": "avoids_humans", "result": "maybe"}, headers=keeper)
    assert bad.status_code == 422 and "result" in bad.json["error"]["fields"]
    assert client.post(url, json={"criterion": "avoids_humans", "result": "pass"},
                       headers=bearer("viewer")).status_code == 403
    assert _count(db, Assessment, Assessment.animal_id == unready.id) == 4


# --- criteria --------------------------------------------------------------------------------

def test_criteria_are_added_changed_and_a_stale_edit_is_409(client, bearer, criteria):
    coordinator = bearer("coordinator")
    body = {"taxon_class": "bird", "key": "Perches Well", "kind": "manual", "label": "Perches on a branch",
            "expires_days": 14}
    made = _post(client, "/api/v1/release-criteria", body, coordinator)
    assert (made["key"], made["kind"], made["version"], made["is_active"]) == ("perches_well", "manual", 1, True)
    url = f"/api/v1/release-criteria/{made['id']}"
    assert client.get(url, headers=bearer("keeper")).json == made

    changed = client.patch(url, json={"version": 1, "label": "Perches and grips"}, headers=coordinator)
    assert changed.status_code == 200, changed.json
    assert (changed.json["label"], changed.json["version"], changed.json["expires_days"]) == \
        ("Perches and grips", 2, 14)
    stale = client.patch(url, json={"version": 1, "label": "Old"}, headers=coordinator)
    assert stale.status_code == 409 and stale.json["error"]["current"]["label"] == "Perches and grips"

    duplicate = client.post("/api/v1/release-criteria", json=body, headers=coordinator)
    assert duplicate.status_code == 422 and "key" in duplicate.json["error"]["fields"]
    auto = client.post("/api/v1/release-criteria", json={"taxon_class": "bird", "key": "min_weight", "kind": "auto"},
                       headers=coordinator)
    assert auto.status_code == 422 and "min_weight_g" in auto.json["error"]["fields"]
    both = client.post("/api/v1/release-criteria", json={**body, "species_id": 1}, headers=coordinator)
    assert both.status_code == 422 and "species_id" in both.json["error"]["fields"]
    assert client.post("/api/v1/release-criteria", json=body, headers=bearer("vet")).status_code == 403

    birds = client.get("/api/v1/release-criteria?taxon_class=bird&kind=manual", headers=bearer("viewer")).json
    assert "perches_well" in [c["key"] for c in birds["items"]]
    assert all(c["taxon_class"] == "bird" and c["kind"] == "manual" for c in birds["items"])


# --- sites -----------------------------------------------------------------------------------

def test_site_coordinates_only_for_those_who_may_see_them(client, bearer):
    coordinator = bearer("coordinator")
    made = _post(client, "/api/v1/release-sites", {"name": "Prey Lang", "province": "Kratie", "latitude": 13.1,
                                                  "longitude": 105.9, "suitable_taxa": ["mammal"]}, coordinator)
    assert (made["latitude"], made["longitude"], made["version"]) == (13.1, 105.9, 1)
    url = f"/api/v1/release-sites/{made['id']}"
    for role in ("keeper", "vet", "viewer"):
        headers = bearer(role)
        one = client.get(url, headers=headers).json
        assert "latitude" not in one and "longitude" not in one and one["name"] == "Prey Lang"
        listed = client.get("/api/v1/release-sites", headers=headers).json["items"]
        assert all("latitude" not in s for s in listed)
    assert client.get(url, headers=bearer("admin")).json["latitude"] == 13.1

    changed = client.patch(url, json={"version": 1, "habitat": "Lowland forest"}, headers=coordinator)
    assert changed.status_code == 200 and changed.json["habitat"] == "Lowland forest"
    assert client.patch(url, json={"version": 1, "habitat": "x"}, headers=coordinator).status_code == 409
    half = client.post("/api/v1/release-sites", json={"name": "Half", "latitude": 12.0}, headers=coordinator)
    assert half.status_code == 422 and "latitude" in half.json["error"]["fields"]
    same = client.post("/api/v1/release-sites", json={"name": "Prey Lang"}, headers=coordinator)
    assert same.status_code == 422 and "name" in same.json["error"]["fields"]
    assert client.post("/api/v1/release-sites", json={"name": "X"}, headers=bearer("vet")).status_code == 403


# --- plans -----------------------------------------------------------------------------------

def test_the_whole_plan_flow(client, bearer, saved_site, turtles, ready_macaque, db):
    coordinator = bearer("coordinator")
    plan = _plan(client, coordinator, saved_site, [{"animal_id": turtles.id, "quantity": 20},
                                                  {"animal_id": ready_macaque.id}], notes="Dry season")
    assert (plan["status"], plan["animal_count"], plan["records"], plan["vet_signed_off"]) == ("draft", 21, 2, False)
    assert {a["animal_id"]: a["quantity"] for a in plan["animals"]} == {turtles.id: 20, ready_macaque.id: 1}
    assert plan["site_name"] == "Phnom Kulen" and plan["survival"] is None
    url = f"/api/v1/release-plans/{plan['id']}"

    assert client.post(f"{url}/vet-signoff", json={}, headers=coordinator).status_code == 403
    signed = _post(client, f"{url}/vet-signoff", {"notes": "All fit"}, bearer("vet"), 200)
    assert signed["vet_signed_off"] and signed["vet_signoff_notes"] == "All fit" and signed["vet_signoff_by_id"]
    assert client.post(f"{url}/approve", json={"permit_reference": "P-1"}, headers=bearer("vet")).status_code == 403
    approved = _post(client, f"{url}/approve", {"permit_reference": "MAFF 12/2026"}, coordinator, 200)
    assert (approved["status"], approved["permit_reference"]) == ("approved", "MAFF 12/2026")
    completed = _post(client, f"{url}/complete", {}, coordinator, 200)
    assert completed["status"] == "completed" and completed["completed_on"]
    assert all(a["outcome_id"] for a in completed["animals"])
    assert completed["survival"]["released"] == 21 and completed["survival"]["unknown"] == 21

    assert _fresh(db, Animal, turtles.id).quantity == 30
    macaque = _fresh(db, Animal, ready_macaque.id)
    assert (macaque.status, macaque.quantity) == (AnimalStatus.RELEASED, 0)
    released = db.session.execute(sa.select(Outcome.animal_id, Outcome.count).where(Outcome.kind == "released")).all()
    assert sorted(released) == sorted([(turtles.id, 20), (ready_macaque.id, 1)])

    shown = client.get(url, headers=bearer("viewer")).json
    assert shown["status"] == "completed" and shown["survival"]["released"] == 21
    listed = client.get("/api/v1/release-plans?status=completed", headers=bearer("keeper")).json
    assert [p["id"] for p in listed["items"]] == [plan["id"]]
    assert client.get("/api/v1/release-plans?status=draft", headers=coordinator).json["meta"]["total"] == 0
    again = client.post(f"{url}/complete", json={}, headers=coordinator)
    assert again.status_code == 422 and "status" in again.json["error"]["fields"]


def test_approval_needs_the_vets_signoff(client, bearer, saved_site, ready_macaque):
    coordinator = bearer("coordinator")
    plan = _plan(client, coordinator, saved_site, [{"animal_id": ready_macaque.id}])
    refused = client.post(f"/api/v1/release-plans/{plan['id']}/approve", json={"permit_reference": "P-1"},
                          headers=coordinator)
    assert refused.status_code == 422 and "vet_signoff" in refused.json["error"]["fields"]
    no_permit = client.post(f"/api/v1/release-plans/{plan['id']}/approve", json={}, headers=coordinator)
    assert no_permit.status_code == 422 and "permit_reference" in no_permit.json["error"]["fields"]


def test_an_unready_animal_needs_an_override(client, bearer, saved_site, unready):
    coordinator = bearer("coordinator")
    refused = client.post("/api/v1/release-plans", json={"site_id": saved_site.id, "planned_on": _local_day(1),
                                                          "animals": [{"animal_id": unready.id}]},
                          headers=coordinator)
    assert refused.status_code == 422 and "override_reason" in refused.json["error"]["fields"]
    plan = _plan(client, coordinator, saved_site, [{"animal_id": unready.id, "override_reason": "Soft release pen"}])
    url = f"/api/v1/release-plans/{plan['id']}"
    _post(client, f"{url}/vet-signoff", {}, bearer("vet"), 200)
    no_override = client.post(f"{url}/approve", json={"permit_reference": "P-1"}, headers=coordinator)
    assert no_override.status_code == 422 and "override_reason" in no_override.json["error"]["fields"]
    approved = _post(client, f"{url}/approve", {"permit_reference": "P-1", "override_reason": "Quarantine is "
                                                "finished on site"}, coordinator, 200)
    assert approved["status"] == "approved" and approved["approval_override_reason"]


def test_an_evidence_hold_refuses_a_plan_naming_the_case(client, bearer, saved_site, ready_macaque, turtles, db):
    case = ready_macaque.case
    case.evidence_hold = True
    db.session.flush()
    coordinator = bearer("coordinator")
    refused = client.post("/api/v1/release-plans", headers=coordinator, json={
        "site_id": saved_site.id, "planned_on": _local_day(1),
        "animals": [{"animal_id": turtles.id, "quantity": 5}, {"animal_id": ready_macaque.id,
                                                                "override_reason": "Court agreed"}]})
    assert refused.status_code == 409, refused.json
    assert refused.json["error"]["code"] == "conflict"
    assert case.reference in refused.json["error"]["message"]
    assert refused.json["error"]["case"] == {"id": case.id, "reference": case.reference}
    assert _count(db, ReleasePlan) == 0


def test_a_hold_set_after_planning_blocks_approval_and_completion(client, bearer, saved_site, ready_macaque,
                                                                  turtles, db):
    coordinator = bearer("coordinator")
    plan = _plan(client, coordinator, saved_site, [{"animal_id": ready_macaque.id}])
    _post(client, f"/api/v1/release-plans/{plan['id']}/vet-signoff", {}, bearer("vet"), 200)
    approved, _coordinator = _approved_plan(client, bearer, saved_site, [{"animal_id": turtles.id, "count": 10}])

    for held in (ready_macaque.case, turtles.case):
        held.evidence_hold = True
    db.session.flush()
    refused = client.post(f"/api/v1/release-plans/{plan['id']}/approve",
                          json={"permit_reference": "P-1", "override_reason": "Anyway"}, headers=coordinator)
    assert refused.status_code == 409 and ready_macaque.case.reference in refused.json["error"]["message"]
    not_done = client.post(f"/api/v1/release-plans/{approved['id']}/complete", json={"override_reason": "Anyway"},
                           headers=coordinator)
    assert not_done.status_code == 409 and turtles.case.reference in not_done.json["error"]["message"]
    assert _fresh(db, Animal, turtles.id).quantity == 50
    assert _count(db, Outcome) == 0


def test_completion_is_all_or_nothing(client, bearer, saved_site, ready_macaque, turtles, db):
    plan, coordinator = _approved_plan(client, bearer, saved_site, [{"animal_id": ready_macaque.id},
                                                                    {"animal_id": turtles.id, "quantity": 20}])
    record_death(turtles, user=None, count=35, occurred_at=utcnow() - timedelta(hours=1), cause="Shell rot")
    db.session.flush()
    refused = client.post(f"/api/v1/release-plans/{plan['id']}/complete", json={}, headers=coordinator)
    assert refused.status_code == 422 and "animals" in refused.json["error"]["fields"]
    assert _count(db, Outcome, Outcome.kind == "released") == 0
    assert _fresh(db, Animal, ready_macaque.id).status == AnimalStatus.IN_CARE
    assert _fresh(db, ReleasePlan, plan["id"]).status == "approved"


def test_a_drafts_animals_are_replaced_and_its_signoff_undone(client, bearer, saved_site, ready_macaque, turtles):
    coordinator = bearer("coordinator")
    plan = _plan(client, coordinator, saved_site, [{"animal_id": turtles.id, "quantity": 20}])
    url = f"/api/v1/release-plans/{plan['id']}"
    _post(client, f"{url}/vet-signoff", {}, bearer("vet"), 200)
    version = client.get(url, headers=coordinator).json["version"]
    changed = client.patch(url, json={"version": version, "animals": [{"animal_id": turtles.id, "count": 25},
                                                                       {"animal_id": ready_macaque.id}]},
                           headers=coordinator)
    assert changed.status_code == 200, changed.json
    assert changed.json["animal_count"] == 26 and changed.json["vet_signed_off"] is False
    assert changed.json["version"] == version + 1
    stale = client.patch(url, json={"version": version, "animals": [{"animal_id": turtles.id, "count": 1}]},
                         headers=coordinator)
    assert stale.status_code == 409 and "current" in stale.json["error"]
    too_many = client.patch(url, json={"version": changed.json["version"],
                                       "animals": [{"animal_id": turtles.id, "count": 51}]}, headers=coordinator)
    assert too_many.status_code == 422 and "animals" in too_many.json["error"]["fields"]
    unsigned = client.patch(url, json={"version": changed.json["version"],
                                       "animals": [{"animal_id": turtles.id, "count": 24}]}, headers=coordinator)
    assert unsigned.status_code == 200 and unsigned.json["version"] == changed.json["version"] + 1
    assert unsigned.json["animal_count"] == 24
    cancelled = _post(client, f"{url}/cancel", {"reason": "Rains came early"}, coordinator, 200)
    assert (cancelled["status"], cancelled["cancel_reason"]) == ("cancelled", "Rains came early")


def test_plans_of_another_facility_are_404(client, bearer, saved_site, ready_macaque, other_facility):
    plan = _plan(client, bearer("coordinator"), saved_site, [{"animal_id": ready_macaque.id}])
    outsider = bearer("vet", facilities=[other_facility])
    assert client.get(f"/api/v1/release-plans/{plan['id']}", headers=outsider).status_code == 404
    assert client.post(f"/api/v1/release-plans/{plan['id']}/vet-signoff", json={},
                       headers=outsider).status_code == 404
    assert client.get("/api/v1/release-plans", headers=outsider).json["meta"]["total"] == 0
    hidden = client.post("/api/v1/release-plans", headers=bearer("coordinator", facilities=[other_facility]),
                         json={"site_id": saved_site.id, "planned_on": _local_day(1),
                               "animals": [{"animal_id": ready_macaque.id}]})
    assert hidden.status_code == 422 and hidden.json["error"]["fields"]["animals"] == \
        [f"Animal {ready_macaque.id} does not exist."]


def test_bad_plans_are_422(client, bearer, saved_site, ready_macaque, db):
    coordinator = bearer("coordinator")
    for body, field in [
        ({"site_id": 999999, "planned_on": _local_day(1), "animals": [{"animal_id": ready_macaque.id}]}, "site_id"),
        ({"site_id": saved_site.id, "planned_on": _local_day(-3), "animals": [{"animal_id": ready_macaque.id}]},
         "planned_on"),
        ({"site_id": saved_site.id, "planned_on": _local_day(1), "animals": []}, "animals"),
        ({"site_id": saved_site.id, "planned_on": "soon", "animals": [{"animal_id": ready_macaque.id}]},
         "planned_on"),
        ({"site_id": saved_site.id, "planned_on": _local_day(1), "animals": [{"animal_id": ready_macaque.id,
                                                                             "quantity": 2}]}, "animals"),
    ]:
        response = client.post("/api/v1/release-plans", json=body, headers=coordinator)
        assert response.status_code == 422, (body, response.json)
        assert field in response.json["error"]["fields"], (body, response.json)
    assert _count(db, ReleasePlan) == 0


# --- outcomes --------------------------------------------------------------------------------

def _outcome(kind, **extra):
    return {"kind": kind, "occurred_at": _iso(utcnow() - timedelta(hours=1)), **extra}


_PERMITS = {"institution": "Khao Kheow Open Zoo", "country": "Thailand", "permit_numbers": "CITES KH-2026-041"}


def test_who_may_record_which_outcome(client, bearer, turtles, db):
    url = f"/api/v1/animals/{turtles.id}/outcomes"
    bodies = [_outcome("died", count=1), _outcome("euthanized", count=1, reason="x"),
              _outcome("transferred", count=1, **_PERMITS), _outcome("escaped", count=1), _outcome("released")]
    for role in ("keeper", "viewer"):
        headers = bearer(role)
        for body in bodies:
            assert client.post(url, json=body, headers=headers).status_code == 403, (role, body)
    coordinator, vet = bearer("coordinator"), bearer("vet")
    assert client.post(url, json=bodies[0], headers=coordinator).status_code == 403
    assert client.post(url, json=bodies[1], headers=coordinator).status_code == 403
    assert client.post(url, json=bodies[2], headers=vet).status_code == 403
    assert client.post(url, json=bodies[3], headers=vet).status_code == 403
    assert _count(db, Outcome) == 0

    released = client.post(url, json=bodies[4], headers=coordinator)
    assert released.status_code == 422
    assert released.json["error"]["fields"]["kind"] == ["Releases are recorded by completing a release plan."]
    died = _post(client, url, _outcome("died", count=2, cause="Shell rot"), vet)
    assert (died["kind"], died["count"], died["cause"]) == ("died", 2, "Shell rot")
    out = _post(client, url, _outcome("transferred", count=5, **_PERMITS), coordinator)
    assert (out["kind"], out["count"], out["institution"], out["country"], out["permit_numbers"]) == \
        ("transferred", 5, "Khao Kheow Open Zoo", "Thailand", "CITES KH-2026-041")
    escaped = _post(client, url, _outcome("escaped", count=3, notes="Gap under the fence"), bearer("admin"))
    assert (escaped["kind"], escaped["count"], escaped["notes"]) == ("escaped", 3, "Gap under the fence")
    assert _fresh(db, Animal, turtles.id).quantity == 40


@pytest.mark.parametrize("missing", ["institution", "country", "permit_numbers"])
def test_a_transfer_out_needs_its_permits(client, bearer, turtles, missing, db):
    body = _outcome("transferred", count=1, **{**_PERMITS, missing: ""})
    response = client.post(f"/api/v1/animals/{turtles.id}/outcomes", json=body, headers=bearer("coordinator"))
    assert response.status_code == 422 and missing in response.json["error"]["fields"]
    assert _count(db, Outcome) == 0


def test_no_transfer_out_under_an_evidence_hold(client, bearer, turtles, db):
    turtles.case.evidence_hold = True
    db.session.flush()
    response = client.post(f"/api/v1/animals/{turtles.id}/outcomes", json=_outcome("transferred", count=1,
                                                                                   **_PERMITS),
                           headers=bearer("coordinator"))
    assert response.status_code == 409 and turtles.case.reference in response.json["error"]["message"]
    assert _count(db, Outcome) == 0


# --- transfers within the network ------------------------------------------------------------

def test_part_of_a_lot_moves_to_another_facility(client, bearer, turtles, other_facility, facility, db):
    case = turtles.case
    coordinator = bearer("coordinator")  # no facility membership: sees the whole network
    url = f"/api/v1/animals/{turtles.id}/transfers"
    assert client.post(url, json={"to_facility_id": other_facility.id, "count": 10},
                       headers=bearer("vet")).status_code == 403
    moved = _post(client, url, {"to_facility_id": other_facility.id, "count": 10, "reason": "Soft release",
                                "handed_to": "Station manager"}, coordinator)
    assert moved["animal_id"] != turtles.id and moved["source_animal_id"] == turtles.id
    assert (moved["from_facility_id"], moved["to_facility_id"], moved["quantity"]) == \
        (facility.id, other_facility.id, 10)
    assert moved["handover_id"] and moved["reason"] == "Soft release"
    child = _fresh(db, Animal, moved["animal_id"])
    assert (child.facility_id, child.quantity, child.parent_id) == (other_facility.id, 10, turtles.id)
    assert db.session.get(Animal, turtles.id).quantity == 40
    assert db.session.get(Transfer, moved["id"]).animal_id == child.id

    same = client.post(url, json={"to_facility_id": facility.id}, headers=coordinator)
    assert same.status_code == 422 and "to_facility_id" in same.json["error"]["fields"]
    nowhere = client.post(url, json={"to_facility_id": 999999}, headers=coordinator)
    assert nowhere.status_code == 422 and "to_facility_id" in nowhere.json["error"]["fields"]
    case.evidence_hold = True
    db.session.flush()
    held = client.post(url, json={"to_facility_id": other_facility.id, "count": 5}, headers=coordinator)
    assert held.status_code == 409 and case.reference in held.json["error"]["message"]
    assert _count(db, Transfer) == 1


# --- post-release observations ---------------------------------------------------------------

def test_observations_follow_a_release(client, bearer, saved_site, ready_macaque, turtles, db):
    plan, coordinator = _approved_plan(client, bearer, saved_site, [{"animal_id": ready_macaque.id}])
    _post(client, f"/api/v1/release-plans/{plan['id']}/complete", {}, coordinator, 200)
    url = f"/api/v1/animals/{ready_macaque.id}/observations"
    keeper = bearer("keeper")
    seen = _post(client, url, {"observed_at": _iso(utcnow() - timedelta(minutes=20)), "kind": "sighting",
                               "notes": "Foraging with a wild troop", "latitude": 13.58, "longitude": 104.11},
                 keeper)
    assert (seen["kind"], seen["plan_id"], seen["count"]) == ("sighting", plan["id"], 1)
    assert "latitude" not in seen
    stored = db.session.get(Observation, seen["id"])
    assert float(stored.latitude) == 13.58

    listed = client.get(url, headers=coordinator).json
    assert listed["meta"]["total"] == 1 and listed["items"][0]["longitude"] == 104.11
    assert "latitude" not in client.get(url, headers=bearer("vet")).json["items"][0]
    survival = client.get(f"/api/v1/release-plans/{plan['id']}", headers=keeper).json["survival"]
    assert (survival["released"], survival["seen_alive"], survival["unknown"]) == (1, 1, 0)

    not_released = client.post(f"/api/v1/animals/{turtles.id}/observations",
                               json={"observed_at": _iso(utcnow()), "kind": "sighting"}, headers=keeper)
    assert not_released.status_code == 422 and "animal" in not_released.json["error"]["fields"]
    assert client.post(url, json={"observed_at": _iso(utcnow()), "kind": "sighting"},
                       headers=bearer("viewer")).status_code == 403


# --- lists cost the same for 1 row and 20 ----------------------------------------------------

def test_plan_list_queries(client, bearer, count_queries, saved_site, turtles, db):
    def add_one(n):
        db.session.add(ReleasePlan(facility_id=turtles.facility_id, site_id=saved_site.id, status="completed",
                                   planned_on=utcnow().date(), animals=[PlannedAnimal(animal_id=turtles.id, count=1)]))
        db.session.flush()

    assert_same_count_for_1_and_20(client, bearer("viewer"), count_queries, "/api/v1/release-plans", add_one)


def test_site_list_queries(client, bearer, count_queries, db):
    from app.releases.models import ReleaseSite

    def add_one(n):
        db.session.add(ReleaseSite(name=f"Site {n}", suitable_taxa=[]))
        db.session.flush()

    assert_same_count_for_1_and_20(client, bearer("coordinator"), count_queries, "/api/v1/release-sites", add_one)


def test_criteria_list_queries(client, bearer, count_queries, db):
    species = factories.SpeciesFactory()

    def add_one(n):
        db.session.add(ReleaseCriterion(species_id=species.id, key=f"skill_{n}", kind="manual", label="x",
                                        tests=[]))
        db.session.flush()

    assert_same_count_for_1_and_20(client, bearer("viewer"), count_queries,
                                   f"/api/v1/release-criteria?species_id={species.id}", add_one)


def test_assessment_list_queries(client, bearer, count_queries, turtles, db):
    animal = factories.AnimalFactory(case=turtles.case, species=turtles.species)

    def add_one(n):
        assess(animal, "feeds_unassisted", at=utcnow() - timedelta(hours=n + 1))

    assert_same_count_for_1_and_20(client, bearer("viewer"), count_queries,
                                   f"/api/v1/animals/{animal.id}/assessments", add_one)


def test_an_outcome_is_recorded_once_with_an_idempotency_key(client, bearer, turtles, db):
    headers = {**bearer("coordinator"), "Idempotency-Key": "escape-4b2e"}
    url = f"/api/v1/animals/{turtles.id}/outcomes"
    body = _outcome("escaped", count=2)
    first = _post(client, url, body, headers)
    assert _post(client, url, body, headers) == first
    assert _count(db, Outcome) == 1 and _fresh(db, Animal, turtles.id).quantity == 48
