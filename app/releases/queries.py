"""Reads of release plans for the pages, limited to the current user's facilities.

A plan of a facility the user may not see is 404 (its existence is not theirs to
know). Each read names its eager loads, so a page costs a fixed number of queries
whatever the number of plans or animals.
"""

from flask import abort
from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload

from app.animals.models import Animal
from app.auth.models import User
from app.auth.permissions import facility_clause, may_see_facility
from app.extensions import db
from app.releases.models import Observation, PlannedAnimal, PlanStatus, ReleasePlan, ReleaseSite

OPEN = (PlanStatus.DRAFT, PlanStatus.APPROVED)


def plans_stmt(*, status: str | None = None, site_id: int | None = None, facility_id: int | None = None
               ) -> Select:
    """Plans at the user's facilities with their site and facility, the latest planned day first."""
    stmt = (select(ReleasePlan).options(joinedload(ReleasePlan.site), joinedload(ReleasePlan.facility))
            .where(facility_clause(ReleasePlan.facility_id))
            .order_by(ReleasePlan.planned_on.desc(), ReleasePlan.id.desc()))
    if status:
        stmt = stmt.where(ReleasePlan.status == status)
    if site_id:
        stmt = stmt.where(ReleasePlan.site_id == site_id)
    if facility_id:
        stmt = stmt.where(ReleasePlan.facility_id == facility_id)
    return stmt


def get_plan(plan_id: int) -> ReleasePlan:
    """A plan the user may see, with its site, facility, signing vet and approver, or 404."""
    plan = db.session.execute(
        select(ReleasePlan).where(ReleasePlan.id == plan_id)
        .options(joinedload(ReleasePlan.site), joinedload(ReleasePlan.facility),
                 joinedload(ReleasePlan.vet_signoff_by), joinedload(ReleasePlan.approved_by))
    ).scalar_one_or_none()
    if plan is None or not may_see_facility(plan.facility_id):
        abort(404)
    return plan


def plan_animals(plan_id: int) -> list[PlannedAnimal]:
    """A plan's animals (species, enclosure, case) and their released outcomes, in one query."""
    return list(db.session.execute(
        select(PlannedAnimal).where(PlannedAnimal.plan_id == plan_id)
        .options(joinedload(PlannedAnimal.animal).options(joinedload(Animal.species), joinedload(Animal.enclosure),
                                                          joinedload(Animal.case)),
                 joinedload(PlannedAnimal.outcome))
        .order_by(PlannedAnimal.id)
    ).scalars())


def plan_counts(plan_ids: list[int]) -> dict[int, tuple[int, int]]:
    """{plan id: (animal records, animals)} for many plans in one GROUP BY."""
    if not plan_ids:
        return {}
    rows = db.session.execute(
        select(PlannedAnimal.plan_id, func.count(PlannedAnimal.id), func.coalesce(func.sum(PlannedAnimal.count), 0))
        .where(PlannedAnimal.plan_id.in_(plan_ids)).group_by(PlannedAnimal.plan_id))
    return {plan_id: (records, animals) for plan_id, records, animals in rows}


def planned_elsewhere(animal_ids: list[int], plan_id: int | None = None) -> dict[int, int]:
    """How many of each animal are in open plans (other than plan_id), in one query."""
    if not animal_ids:
        return {}
    stmt = (select(PlannedAnimal.animal_id, func.sum(PlannedAnimal.count))
            .join(ReleasePlan, PlannedAnimal.plan_id == ReleasePlan.id)
            .where(PlannedAnimal.animal_id.in_(animal_ids), ReleasePlan.status.in_(OPEN))
            .group_by(PlannedAnimal.animal_id))
    if plan_id is not None:
        stmt = stmt.where(ReleasePlan.id != plan_id)
    return {animal_id: int(n or 0) for animal_id, n in db.session.execute(stmt)}


def animals_for_plan(ids: list[int]) -> list[Animal]:
    """Animals the user may see among `ids` (others left out), with species, enclosure and case, in `ids`' order."""
    if not ids:
        return []
    found = {a.id: a for a in db.session.execute(
        select(Animal).options(joinedload(Animal.species), joinedload(Animal.enclosure), joinedload(Animal.case))
        .where(Animal.id.in_(ids), facility_clause(Animal.facility_id))
    ).scalars()}
    return [found[i] for i in ids if i in found]


def animal_ids_by_accession(numbers: list[str]) -> dict[str, int]:
    """{accession number: animal id} of the animals the user may see among `numbers`."""
    if not numbers:
        return {}
    return dict(db.session.execute(
        select(Animal.accession_number, Animal.id)
        .where(Animal.accession_number.in_(numbers), facility_clause(Animal.facility_id))).all())


def active_sites() -> list[ReleaseSite]:
    return list(db.session.execute(
        select(ReleaseSite).where(ReleaseSite.is_active.is_(True)).order_by(ReleaseSite.name)).scalars())


def all_sites() -> list[ReleaseSite]:
    return list(db.session.execute(select(ReleaseSite).order_by(ReleaseSite.name)).scalars())


def get_active_site(site_id: int | None) -> ReleaseSite | None:
    site = db.session.get(ReleaseSite, site_id) if site_id else None
    return site if site is not None and site.is_active else None


def users_by_id(ids) -> dict[int, User]:
    """The named users (who created, completed or cancelled a plan), in one query."""
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {u.id: u for u in db.session.execute(select(User).where(User.id.in_(ids))).scalars()}


def plan_observations(plan_id: int) -> list[Observation]:
    """Post-release observations of a plan's animals, latest first, with who recorded them."""
    return list(db.session.execute(
        select(Observation).options(joinedload(Observation.recorded_by))
        .where(Observation.plan_id == plan_id)
        .order_by(Observation.observed_at.desc(), Observation.id.desc())
    ).scalars())
