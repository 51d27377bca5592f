"""Transfers within the network, transfers out of it, escapes: the services and their pages.

Within the network the record moves (its care and medical records follow it) with a
custody hand-over; part of a lot is split off first, so intake quantities still
reconcile. Nothing leaves under an evidence hold. A transfer out needs the receiving
institution, its country and the permits. Only coordinators and admins record these.
"""

import html as htmllib
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.animals.models import Animal, Case, CustodyHandover, Outcome
from app.animals.outcomes import outcomes_of
from app.animals.services import set_evidence_hold, split_off_total
from app.care.models import CareSchedule, CareTask, TaskStatus
from app.common.db import utcnow
from app.extensions import db as _db
from app.releases.models import Transfer
from app.releases.services import HoldError, ReleaseError
from app.releases.transfers import record_escape, transfer_out, transfer_within_network
from app.vet.models import Prescription, Problem
from app.vet.prescriptions import prescribe
from app.vet.services import add_problem
from tests import factories
from tests.reference import error_next_to

ZONE = ZoneInfo("Asia/Phnom_Penh")


def _text(response) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


def _switch(client, login, role):
    """Sign out, then in as a new user of `role` (the sign-in page sends a signed-in user home)."""
    assert client.post_form("/logout").status_code == 302
    return login(role)


def _local(hours_ago=1) -> str:
    """A time typed on a page: the facility's wall clock, `hours_ago` before now."""
    return (utcnow() - timedelta(hours=hours_ago)).astimezone(ZONE).strftime("%Y-%m-%dT%H:%M")


def _reconciles(animal: Animal) -> bool:
    outcomes = sum(o.count for o in outcomes_of(animal.id))
    return animal.intake_quantity == animal.quantity + outcomes + split_off_total(animal.id)


@pytest.fixture
def coordinator(make_user):
    return make_user("coordinator")


@pytest.fixture
def housed_macaque(ready_macaque, facility, make_user, db):
    """The ready macaque in an enclosure, with a course of meloxicam (a schedule and open tasks) and a problem."""
    pen = factories.EnclosureFactory(facility=facility, code="M-1", name="Macaque yard")
    ready_macaque.enclosure_id = pen.id
    vet = make_user("vet")
    prescribe(ready_macaque, user=vet, drug="Meloxicam", dose_mg_per_kg="0.2", route="PO", frequency="BID", days=5)
    add_problem(ready_macaque, user=vet, diagnosis="Healed fracture, left radius", status="resolved",
                onset_on=(utcnow() - timedelta(days=90)).date(), resolved_on=(utcnow() - timedelta(days=30)).date())
    db.session.commit()
    return ready_macaque


def _hold(animal, coordinator) -> Case:
    """Put the animal's case under an evidence hold; returns the case."""
    case = _db.session.get(Case, animal.case_id)
    set_evidence_hold(case, active=True, reason="Court hearing pending", user=coordinator)
    return case


# --- within the network -------------------------------------------------------------------------

def test_a_whole_animal_moves_with_its_custody_care_and_medical_records(db, housed_macaque, facility, other_facility,
                                                                         coordinator):
    macaque = housed_macaque
    assert db.session.scalar(select(func.count()).select_from(CareTask).where(
        CareTask.animal_id == macaque.id, CareTask.status == TaskStatus.OPEN)) > 0
    transfer = transfer_within_network(macaque, to_facility=other_facility, user=coordinator, reason="Pre-release",
                                       handed_to="Dara (release station keeper)")
    db.session.commit()
    db.session.expire_all()
    assert transfer.animal_id == macaque.id
    assert (macaque.facility_id, macaque.enclosure_id, macaque.status) == (other_facility.id, None, "in_care")
    assert (transfer.from_facility_id, transfer.to_facility_id, transfer.reason) == (
        facility.id, other_facility.id, "Pre-release")
    handover = db.session.get(CustodyHandover, transfer.handover_id)
    assert (handover.animal_id, handover.case_id, handover.to_party) == (
        macaque.id, macaque.case_id, "Dara (release station keeper)")
    assert handover.from_party == "Phnom Tamao"
    schedules = db.session.execute(select(CareSchedule).where(CareSchedule.animal_id == macaque.id)).scalars().all()
    assert schedules and {s.facility_id for s in schedules} == {other_facility.id}
    open_tasks = db.session.execute(select(CareTask).where(CareTask.animal_id == macaque.id,
                                                           CareTask.status == TaskStatus.OPEN)).scalars().all()
    assert open_tasks and {t.facility_id for t in open_tasks} == {other_facility.id}
    for model in (Problem, Prescription):
        assert set(db.session.scalars(select(model.facility_id).where(model.animal_id == macaque.id))) == {
            other_facility.id}, model.__name__
    assert _reconciles(macaque)


