"""Release plans at the service level, on the real database: draft → sign-off → approval → completion | cancellation.

The whole flow on a lot of 50 turtles (20 go) and a ready macaque; evidence holds
(a hard block at every step, naming the case); overrides of unmet criteria at each
step; counts shared between open plans; completion all-or-nothing, checked after a
rollback as a page does it.
"""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.animals.models import Animal, AnimalStatus, Case, Outcome, OutcomeKind
from app.animals.outcomes import record_outcome
from app.common.db import utcnow
from app.reference.models import Species
from app.releases import plans
from app.releases.models import PlannedAnimal, PlanStatus, ReleasePlan
from app.releases.services import HoldError, ReleaseError
from tests import factories

ZONE = ZoneInfo("Asia/Phnom_Penh")


def _today():
    return utcnow().astimezone(ZONE).date()


@pytest.fixture
def coordinator(make_user):
    return make_user("coordinator", name="Sophea")


@pytest.fixture
def vet(make_user):
    return make_user("vet", name="Dr Dara")


@pytest.fixture
def animals(ready_macaque, turtles, site):
    """The macaque, the turtles and the site, stored."""
    return ready_macaque, turtles


def _plan(site, user, rows, **kwargs):
    return plans.create_plan(site=site, planned_on=kwargs.pop("planned_on", _today() + timedelta(days=3)),
                             animals=rows, user=user, **kwargs)


def _rows(turtles, macaque, turtle_count=20):
    return [{"animal_id": turtles.id, "count": turtle_count}, {"animal_id": macaque.id}]


def _approved(site, coordinator, vet, rows, **approve):
    plan = _plan(site, coordinator, rows)
    plans.vet_signoff(plan, user=vet, notes="Fit to go.")
    plans.approve_plan(plan, user=coordinator, permit_reference="MAFF-REL-2026-014", **approve)
    return plan


def _hold(animal, on=True):
    case = _db_get(Case, animal.case_id)
    case.evidence_hold = on
    case.evidence_hold_since = utcnow() if on else None
    return case


def _db_get(model, key):
    from app.extensions import db

    return db.session.get(model, key)


def _unready(macaque):
    """A macaque of the same case, admitted a month ago: not weighed, quarantine not cleared, never assessed."""
    return factories.AnimalFactory(case=_db_get(Case, macaque.case_id), species=_db_get(Species, macaque.species_id),
                                   admitted_at=utcnow() - timedelta(days=30))


def _messages(error) -> str:
    return " ".join(str(m) for messages in error.value.fields.values() for m in messages)


def _outcomes(db, animal_id):
    return list(db.session.execute(select(Outcome).where(Outcome.animal_id == animal_id)).scalars())


# --- the whole flow ------------------------------------------------------------------------

def test_twenty_of_fifty_turtles_and_the_macaque_are_released(db, animals, site, coordinator, vet):
    macaque, turtles = animals
    plan = _plan(site, coordinator, _rows(turtles, macaque), notes="Morning release")
    assert plan.status == PlanStatus.DRAFT and plan.facility_id == turtles.facility_id

    plans.vet_signoff(plan, user=vet, notes="Both fit.")
    assert plan.vet_signoff_by_id == vet.id and plan.vet_signoff_at is not None
    plans.approve_plan(plan, user=coordinator, permit_reference="  MAFF-REL-2026-014 ")
    assert plan.status == PlanStatus.APPROVED and plan.permit_reference == "MAFF-REL-2026-014"
    plans.complete_plan(plan, user=coordinator)
    db.session.commit()

    assert plan.status == PlanStatus.COMPLETED and plan.completed_on == _today()
    db.session.expire_all()
    turtles, macaque = db.session.get(Animal, turtles.id), db.session.get(Animal, macaque.id)
    assert turtles.quantity == 30 and turtles.status == AnimalStatus.IN_CARE
    assert macaque.quantity == 0 and macaque.status == AnimalStatus.RELEASED
    released = db.session.execute(
        select(Outcome.animal_id, Outcome.count).where(Outcome.kind == OutcomeKind.RELEASED)
        .where(Outcome.animal_id.in_([turtles.id, macaque.id])).order_by(Outcome.count.desc())).all()
    assert [tuple(r) for r in released] == [(turtles.id, 20), (macaque.id, 1)]
    for animal in (turtles, macaque):
        left = sum(o.count for o in _outcomes(db, animal.id))
        assert animal.intake_quantity == animal.quantity + left
    rows = db.session.execute(select(PlannedAnimal).where(PlannedAnimal.plan_id == plan.id)).scalars().all()
    assert all(r.outcome_id is not None for r in rows)


