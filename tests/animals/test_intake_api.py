"""Intake over the API: all rows or none, accession numbers, lots, restricted fields."""

import re

import sqlalchemy as sa

from app.animals.models import Animal, HousingMove


def _case_body(facility, **extra):
    return {"facility_id": facility.id, "occurred_at": "2026-11-20T06:30:00+07:00", "source": "customs_seizure",
            "agency": "Customs", "officer": "Lt. Sok", "legal_reference": "PP-2026-118", "province": "Koh Kong",
            "latitude": 11.6, "longitude": 103.0, "suspect_details": "two men, truck plate 2A-1234", **extra}


def test_coordinator_records_a_seizure_and_its_animals(client, bearer, facility, species, quarantine, db):
    headers = bearer("coordinator")
    case = client.post("/api/v1/cases", json=_case_body(facility), headers=headers)
    assert case.status_code == 201, case.json
    assert re.fullmatch(r"C-2026-\d{4}", case.json["reference"])
    rows = [
        {"species_id": species["turtle"].id, "quantity": 50, "enclosure_id": quarantine.id},
        {"species_id": species["macaque"].id, "sex": "female", "age_class": "juvenile", "intake_weight_g": 2100,
         "enclosure_id": quarantine.id, "identifiers": [{"kind": "microchip", "value": "985112000123456"}]},
        {"species_id": species["pangolin"].id, "intake_condition": "poor", "enclosure_id": quarantine.id},
    ]
    response = client.post(f"/api/v1/cases/{case.json['id']}/animals", json={"animals": rows}, headers=headers)
    assert response.status_code == 201, response.json
    items = response.json["items"]
    numbers = [i["accession_number"] for i in items]
    assert numbers == sorted(numbers) and len(set(numbers)) == 3
    assert all(re.fullmatch(r"\d{4}-\d{5}", n) for n in numbers)
    lot = next(i for i in items if i["species_id"] == species["turtle"].id)
    assert (lot["quantity"], lot["intake_quantity"], lot["sex"], lot["in_quarantine"]) == (50, 50, "mixed", True)
    assert db.session.execute(sa.select(sa.func.count()).select_from(HousingMove)).scalar() == 3


def test_one_bad_row_stores_nothing_and_names_the_row(client, bearer, case, species, quarantine, db):
    headers = bearer("coordinator")
    malformed = [{"species_id": species["turtle"].id, "quantity": 10}, {"species_id": 1, "quantity": 0, "sex": "x"}]
    response = client.post(f"/api/v1/cases/{case.id}/animals", json={"animals": malformed}, headers=headers)
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]["animals"]["1"]) == {"quantity", "sex"}
    rows = [{"species_id": species["turtle"].id, "quantity": 10},
            {"species_id": 999999, "enclosure_id": 999999}]
    response = client.post(f"/api/v1/cases/{case.id}/animals", json={"animals": rows}, headers=headers)
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]["animals"]["1"]) == {"species_id", "enclosure_id"}
    assert db.session.execute(sa.select(sa.func.count()).select_from(Animal)).scalar() == 0


def test_duplicate_microchip_is_refused(client, bearer, case, species):
    chip = [{"kind": "microchip", "value": "900000000000001"}]
    rows = [{"species_id": species["macaque"].id, "identifiers": chip},
            {"species_id": species["macaque"].id, "identifiers": chip}]
    response = client.post(f"/api/v1/cases/{case.id}/animals", json={"animals": rows}, headers=bearer("coordinator"))
    assert response.status_code == 422
    assert "already in use" in str(response.json["error"]["fields"])


def test_enclosure_of_another_facility_is_refused(client, bearer, case, species, other_facility):
    from tests.factories import EnclosureFactory

    elsewhere = EnclosureFactory(facility=other_facility)
    rows = [{"species_id": species["macaque"].id, "enclosure_id": elsewhere.id}]
    response = client.post(f"/api/v1/cases/{case.id}/animals", json={"animals": rows}, headers=bearer("coordinator"))
    assert response.status_code == 422


def test_restricted_fields_hidden_from_keeper_vet_and_viewer(client, bearer, facility):
    created = client.post("/api/v1/cases", json=_case_body(facility), headers=bearer("admin")).json
    assert created["latitude"] == 11.6 and created["officer"] == "Lt. Sok"
    for role in ("keeper", "vet", "viewer"):
        seen = client.get(f"/api/v1/cases/{created['id']}", headers=bearer(role)).json
        assert not {"latitude", "longitude", "officer", "suspect_details", "reporter"} & set(seen)
        assert seen["reference"] == created["reference"]


def test_only_coordinators_and_admins_record_cases(client, bearer, facility):
    for role in ("keeper", "vet", "viewer"):
        assert client.post("/api/v1/cases", json=_case_body(facility), headers=bearer(role)).status_code == 403


def test_keeper_of_another_facility_gets_404(client, bearer, case, other_facility):
    assert client.get(f"/api/v1/cases/{case.id}", headers=bearer("keeper", facilities=[other_facility])
                      ).status_code == 404


def test_idempotency_key_returns_the_first_result(client, bearer, facility, db):
    headers = {**bearer("coordinator"), "Idempotency-Key": "intake-7f3a"}
    body = _case_body(facility)
    first = client.post("/api/v1/cases", json=body, headers=headers)
    again = client.post("/api/v1/cases", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json == again.json
    assert again.headers["Idempotent-Replayed"] == "true"
    other = client.post("/api/v1/cases", json={**body, "agency": "Military Police"}, headers=headers)
    assert other.status_code == 422


def test_future_seizure_is_refused(client, bearer, facility):
    response = client.post("/api/v1/cases", json=_case_body(facility, occurred_at="2099-01-01T00:00:00Z"),
                           headers=bearer("coordinator"))
    assert response.status_code == 422
    assert "occurred_at" in response.json["error"]["fields"]


def test_case_edit_checks_coordinates_as_a_pair_and_the_version(client, bearer, facility):
    headers = bearer("coordinator")
    created = client.post("/api/v1/cases", json=_case_body(facility, latitude=None, longitude=None),
                          headers=headers).json
    url = f"/api/v1/cases/{created['id']}"
    alone = client.patch(url, json={"version": created["version"], "latitude": 11.5}, headers=headers)
    assert alone.status_code == 422 and "latitude" in alone.json["error"]["fields"]
    both = client.patch(url, json={"version": created["version"], "latitude": 11.5, "longitude": 103.1},
                        headers=headers)
    assert both.status_code == 200 and both.json["version"] == created["version"] + 1
    stale = client.patch(url, json={"version": created["version"], "notes": "late edit"}, headers=headers)
    assert stale.status_code == 409 and stale.json["error"]["current"]["latitude"] == 11.5
