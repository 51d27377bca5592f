"""What each alert job looks for, as one SELECT per kind in the shape engine.FINDING_COLUMNS names.

Every statement is set-based: it reads the whole population in SQL and returns only the
rows that need an alert (quarantine first reads the facilities' time zones, to count local
days). The dedup key names the subject and, where a condition can come back, the episode
(the latest weight, the latest assessment, the last hold review), so clearing it and
falling into it again is a new alert.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Float, Integer, Select, String, and_, case, cast, func, literal, null, or_, select
from sqlalchemy.types import Numeric

from app.alerts.models import Severity
from app.animals.models import Animal, AnimalStatus, Case, EvidenceHoldChange, Releasability
from app.auth.models import Facility
from app.care.models import CareKind, CareTask, Weight
from app.care.queries import overdue_clause
from app.care.timing import local_day_bounds
from app.common.db import UTCDateTime
from app.common.sqltime import days_between
from app.extensions import db
from app.reference.models import Species
from app.releases.models import Assessment, AssessmentResult, PlannedAnimal, PlanStatus, ReleasePlan

OPEN_PLAN = ReleasePlan.status.in_((PlanStatus.DRAFT.value, PlanStatus.APPROVED.value))


def _text(value) -> object:
    return literal(value, String) if isinstance(value, str) else value


def _key(kind, *parts) -> object:
    """'kind:part:part' built in SQL from ids (strings concatenate the same on both databases)."""
    expression = _text(kind)
    for part in parts:
        expression = expression + literal(":", String) + cast(part, String)
    return expression


# The SQL type of each optional column, so a NULL in a subquery is typed (PostgreSQL reads an
# untyped NULL there as text, which an integer column then refuses).
_OPTIONAL = {"animal_id": Integer(), "task_id": Integer(), "case_id": Integer(),
             "reference_at": UTCDateTime(), "reference_value": Float()}


def _finding(kind, key_parts: tuple, severity, facility_id, **optional) -> list:
    """The columns of one finding: kind, key (the kind and key_parts), severity and facility,
    then the optional subject and figures. Kind and severity are names or SQL expressions."""
    columns = [_text(kind).label("kind"), _key(kind, *key_parts).label("dedup_key"),
               _text(severity).label("severity"), facility_id.label("facility_id")]
    for name, type_ in _OPTIONAL.items():
        value = optional.get(name)
        columns.append((cast(null(), type_) if value is None else value).label(name))
    return columns


def _now(now: datetime):
    return literal(now, UTCDateTime())


def _in_care():
    return Animal.status == AnimalStatus.IN_CARE


# --- daily care ------------------------------------------------------------------------------

def overdue_tasks(now: datetime) -> Select:
    """Open tasks past their grace, doses and other care apart; critical past twice the grace.

    A task's overdue_at is its due time plus one grace, so "overdue by more than twice
    the grace" is overdue_at + grace < now, worked out per kind against bound times.
    """
    graces = current_app.config["CARE_GRACE_MINUTES"]
    critical = or_(*(and_(CareTask.kind == kind, CareTask.overdue_at < now - timedelta(minutes=minutes))
                     for kind, minutes in graces.items()))
    kind = case((CareTask.kind == CareKind.MEDICATE, "dose_overdue"), else_="care_overdue")
    return (select(*_finding(kind, (CareTask.id,),
                             case((critical, Severity.CRITICAL.value), else_=Severity.WARNING.value),
                             CareTask.facility_id, animal_id=CareTask.animal_id, task_id=CareTask.id,
                             reference_at=CareTask.due_at))
            .where(overdue_clause(now)))


# --- weights ---------------------------------------------------------------------------------

def weight_missing(now: datetime) -> Select:
    """Animals in care with no weight (or none since intake) in the last WEIGHT_ALERT_DAYS."""
    latest = (select(Weight.animal_id, func.max(Weight.measured_at).label("measured_at"),
                     func.max(Weight.id).label("weight_id"))
              .group_by(Weight.animal_id).subquery())
    since = func.coalesce(latest.c.measured_at, Animal.admitted_at)
    limit = now - timedelta(days=current_app.config["WEIGHT_ALERT_DAYS"])
    return (select(*_finding("weight_missing", (Animal.id, func.coalesce(latest.c.weight_id, 0)),
                             Severity.INFO.value, Animal.facility_id, animal_id=Animal.id,
                             reference_at=latest.c.measured_at))
            .outerjoin(latest, latest.c.animal_id == Animal.id)
            .where(_in_care(), since < limit))


def weight_loss(now: datetime) -> Select:
    """Animals in care whose latest weight is 10% or more below their heaviest of the 14 days before it.

    Critical from 20%; the loss is taken to a tenth of a percent, the figure the alert shows.
    The key names the latest weight: a new weighing ends the episode.
    """
    days = current_app.config["WEIGHT_LOSS_DAYS"]
    ranked = (select(Weight.animal_id, Weight.id, Weight.grams, Weight.measured_at,
                     func.row_number().over(partition_by=Weight.animal_id,
                                            order_by=(Weight.measured_at.desc(), Weight.id.desc())).label("rank"))
              .subquery())
    latest = select(ranked).where(ranked.c.rank == 1).subquery("latest")
    earlier = Weight.__table__.alias("earlier")
    peak = (select(latest.c.animal_id, func.max(earlier.c.grams).label("grams"))
            .join(earlier, and_(earlier.c.animal_id == latest.c.animal_id,
                                earlier.c.measured_at < latest.c.measured_at,
                                days_between(earlier.c.measured_at, latest.c.measured_at) <= days))
            .group_by(latest.c.animal_id).subquery("peak"))
    # Judged as shown, to a tenth of a percent: SQLite divides in floating point, where an exact
    # 10% (123.0 g down to 110.7 g) comes out a hair under; PostgreSQL rounds only numerics.
    loss = func.round(cast((peak.c.grams - latest.c.grams) * 100.0 / peak.c.grams, Numeric), 1)
    threshold = current_app.config["WEIGHT_LOSS_PERCENT"]
    return (select(*_finding("weight_loss", (Animal.id, latest.c.id),
                             case((loss >= 2 * threshold, Severity.CRITICAL.value), else_=Severity.WARNING.value),
                             Animal.facility_id, animal_id=Animal.id, reference_at=latest.c.measured_at,
                             reference_value=loss))
            .join(latest, latest.c.animal_id == Animal.id).join(peak, peak.c.animal_id == Animal.id)
            .where(_in_care(), loss >= threshold))


# --- quarantine ------------------------------------------------------------------------------

def _days_to_local_today(now: datetime):
    """Days (fractional) from each animal's intake to the start of its facility's local today.

    Its ceiling is the number of local days since the day of intake, the count by which
    app.vet.quarantine says when a quarantine ends (the local day of intake plus the
    species' days). The facilities' zones are read first; a CASE picks each row's midnight.
    A daylight-saving change in between shifts it by an hour (Cambodia keeps none).
    """
    zones = db.session.execute(select(Facility.timezone).distinct()).scalars().all()
    midnights = {zone: literal(local_day_bounds(now.astimezone(ZoneInfo(zone)).date(), ZoneInfo(zone))[0],
                               UTCDateTime()) for zone in zones}
    midnight = case(midnights, value=Facility.timezone, else_=_now(now)) if midnights else _now(now)
    return days_between(Animal.admitted_at, midnight)


def _in_quarantine():
    return and_(_in_care(), Animal.quarantine_cleared_on.is_(None), Species.quarantine_days > 0)


def quarantine_ending(now: datetime) -> Select:
    """Animals not yet cleared whose quarantine ends today or within QUARANTINE_ENDING_DAYS local days.

    Days left = quarantine days - ceil(days since intake), so 0..N days left is the range below.
    """
    days = _days_to_local_today(now)
    return (select(*_finding("quarantine_ending", (Animal.id,), Severity.INFO.value, Animal.facility_id,
                             animal_id=Animal.id))
            .join(Species, Species.id == Animal.species_id).join(Facility, Facility.id == Animal.facility_id)
            .where(_in_quarantine(),
                   days > Species.quarantine_days - current_app.config["QUARANTINE_ENDING_DAYS"] - 1,
                   days <= Species.quarantine_days))


def quarantine_overdue(now: datetime) -> Select:
    """Animals whose quarantine ended before the facility's local today and that no vet has cleared."""
    return (select(*_finding("quarantine_overdue", (Animal.id,), Severity.WARNING.value, Animal.facility_id,
                             animal_id=Animal.id))
            .join(Species, Species.id == Animal.species_id).join(Facility, Facility.id == Animal.facility_id)
            .where(_in_quarantine(), _days_to_local_today(now) > Species.quarantine_days))


# --- releases --------------------------------------------------------------------------------

def _planned():
    """Animals in an open release plan: the coordinator has acted on them already."""
    return (select(PlannedAnimal.animal_id).join(ReleasePlan, ReleasePlan.id == PlannedAnimal.plan_id)
            .where(OPEN_PLAN))


def release_candidates() -> Select:
    """Animals that could be ready: in care, not residents, cleared, not held, not yet planned.

    The readiness rules themselves (per species checklists) are read for these only.
    """
    held_cases = select(Case.id).where(Case.evidence_hold.is_(True))
    return (select(Animal.id)
            .where(_in_care(), Animal.releasability != Releasability.NON_RELEASABLE,
                   Animal.quarantine_cleared_on.is_not(None), Animal.case_id.not_in(held_cases),
                   Animal.id.not_in(_planned())))


def release_ready(animal_ids: list[int]) -> Select:
    """The animals readiness found ready (a short list, read by release_candidates first).

    The key names the animal's latest place in a plan (0: never planned): once a plan it
    was in is cancelled, its readiness is news again, even if an earlier alert was dismissed.
    """
    last_planned = (select(PlannedAnimal.animal_id, func.max(PlannedAnimal.id).label("planned_id"))
                    .where(PlannedAnimal.animal_id.in_(animal_ids)).group_by(PlannedAnimal.animal_id).subquery())
    return (select(*_finding("release_ready", (Animal.id, func.coalesce(last_planned.c.planned_id, 0)),
                             Severity.INFO.value, Animal.facility_id, animal_id=Animal.id))
            .outerjoin(last_planned, last_planned.c.animal_id == Animal.id)
            .where(Animal.id.in_(animal_ids)))


def _expected_stay():
    by_class = current_app.config["EXPECTED_STAY_DAYS"]
    return func.coalesce(Species.expected_stay_days,
                         case(*((Species.taxon_class == name, days) for name, days in by_class.items()), else_=180))


def readiness_review(now: datetime) -> Select:
    """Animals in care past their expected stay with no assessment in READINESS_REVIEW_DAYS."""
    last = (select(Assessment.animal_id, func.max(Assessment.assessed_at).label("assessed_at"),
                   func.max(Assessment.id).label("assessment_id"))
            .group_by(Assessment.animal_id).subquery())
    review_due = now - timedelta(days=current_app.config["READINESS_REVIEW_DAYS"])
    return (select(*_finding("readiness_review", (Animal.id, func.coalesce(last.c.assessment_id, 0)),
                             Severity.INFO.value, Animal.facility_id, animal_id=Animal.id,
                             reference_at=last.c.assessed_at))
            .join(Species, Species.id == Animal.species_id)
            .outerjoin(last, last.c.animal_id == Animal.id)
            .where(_in_care(), Animal.releasability != Releasability.NON_RELEASABLE,
                   Animal.id.not_in(_planned()),
                   days_between(Animal.admitted_at, _now(now)) > _expected_stay(),
                   or_(last.c.assessed_at.is_(None), last.c.assessed_at < review_due)))


def assessment_expiring(now: datetime) -> Select:
    """Passed assessments (the latest of their criterion) expiring within ASSESSMENT_EXPIRY_DAYS, or expired.

    Warning once expired: the criterion is unmet again until someone reassesses.
    """
    ranked = (select(Assessment.id, Assessment.animal_id, Assessment.result, Assessment.expires_at,
                     func.row_number().over(partition_by=(Assessment.animal_id, Assessment.criterion_key),
                                            order_by=(Assessment.assessed_at.desc(), Assessment.id.desc()))
                     .label("rank"))
              .subquery())
    soon = now + timedelta(days=current_app.config["ASSESSMENT_EXPIRY_DAYS"])
    return (select(*_finding("assessment_expiring", (ranked.c.id,),
                             case((ranked.c.expires_at <= _now(now), Severity.WARNING.value),
                                  else_=Severity.INFO.value),
                             Animal.facility_id, animal_id=Animal.id, reference_at=ranked.c.expires_at))
            .join(Animal, Animal.id == ranked.c.animal_id)
            .where(ranked.c.rank == 1, ranked.c.result == AssessmentResult.PASS.value,
                   ranked.c.expires_at.is_not(None), ranked.c.expires_at <= soon,
                   _in_care(), Animal.releasability != Releasability.NON_RELEASABLE))


# --- evidence holds --------------------------------------------------------------------------

def hold_review(now: datetime) -> Select:
    """Cases under an evidence hold whose last setting or review is older than HOLD_REVIEW_DAYS."""
    last = (select(EvidenceHoldChange.case_id, func.max(EvidenceHoldChange.changed_at).label("changed_at"),
                   func.max(EvidenceHoldChange.id).label("change_id"))
            .where(EvidenceHoldChange.active.is_(True)).group_by(EvidenceHoldChange.case_id).subquery())
    reviewed_at = func.coalesce(last.c.changed_at, Case.evidence_hold_since)
    limit = now - timedelta(days=current_app.config["HOLD_REVIEW_DAYS"])
    return (select(*_finding("hold_review", (Case.id, func.coalesce(last.c.change_id, 0)),
                             Severity.WARNING.value, Case.facility_id, case_id=Case.id, reference_at=reviewed_at))
            .outerjoin(last, last.c.case_id == Case.id)
            .where(Case.evidence_hold.is_(True), reviewed_at < limit))
