"""Reads for daily care: the round, tasks, schedules, templates, care logs and weights.

Everything is limited to the current user's facilities; a record outside them is a 404.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from flask import abort
from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import joinedload

from app.animals.models import Animal
from app.auth.permissions import facility_clause
from app.care.models import CareLog, CareSchedule, CareTask, CareTemplate, TaskStatus, Weight
from app.extensions import db


def overdue_clause(now: datetime):
    """Open tasks whose due time plus their kind's grace has passed (computed when read)."""
    return and_(CareTask.status == TaskStatus.OPEN, CareTask.overdue_at < now)


def task_state(task: CareTask, now: datetime) -> str:
    """done | cancelled | overdue | due | later, as the round shows it."""
    if task.status != TaskStatus.OPEN:
        return task.status
    if task.overdue_at < now:
        return "overdue"
    return "due" if task.due_at <= now else "later"


def tasks_stmt(*, now: datetime, facility_id=None, enclosure_id=None, animal_id=None, kind=None, status=None,
               due_before=None) -> Select:
    """Tasks at the user's facilities, soonest first; status open | done | overdue | cancelled."""
    stmt = select(CareTask).where(facility_clause(CareTask.facility_id)).order_by(CareTask.due_at, CareTask.id)
    if facility_id:
        stmt = stmt.where(CareTask.facility_id == facility_id)
    if enclosure_id:
        occupant_ids = select(Animal.id).where(Animal.enclosure_id == enclosure_id)
        stmt = stmt.where(or_(CareTask.enclosure_id == enclosure_id, CareTask.animal_id.in_(occupant_ids)))
    if animal_id:
        stmt = stmt.where(CareTask.animal_id == animal_id)
    if kind:
        stmt = stmt.where(CareTask.kind == kind)
    if status == "overdue":
        stmt = stmt.where(overdue_clause(now))
    elif status:
        stmt = stmt.where(CareTask.status == status)
    if due_before:
        stmt = stmt.where(CareTask.due_at < due_before)
    return stmt


def get_task(task_id: int) -> CareTask:
    task = db.session.execute(
        select(CareTask).where(CareTask.id == task_id, facility_clause(CareTask.facility_id))
    ).scalar_one_or_none()
    return task if task is not None else abort(404)


# --- schedules and templates --------------------------------------------------------------

def schedules_stmt(*, facility_id=None, animal_id=None, enclosure_id=None, active: bool | None = True) -> Select:
    stmt = (
        select(CareSchedule)
        .options(joinedload(CareSchedule.animal), joinedload(CareSchedule.enclosure))
        .where(facility_clause(CareSchedule.facility_id))
        .order_by(CareSchedule.kind, CareSchedule.id)
    )
    if facility_id:
        stmt = stmt.where(CareSchedule.facility_id == facility_id)
    if animal_id:
        stmt = stmt.where(CareSchedule.animal_id == animal_id)
    if enclosure_id:
        stmt = stmt.where(CareSchedule.enclosure_id == enclosure_id)
    if active is not None:
        stmt = stmt.where(CareSchedule.is_active.is_(active))
    return stmt


def get_schedule(schedule_id: int) -> CareSchedule:
    schedule = db.session.execute(
        select(CareSchedule).options(joinedload(CareSchedule.animal), joinedload(CareSchedule.enclosure))
        .where(CareSchedule.id == schedule_id, facility_clause(CareSchedule.facility_id))
    ).scalar_one_or_none()
    return schedule if schedule is not None else abort(404)


def templates_stmt() -> Select:
    return (select(CareTemplate).options(joinedload(CareTemplate.species))
            .order_by(CareTemplate.taxon_class.nulls_last(), CareTemplate.species_id, CareTemplate.kind))


def get_template(template_id: int) -> CareTemplate:
    return db.get_or_404(CareTemplate, template_id)


# --- logs and weights ------------------------------------------------------------------------

def care_logs_stmt(*, animal_id: int | None = None, enclosure_id: int | None = None) -> Select:
    stmt = (select(CareLog).options(joinedload(CareLog.recorded_by))
            .where(facility_clause(CareLog.facility_id)).order_by(CareLog.done_at.desc(), CareLog.id.desc()))
    if animal_id:
        stmt = stmt.where(CareLog.animal_id == animal_id)
    if enclosure_id:
        stmt = stmt.where(CareLog.enclosure_id == enclosure_id)
    return stmt


def weights_stmt(animal_id: int) -> Select:
    return (select(Weight).options(joinedload(Weight.recorded_by)).where(Weight.animal_id == animal_id)
            .order_by(Weight.measured_at.desc(), Weight.id.desc()))


def weight_series(animal_id: int, limit: int = 60) -> list[Weight]:
    """The animal's latest weighings, oldest first (for the chart and the loss warning)."""
    return list(reversed(db.session.execute(weights_stmt(animal_id).limit(limit)).scalars().all()))


@dataclass(frozen=True)
class WeightLoss:
    percent: Decimal
    from_grams: Decimal
    from_at: datetime
    to_grams: Decimal
    to_at: datetime


LOSS_WINDOW = timedelta(days=14)
LOSS_PERCENT = Decimal(10)


def weight_loss(series: list[Weight]) -> WeightLoss | None:
    """The fall from the heaviest weighing of the 14 days before the latest one, when it is 10% or more."""
    if len(series) < 2:
        return None
    latest = series[-1]
    earlier = [w for w in series[:-1] if latest.measured_at - LOSS_WINDOW <= w.measured_at <= latest.measured_at]
    if not earlier:
        return None
    heaviest = max(earlier, key=lambda w: w.grams)
    percent = (heaviest.grams - latest.grams) * 100 / heaviest.grams
    if percent < LOSS_PERCENT:
        return None
    return WeightLoss(percent.quantize(Decimal("0.1")), heaviest.grams, heaviest.measured_at, latest.grams,
                      latest.measured_at)