def test_ten_of_a_lot_of_fifty_get_a_record_of_their_own_at_the_other_facility(db, turtles, facility, other_facility,
                                                                             coordinator):
    transfer = transfer_within_network(turtles, to_facility=other_facility, user=coordinator, count=10)
    db.session.commit()
    db.session.expire_all()
    moved = db.session.get(Animal, transfer.animal_id)
    assert moved.id != turtles.id and moved.parent_id == turtles.id
    assert (moved.quantity, moved.intake_quantity, moved.facility_id, moved.enclosure_id) == (
        10, 10, other_facility.id, None)
    assert (turtles.quantity, turtles.facility_id, turtles.status) == (40, facility.id, "in_care")
    assert split_off_total(turtles.id) == 10
    assert _reconciles(turtles) and _reconciles(moved)
    assert db.session.scalar(select(Transfer.animal_id).where(Transfer.id == transfer.id)) == moved.id

    whole = transfer_within_network(turtles, to_facility=other_facility, user=coordinator, count=40)
    assert whole.animal_id == turtles.id and turtles.facility_id == other_facility.id, "all of it: the record moves"
    with pytest.raises(ReleaseError) as refused:
        transfer_within_network(moved, to_facility=other_facility, user=coordinator, count=5)
    assert "to_facility_id" in refused.value.fields


def test_counts_beyond_the_lot_and_closed_facilities_are_refused(db, turtles, other_facility, coordinator):
    for count in (0, 51, True):
        with pytest.raises(ReleaseError) as refused:
            transfer_within_network(turtles, to_facility=other_facility, user=coordinator, count=count)
        assert refused.value.fields["count"] == ["Between 1 and 50 animals."]
    with pytest.raises(ReleaseError) as early:
        transfer_within_network(turtles, to_facility=other_facility, user=coordinator,
                                transferred_at=turtles.admitted_at - timedelta(hours=1))
    assert early.value.fields["transferred_at"] == ["This is before the animal was admitted."]
    other_facility.is_active = False
    with pytest.raises(ReleaseError) as closed:
        transfer_within_network(turtles, to_facility=other_facility, user=coordinator)
    assert "to_facility_id" in closed.value.fields
    db.session.expire_all()
    assert (turtles.quantity, db.session.scalar(select(func.count()).select_from(Transfer))) == (50, 0)


def test_an_evidence_hold_keeps_the_animals_where_they_are(db, turtles, facility, other_facility, coordinator):
    case = _hold(turtles, coordinator)
    with pytest.raises(HoldError) as held:
        transfer_within_network(turtles, to_facility=other_facility, user=coordinator, count=10)
    assert held.value.fields["animal"] == [
        f"Case {case.reference} is under an evidence hold: its animals may not leave."]
    with pytest.raises(HoldError):
        transfer_out(turtles, user=coordinator, occurred_at=utcnow(), count=2, institution="Zoo Praha",
                     country="Czechia", permit_numbers="CITES CZ-1; KH-2")
    db.session.expire_all()
    assert (turtles.quantity, turtles.facility_id) == (50, facility.id)
    assert db.session.scalar(select(func.count()).select_from(Animal).where(Animal.parent_id == turtles.id)) == 0


