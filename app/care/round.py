"""Reads for the keeper's round: enclosures with what is due in each, and one enclosure's task cards.

A centre with 2,000 animals has about 4,000 tasks a day; no tablet can show them on
one page. The round therefore opens on the enclosures, by section, each with its
counts (one GROUP BY), and a keeper standing at an enclosure opens its cards.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import abort
from sqlalchemy import Select, and_, case, false, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload

from app.animals.models import Animal, AnimalStatus
from app.auth.permissions import facility_clause
from app.care.models import CareLog, CareTask, TaskStatus
from app.care.queries import overdue_clause, task_state
from app.extensions import db
from app.reference.models import Enclosure

# Open tasks older than this drop off the round (the alerts of the scheduler issue keep them in view).
ROUND_LOOKBACK = timedelta(days=7)

_enclosure_of = func.coalesce(CareTask.enclosure_id, Animal.enclosure_id)


def _in_round(*, day_start: datetime, day_end: datetime, now: datetime):
    """Open tasks due by the end of today (back to the lookback) and today's done ones, of animals in care."""
    # Written as one index range (facility, status, due time) and a filter, not an OR of two ranges.
    return and_(
        facility_clause(CareTask.facility_id), CareTask.status.in_([TaskStatus.OPEN, TaskStatus.DONE]),
        CareTask.due_at >= now - ROUND_LOOKBACK, CareTask.due_at < day_end,
        or_(CareTask.status == TaskStatus.OPEN, CareTask.due_at >= day_start),
        # An animal that left care has no round, even before the job cancels its tasks.
        or_(Animal.id.is_(None), Animal.status == AnimalStatus.IN_CARE),
    )


@dataclass
class EnclosureCounts:
    """One line of the round's overview: an enclosure (None: animals not housed) and its tasks by state."""

    enclosure: Enclosure | None
    overdue: int = 0
    due: int = 0
    later: int = 0
    done: int = 0

    @property
    def to_do(self) -> int:
        return self.overdue + self.due

    @property
    def section(self) -> str:
        return self.enclosure.section if self.enclosure else ""


def round_overview(*, facility_ids: list[int] | None, day_start: datetime, day_end: datetime, now: datetime
                   ) -> list[EnclosureCounts]:
    """Every enclosure with tasks today, by section and code, with its counts. Two queries."""
    is_open = CareTask.status == TaskStatus.OPEN
    overdue = overdue_clause(now)

    def tally(condition):
        return func.sum(case((condition, 1), else_=0))

    stmt = (
        select(_enclosure_of, tally(overdue), tally(and_(is_open, CareTask.due_at <= now, CareTask.overdue_at >= now)),
               tally(and_(is_open, CareTask.due_at > now)), tally(CareTask.status == TaskStatus.DONE))
        .select_from(CareTask).outerjoin(Animal, CareTask.animal_id == Animal.id)
        .where(_in_round(day_start=day_start, day_end=day_end, now=now))
        .group_by(_enclosure_of)
    )
    if facility_ids is not None:
        stmt = stmt.where(CareTask.facility_id.in_(facility_ids) if facility_ids else false())
    counts = {row[0]: row[1:] for row in db.session.execute(stmt)}
    ids = [k for k in counts if k is not None]
    enclosures = db.session.execute(
        select(Enclosure).where(Enclosure.id.in_(ids)).order_by(Enclosure.section, Enclosure.code)
    ).scalars().all() if ids else []
    lines = [EnclosureCounts(e, *counts[e.id]) for e in enclosures]
    if None in counts:
        lines.append(EnclosureCounts(None, *counts[None]))
    return lines


@dataclass
class RoundGroup:
    """The tasks of one enclosure (or of animals without one), with who lives there."""

    enclosure: Enclosure | None
    tasks: list[tuple[CareTask, str]] = field(default_factory=list)
    occupants: list[Animal] = field(default_factory=list)

    @property
    def to_do(self) -> int:
        return sum(1 for _, state in self.tasks if state in ("due", "overdue"))

    @property
    def done(self) -> int:
        return sum(1 for _, state in self.tasks if state == "done")


def _cards_stmt() -> Select:
    """Tasks at the user's facilities with all a card shows: schedule, animal, species, log, keeper, weight."""
    return (
        select(CareTask)
        .outerjoin(Animal, CareTask.animal_id == Animal.id)
        .options(contains_eager(CareTask.animal).joinedload(Animal.species), joinedload(CareTask.schedule),
                 joinedload(CareTask.log).options(joinedload(CareLog.recorded_by), joinedload(CareLog.weight)))
        .where(facility_clause(CareTask.facility_id))
    )


def round_task(task_id: int) -> CareTask:
    """One task as its card shows it, or 404."""
    task = db.session.execute(_cards_stmt().where(CareTask.id == task_id)).unique().scalar_one_or_none()
    return task if task is not None else abort(404)


def enclosure_round(enclosure: Enclosure | None, *, facility_ids: list[int] | None, day_start: datetime,
                    day_end: datetime, now: datetime) -> RoundGroup:
    """Today's cards of one enclosure (None: of animals not housed), and its residents. Two queries."""
    where_enclosure = _enclosure_of.is_(None) if enclosure is None else _enclosure_of == enclosure.id
    stmt = (_cards_stmt().where(where_enclosure, _in_round(day_start=day_start, day_end=day_end, now=now))
            .order_by(CareTask.due_at, CareTask.kind, CareTask.id))
    if facility_ids is not None:
        stmt = stmt.where(CareTask.facility_id.in_(facility_ids) if facility_ids else false())
    group = RoundGroup(enclosure, [(t, task_state(t, now)) for t in db.session.execute(stmt).unique().scalars()])
    if enclosure is not None:
        group.occupants = list(db.session.execute(
            select(Animal).options(joinedload(Animal.species))
            .where(Animal.enclosure_id == enclosure.id, Animal.status == AnimalStatus.IN_CARE)
            .order_by(Animal.accession_number)
        ).scalars())
    return group


def enclosure_open_tasks(enclosure_id: int, now: datetime) -> list[CareTask]:
    """The open tasks due by now for an enclosure and the animals in it ("all done in this enclosure")."""
    occupant_ids = select(Animal.id).where(Animal.enclosure_id == enclosure_id)
    return list(db.session.execute(
        select(CareTask).where(facility_clause(CareTask.facility_id), CareTask.status == TaskStatus.OPEN,
                               CareTask.due_at <= now, CareTask.due_at >= now - ROUND_LOOKBACK,
                               or_(CareTask.enclosure_id == enclosure_id, CareTask.animal_id.in_(occupant_ids)))
        .order_by(CareTask.due_at, CareTask.id)
    ).scalars())
