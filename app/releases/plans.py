"""Release plans: draft → vet sign-off → approved → completed (released outcomes) | cancelled. Flushes.

Every animal is checked when added, at approval and at completion. An evidence hold
is a hard block (HoldError, nothing overrides it); unmet readiness criteria need an
override with a reason: per animal when added, for the whole plan at approval and
at completion. Completion records the released outcomes of every animal or of none:
all checks run before the first outcome is written, and an error after that leaves
the caller to roll back.
"""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.animals.models import Animal, AnimalStatus, OutcomeKind
from app.animals.outcomes import record_outcome
from app.auth.models import Facility, User
from app.care.services import local_today
from app.common.db import utcnow
from app.extensions import db
from app.releases.models import PlannedAnimal, PlanStatus, ReleasePlan, ReleaseSite
from app.releases.readiness import Readiness, readiness_of
from app.releases.services import Errors, HoldError, ReleaseError, check_facility

OPEN = (PlanStatus.DRAFT, PlanStatus.APPROVED)


def _zone(facility_id: int) -> ZoneInfo:
    return ZoneInfo(db.session.get(Facility, facility_id).timezone)


def _planned_elsewhere(animal_ids: list[int], plan_id: int | None) -> dict[int, int]:
    """How many of each animal are already in other open plans (one query)."""
    stmt = (select(PlannedAnimal.animal_id, func.sum(PlannedAnimal.count))
            .join(ReleasePlan, PlannedAnimal.plan_id == ReleasePlan.id)
            .where(PlannedAnimal.animal_id.in_(animal_ids), ReleasePlan.status.in_(OPEN))
            .group_by(PlannedAnimal.animal_id))
    if plan_id is not None:
        stmt = stmt.where(ReleasePlan.id != plan_id)
    return dict(db.session.execute(stmt).all())


def _hold_errors(readiness: dict[int, Readiness]) -> list[str]:
    return [f"{r.animal.accession_number}: {u.reason}" for r in readiness.values() for u in r.unmet
            if u.key == "no_evidence_hold"]


def _unmet_lines(readiness: dict[int, Readiness]) -> list[str]:
    return [f"{r.animal.accession_number}: " + "; ".join(u.reason for u in r.unmet)
            for r in readiness.values() if not r.ready]


def _check_rows(plan: ReleasePlan | None, facility_id: int | None, rows: list[dict], now: datetime
                ) -> tuple[list[tuple[Animal, int, str]], int]:
    """Animals and counts asked for a plan, checked; returns [(animal, count, override_reason)] and the facility."""
    if not rows:
        raise ReleaseError({"animals": [_("Add at least one animal.")]})
    ids = [r.get("animal_id") for r in rows]
    if len(set(ids)) != len(ids) or not all(isinstance(i, int) for i in ids):
        raise ReleaseError({"animals": [_("List each animal once.")]})
    animals = {a.id: a for a in db.session.execute(select(Animal).where(Animal.id.in_(ids))).scalars()}
    elsewhere = _planned_elsewhere(ids, plan.id if plan else None)
    errors: list[str] = []
    checked = []
    for row in rows:
        animal = animals.get(row["animal_id"])
        if animal is None:
            errors.append(_("Animal %(id)s does not exist.", id=row["animal_id"]))
            continue
        facility_id = facility_id or animal.facility_id
        count = row.get("count", row.get("quantity"))
        count = 1 if count is None and not animal.is_lot else count
        free = animal.quantity - elsewhere.get(animal.id, 0)
        if animal.status != AnimalStatus.IN_CARE:
            errors.append(_("%(animal)s has left care.", animal=animal.accession_number))
        elif animal.facility_id != facility_id:
            errors.append(_("%(animal)s is at another facility: a plan releases animals of one facility.",
                            animal=animal.accession_number))
        elif not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= free:
            errors.append(_("%(animal)s: between 1 and %(n)d (others are in other plans).",
                            animal=animal.accession_number, n=free) if free > 0 else
                          _("%(animal)s: all of it is in other plans already.", animal=animal.accession_number))
        checked.append((animal, count, str(row.get("override_reason") or "").strip()))
    if errors:
        raise ReleaseError({"animals": errors})
    return checked, facility_id