# --- out of the network, escapes ------------------------------------------------------------------

def test_a_transfer_out_is_an_outcome_with_its_institution_and_permits(db, ready_macaque, turtles, coordinator):
    outcome = transfer_out(turtles, user=coordinator, occurred_at=utcnow() - timedelta(hours=2), count=6,
                           institution=" Zoo Praha ", country="Czechia",
                           permit_numbers="CITES CZ-2026-117; MAFF 44/26", notes="Breeding programme")
    assert (outcome.kind, outcome.count, outcome.institution, outcome.country, outcome.permit_numbers) == (
        "transferred", 6, "Zoo Praha", "Czechia", "CITES CZ-2026-117; MAFF 44/26")
    assert (turtles.quantity, turtles.status) == (44, "in_care") and _reconciles(turtles)

    whole = transfer_out(ready_macaque, user=coordinator, occurred_at=utcnow() - timedelta(hours=1),
                         institution="Wildlife Friends Foundation", country="Thailand", permit_numbers="CITES TH-9")
    assert whole.count == 1 and (ready_macaque.quantity, ready_macaque.status) == (0, "transferred")
    assert _reconciles(ready_macaque)


def test_a_transfer_out_without_permits_is_refused(db, turtles, coordinator):
    with pytest.raises(ReleaseError) as refused:
        transfer_out(turtles, user=coordinator, occurred_at=utcnow(), count=2, institution="Zoo Praha",
                     country="", permit_numbers="  ")
    assert set(refused.value.fields) == {"country", "permit_numbers"}
    db.session.expire_all()
    assert turtles.quantity == 50 and outcomes_of(turtles.id) == []


def test_an_escape_takes_its_count_off_the_record(db, turtles, ready_macaque, coordinator):
    outcome = record_escape(turtles, user=coordinator, occurred_at=utcnow() - timedelta(hours=3), count=3,
                            notes="Storm damaged the pond fence")
    assert (outcome.kind, outcome.count, turtles.quantity) == ("escaped", 3, 47) and _reconciles(turtles)
    record_escape(ready_macaque, user=coordinator, occurred_at=utcnow() - timedelta(hours=1))
    assert ready_macaque.status == "escaped"
    with pytest.raises(ReleaseError) as gone:
        transfer_within_network(ready_macaque, to_facility=factories.FacilityFactory(), user=coordinator)
    assert "has left care" in gone.value.fields["animal"][0]


# --- pages ------------------------------------------------------------------------------------------

PAGES = ("transfer", "transfer-out", "escape")


@pytest.mark.parametrize("role", ["keeper", "vet", "viewer"])
@pytest.mark.parametrize("page", PAGES)
def test_only_coordinators_record_transfers_and_escapes(client, login, db, turtles, role, page):
    login(role)
    assert client.get(f"/animals/{turtles.id}/{page}").status_code == 403
    assert client.post_form(f"/animals/{turtles.id}/{page}", {"count": "1"}).status_code == 403
    db.session.expire_all()
    assert turtles.quantity == 50


@pytest.mark.parametrize("page", PAGES)
def test_coordinators_and_admins_see_the_forms(client, login, db, turtles, other_facility, page):
    login("coordinator")
    response = client.get(f"/animals/{turtles.id}/{page}")
    assert response.status_code == 200 and 'name="count"' in _text(response)
    _switch(client, login, "admin")
    assert client.get(f"/animals/{turtles.id}/{page}").status_code == 200


