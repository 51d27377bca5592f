"""Lots, splits, moves, holds and custody through the API and the services."""

from datetime import date

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.animals import services
from app.animals.models import Animal, EvidenceHoldChange, HousingMove
from app.animals.services import split_off_total
from app.extensions import db as _db
from tests import factories


def _admit(client, headers, case, rows):
    response = client.post(f"/api/v1/cases/{case.id}/animals", json={"animals": rows}, headers=headers)
    assert response.status_code == 201, response.json
    return response.json["items"]


def test_split_moves_quantity_and_links_the_parent(client, bearer, case, species, quarantine, facility, db):
    headers = bearer("coordinator")
    clinic = factories.EnclosureFactory(facility=facility, code="CL-1", kind="clinic")
    (lot,) = _admit(client, headers, case, [{"species_id": species["turtle"].id, "quantity": 50,
                                             "enclosure_id": quarantine.id}])
    response = client.post(f"/api/v1/animals/{lot['id']}/split", json={"quantity": 12, "enclosure_id": clinic.id,
                                                                      "reason": "shell lesions"}, headers=headers)
    assert response.status_code == 201, response.json
    child = response.json
    assert (child["quantity"], child["intake_quantity"], child["parent_id"]) == (12, 12, lot["id"])
    assert child["enclosure_id"] == clinic.id and child["accession_number"] != lot["accession_number"]
    parent = client.get(f"/api/v1/animals/{lot['id']}", headers=headers).json
    assert parent["quantity"] == 38
    assert parent["intake_quantity"] == parent["quantity"] + split_off_total(lot["id"])


def test_split_cannot_take_the_whole_lot_or_more(client, bearer, case, species):
    headers = bearer("coordinator")
    (lot,) = _admit(client, headers, case, [{"species_id": species["turtle"].id, "quantity": 5}])
    for quantity in (5, 6, 0, -1):
        response = client.post(f"/api/v1/animals/{lot['id']}/split", json={"quantity": quantity}, headers=headers)
        assert response.status_code == 422
        assert "quantity" in response.json["error"]["fields"]


def test_moves_keep_history_and_refuse_other_facilities(client, bearer, case, species, quarantine, facility,
                                                        other_facility, db):
    headers = bearer("coordinator")
    (macaque,) = _admit(client, headers, case, [{"species_id": species["macaque"].id,
                                                 "enclosure_id": quarantine.id}])
    run = factories.EnclosureFactory(facility=facility, code="P-01")
    db.session.get(Animal, macaque["id"]).quarantine_cleared_on = date(2026, 1, 1)  # a vet cleared it
    db.session.commit()
    response = client.post(f"/api/v1/animals/{macaque['id']}/moves",
                           json={"to_enclosure_id": run.id, "reason": "quarantine over"}, headers=headers)
    assert response.status_code == 201
    assert response.json["from_enclosure_id"] == quarantine.id
    elsewhere = factories.EnclosureFactory(facility=other_facility)
    response = client.post(f"/api/v1/animals/{macaque['id']}/moves", json={"to_enclosure_id": elsewhere.id},
                           headers=headers)
    assert response.status_code == 422
    moves = db.session.execute(sa.select(HousingMove).where(HousingMove.animal_id == macaque["id"])).scalars().all()
    assert [m.to_enclosure_id for m in sorted(moves, key=lambda m: m.id)] == [quarantine.id, run.id]
    assert client.get(f"/api/v1/animals/{macaque['id']}", headers=headers).json["enclosure_id"] == run.id


def test_evidence_hold_is_set_and_lifted_with_reasons_and_history(client, bearer, case, db):
    headers = bearer("coordinator")
    url = f"/api/v1/cases/{case.id}/evidence-hold"
    assert client.post(url, json={"active": True, "reason": "court case 118/2026"}, headers=headers).status_code == 201
    assert client.get(f"/api/v1/cases/{case.id}", headers=headers).json["evidence_hold"] is True
    again = client.post(url, json={"active": True, "reason": "again"}, headers=headers)
    assert again.status_code == 422
    assert client.post(url, json={"active": False, "reason": ""}, headers=headers).status_code == 422
    assert client.post(url, json={"active": False, "reason": "verdict given"}, headers=headers).status_code == 201
    history = db.session.execute(sa.select(EvidenceHoldChange.active, EvidenceHoldChange.reason)
                                 .order_by(EvidenceHoldChange.id)).all()
    assert [tuple(h) for h in history] == [(True, "court case 118/2026"), (False, "verdict given")]
    assert client.post(url, json={"active": True, "reason": "x"}, headers=bearer("keeper")).status_code == 403