# --- evidence holds ------------------------------------------------------------------------

def test_an_evidence_hold_blocks_a_new_plan_naming_the_case(db, animals, site, coordinator):
    macaque, turtles = animals
    case = _hold(macaque)
    with pytest.raises(HoldError) as error:
        _plan(site, coordinator, _rows(turtles, macaque))
    assert case.reference in _messages(error) and macaque.accession_number in _messages(error)
    with pytest.raises(HoldError):  # an override reason does not lift a hold
        _plan(site, coordinator, [{"animal_id": macaque.id, "override_reason": "Permit expires"}])
    assert db.session.execute(select(func.count(ReleasePlan.id))).scalar_one() == 0


def test_a_hold_set_after_the_plan_was_made_blocks_approval_and_completion(db, animals, site, coordinator, vet):
    macaque, turtles = animals
    plan = _plan(site, coordinator, _rows(turtles, macaque))
    plans.vet_signoff(plan, user=vet)
    case = _hold(macaque)
    with pytest.raises(HoldError) as error:
        plans.approve_plan(plan, user=coordinator, permit_reference="P-1", override_reason="We need to")
    assert case.reference in _messages(error)
    assert plan.status == PlanStatus.DRAFT

    _hold(macaque, on=False)
    plans.approve_plan(plan, user=coordinator, permit_reference="P-1")
    db.session.commit()
    _hold(macaque)
    db.session.commit()
    with pytest.raises(HoldError) as error:
        plans.complete_plan(plan, user=coordinator, override_reason="Truck is waiting")
    assert case.reference in _messages(error)
    db.session.rollback()
    assert db.session.get(ReleasePlan, plan.id).status == PlanStatus.APPROVED
    assert _outcomes(db, turtles.id) == [] and _outcomes(db, macaque.id) == []
    assert db.session.get(Animal, turtles.id).quantity == 50


# --- unmet criteria and overrides ---------------------------------------------------------

def test_unmet_criteria_need_an_override_when_added_approved_and_completed(db, animals, site, coordinator, vet):
    macaque, _turtles = animals
    shy = _unready(macaque)
    with pytest.raises(ReleaseError) as error:
        _plan(site, coordinator, [{"animal_id": shy.id}])
    assert "override_reason" in error.value.fields and shy.accession_number in _messages(error)

    plan = _plan(site, coordinator, [{"animal_id": shy.id, "override_reason": "Soft release with monitoring"}])
    row = db.session.execute(select(PlannedAnimal).where(PlannedAnimal.plan_id == plan.id)).scalar_one()
    assert row.override_reason == "Soft release with monitoring"
    plans.vet_signoff(plan, user=vet)
    with pytest.raises(ReleaseError) as error:
        plans.approve_plan(plan, user=coordinator, permit_reference="P-2")
    assert "override_reason" in error.value.fields and shy.accession_number in _messages(error)
    plans.approve_plan(plan, user=coordinator, permit_reference="P-2", override_reason="Soft release")
    assert plan.approval_override_reason == "Soft release"
    db.session.commit()

    with pytest.raises(ReleaseError) as error:
        plans.complete_plan(plan, user=coordinator)
    assert "override_reason" in error.value.fields
    db.session.rollback()
    plans.complete_plan(plan, user=coordinator, override_reason="Soft release, collar fitted")
    assert plan.status == PlanStatus.COMPLETED and plan.completion_override_reason == "Soft release, collar fitted"


def test_approval_needs_the_vets_signoff_and_a_permit_reference(db, animals, site, coordinator, vet):
    macaque, turtles = animals
    plan = _plan(site, coordinator, _rows(turtles, macaque))
    with pytest.raises(ReleaseError) as error:
        plans.approve_plan(plan, user=coordinator, permit_reference="  ")
    assert {"vet_signoff", "permit_reference"} <= set(error.value.fields)
    plans.vet_signoff(plan, user=vet)
    with pytest.raises(ReleaseError) as error:
        plans.approve_plan(plan, user=coordinator, permit_reference="")
    assert set(error.value.fields) == {"permit_reference"}
    assert plan.status == PlanStatus.DRAFT


# --- completion is all or nothing ---------------------------------------------------------