def test_the_transfer_page_moves_part_of_a_lot_to_its_new_record(client, login, db, turtles, facility, other_facility):
    closed = factories.FacilityFactory(code="OLD", name="Closed centre", is_active=False)
    db.session.commit()
    login("coordinator")
    page = _text(client.get(f"/animals/{turtles.id}/transfer"))
    assert other_facility.name in page and closed.name not in page
    assert f'<option value="{facility.id}"' not in page, "not to the facility it is at"
    typed = _local(2)  # read once: the minute may turn while the test runs
    response = client.post_form(f"/animals/{turtles.id}/transfer", {
        "to_facility_id": str(other_facility.id), "count": "10", "reason": "More pond space",
        "handed_to": "Sokha", "transferred_at": typed})
    assert response.status_code == 302
    db.session.expire_all()
    moved = db.session.execute(select(Animal).where(Animal.parent_id == turtles.id)).scalar_one()
    assert response.headers["Location"].endswith(f"/animals/{moved.id}")
    assert (moved.quantity, moved.facility_id, turtles.quantity) == (10, other_facility.id, 40)
    transfer = db.session.execute(select(Transfer).where(Transfer.animal_id == moved.id)).scalar_one()
    assert transfer.transferred_at.astimezone(ZONE).strftime("%Y-%m-%dT%H:%M") == typed
    followed = _text(client.get(response.headers["Location"]))
    assert f"{moved.accession_number} is now at {other_facility.name}." in followed


def test_a_coordinator_of_one_facility_is_sent_back_to_what_they_may_see(client, login, db, facility, turtles,
                                                                      ready_macaque, other_facility):
    login("coordinator", facilities=[facility])
    part = client.post_form(f"/animals/{turtles.id}/transfer", {
        "to_facility_id": str(other_facility.id), "count": "10", "transferred_at": _local()})
    assert part.status_code == 302 and part.headers["Location"].endswith(f"/animals/{turtles.id}"), "the 40 left"
    whole = client.post_form(f"/animals/{ready_macaque.id}/transfer", {
        "to_facility_id": str(other_facility.id), "transferred_at": _local()})
    assert whole.status_code == 302 and whole.headers["Location"].endswith("/animals")
    db.session.expire_all()
    assert ready_macaque.facility_id == other_facility.id
    assert client.get(f"/animals/{ready_macaque.id}/transfer").status_code == 404, "no longer theirs"


def test_the_transfer_page_refuses_what_the_service_refuses(client, login, db, turtles, other_facility):
    login("coordinator")
    no_facility = client.post_form(f"/animals/{turtles.id}/transfer", {"count": "5", "transferred_at": _local()})
    assert no_facility.status_code == 422 and error_next_to(
        _text(no_facility), "to_facility_id", "Choose an open facility of the network other than this one.")
    too_many = client.post_form(f"/animals/{turtles.id}/transfer", {
        "to_facility_id": str(other_facility.id), "count": "60", "reason": "typed reason", "transferred_at": _local()})
    assert too_many.status_code == 422 and error_next_to(_text(too_many), "count", "Between 1 and 50 animals.")
    assert "typed reason" in _text(too_many)
    db.session.expire_all()
    assert turtles.quantity == 50 and turtles.facility_id != other_facility.id


def test_the_transfer_page_names_the_held_case_and_keeps_what_was_typed(client, login, db, turtles, other_facility,
                                                                      coordinator):
    reference = _hold(turtles, coordinator).reference
    db.session.commit()
    login("coordinator")
    page = _text(client.get(f"/animals/{turtles.id}/transfer"))
    assert f"Case {reference} is under an evidence hold" in page
    response = client.post_form(f"/animals/{turtles.id}/transfer", {
        "to_facility_id": str(other_facility.id), "count": "10", "reason": "Overcrowded pond",
        "handed_to": "Sokha", "transferred_at": _local()})
    text = _text(response)
    assert response.status_code == 422
    assert f"Case {reference} is under an evidence hold: its animals may not leave." in text
    assert "Overcrowded pond" in text and 'value="Sokha"' in text and 'value="10"' in text
    db.session.expire_all()
    assert turtles.quantity == 50 and db.session.scalar(select(func.count()).select_from(Transfer)) == 0


