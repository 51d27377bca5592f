"""Care schedules and templates, and the care tasks they make. Each service flushes; callers commit.

Tasks exist for a rolling window (the facility's today and tomorrow). The window is
filled by generate_care_tasks, which the scheduler calls and which may run any number
of times: a task is unique per schedule and due time, and inserts that meet an
existing one do nothing. A schedule created or changed fills its own window at once.
"""

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.animals.models import Animal, AnimalStatus
from app.auth.models import Facility, User
from app.care.models import CareKind, CareSchedule, CareTask, CareTemplate, TaskStatus
from app.care.timing import TIME_OF_DAY, due_times, grace, window_days
from app.common.db import utcnow
from app.common.errors import RuleError
from app.extensions import db
from app.reference.models import Enclosure, Species

Errors = dict[str, list[str]]


class CareError(RuleError):
    """Care input refused by a rule; nothing was stored."""


# --- schedules and templates: checking what was asked ---------------------------------

def _checked_timing(values: dict, errors: Errors) -> None:
    times = values.get("times") or []
    if not isinstance(times, list) or not all(isinstance(t, str) and TIME_OF_DAY.match(t.strip()) for t in times):
        errors["times"] = [_("Times of day are written HH:MM, for example 08:00 or 16:30.")]
    else:
        values["times"] = sorted({t.strip() for t in times})
    every = values.get("every_days")
    if every is not None and (not isinstance(every, int) or not 1 <= every <= 365):
        errors["every_days"] = [_("Every 1 to 365 days.")]
    if not values.get("times") and not every and "times" not in errors:
        errors["times"] = [_("Give the times of day, or an interval in days.")]


def _checked_diet(values: dict, errors: Errors) -> None:
    items = []
    for item in values.get("diet_items") or []:
        food = str(item.get("food") or "").strip()
        grams = item.get("grams")
        if not food and grams in (None, ""):
            continue  # an empty row of the form
        if not food:
            errors["diet_items"] = [_("Each diet item needs a food.")]
        elif grams not in (None, "") and (not isinstance(grams, int | float) or not 0 < grams <= 1_000_000):
            errors["diet_items"] = [_("Grams must be a positive number.")]
        items.append({"food": food[:200], "grams": grams if grams not in (None, "") else None,
                      "preparation": str(item.get("preparation") or "").strip()[:300]})
    values["diet_items"] = items


def _check_plan(values: dict, *, partial: bool = False) -> None:
    """The fields a schedule and a template share; values are normalised in place."""
    errors: Errors = {}
    if (not partial or "kind" in values) and values.get("kind") not in set(CareKind):
        errors["kind"] = [_("Choose what kind of care this is.")]
    elif values.get("kind") == CareKind.MEDICATE:
        errors["kind"] = [_("Medication is given on a vet's prescription: a vet prescribes it on the animal's record.")]
    if not partial or {"times", "every_days"} & values.keys():
        _checked_timing(values, errors)
    if "diet_items" in values:
        _checked_diet(values, errors)
    if "instructions" in values:
        values["instructions"] = (values.get("instructions") or "").strip()
    if errors:
        raise CareError(errors)


SCHEDULE_FIELDS = ("kind", "times", "every_days", "instructions", "diet_items", "starts_on", "ends_on")
TIMING_FIELDS = {"times", "every_days", "starts_on", "ends_on"}


def _check_dates(starts_on: date | None, ends_on: date | None) -> None:
    if starts_on is None:
        raise CareError({"starts_on": [_("Give the first day of the schedule.")]})
    if ends_on is not None and ends_on < starts_on:
        raise CareError({"ends_on": [_("The last day cannot be before the first.")]})


def create_schedule(*, animal: Animal | None = None, enclosure: Enclosure | None = None, user: User | None,
                    now: datetime | None = None, **values) -> CareSchedule:
    """A schedule for an animal in care or an enclosure, with its tasks of the current window."""
    now = now or utcnow()
    if (animal is None) == (enclosure is None):
        raise CareError({"animal_id": [_("Give an animal or an enclosure, not both.")]})
    if animal is not None and animal.status != AnimalStatus.IN_CARE:
        raise CareError({"animal_id": [_("%(animal)s has left care.", animal=animal.accession_number)]})
    # Without it the JSON column would store null (an explicit None skips the column's default).
    values.setdefault("diet_items", [])
    _check_plan(values)
    facility_id = animal.facility_id if animal is not None else enclosure.facility_id
    if values.get("starts_on") is None:
        values["starts_on"] = local_today(facility_id, now)
    _check_dates(values["starts_on"], values.get("ends_on"))
    schedule = CareSchedule(
        facility_id=facility_id, animal_id=animal.id if animal else None,
        enclosure_id=enclosure.id if enclosure else None, tasks_from=now,
        created_by_id=user.id if user else None, **{k: values.get(k) for k in SCHEDULE_FIELDS},
    )
    db.session.add(schedule)
    db.session.flush()
    sync_schedule_tasks(schedule, now)
    return schedule


