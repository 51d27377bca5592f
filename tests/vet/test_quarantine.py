"""Quarantine: moves out of a quarantine enclosure (page and API), clearance, its state, the list of tests.

An animal is in quarantine until a vet clears it. Until then only a coordinator (or
an admin), giving a reason, may move it from a quarantine enclosure to another kind;
the move keeps the reason. Clearing needs a result for every required test. The
pages read the real clock, so dates here are relative to utcnow().
"""

import html as htmllib
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.animals.models import HousingMove
from app.common.db import utcnow
from app.vet import services
from app.vet.models import QuarantineTest
from app.vet.quarantine import quarantine_state
from tests import factories
from tests.reference import error_next_to
from tests.vet.conftest import NOW

ZONE = ZoneInfo("Asia/Phnom_Penh")
VET_REFUSED = "in quarantine until a vet clears it. Only a coordinator may move it out early."
NEEDS_REASON = "in quarantine until a vet clears it. A coordinator may move it out early, giving the reason."


def _today():
    return utcnow().astimezone(ZONE).date()


def _text(response) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


def _moves(db, animal):
    db.session.expire_all()
    return db.session.execute(select(HousingMove).where(HousingMove.animal_id == animal.id)
                              .order_by(HousingMove.id)).scalars().all()


def _move(client, animal, enclosure, **extra):
    return client.post_form(f"/animals/{animal.id}/move", {"confirm": "1", "to_enclosure_id": str(enclosure.id),
                                                           "reason": "to the yard", **extra})


def _api_move(client, headers, animal, enclosure, **extra):
    return client.post(f"/api/v1/animals/{animal.id}/moves",
                       json={"to_enclosure_id": enclosure.id, "reason": "to the yard", **extra}, headers=headers)


# --- moves out of quarantine: the page ----------------------------------------------------

def test_a_vet_may_not_move_an_uncleared_animal_out_of_quarantine(client, login, db, animal, yard, facility,
                                                                   quarantine_enclosure):
    login("vet")
    page = client.get(f"/animals/{animal.id}/move")
    assert 'name="quarantine_override"' not in page.get_data(as_text=True), "only coordinators see the field"
    assert 'data-testid="quarantine-badge"' in page.get_data(as_text=True)
    refused = _move(client, animal, yard, quarantine_override="the vet says so")  # typed in anyway: ignored
    assert refused.status_code == 422
    assert f"{animal.accession_number}: {VET_REFUSED}" in _text(refused)
    assert _moves(db, animal) == [] and animal.enclosure_id == quarantine_enclosure.id
    # Within quarantine (another quarantine enclosure) a vet moves it freely.
    second = factories.EnclosureFactory(facility=facility, code="Q-2", is_quarantine=True)
    assert _move(client, animal, second).status_code == 302
    assert [m.to_enclosure_id for m in _moves(db, animal)] == [second.id]


def test_a_coordinator_moves_it_out_early_only_with_a_reason_which_the_move_keeps(client, login, db, animal, yard):
    login("coordinator")
    page = client.get(f"/animals/{animal.id}/move").get_data(as_text=True)
    assert 'name="quarantine_override"' in page and "Reason to move out of quarantine early" in page
    refused = _move(client, animal, yard, quarantine_override="   ")
    assert refused.status_code == 422
    assert error_next_to(_text(refused), "quarantine_override", f"{animal.accession_number}: {NEEDS_REASON}")
    assert 'value="to the yard"' in refused.get_data(as_text=True), "what was typed is kept"
    assert _moves(db, animal) == []

    response = _move(client, animal, yard, quarantine_override="Enclosure flooded; vet on leave.")
    assert response.status_code == 302
    (move,) = _moves(db, animal)
    assert move.to_enclosure_id == yard.id and move.quarantine_override == "Enclosure flooded; vet on leave."
    assert animal.enclosure_id == yard.id and animal.in_quarantine, "moving out is not clearing"
    history = _text(client.get(f"/animals/{animal.id}")).split('data-testid="housing-history"')[1]
    assert "Enclosure flooded; vet on leave." in history.split("</table>")[0]


