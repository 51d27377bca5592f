"""What keepers record: care logs, task completions and weights. Each service flushes; callers commit.

Every record carries a client-generated id. A retry of the same submission (a
double tap, a resend after the Wi-Fi dropped, ten at once) finds the record the
first one stored and returns it with created=False, so it is stored once and
answered as the first time.
"""

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.animals.models import Animal, AnimalStatus, Attachment
from app.auth.models import Role, User
from app.care.models import CareKind, CareLog, CareSchedule, CareTask, DoseResult, Eaten, TaskStatus, Weight
from app.care.services import CareError
from app.common.db import utcnow
from app.extensions import db
from app.reference.models import Enclosure


class TaskAlreadyDoneError(CareError):
    """Someone else completed the task first (a conflict, not bad input)."""


class NotYoursToDoError(CareError):
    """The user's role may not complete this task (a dose only a vet may give): forbidden, not bad input."""


def may_give_dose(user: User | None, schedule: CareSchedule | None) -> bool:
    """Vets give any dose; keepers those of a prescription that lets them; nobody else records doses."""
    if user is None:
        return True  # a job or the command line
    if user.role == Role.VET:
        return True
    return user.role == Role.KEEPER and (schedule is None or schedule.keeper_may_do)


def check_done_at(when: datetime | None, now: datetime, field: str = "done_at") -> tuple[datetime, bool]:
    """The time care was done, and whether it is a late entry. Future times and too-old ones are refused.

    A time within CARE_LATE_ENTRY_MINUTES of now is an ordinary entry; earlier, back to
    CARE_BACKDATE_HOURS, a late one. A few minutes ahead is a tablet clock, not the future.
    """
    config = current_app.config
    if when is None:
        return now, False
    if when.tzinfo is None:
        raise CareError({field: [_("Give the time with its time zone.")]})
    if when > now + timedelta(minutes=config["CARE_CLOCK_SKEW_MINUTES"]):
        raise CareError({field: [_("This time is in the future. Check the tablet's clock and the time entered.")]})
    hours = config["CARE_BACKDATE_HOURS"]
    if when < now - timedelta(hours=hours):
        raise CareError({field: [_("Care can be recorded up to %(n)d hours after it was done; ask a "
                                   "coordinator to add an older record.", n=hours)]})
    return when, when < now - timedelta(minutes=config["CARE_LATE_ENTRY_MINUTES"])


def _check_client_id(client_id: str | None) -> str:
    client_id = (client_id or "").strip()
    if not 8 <= len(client_id) <= 64:
        raise CareError({"client_id": [_("A client id of 8 to 64 characters is needed, so a retry is stored once.")]})
    return client_id


def _check_facility(user: User | None, facility_id: int) -> None:
    if user is not None and user.facility_ids is not None and facility_id not in user.facility_ids:
        raise CareError({"facility": [_("You can record care only at your own facilities.")]})


def _stored_once(record, find: Callable[[], object | None]):
    """Flush a new record in a savepoint; if its client id was stored meanwhile, return that one."""
    try:
        with db.session.begin_nested():
            db.session.add(record)
            db.session.flush()
    except IntegrityError:
        existing = find()
        if existing is None:
            raise
        return existing, False
    return record, True


def _log_by_client_id(client_id: str) -> CareLog | None:
    return db.session.execute(select(CareLog).where(CareLog.client_id == client_id)).scalar_one_or_none()


def _same_target(log: CareLog, *, animal_id=None, enclosure_id=None, task_id=None) -> CareLog:
    if (log.animal_id, log.enclosure_id, log.task_id) != (animal_id, enclosure_id, task_id):
        raise CareError({"client_id": [_("This client id was already used for another record.")]})
    return log


def _checked_details(kind: str, values: dict, animal: Animal | None) -> dict:
    errors = {}
    if kind not in set(CareKind):
        errors["kind"] = [_("Choose what kind of care this is.")]
    given = values.get("given") or None
    if kind == CareKind.MEDICATE and given not in set(DoseResult):
        errors["given"] = [_("Say what became of the dose: given, refused, vomited or missed.")]
    elif kind != CareKind.MEDICATE and given is not None:
        errors["given"] = [_("Only a dose is given, refused, vomited or missed.")]
    eaten = values.get("eaten") or None
    if eaten is not None and eaten not in set(Eaten):
        errors["eaten"] = [_("Choose how much was eaten.")]
    elif eaten is not None and kind != CareKind.FEED:
        errors["eaten"] = [_("Only a feeding has an amount eaten.")]
    head_count = values.get("head_count")
    if head_count is not None:
        most = animal.quantity if animal is not None else None
        if not isinstance(head_count, int) or head_count < 0 or (most is not None and head_count > most):
            errors["head_count"] = [_("Between 0 and %(n)d animals.", n=most) if most is not None
                                    else _("A number of animals, 0 or more.")]
    if errors:
        raise CareError(errors)
    text = {k: (values.get(k) or "").strip() for k in ("appetite", "stool", "behaviour", "notes")}
    return {"eaten": eaten, "given": given, "head_count": head_count, **text}


