"""Quantities reconcile whatever happens to a seizure's animals, in any order (a property test).

From a lot of 50 and an individual of one case, any sequence of splits, releases
(a plan created, signed off, approved and completed), transfers within the network,
transfers out, deaths, escapes and evidence holds set or lifted is applied through
the services. Counts are drawn at random, so many operations are invalid: those must
raise a RuleError (ReleaseError, IntakeError, VetError) and change nothing (each runs
in a savepoint, as a page's request would in its transaction). After every step, for
every record: quantity >= 0, a record with none left has left care, and
intake_quantity == quantity + its outcomes' counts + the intake of records split off it.
"""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.animals.models import Animal, AnimalStatus, Case, Outcome
from app.animals.services import set_evidence_hold, split_animal
from app.auth.models import Facility
from app.common.db import utcnow
from app.common.errors import RuleError
from app.releases.models import ReleaseSite, Transfer
from app.releases.plans import approve_plan, complete_plan, create_plan, vet_signoff
from app.releases.transfers import record_escape, transfer_out, transfer_within_network
from app.vet.deaths import record_death
from tests import factories

OPERATIONS = ("split", "release", "transfer", "transfer_out", "death", "escape", "hold")
REASON = "Property test"

operation = st.tuples(
    st.sampled_from(OPERATIONS),
    st.integers(0, 20),  # which record (modulo the number of records)
    # How many: mostly a few, else a boundary (none given, none, all of a lot, more than it had).
    st.one_of(st.integers(1, 12), st.sampled_from([None, -1, 0, 1, 25, 49, 50, 51])),
    st.booleans(),  # transfer: to the other facility (else the same one); transfer out: with permits; hold: set it
)


@pytest.fixture
def world(db, facility, other_facility, make_user):
    """The network (two facilities), a network-wide coordinator and a release site, made once for all examples."""
    site = ReleaseSite(name="Property test site", suitable_taxa=["reptile", "mammal"])
    db.session.add(site)
    db.session.flush()
    return {"facilities": (facility, other_facility), "user": make_user("coordinator"), "site": site}


def _seizure(facility) -> Case:
    """A case with a lot of 50 turtles and one pangolin, admitted a month ago."""
    case = factories.CaseFactory(facility=facility)
    admitted = utcnow() - timedelta(days=30)
    factories.AnimalFactory(case=case, species=factories.SpeciesFactory(taxon_class="reptile"), intake_quantity=50,
                            quantity=50, admitted_at=admitted)
    factories.AnimalFactory(case=case, admitted_at=admitted)
    return case


def _records(db, case_id: int) -> list[Animal]:
    return list(db.session.execute(select(Animal).where(Animal.case_id == case_id).order_by(Animal.id)).scalars())


def _snapshot(db, case_id: int) -> tuple:
    """Everything an operation may change: the records, their outcomes and transfers, the hold."""
    db.session.expire_all()
    records = tuple((a.id, a.quantity, a.intake_quantity, a.status, a.facility_id, a.enclosure_id, a.parent_id)
                    for a in _records(db, case_id))
    ids = [r[0] for r in records]
    outcomes = tuple(db.session.execute(select(Outcome.animal_id, Outcome.kind, Outcome.count)
                                        .where(Outcome.animal_id.in_(ids)).order_by(Outcome.id)).all())
    transfers = db.session.scalar(select(func.count()).select_from(Transfer).where(Transfer.animal_id.in_(ids)))
    return records, outcomes, transfers, db.session.get(Case, case_id).evidence_hold


def _check_reconciles(db, case_id: int, history: list) -> None:
    records = _records(db, case_id)
    ids = [a.id for a in records]
    left = dict(db.session.execute(select(Outcome.animal_id, func.sum(Outcome.count))
                                   .where(Outcome.animal_id.in_(ids)).group_by(Outcome.animal_id)).all())
    split_off = dict(db.session.execute(select(Animal.parent_id, func.sum(Animal.intake_quantity))
                                        .where(Animal.parent_id.in_(ids)).group_by(Animal.parent_id)).all())
    for a in records:
        where = f"{a.accession_number} after {history}"
        assert a.quantity >= 0, where
        assert (a.quantity == 0) == (a.status != AnimalStatus.IN_CARE), where
        assert a.intake_quantity == a.quantity + (left.get(a.id) or 0) + (split_off.get(a.id) or 0), where
    admitted = sum(a.intake_quantity for a in records if a.parent_id is None)
    assert admitted == 51 == sum(a.quantity for a in records) + sum(int(n) for n in left.values()), history


def _apply(db, world, case_id: int, name: str, index: int, k, flag: bool) -> None:
    user, site = world["user"], world["site"]
    records = _records(db, case_id)
    animal = records[index % len(records)]
    an_hour_ago = utcnow() - timedelta(hours=1)
    if name == "split":
        split_animal(animal, quantity=k, enclosure=None, user=user, reason=REASON)
    elif name == "release":
        zone = ZoneInfo(db.session.get(Facility, animal.facility_id).timezone)
        plan = create_plan(site=site, planned_on=utcnow().astimezone(zone).date(), user=user,
                           animals=[{"animal_id": animal.id, "count": k, "override_reason": REASON}])
        vet_signoff(plan, user=user)
        approve_plan(plan, user=user, permit_reference="GDANCP 1/26", override_reason=REASON)
        complete_plan(plan, user=user, override_reason=REASON)
    elif name == "transfer":
        here, there = sorted(world["facilities"], key=lambda f: f.id != animal.facility_id)
        transfer_within_network(animal, to_facility=there if flag else here, user=user, count=k, reason=REASON)
    elif name == "transfer_out":
        transfer_out(animal, user=user, occurred_at=an_hour_ago, count=k, institution="Zoo Praha", country="Czechia",
                     permit_numbers="CITES CZ-1; MAFF 2" if flag else "")
    elif name == "death":
        record_death(animal, user=user, occurred_at=an_hour_ago, count=k, cause=REASON)
    elif name == "escape":
        record_escape(animal, user=user, occurred_at=an_hour_ago, count=k)
    else:
        set_evidence_hold(db.session.get(Case, case_id), active=flag, reason=REASON, user=user)


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(operation, min_size=1, max_size=12))
def test_quantities_reconcile_after_any_sequence_of_operations(db, world, operations):
    example = db.session.begin_nested()  # each example starts from the same data
    try:
        case_id = _seizure(world["facilities"][0]).id
        history: list = []
        _check_reconciles(db, case_id, history)
        for step in operations:
            before = _snapshot(db, case_id)
            try:
                with db.session.begin_nested():
                    _apply(db, world, case_id, *step)
            except RuleError:
                history.append((*step, "refused"))
                event(f"{step[0]} refused")
                assert _snapshot(db, case_id) == before, f"a refused {step} changed the data after {history}"
            else:
                history.append(step)
                event(f"{step[0]} applied")
            db.session.expire_all()
            _check_reconciles(db, case_id, history)
    finally:
        example.rollback()
        db.session.expire_all()