def _keep_other_timing(values: dict, current) -> None:
    """An edit of the times alone (or the interval alone) keeps the other as it is, and is checked with it."""
    if {"times", "every_days"} & values.keys():
        values.setdefault("times", current.times)
        values.setdefault("every_days", current.every_days)


def update_schedule(schedule: CareSchedule, values: dict, *, now: datetime | None = None) -> CareSchedule:
    """Change a schedule; its open tasks from now on follow the new timing at once."""
    now = now or utcnow()
    if schedule.is_course:
        raise CareError({"schedule": [_("This is a prescription's course: the vet changes or stops it on the "
                                        "animal's record.")]})
    values = {k: v for k, v in values.items() if k in SCHEDULE_FIELDS or k == "is_active"}
    _keep_other_timing(values, schedule)
    _check_plan(values, partial=True)
    _check_dates(values.get("starts_on", schedule.starts_on), values.get("ends_on", schedule.ends_on))
    retimed = any(values[k] != getattr(schedule, k) for k in TIMING_FIELDS & values.keys())
    for key, value in values.items():
        setattr(schedule, key, value)
    if retimed:
        # Times already past today are not made again as overdue tasks.
        schedule.tasks_from = now
    db.session.flush()
    sync_schedule_tasks(schedule, now)
    return schedule


def end_schedule(schedule: CareSchedule, *, now: datetime | None = None) -> CareSchedule:
    """Stop a schedule: its open tasks from now on are cancelled; what was done stays."""
    return update_schedule(schedule, {"is_active": False}, now=now)


TEMPLATE_FIELDS = ("kind", "times", "every_days", "instructions", "diet_items")


def save_template(template: CareTemplate | None, values: dict) -> CareTemplate:
    """Create (template None) or change a species' or taxon class's default schedule."""
    if template is not None:
        _keep_other_timing(values, template)
    _check_plan(values, partial=template is not None)
    if template is None:
        if not values.get("species_id") and not values.get("taxon_class"):
            raise CareError({"species_id": [_("Choose a species or a taxon class.")]})
        template = CareTemplate(species_id=values.get("species_id") or None,
                                taxon_class=None if values.get("species_id") else values.get("taxon_class"))
        db.session.add(template)
    for key in (*TEMPLATE_FIELDS, "is_active"):
        if key in values:
            setattr(template, key, values[key])
    db.session.flush()
    return template


# --- tasks ---------------------------------------------------------------------------

def local_today(facility_id: int, now: datetime) -> date:
    """The facility's local date at `now` (a schedule's default first day)."""
    return now.astimezone(ZoneInfo(db.session.get(Facility, facility_id).timezone)).date()


def _insert_ignoring_duplicates(rows: list[dict]) -> int:
    """Insert task rows; a row whose (schedule, due time) exists already is skipped. Returns how many were new."""
    if not rows:
        return 0
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(CareTask).on_conflict_do_nothing(index_elements=["schedule_id", "due_at"]).returning(CareTask.id)
    return len(db.session.execute(stmt, rows).all())


def _wanted_rows(schedule: CareSchedule, tz: ZoneInfo, now: datetime) -> list[dict]:
    if not schedule.is_active:
        return []
    first, last = window_days(now, tz)
    return [
        {"schedule_id": schedule.id, "facility_id": schedule.facility_id, "animal_id": schedule.animal_id,
         "enclosure_id": schedule.enclosure_id, "kind": schedule.kind, "due_at": due,
         "overdue_at": due + grace(schedule.kind), "status": TaskStatus.OPEN}
        for due in due_times(times=schedule.times, every_days=schedule.every_days, starts_on=schedule.starts_on,
                             ends_on=schedule.ends_on, first_day=first, last_day=last, tz=tz)
        if due >= schedule.tasks_from
    ]


def generate_care_tasks(now: datetime, *, schedule_ids: Iterable[int] | None = None) -> int:
    """Make the open tasks of the window (today and tomorrow, per facility) that do not exist yet.

    Safe to call any number of times: a second call with the same `now` creates nothing.
    Schedules of animals that left care make nothing, and their open tasks are cancelled.
    Returns the number of tasks made.
    """
    cancel_tasks_of_departed()
    stmt = (
        select(CareSchedule, Facility.timezone)
        .join(Facility, CareSchedule.facility_id == Facility.id)
        .outerjoin(Animal, CareSchedule.animal_id == Animal.id)
        .where(CareSchedule.is_active.is_(True), CareSchedule.is_course.is_(False),
               CareSchedule.starts_on <= (now + timedelta(days=3)).date(),
               (CareSchedule.ends_on.is_(None)) | (CareSchedule.ends_on >= (now - timedelta(days=1)).date()),
               (Animal.id.is_(None)) | (Animal.status == AnimalStatus.IN_CARE))
    )
    if schedule_ids is not None:
        stmt = stmt.where(CareSchedule.id.in_(list(schedule_ids)))
    zones: dict[str, ZoneInfo] = {}
    rows = []
    for schedule, tz_name in db.session.execute(stmt):
        tz = zones.setdefault(tz_name, ZoneInfo(tz_name))
        rows.extend(_wanted_rows(schedule, tz, now))
    made = 0
    for start in range(0, len(rows), 1000):
        made += _insert_ignoring_duplicates(rows[start:start + 1000])
    return made