def _check_readiness_on_add(checked: list[tuple[Animal, int, str]], now: datetime) -> None:
    readiness = readiness_of([a for a, _count, _reason in checked], now)
    if holds := _hold_errors(readiness):
        raise HoldError({"animals": holds})
    missing = [f"{a.accession_number}: " + "; ".join(u.reason for u in readiness[a.id].unmet)
               for a, _count, reason in checked if not readiness[a.id].ready and not reason]
    if missing:
        raise ReleaseError({"override_reason": [
            _("Not ready for release; give a reason to plan it anyway:"), *missing]})


def create_plan(*, site: ReleaseSite, planned_on: date | None, animals: list[dict], user: User | None,
                notes: str = "", now: datetime | None = None) -> ReleasePlan:
    """A draft plan for animals of one facility. rows: [{animal_id, count (or quantity), override_reason}]."""
    now = now or utcnow()
    if not site.is_active:
        raise ReleaseError({"site_id": [_("This site is no longer used.")]})
    checked, facility_id = _check_rows(None, None, animals, now)
    check_facility(user, facility_id)
    if planned_on is None:
        raise ReleaseError({"planned_on": [_("Give the planned day.")]})
    if planned_on < local_today(facility_id, now):
        raise ReleaseError({"planned_on": [_("The planned day cannot be in the past.")]})
    _check_readiness_on_add(checked, now)
    plan = ReleasePlan(facility_id=facility_id, site_id=site.id, planned_on=planned_on, notes=(notes or "").strip(),
                       status=PlanStatus.DRAFT, created_by_id=user.id if user else None,
                       animals=[PlannedAnimal(animal_id=a.id, count=c, override_reason=r) for a, c, r in checked])
    db.session.add(plan)
    db.session.flush()
    return plan


def _draft(plan: ReleasePlan) -> None:
    if plan.status != PlanStatus.DRAFT:
        raise ReleaseError({"status": [_("Only a draft plan can be changed (this one is %(status)s).",
                                         status=plan.status)]})


def update_plan_animals(plan: ReleasePlan, animals: list[dict], *, user: User | None,
                        now: datetime | None = None) -> ReleasePlan:
    """Replace a draft plan's animals (checked as when added). A change undoes the vet's sign-off."""
    now = now or utcnow()
    _draft(plan)
    check_facility(user, plan.facility_id)
    checked, _facility = _check_rows(plan, plan.facility_id, animals, now)
    current = {pa.animal_id: pa for pa in db.session.execute(
        select(PlannedAnimal).where(PlannedAnimal.plan_id == plan.id)).scalars()}
    # An override given when the animal was added stands unless a new one is given.
    checked = [(a, c, r or (current[a.id].override_reason if a.id in current else "")) for a, c, r in checked]
    _check_readiness_on_add(checked, now)
    wanted = {a.id for a, _c, _r in checked}
    for animal_id, row in current.items():
        if animal_id not in wanted:
            db.session.delete(row)
    for animal, count, reason in checked:
        row = current.get(animal.id)
        if row is None:
            db.session.add(PlannedAnimal(plan_id=plan.id, animal_id=animal.id, count=count, override_reason=reason))
        else:
            row.count, row.override_reason = count, reason
    plan.vet_signoff_by_id = plan.vet_signoff_at = None
    plan.vet_signoff_notes = ""
    plan.updated_at = now  # the plan changed with its animals: its version goes up, a stale edit is caught
    db.session.flush()
    return plan


def _planned(plan: ReleasePlan) -> list[PlannedAnimal]:
    return list(db.session.execute(
        select(PlannedAnimal).where(PlannedAnimal.plan_id == plan.id).order_by(PlannedAnimal.id)).scalars())


def _recheck(plan: ReleasePlan, override_reason: str, now: datetime, stage: str) -> list[PlannedAnimal]:
    """The plan's animals checked again: holds refuse, unmet criteria need the override reason."""
    rows = _planned(plan)
    if not rows:
        raise ReleaseError({"animals": [_("The plan has no animals.")]})
    animals = {a.id: a for a in db.session.execute(
        select(Animal).where(Animal.id.in_([r.animal_id for r in rows]))).scalars()}
    # An evidence hold is answered first: nothing else about the plan matters while it stands.
    readiness = readiness_of(list(animals.values()), now)
    if holds := _hold_errors(readiness):
        raise HoldError({"animals": holds})
    errors = [_("%(animal)s: only %(n)d in care now.", animal=animals[r.animal_id].accession_number,
                n=animals[r.animal_id].quantity)
              for r in rows if animals[r.animal_id].status != AnimalStatus.IN_CARE
              or r.count > animals[r.animal_id].quantity]
    # Transferred since it was planned: another facility's plan must release it, if any.
    errors += [_("%(animal)s is at another facility now.", animal=animals[r.animal_id].accession_number)
               for r in rows if animals[r.animal_id].facility_id != plan.facility_id]
    if errors:
        raise ReleaseError({"animals": errors})
    if (unmet := _unmet_lines(readiness)) and not (override_reason or "").strip():
        raise ReleaseError({"override_reason": [
            _("Animals with unmet readiness criteria: give a reason to %(stage)s the plan anyway.", stage=stage),
            *unmet]})
    return rows


