"""Reads of the vet dashboard: what needs a vet today at the user's facilities.

Four lists: animals in quarantine, active problems, doses due and overdue today,
lab results waiting. Each is one query (its eager loads named, a window count of
the rows past the cap), quarantine two more for its tests, so the page costs the
same whatever the size of the centre. "Today" is each facility's local day.
"""

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, false, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload

from app.animals.models import Animal, AnimalStatus
from app.auth.models import Facility
from app.auth.permissions import facility_clause
from app.care.models import CareKind, CareTask, TaskStatus
from app.care.queries import overdue_clause, task_state
from app.care.round import ROUND_LOOKBACK
from app.care.timing import local_day_bounds
from app.extensions import db
from app.vet.models import LabResult, Problem, ProblemStatus
from app.vet.quarantine import QuarantineState, quarantine_states
from app.vet.queries import Listed

CAP = 200


@dataclass(frozen=True)
class Dose:
    """A medicate task as the dashboard lists it: its state now and the round card page it is on."""

    task: CareTask
    state: str  # overdue | due | later
    enclosure_id: int | None


@dataclass(frozen=True)
class PendingLab:
    lab: LabResult
    days_waiting: int


def _zones(facilities: list[Facility]) -> dict[int, ZoneInfo]:
    return {f.id: ZoneInfo(f.timezone) for f in facilities}


def _within(column, facilities: list[Facility]):
    """The rows of these facilities, and never of one the user may not see."""
    return and_(column.in_([f.id for f in facilities]) if facilities else false(), facility_clause(column))


def quarantine_section(facilities: list[Facility], now: datetime) -> Listed:
    """Animals in care not cleared from quarantine, longest past their expected end first (three queries)."""
    rows = db.session.execute(
        select(Animal, func.count().over())
        .options(joinedload(Animal.species), joinedload(Animal.enclosure))
        .where(_within(Animal.facility_id, facilities), Animal.status == AnimalStatus.IN_CARE,
               Animal.quarantine_cleared_on.is_(None))
        .order_by(Animal.admitted_at, Animal.id).limit(CAP)
    ).all()
    states: list[QuarantineState] = quarantine_states([a for a, _ in rows], _zones(facilities), now)
    states.sort(key=lambda s: (s.days_left, s.animal.accession_number))
    return Listed(states, rows[0][1] if rows else 0)


def problems_section(facilities: list[Facility]) -> Listed:
    """Active problems of animals in care, oldest onset first (one query)."""
    rows = db.session.execute(
        select(Problem, func.count().over()).join(Animal, Problem.animal_id == Animal.id)
        .options(contains_eager(Problem.animal).options(joinedload(Animal.species), joinedload(Animal.enclosure)))
        .where(_within(Problem.facility_id, facilities), Problem.status == ProblemStatus.ACTIVE,
               Animal.status == AnimalStatus.IN_CARE)
        .order_by(Problem.onset_on.asc().nulls_last(), Problem.created_at, Problem.id).limit(CAP)
    ).all()
    return Listed([problem for problem, _ in rows], rows[0][1] if rows else 0)


def doses_section(facilities: list[Facility], now: datetime) -> tuple[Listed, int]:
    """Open medicate tasks due by the end of each facility's local today, overdue first (one query).

    Overdue doses of the last days (ROUND_LOOKBACK, as the round) stay listed until recorded.
    Returns the section and how many of all its rows are overdue.
    """
    if not facilities:
        return Listed([], 0), 0
    by_end_of_today = or_(*[
        and_(CareTask.facility_id == f.id,
             CareTask.due_at < local_day_bounds(now.astimezone(ZoneInfo(f.timezone)).date(), ZoneInfo(f.timezone))[1])
        for f in facilities])
    overdue = overdue_clause(now)
    rows = db.session.execute(
        select(CareTask, func.count().over(), func.sum(case((overdue, 1), else_=0)).over())
        .join(Animal, CareTask.animal_id == Animal.id)
        .options(contains_eager(CareTask.animal).options(joinedload(Animal.species), joinedload(Animal.enclosure)),
                 joinedload(CareTask.schedule))
        .where(_within(CareTask.facility_id, facilities), by_end_of_today, CareTask.kind == CareKind.MEDICATE,
               CareTask.status == TaskStatus.OPEN, CareTask.due_at >= now - ROUND_LOOKBACK,
               Animal.status == AnimalStatus.IN_CARE)
        .order_by(case((overdue, 0), else_=1), CareTask.due_at, CareTask.id).limit(CAP)
    ).all()
    doses = [Dose(task, task_state(task, now), task.enclosure_id or task.animal.enclosure_id) for task, _, _ in rows]
    return Listed(doses, rows[0][1] if rows else 0), int(rows[0][2] or 0) if rows else 0


def labs_section(facilities: list[Facility], now: datetime) -> Listed:
    """Lab results still pending, longest waiting first (one query); an animal that died may still await one."""
    zones = _zones(facilities)
    rows = db.session.execute(
        select(LabResult, func.count().over()).join(Animal, LabResult.animal_id == Animal.id)
        .options(contains_eager(LabResult.animal).joinedload(Animal.species))
        .where(_within(LabResult.facility_id, facilities), LabResult.interpretation.is_(None))
        .order_by(LabResult.sampled_on, LabResult.id).limit(CAP)
    ).all()
    today: dict[int, date] = {fid: now.astimezone(tz).date() for fid, tz in zones.items()}
    labs = [PendingLab(lab, (today[lab.facility_id] - lab.sampled_on).days) for lab, _ in rows]
    return Listed(labs, rows[0][1] if rows else 0)


def vet_dashboard(facilities: list[Facility], now: datetime) -> dict:
    """Everything the dashboard shows for these facilities (the user's, already checked), in seven queries."""
    doses, overdue = doses_section(facilities, now)
    return {"quarantine": quarantine_section(facilities, now), "problems": problems_section(facilities),
            "doses": doses, "overdue_doses": overdue, "labs": labs_section(facilities, now)}