def log_care(*, user: User | None, client_id: str | None, kind: str, animal: Animal | None = None,
             enclosure: Enclosure | None = None, done_at: datetime | None = None, photo: Attachment | None = None,
             now: datetime | None = None, **values) -> tuple[CareLog, bool]:
    """Record care outside a task (a feeding, an observation, a cleaning) for an animal or an enclosure.

    Returns (log, created). values: eaten, appetite, stool, behaviour, notes, head_count.
    """
    now = now or utcnow()
    client_id = _check_client_id(client_id)
    target = {"animal_id": animal.id if animal else None, "enclosure_id": enclosure.id if enclosure else None}
    if (existing := _log_by_client_id(client_id)) is not None:
        return _same_target(existing, **target), False
    if (animal is None) == (enclosure is None):
        raise CareError({"animal_id": [_("Give an animal or an enclosure, not both.")]})
    if kind == CareKind.MEDICATE:
        raise CareError({"kind": [_("A dose is recorded on its task, from the round or the prescription.")]})
    if animal is not None and animal.status != AnimalStatus.IN_CARE:
        raise CareError({"animal_id": [_("%(animal)s has left care.", animal=animal.accession_number)]})
    facility_id = animal.facility_id if animal else enclosure.facility_id
    _check_facility(user, facility_id)
    done_at, late = check_done_at(done_at, now)
    log = CareLog(client_id=client_id, facility_id=facility_id, kind=kind, done_at=done_at, late_entry=late,
                  recorded_at=now, recorded_by_id=user.id if user else None, photo_id=photo.id if photo else None,
                  **target, **_checked_details(kind, values, animal))
    return _stored_once(log, lambda: _log_by_client_id(client_id))