def test_completion_records_nothing_when_one_animal_has_fewer_in_care_than_planned(db, animals, site, coordinator,
                                                                                   vet):
    macaque, turtles = animals
    plan = _approved(site, coordinator, vet, _rows(turtles, macaque))
    db.session.commit()
    record_outcome(turtles, kind=OutcomeKind.DIED, count=35, occurred_at=utcnow() - timedelta(hours=2),
                   user=vet, cause="Shell rot")
    db.session.commit()
    assert turtles.quantity == 15

    with pytest.raises(ReleaseError) as error:
        plans.complete_plan(plan, user=coordinator)
    assert turtles.accession_number in _messages(error)
    db.session.rollback()  # as a page does
    assert db.session.get(ReleasePlan, plan.id).status == PlanStatus.APPROVED
    macaque = db.session.get(Animal, macaque.id)
    assert macaque.quantity == 1 and macaque.status == AnimalStatus.IN_CARE
    assert _outcomes(db, macaque.id) == []
    assert [o.kind for o in _outcomes(db, turtles.id)] == [OutcomeKind.DIED]
    assert db.session.get(Animal, turtles.id).quantity == 15


def test_completion_cannot_be_in_the_future(db, animals, site, coordinator, vet):
    macaque, turtles = animals
    plan = _approved(site, coordinator, vet, _rows(turtles, macaque))
    with pytest.raises(ReleaseError) as error:
        plans.complete_plan(plan, user=coordinator, completed_on=_today() + timedelta(days=1))
    assert "completed_on" in error.value.fields


def test_completion_before_an_animal_was_admitted_is_refused_before_any_outcome(db, animals, site, coordinator,
                                                                                vet):
    macaque, turtles = animals
    plan = _approved(site, coordinator, vet, list(reversed(_rows(turtles, macaque))))
    before_turtles = (turtles.admitted_at - timedelta(days=2)).astimezone(ZONE).date()
    with pytest.raises(ReleaseError) as error:
        plans.complete_plan(plan, user=coordinator, completed_on=before_turtles)
    assert "completed_on" in error.value.fields
    assert _outcomes(db, macaque.id) == [], "the macaque, admitted earlier, got no outcome either"


def test_an_animal_transferred_to_another_facility_is_not_released_by_the_old_facilitys_plan(
        db, animals, site, coordinator, vet, other_facility):
    macaque, turtles = animals
    plan = _approved(site, coordinator, vet, _rows(turtles, macaque))
    macaque.facility_id = other_facility.id  # as app.releases.transfers moves the record
    db.session.flush()
    with pytest.raises(ReleaseError) as error:
        plans.complete_plan(plan, user=coordinator)
    assert macaque.accession_number in _messages(error)
    assert _outcomes(db, turtles.id) == []


# --- counts shared between open plans --------------------------------------------------------

def test_counts_in_open_plans_cannot_exceed_what_is_in_care(db, animals, site, coordinator):
    macaque, turtles = animals
    first = _plan(site, coordinator, [{"animal_id": turtles.id, "count": 30}])
    with pytest.raises(ReleaseError) as error:
        _plan(site, coordinator, [{"animal_id": turtles.id, "count": 25}])
    assert "20" in _messages(error)
    second = _plan(site, coordinator, [{"animal_id": turtles.id, "count": 20}])
    with pytest.raises(ReleaseError) as error:
        _plan(site, coordinator, [{"animal_id": turtles.id, "count": 1}])
    assert "all of it is in other plans" in _messages(error)
    with pytest.raises(ReleaseError):  # a plan's own count may grow only into what is free
        plans.update_plan_animals(second, [{"animal_id": turtles.id, "count": 21}], user=coordinator)
    plans.cancel_plan(first, user=coordinator, reason="Rain")
    third = _plan(site, coordinator, [{"animal_id": turtles.id, "count": 30}])
    assert third.id and second.status == PlanStatus.DRAFT
    with pytest.raises(ReleaseError):  # the macaque is one animal
        _plan(site, coordinator, [{"animal_id": macaque.id, "count": 2}])


def test_a_plan_releases_animals_of_one_facility_and_not_in_the_past(db, animals, site, coordinator, other_facility):
    macaque, _turtles = animals
    elsewhere = factories.AnimalFactory(case=factories.CaseFactory(facility=other_facility),
                                        species=_db_get(Species, macaque.species_id))
    with pytest.raises(ReleaseError) as error:
        _plan(site, coordinator, [{"animal_id": macaque.id}, {"animal_id": elsewhere.id, "override_reason": "x"}])
    assert "another facility" in _messages(error)
    with pytest.raises(ReleaseError) as error:
        _plan(site, coordinator, [{"animal_id": macaque.id}], planned_on=_today() - timedelta(days=1))
    assert "planned_on" in error.value.fields
    with pytest.raises(ReleaseError) as error:
        _plan(site, coordinator, [])
    assert "animals" in error.value.fields