def test_a_bulk_move_keeps_the_reason_only_for_the_uncleared_animals(client, login, db, animal, yard, facility,
                                                                    quarantine_enclosure):
    cleared = factories.AnimalFactory(case=factories.CaseFactory(facility=facility),
                                      enclosure_id=quarantine_enclosure.id, quarantine_cleared_on=_today())
    login("admin")
    ids = [str(animal.id), str(cleared.id)]
    refused = client.post_form("/animals/move", {"animal_ids": ids, "confirm": "1", "to_enclosure_id": str(yard.id)})
    assert refused.status_code == 422
    assert f"{animal.accession_number}: {NEEDS_REASON}" in _text(refused), "the cleared animal is not named"
    response = client.post_form("/animals/move", {"animal_ids": ids, "confirm": "1", "to_enclosure_id": str(yard.id),
                                                  "quarantine_override": "Transfer of the whole block"})
    assert response.status_code == 302
    assert [m.quarantine_override for m in _moves(db, animal)] == ["Transfer of the whole block"]
    assert [m.quarantine_override for m in _moves(db, cleared)] == [""]


def test_after_clearance_anyone_who_may_move_moves_it_freely(client, login, db, animal, yard):
    login("vet")
    assert client.post_form(f"/animals/{animal.id}/quarantine/clear",
                            {"cleared_on": _today().isoformat(), "notes": "All clear."}).status_code == 302
    assert _move(client, animal, yard).status_code == 302
    (move,) = _moves(db, animal)
    assert move.to_enclosure_id == yard.id and move.quarantine_override == ""


# --- moves out of quarantine: the API -----------------------------------------------------

def test_the_api_applies_the_same_rules(client, bearer, db, animal, yard):
    refused = _api_move(client, bearer("vet"), animal, yard, quarantine_override="please")
    assert refused.status_code == 422
    assert VET_REFUSED in refused.json["error"]["fields"]["quarantine_override"][0]
    coordinator = bearer("coordinator")
    refused = _api_move(client, coordinator, animal, yard)
    assert refused.status_code == 422
    assert NEEDS_REASON in refused.json["error"]["fields"]["quarantine_override"][0]
    assert _moves(db, animal) == []
    response = _api_move(client, coordinator, animal, yard, quarantine_override="Sick: to the clinic block")
    assert response.status_code == 201, response.json
    assert response.json["quarantine_override"] == "Sick: to the clinic block"
    (move,) = _moves(db, animal)
    assert move.quarantine_override == "Sick: to the clinic block"


def test_the_api_moves_a_cleared_animal_for_a_vet(client, bearer, db, animal, yard, signed_in):
    vet = signed_in("vet")
    from app.vet.quarantine import clear_quarantine

    clear_quarantine(animal, user=vet, notes="ok")
    db.session.commit()
    response = _api_move(client, bearer("vet"), animal, yard)
    assert response.status_code == 201, response.json
    assert response.json["quarantine_override"] == ""


# --- clearance ----------------------------------------------------------------------------

@pytest.fixture
def required(db, animal):
    """The macaque's class needs a faecal parasitology, its species a tuberculin test."""
    db.session.add_all([QuarantineTest(taxon_class="mammal", test="Faecal parasitology"),
                        QuarantineTest(species_id=animal.species_id, test="Tuberculin test"),
                        QuarantineTest(taxon_class="bird", test="Avian influenza PCR")])
    db.session.commit()