def complete_task(task: CareTask, *, user: User | None, client_id: str | None, done_at: datetime | None = None,
                  grams=None, bcs=None, photo: Attachment | None = None, now: datetime | None = None,
                  **values) -> tuple[CareLog, bool]:
    """Mark a task done with the care log that says how; a weigh task also records the weight.

    The task is claimed with a conditional UPDATE, so two keepers (or two retries) can
    never both complete it: a retry gets the first log back, another keeper a TaskAlreadyDoneError.
    """
    now = now or utcnow()
    client_id = _check_client_id(client_id)
    if (existing := _log_by_client_id(client_id)) is not None:
        return _same_target(existing, animal_id=existing.animal_id, enclosure_id=existing.enclosure_id,
                            task_id=task.id), False
    _check_facility(user, task.facility_id)
    if task.status == TaskStatus.CANCELLED:
        raise CareError({"task": [_("This task was cancelled: its schedule changed or the animal left care.")]})
    if task.kind == CareKind.MEDICATE:
        schedule = db.session.get(CareSchedule, task.schedule_id) if task.schedule_id else None
        if not may_give_dose(user, schedule):
            raise NotYoursToDoError({"task": [_("Only a vet may record this dose: the prescription does not "
                                                "let keepers give it.")]})
    animal = db.session.get(Animal, task.animal_id) if task.animal_id else None
    done_at, late = check_done_at(done_at, now)
    early = timedelta(minutes=current_app.config["DOSE_EARLY_MINUTES"])
    if task.kind == CareKind.MEDICATE and done_at < task.due_at - early:
        # Two doses given hours apart instead of twelve is an overdose, not diligence.
        raise CareError({"done_at": [_("This dose is not due yet: it can be recorded from %(n)d minutes before "
                                       "its time.", n=early.seconds // 60)]})
    details = _checked_details(task.kind, values, animal)
    if task.kind == CareKind.WEIGH:
        if animal is None:
            raise CareError({"grams": [_("Weigh tasks are for animals, not enclosures.")]})
        grams, bcs = check_weight(grams, bcs)
    claimed = db.session.execute(
        update(CareTask).where(CareTask.id == task.id, CareTask.status == TaskStatus.OPEN)
        .values(status=TaskStatus.DONE, done_at=done_at, done_by_id=user.id if user else None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        db.session.refresh(task)
        if (existing := _log_by_client_id(client_id)) is not None:
            return existing, False
        raise TaskAlreadyDoneError({"task": [_("This task was already done.")]})
    db.session.refresh(task)
    log = CareLog(client_id=client_id, facility_id=task.facility_id, animal_id=task.animal_id,
                  enclosure_id=None if task.animal_id else task.enclosure_id, task_id=task.id, kind=task.kind,
                  done_at=done_at, late_entry=late, recorded_at=now, recorded_by_id=user.id if user else None,
                  photo_id=photo.id if photo else None, **details)
    db.session.add(log)
    db.session.flush()
    if task.kind == CareKind.WEIGH:
        db.session.add(Weight(animal_id=animal.id, measured_at=done_at, grams=grams, bcs=bcs, late_entry=late,
                              care_log_id=log.id, recorded_at=now, recorded_by_id=user.id if user else None))
        db.session.flush()
    return log, True


def complete_enclosure_tasks(enclosure: Enclosure, tasks: list[CareTask], *, user: User | None, client_id: str,
                             now: datetime | None = None) -> int:
    """"All done in this enclosure": complete its open tasks due by now, except weighings (they need a weight).

    Each completion's client id is derived from the one tap's, so the tap retried completes nothing twice.
    """
    now = now or utcnow()
    client_id = _check_client_id(client_id)
    done = 0
    for task in tasks:
        # A weighing needs its weight and a dose what became of it: they are done one by one.
        if task.status != TaskStatus.OPEN or task.kind in (CareKind.WEIGH, CareKind.MEDICATE) or task.due_at > now:
            continue
        try:
            _, created = complete_task(task, user=user, client_id=f"{client_id[:50]}:{task.id}", now=now)
        except TaskAlreadyDoneError:
            continue
        done += created
    return done


# --- weights -------------------------------------------------------------------------

def check_weight(grams, bcs) -> tuple[Decimal, int | None]:
    errors = {}
    try:
        grams = Decimal(str(grams)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        if not Decimal("0.1") <= grams <= Decimal("10000000"):
            raise InvalidOperation
    except (InvalidOperation, ValueError, TypeError):
        errors["grams"] = [_("Give the weight in grams, more than 0.")]
    if bcs in ("", None):
        bcs = None
    elif not isinstance(bcs, int) or not 1 <= bcs <= 9:
        errors["bcs"] = [_("Body condition is scored 1 to 9.")]
    if errors:
        raise CareError(errors)
    return grams, bcs


def _weight_by_client_id(client_id: str) -> Weight | None:
    return db.session.execute(select(Weight).where(Weight.client_id == client_id)).scalar_one_or_none()


def record_weight(animal: Animal, *, user: User | None, grams, bcs=None, measured_at: datetime | None = None,
                  client_id: str | None = None, now: datetime | None = None) -> tuple[Weight, bool]:
    """A weighing of an animal (for a lot, the mean weight of one animal). Returns (weight, created)."""
    now = now or utcnow()
    if client_id:
        client_id = _check_client_id(client_id)
        if (existing := _weight_by_client_id(client_id)) is not None:
            if existing.animal_id != animal.id:
                raise CareError({"client_id": [_("This client id was already used for another record.")]})
            return existing, False
    if animal.status != AnimalStatus.IN_CARE:
        raise CareError({"animal_id": [_("%(animal)s has left care.", animal=animal.accession_number)]})
    _check_facility(user, animal.facility_id)
    grams, bcs = check_weight(grams, bcs)
    measured_at, late = check_done_at(measured_at, now, field="measured_at")
    weight = Weight(animal_id=animal.id, client_id=client_id or None, measured_at=measured_at, grams=grams, bcs=bcs,
                    late_entry=late, recorded_at=now, recorded_by_id=user.id if user else None)
    if not client_id:
        db.session.add(weight)
        db.session.flush()
        return weight, True
    return _stored_once(weight, lambda: _weight_by_client_id(client_id))


def copy_latest_weight(lot: Animal, part: Animal) -> Weight | None:
    """A lot's weight is its animals' average: a part split off it starts with the lot's latest weighing."""
    latest = db.session.execute(
        select(Weight).where(Weight.animal_id == lot.id).order_by(Weight.measured_at.desc(), Weight.id.desc()).limit(1)
    ).scalar_one_or_none()
    if latest is None:
        return None
    copy = Weight(animal_id=part.id, measured_at=latest.measured_at, grams=latest.grams, bcs=latest.bcs,
                  late_entry=latest.late_entry, recorded_at=latest.recorded_at, recorded_by_id=latest.recorded_by_id)
    db.session.add(copy)
    db.session.flush()
    return copy