def test_the_transfer_out_page(client, login, db, turtles, ready_macaque):
    login("coordinator")
    missing = client.post_form(f"/animals/{turtles.id}/transfer-out", {
        "institution": "Zoo Praha", "country": "Czechia", "count": "4", "occurred_at": _local()})
    assert missing.status_code == 422 and error_next_to(_text(missing), "permit_numbers",
                                                        "Required for a transfer out of the network.")
    assert 'value="Zoo Praha"' in _text(missing)
    response = client.post_form(f"/animals/{turtles.id}/transfer-out", {
        "institution": "Zoo Praha", "country": "Czechia", "permit_numbers": "CITES CZ-1; MAFF 2", "count": "4",
        "occurred_at": _local()})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/animals/{turtles.id}")
    db.session.expire_all()
    (outcome,) = outcomes_of(turtles.id)
    assert (outcome.kind, outcome.count, outcome.institution, outcome.permit_numbers) == (
        "transferred", 4, "Zoo Praha", "CITES CZ-1; MAFF 2")
    assert turtles.quantity == 46
    individual = client.get(f"/animals/{ready_macaque.id}/transfer-out")
    assert 'name="count"' not in _text(individual), "an individual has no count to give"
    client.post_form(f"/animals/{ready_macaque.id}/transfer-out", {
        "institution": "Wildlife Friends Foundation", "country": "Thailand", "permit_numbers": "CITES TH-9",
        "occurred_at": _local()})
    db.session.expire_all()
    assert ready_macaque.status == "transferred"


def test_the_escape_page(client, login, db, turtles):
    login("coordinator")
    empty = client.post_form(f"/animals/{turtles.id}/escape", {"occurred_at": _local()})
    assert empty.status_code == 422 and error_next_to(_text(empty), "count", "Between 1 and 50 animals.")
    future = client.post_form(f"/animals/{turtles.id}/escape", {
        "count": "2", "occurred_at": (utcnow() + timedelta(hours=3)).astimezone(ZONE).strftime("%Y-%m-%dT%H:%M")})
    assert future.status_code == 422 and error_next_to(_text(future), "occurred_at", "This time is in the future.")
    response = client.post_form(f"/animals/{turtles.id}/escape", {"count": "2", "occurred_at": _local(),
                                                                  "notes": "Fence"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.execute(select(Outcome.kind, Outcome.count, Outcome.notes)
                              .where(Outcome.animal_id == turtles.id)).one() == ("escaped", 2, "Fence")


def test_the_record_offers_the_buttons_to_coordinators_only_while_in_care(client, login, db, turtles):
    login("keeper")
    assert "/transfer-out" not in _text(client.get(f"/animals/{turtles.id}"))
    _switch(client, login, "coordinator")
    page = _text(client.get(f"/animals/{turtles.id}"))
    for path in ("transfer", "transfer-out", "escape"):
        assert f'href="/animals/{turtles.id}/{path}"' in page
    record_escape(turtles, user=None, occurred_at=utcnow() - timedelta(hours=1), count=50)
    db.session.commit()
    assert f'href="/animals/{turtles.id}/escape"' not in _text(client.get(f"/animals/{turtles.id}"))


def test_the_housing_history_ends_at_the_old_facility(db, housed_macaque, other_facility):
    from app.animals.models import HousingMove

    home = housed_macaque.enclosure_id
    transfer_within_network(housed_macaque, to_facility=other_facility, user=None)
    last = _db.session.execute(select(HousingMove).where(HousingMove.animal_id == housed_macaque.id)
                               .order_by(HousingMove.moved_at.desc(), HousingMove.id.desc()).limit(1)).scalar_one()
    assert (last.from_enclosure_id, last.to_enclosure_id) == (home, None)
    assert other_facility.code in last.reason