def test_clearing_is_refused_while_required_results_are_missing(client, login, db, animal, required):
    user = login("vet")
    page = client.get(f"/animals/{animal.id}/quarantine/clear")
    html = _text(page)
    assert page.status_code == 200 and f'value="{_today().isoformat()}"' in html
    tests = html.split('data-testid="quarantine-tests"')[1].split("</table>")[0]
    assert "Faecal parasitology" in tests and "Tuberculin test" in tests and "Avian influenza" not in tests
    assert tests.count('data-state="missing"') == 2

    services.add_lab_result(animal, user=user, test="faecal  parasitology", sampled_on=_today())  # pending
    db.session.commit()
    refused = client.post_form(f"/animals/{animal.id}/quarantine/clear",
                               {"cleared_on": _today().isoformat(), "notes": "Looks well"})
    assert refused.status_code == 422
    assert ("Results are still missing for: Faecal parasitology, Tuberculin test. "
            "Record them before clearing quarantine.") in _text(refused)
    assert "Looks well" in _text(refused)
    db.session.expire_all()
    assert animal.quarantine_cleared_on is None and animal.in_quarantine


def test_clearing_is_allowed_once_every_test_has_a_result_even_a_positive_one(client, login, db, animal, required):
    user = login("vet")
    services.add_lab_result(animal, user=user, test="Faecal parasitology", sampled_on=_today(),
                            interpretation="negative", result="No ova seen")
    services.add_lab_result(animal, user=user, test="Tuberculin test", sampled_on=_today(),
                            interpretation="positive", result="Reaction at 72 h")
    db.session.commit()
    page = _text(client.get(f"/animals/{animal.id}/quarantine/clear"))
    assert 'data-state="negative"' in page and 'data-state="positive"' in page
    future = client.post_form(f"/animals/{animal.id}/quarantine/clear",
                              {"cleared_on": (_today() + timedelta(days=1)).isoformat()})
    assert future.status_code == 422 and error_next_to(_text(future), "cleared_on", "This date is in the future.")
    response = client.post_form(f"/animals/{animal.id}/quarantine/clear",
                                {"cleared_on": _today().isoformat(), "notes": "TB positive: resident."})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/animals/{animal.id}")
    db.session.expire_all()
    assert animal.quarantine_cleared_on == _today() and animal.quarantine_cleared_by_id == user.id
    assert animal.quarantine_notes == "TB positive: resident." and not animal.in_quarantine
    again = client.post_form(f"/animals/{animal.id}/quarantine/clear", {"cleared_on": _today().isoformat()})
    assert again.status_code == 422 and "already cleared" in _text(again)


def test_only_vets_clear_quarantine(client, login, animal):
    for role in ("keeper", "coordinator", "viewer"):
        login(role)
        assert client.get(f"/animals/{animal.id}/quarantine/clear").status_code == 403, role
        assert client.post_form(f"/animals/{animal.id}/quarantine/clear", {}).status_code == 403, role
        client.post_form("/logout")


def test_a_vet_of_another_facility_gets_404(client, login, animal, other_facility):
    login("vet", facilities=[other_facility])
    assert client.get(f"/animals/{animal.id}/quarantine/clear").status_code == 404


def test_quarantine_state_counts_the_days_left_in_the_facilitys_time(db, animal, facility):
    # Admitted 2026-06-03 09:30 local; 30 days for the species: expected to end 2026-07-03.
    state = quarantine_state(animal, now=NOW)
    assert state.ends_on.isoformat() == "2026-07-03" and state.days_left == 23
    late = quarantine_state(animal, now=NOW + timedelta(days=40))
    assert late.days_left == -17
    recent = factories.AnimalFactory(case=factories.CaseFactory(facility=facility),
                                     admitted_at=utcnow() - timedelta(days=5))
    assert quarantine_state(recent).days_left == 25


def test_the_clearance_page_says_how_many_days_are_left(client, login, facility):
    recent = factories.AnimalFactory(case=factories.CaseFactory(facility=facility),
                                     admitted_at=utcnow() - timedelta(days=5))
    login("vet")
    page = _text(client.get(f"/animals/{recent.id}/quarantine/clear"))
    assert "25 days left" in page and 'data-testid="no-tests"' in page


# --- the list of required tests ------------------------------------------------------------