def sync_schedule_tasks(schedule: CareSchedule, now: datetime) -> None:
    """Bring a schedule's tasks from now on in line with it: cancel the unwanted, reopen and make the wanted."""
    tz = ZoneInfo(db.session.get(Facility, schedule.facility_id).timezone)
    animal_gone = schedule.animal_id is not None and db.session.get(Animal, schedule.animal_id).status != \
        AnimalStatus.IN_CARE
    wanted = [] if animal_gone else [row["due_at"] for row in _wanted_rows(schedule, tz, now)]
    future = (CareTask.schedule_id == schedule.id) & (CareTask.due_at >= now)
    cancel = update(CareTask).where(future, CareTask.status == TaskStatus.OPEN)
    if wanted:
        cancel = cancel.where(CareTask.due_at.not_in(wanted))
        db.session.execute(update(CareTask).where(future, CareTask.status == TaskStatus.CANCELLED,
                                                  CareTask.due_at.in_(wanted)).values(status=TaskStatus.OPEN))
    db.session.execute(cancel.values(status=TaskStatus.CANCELLED))
    if wanted:
        generate_care_tasks(now, schedule_ids=[schedule.id])


def cancel_tasks_of_departed() -> int:
    """Cancel the open tasks of animals that have left care (one UPDATE). Returns how many."""
    departed = select(Animal.id).where(Animal.status != AnimalStatus.IN_CARE)
    result = db.session.execute(
        update(CareTask).where(CareTask.status == TaskStatus.OPEN, CareTask.animal_id.in_(departed))
        .values(status=TaskStatus.CANCELLED).execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def cancel_open_tasks(animal_id: int) -> int:
    """Cancel an animal's open tasks at once (it left care). Returns how many."""
    result = db.session.execute(
        update(CareTask).where(CareTask.status == TaskStatus.OPEN, CareTask.animal_id == animal_id)
        .values(status=TaskStatus.CANCELLED).execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def follow_transfer(animal_id: int, facility_id: int) -> None:
    """An animal moved to another facility: its schedules and open tasks go with it (two UPDATEs).

    Due times stay as they were made; the window made from then on is in the new facility's zone.
    """
    db.session.execute(update(CareSchedule).where(CareSchedule.animal_id == animal_id)
                       .values(facility_id=facility_id).execution_options(synchronize_session=False))
    db.session.execute(update(CareTask).where(CareTask.animal_id == animal_id, CareTask.status == TaskStatus.OPEN)
                       .values(facility_id=facility_id).execution_options(synchronize_session=False))


# --- templates applied at intake and splits ----------------------------------------------

def apply_templates(animals: list[Animal], *, user: User | None, now: datetime | None = None) -> list[CareSchedule]:
    """Copy the species' templates (or, where a species has none, its taxon class's) onto new animals."""
    now = now or utcnow()
    classes = dict(db.session.execute(
        select(Species.id, Species.taxon_class).where(Species.id.in_({a.species_id for a in animals}))).all())
    templates = db.session.execute(
        select(CareTemplate).where(CareTemplate.is_active.is_(True),
                                   CareTemplate.species_id.in_(classes.keys())
                                   | CareTemplate.taxon_class.in_(set(classes.values())))
        .order_by(CareTemplate.id)
    ).scalars().all()
    schedules = []
    for animal in animals:
        own = [t for t in templates if t.species_id == animal.species_id]
        for template in own or [t for t in templates if t.taxon_class == classes.get(animal.species_id)]:
            schedules.append(CareSchedule(
                facility_id=animal.facility_id, animal_id=animal.id, template_id=template.id,
                starts_on=local_today(animal.facility_id, now), tasks_from=now,
                created_by_id=user.id if user else None, **{k: getattr(template, k) for k in TEMPLATE_FIELDS}))
    return _add_schedules(schedules, now)


def copy_schedules(parent: Animal, child: Animal, *, user: User | None, now: datetime | None = None
                   ) -> list[CareSchedule]:
    """A record split off a lot keeps being cared for as the lot was: its active schedules are copied."""
    now = now or utcnow()
    own = db.session.execute(
        # A course stays with the record it was prescribed for: a split-off lot needs its own prescription.
        select(CareSchedule).where(CareSchedule.animal_id == parent.id, CareSchedule.is_active.is_(True),
                                   CareSchedule.is_course.is_(False))
    ).scalars().all()
    copies = [CareSchedule(facility_id=child.facility_id, animal_id=child.id, template_id=s.template_id,
                           starts_on=max(s.starts_on, local_today(child.facility_id, now)), ends_on=s.ends_on,
                           tasks_from=now, created_by_id=user.id if user else None,
                           **{k: getattr(s, k) for k in TEMPLATE_FIELDS})
              for s in own]
    return _add_schedules(copies, now)


def _add_schedules(schedules: list[CareSchedule], now: datetime) -> list[CareSchedule]:
    if schedules:
        db.session.add_all(schedules)
        db.session.flush()
        generate_care_tasks(now, schedule_ids=[s.id for s in schedules])
    return schedules