def test_an_active_hold_is_confirmed_with_a_reason_and_kept_in_its_history(client, bearer, case, db):
    headers = bearer("coordinator")
    review = f"/api/v1/cases/{case.id}/evidence-hold/review"
    refused = client.post(review, json={"reason": "still needed"}, headers=headers)
    assert refused.status_code == 422 and "not under an evidence hold" in str(refused.json["error"]["fields"])
    client.post(f"/api/v1/cases/{case.id}/evidence-hold", json={"active": True, "reason": "trial"}, headers=headers)
    assert client.post(review, json={"reason": " "}, headers=headers).status_code == 422
    confirmed = client.post(review, json={"reason": "appeal pending"}, headers=headers)
    assert confirmed.status_code == 201 and confirmed.json["is_review"] is True and confirmed.json["active"] is True
    history = db.session.execute(sa.select(EvidenceHoldChange.active, EvidenceHoldChange.is_review,
                                           EvidenceHoldChange.reason).order_by(EvidenceHoldChange.id)).all()
    assert [tuple(h) for h in history] == [(True, False, "trial"), (True, True, "appeal pending")]
    assert client.get(f"/api/v1/cases/{case.id}", headers=headers).json["evidence_hold"] is True
    assert client.post(review, json={"reason": "x"}, headers=bearer("vet")).status_code == 403


def test_ensure_not_held_names_the_case(db, case, species):
    animal = factories.AnimalFactory(case=case, species=species["pangolin"])
    services.set_evidence_hold(case, active=True, reason="evidence", user=None)
    try:
        services.ensure_not_held([animal])
    except services.EvidenceHoldError as error:
        assert case.reference in str(error)
    else:
        raise AssertionError("the hold did not stop the animal")


def test_handovers_for_the_case_and_one_animal(client, bearer, case, species):
    headers = bearer("coordinator")
    (pangolin,) = _admit(client, headers, case, [{"species_id": species["pangolin"].id}])
    body = {"from_party": "Customs, Koh Kong", "to_party": "Phnom Tamao", "handed_at": "2026-11-20T10:00:00Z",
            "place": "Koh Kong port", "purpose": "care pending trial", "seal_ids": "S-1, S-2"}
    assert client.post(f"/api/v1/cases/{case.id}/handovers", json=body, headers=headers).status_code == 201
    one = client.post(f"/api/v1/cases/{case.id}/handovers", json={**body, "animal_id": pangolin["id"],
                                                                   "purpose": "vet check"}, headers=headers)
    assert one.status_code == 201 and one.json["animal_id"] == pangolin["id"]
    bad = client.post(f"/api/v1/cases/{case.id}/handovers", json={**body, "to_party": ""}, headers=headers)
    assert bad.status_code == 422
    kinds = [e["kind"] for e in client.get(f"/api/v1/animals/{pangolin['id']}/timeline", headers=headers).json["items"]]
    assert kinds.count("custody") == 2 and "intake" in kinds


operations = st.lists(
    st.tuples(st.sampled_from(["intake", "split", "move"]), st.integers(1, 30), st.integers(0, 10_000)),
    min_size=1, max_size=25,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=operations)
def test_any_sequence_of_intakes_splits_and_moves_keeps_quantities_reconciled(case, species, facility, steps):
    # (`db` is imported, not a fixture argument: hypothesis prints fixture arguments.)
    enclosures = [factories.EnclosureFactory(facility=facility) for _ in range(3)]
    try:
        nested = _db.session.begin_nested()
        animals: list[Animal] = []
        for action, amount, pick in steps:
            if action == "intake" or not animals:
                animals += services.admit_animals(
                    case, [{"species_id": species["turtle"].id, "quantity": amount,
                            "enclosure_id": enclosures[pick % 3].id}], user=None)
            elif action == "split":
                source = animals[pick % len(animals)]
                if source.quantity > 1:
                    animals.append(services.split_animal(source, quantity=1 + pick % (source.quantity - 1),
                                                         enclosure=enclosures[amount % 3], user=None))
            else:
                services.move_animals([animals[pick % len(animals)]], enclosures[amount % 3], reason="", user=None)
        total_in = sum(a.intake_quantity for a in animals if a.parent_id is None)
        assert sum(a.quantity for a in animals) == total_in
        for animal in animals:
            assert animal.quantity >= 1
            assert animal.intake_quantity == animal.quantity + split_off_total(animal.id)
            last_move = _db.session.execute(
                sa.select(HousingMove.to_enclosure_id).where(HousingMove.animal_id == animal.id)
                .order_by(HousingMove.moved_at.desc(), HousingMove.id.desc()).limit(1)).scalar()
            assert last_move == animal.enclosure_id is not None
    finally:
        nested.rollback()


def test_a_lifetime_resident_needs_a_reason_even_when_one_was_given_before(db, facility):
    animal = factories.AnimalFactory(case=factories.CaseFactory(facility=facility), releasability="candidate",
                                     releasability_reason="Was thought blind in one eye")
    with pytest.raises(services.IntakeError) as refused:
        services.update_animal(animal, {"releasability": "non_releasable", "releasability_reason": "   "})
    assert "releasability_reason" in refused.value.fields
    services.update_animal(animal, {"releasability": "non_releasable", "releasability_reason": "Imprinted on people"})
    assert animal.releasability_reason == "Imprinted on people"