def test_a_vet_of_another_facility_cannot_sign_off(db, animals, site, coordinator, make_user, other_facility):
    macaque, turtles = animals
    plan = _plan(site, coordinator, _rows(turtles, macaque))
    stranger = make_user("vet", facilities=[other_facility])
    with pytest.raises(ReleaseError):
        plans.vet_signoff(plan, user=stranger)
    assert plan.vet_signoff_at is None


# --- changes, cancellation, status -----------------------------------------------------------

def test_changing_the_animals_undoes_the_vets_signoff(db, animals, site, coordinator, vet):
    macaque, turtles = animals
    plan = _plan(site, coordinator, _rows(turtles, macaque))
    plans.vet_signoff(plan, user=vet, notes="Fine")
    plans.update_plan_animals(plan, [{"animal_id": turtles.id, "count": 10}], user=coordinator)
    assert plan.vet_signoff_at is None and plan.vet_signoff_by_id is None and plan.vet_signoff_notes == ""
    rows = db.session.execute(select(PlannedAnimal).where(PlannedAnimal.plan_id == plan.id)).scalars().all()
    assert [(r.animal_id, r.count) for r in rows] == [(turtles.id, 10)]
    with pytest.raises(ReleaseError) as error:
        plans.approve_plan(plan, user=coordinator, permit_reference="P-3")
    assert "vet_signoff" in error.value.fields


def test_an_override_given_when_added_is_kept_when_only_the_counts_change(db, animals, site, coordinator):
    macaque, turtles = animals
    shy = _unready(macaque)
    plan = _plan(site, coordinator, [{"animal_id": turtles.id, "count": 5},
                                     {"animal_id": shy.id, "override_reason": "Soft release"}])
    plans.update_plan_animals(plan, [{"animal_id": turtles.id, "count": 8}, {"animal_id": shy.id}],
                              user=coordinator)
    rows = {r.animal_id: r for r in db.session.execute(
        select(PlannedAnimal).where(PlannedAnimal.plan_id == plan.id)).scalars()}
    assert rows[turtles.id].count == 8 and rows[shy.id].override_reason == "Soft release"


def test_only_a_draft_can_be_changed(db, animals, site, coordinator, vet):
    macaque, turtles = animals
    plan = _approved(site, coordinator, vet, _rows(turtles, macaque))
    with pytest.raises(ReleaseError) as error:
        plans.update_plan_animals(plan, [{"animal_id": turtles.id, "count": 5}], user=coordinator)
    assert "status" in error.value.fields
    with pytest.raises(ReleaseError):
        plans.vet_signoff(plan, user=vet)


def test_a_cancelled_plan_frees_its_animals_and_cannot_be_approved_or_completed(db, animals, site, coordinator,
                                                                                vet):
    macaque, turtles = animals
    plan = _plan(site, coordinator, _rows(turtles, macaque))
    plans.vet_signoff(plan, user=vet)
    plans.cancel_plan(plan, user=coordinator, reason="  Flooded road ")
    assert plan.status == PlanStatus.CANCELLED and plan.cancel_reason == "Flooded road"
    assert plan.cancelled_at is not None and plan.cancelled_by_id == coordinator.id
    with pytest.raises(ReleaseError) as error:
        plans.approve_plan(plan, user=coordinator, permit_reference="P-4")
    assert "status" in error.value.fields
    with pytest.raises(ReleaseError):
        plans.complete_plan(plan, user=coordinator)
    with pytest.raises(ReleaseError):
        plans.cancel_plan(plan, user=coordinator)
    _plan(site, coordinator, [{"animal_id": turtles.id, "count": 50}, {"animal_id": macaque.id}])


def test_a_completed_plan_cannot_be_approved_cancelled_or_completed_again(db, animals, site, coordinator, vet):
    macaque, turtles = animals
    plan = _approved(site, coordinator, vet, _rows(turtles, macaque))
    plans.complete_plan(plan, user=coordinator)
    for step in (lambda: plans.approve_plan(plan, user=coordinator, permit_reference="P-5"),
                 lambda: plans.complete_plan(plan, user=coordinator),
                 lambda: plans.cancel_plan(plan, user=coordinator)):
        with pytest.raises(ReleaseError) as error:
            step()
        assert "status" in error.value.fields
    assert len(_outcomes(db, turtles.id)) == 1