def test_a_vet_adds_and_removes_required_tests(client, login, db):
    species = factories.SpeciesFactory(scientific_name="Manis javanica", common_name_en="Sunda pangolin")
    login("vet")
    page = client.get("/vet/quarantine-tests")
    assert page.status_code == 200 and "Sunda pangolin" in page.get_data(as_text=True)
    for value in ("mammal", "bird", "reptile", "amphibian"):
        assert f'value="{value}"' in page.get_data(as_text=True)

    response = client.post_form("/vet/quarantine-tests", {"test": " Chytrid  (Bd) PCR ", "taxon_class": "amphibian"})
    assert response.status_code == 302
    response = client.post_form("/vet/quarantine-tests", {"test": "Faecal parasitology", "species_id": str(species.id)})
    assert response.status_code == 302
    rows = db.session.execute(select(QuarantineTest).order_by(QuarantineTest.id)).scalars().all()
    assert [(r.test, r.taxon_class, r.species_id) for r in rows] == [
        ("Chytrid (Bd) PCR", "amphibian", None), ("Faecal parasitology", None, species.id)]
    listing = client.get("/vet/quarantine-tests").get_data(as_text=True)
    assert listing.count('data-testid="quarantine-test-row"') == 2 and "Chytrid (Bd) PCR" in listing

    both = client.post_form("/vet/quarantine-tests", {"test": "X", "species_id": str(species.id),
                                                      "taxon_class": "bird"})
    assert both.status_code == 422 and "Choose a species or a taxon class, not both." in _text(both)
    assert 'value="X"' in both.get_data(as_text=True)
    unnamed = client.post_form("/vet/quarantine-tests", {"test": "", "taxon_class": "bird"})
    assert unnamed.status_code == 422 and error_next_to(_text(unnamed), "test", "Name the test.")
    again = client.post_form("/vet/quarantine-tests", {"test": "chytrid (bd) pcr", "taxon_class": "amphibian"})
    assert again.status_code == 422 and "This test is already required." in _text(again)
    unknown = client.post_form("/vet/quarantine-tests", {"test": "Y", "species_id": "999999"})
    assert unknown.status_code == 422

    assert client.post_form(f"/vet/quarantine-tests/{rows[0].id}/remove").status_code == 302
    db.session.expire_all()
    assert [r.test for r in db.session.execute(select(QuarantineTest)).scalars()] == ["Faecal parasitology"]
    assert client.post_form("/vet/quarantine-tests/999999/remove").status_code == 404


def test_the_tests_page_is_for_vets_only(client, login, db):
    row = QuarantineTest(taxon_class="bird", test="Avian influenza PCR")
    db.session.add(row)
    db.session.commit()
    for role in ("keeper", "coordinator", "viewer"):
        login(role)
        assert client.get("/vet/quarantine-tests").status_code == 403, role
        assert client.post_form("/vet/quarantine-tests", {"test": "X", "taxon_class": "bird"}).status_code == 403
        assert client.post_form(f"/vet/quarantine-tests/{row.id}/remove").status_code == 403
        client.post_form("/logout")
    assert db.session.get(QuarantineTest, row.id) is not None


def test_the_tests_page_query_count_is_the_same_for_1_and_50_tests(client, login, db, count_queries):
    species = [factories.SpeciesFactory() for _ in range(3)]
    db.session.add(QuarantineTest(species_id=species[0].id, test="T0"))
    db.session.commit()
    login("vet")
    client.get("/vet/quarantine-tests")
    with count_queries() as one:
        client.get("/vet/quarantine-tests")
    db.session.add_all([QuarantineTest(species_id=species[n % 3].id, test=f"T{n}") for n in range(1, 50)])
    db.session.commit()
    with count_queries() as fifty:
        html = client.get("/vet/quarantine-tests").get_data(as_text=True)
    assert html.count('data-testid="quarantine-test-row"') == 50
    assert one.count == fifty.count
