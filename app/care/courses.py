"""Courses: a fixed number of doses at set times, all made as tasks at once (a prescription's). Flushes.

A course is a care schedule with is_course set. Unlike a daily schedule it has a
known end, so all its tasks exist from the start: the round shows each dose when it
falls due, the vet sees the whole course, and stopping it cancels what is left.
The daily generator never touches a course.
"""

from datetime import datetime, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import update

from app.animals.models import Animal, AnimalStatus
from app.auth.models import Facility, User
from app.care.models import CareKind, CareSchedule, CareTask, TaskStatus
from app.care.services import CareError
from app.care.timing import due_times, grace
from app.common.db import utcnow
from app.extensions import db

# Far enough for any course a vet writes (a year of a daily dose, or every other day).
_HORIZON_DAYS = 800


def course_due_times(*, times: list[str], every_days: int | None, first_on, doses: int, tz: ZoneInfo,
                     now: datetime) -> list[datetime]:
    """The first `doses` due instants (UTC) from the local day first_on, none before now.

    A course every N days counts its days from its first dose: prescribed after the
    morning's dosing time, "every other day" starts tomorrow, not the day after.
    """
    if every_days:
        first_on = next(d for d in (first_on + timedelta(days=k) for k in range(_HORIZON_DAYS))
                        if next(due_times(times=times, every_days=None, starts_on=d, ends_on=d, first_day=d,
                                          last_day=d, tz=tz)) >= now)
    every = due_times(times=times, every_days=every_days, starts_on=first_on, ends_on=None, first_day=first_on,
                      last_day=first_on + timedelta(days=_HORIZON_DAYS), tz=tz)
    return list(islice((due for due in every if due >= now), doses))


def create_course(animal: Animal, *, user: User | None, times: list[str], every_days: int | None, first_on,
                  doses: int, instructions: str, keeper_may_do: bool, kind: str = CareKind.MEDICATE,
                  now: datetime | None = None) -> tuple[CareSchedule, list[CareTask]]:
    """A course of `doses` tasks for an animal in care, from the first dosing time on first_on that is not past.

    The schedule's ends_on is the local day of the last dose. Returns the schedule and its tasks.
    """
    now = now or utcnow()
    if animal.status != AnimalStatus.IN_CARE:
        raise CareError({"animal_id": [_("%(animal)s has left care.", animal=animal.accession_number)]})
    tz = ZoneInfo(db.session.get(Facility, animal.facility_id).timezone)
    dues = course_due_times(times=times, every_days=every_days, first_on=first_on, doses=doses, tz=tz, now=now)
    if len(dues) < doses:
        raise CareError({"days": [_("The course is too long to schedule.")]})
    schedule = CareSchedule(
        facility_id=animal.facility_id, animal_id=animal.id, kind=kind, times=list(times), every_days=every_days,
        instructions=instructions, diet_items=[], starts_on=dues[0].astimezone(tz).date(),
        ends_on=dues[-1].astimezone(tz).date(),
        is_course=True, keeper_may_do=keeper_may_do, tasks_from=now, created_by_id=user.id if user else None,
    )
    db.session.add(schedule)
    db.session.flush()
    tasks = [CareTask(schedule_id=schedule.id, facility_id=animal.facility_id, animal_id=animal.id, kind=kind,
                      due_at=due, overdue_at=due + grace(kind), status=TaskStatus.OPEN) for due in dues]
    db.session.add_all(tasks)
    db.session.flush()
    return schedule, tasks


def end_course(schedule: CareSchedule, *, now: datetime | None = None) -> int:
    """Stop a course: its open tasks due from now on are cancelled (past ones stay to be recorded). Returns how many."""
    now = now or utcnow()
    schedule.is_active = False
    db.session.flush()
    return db.session.execute(
        update(CareTask).where(CareTask.schedule_id == schedule.id, CareTask.status == TaskStatus.OPEN,
                               CareTask.due_at >= now)
        .values(status=TaskStatus.CANCELLED).execution_options(synchronize_session=False)
    ).rowcount or 0