def vet_signoff(plan: ReleasePlan, *, user: User | None, notes: str = "", now: datetime | None = None
                ) -> ReleasePlan:
    """A vet signs the draft off as fit to go (needed before approval)."""
    now = now or utcnow()
    _draft(plan)
    check_facility(user, plan.facility_id)
    plan.vet_signoff_by_id = user.id if user else None
    plan.vet_signoff_at = now
    plan.vet_signoff_notes = (notes or "").strip()
    db.session.flush()
    return plan


def approve_plan(plan: ReleasePlan, *, user: User | None, permit_reference: str, override_reason: str = "",
                 now: datetime | None = None) -> ReleasePlan:
    """A coordinator approves a signed-off draft with the authority's permit reference."""
    now = now or utcnow()
    _draft(plan)
    check_facility(user, plan.facility_id)
    errors: Errors = {}
    if plan.vet_signoff_at is None:
        errors["vet_signoff"] = [_("A vet must sign the plan off first.")]
    if not (permit_reference or "").strip():
        errors["permit_reference"] = [_("Give the authority's permit reference.")]
    if errors:
        raise ReleaseError(errors)
    _recheck(plan, override_reason, now, _("approve"))
    plan.status = PlanStatus.APPROVED
    plan.approved_by_id = user.id if user else None
    plan.approved_at = now
    plan.permit_reference = permit_reference.strip()
    plan.approval_override_reason = (override_reason or "").strip()
    db.session.flush()
    return plan


def complete_plan(plan: ReleasePlan, *, user: User | None, completed_on: date | None = None,
                  override_reason: str = "", now: datetime | None = None) -> ReleasePlan:
    """The release happened: a released outcome for every planned animal (count for lots), or none at all."""
    now = now or utcnow()
    if plan.status != PlanStatus.APPROVED:
        raise ReleaseError({"status": [_("Only an approved plan can be completed.")]})
    check_facility(user, plan.facility_id)
    today = local_today(plan.facility_id, now)
    completed_on = completed_on or today
    if completed_on > today:
        raise ReleaseError({"completed_on": [_("The release cannot be in the future.")]})
    rows = _recheck(plan, override_reason, now, _("complete"))
    # The release day is what the team reports; its local noon (or now, if earlier) is the outcome's time.
    occurred_at = min(now, datetime.combine(completed_on, time(12), tzinfo=_zone(plan.facility_id)))
    early = [a.accession_number for a in (db.session.get(Animal, r.animal_id) for r in rows)
             if a.admitted_at > occurred_at]
    if early:
        raise ReleaseError({"completed_on": [_("This is before %(animals)s was admitted.", animals=", ".join(early))]})
    for row in rows:
        animal = db.session.get(Animal, row.animal_id)
        outcome = record_outcome(animal, kind=OutcomeKind.RELEASED, count=row.count, occurred_at=occurred_at,
                                 user=user, now=now, notes=_("Release plan %(id)d", id=plan.id))
        row.outcome_id = outcome.id
    plan.status = PlanStatus.COMPLETED
    plan.completed_on = completed_on
    plan.completed_by_id = user.id if user else None
    plan.completion_override_reason = (override_reason or "").strip()
    db.session.flush()
    return plan


def cancel_plan(plan: ReleasePlan, *, user: User | None, reason: str = "", now: datetime | None = None
                ) -> ReleasePlan:
    if plan.status not in OPEN:
        raise ReleaseError({"status": [_("Only a draft or approved plan can be cancelled.")]})
    check_facility(user, plan.facility_id)
    plan.status = PlanStatus.CANCELLED
    plan.cancelled_at = now or utcnow()
    plan.cancelled_by_id = user.id if user else None
    plan.cancel_reason = (reason or "").strip()
    db.session.flush()
    return plan
