"""Medical records a vet writes: exams, problems, lab results. Each service flushes; callers commit.

Prescriptions are in prescriptions.py, quarantine in quarantine.py, deaths in deaths.py.
Roles are checked by the views (permission "vet.write"); services check the facts:
the animal is in care where it must be, at one of the user's facilities, the dates
are not in the future.
"""

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import select

from app.animals.models import Animal, AnimalStatus, Attachment
from app.auth.models import User
from app.care.models import Weight
from app.care.records import check_weight
from app.care.services import local_today
from app.common.db import utcnow
from app.common.errors import RuleError
from app.extensions import db
from app.vet.models import Exam, Interpretation, LabResult, Problem, ProblemStatus

Errors = dict[str, list[str]]


class VetError(RuleError):
    """Medical input refused by a rule; nothing was stored."""


def check_facility(user: User | None, animal: Animal) -> None:
    if user is not None and user.facility_ids is not None and animal.facility_id not in user.facility_ids:
        raise VetError({"animal": [_("%(animal)s is at another facility.", animal=animal.accession_number)]})


def check_in_care(animal: Animal) -> None:
    if animal.status != AnimalStatus.IN_CARE:
        raise VetError({"animal": [_("%(animal)s has left care.", animal=animal.accession_number)]})


def _text(values: dict, key: str, limit: int | None = None) -> str:
    text = str(values.get(key) or "").strip()
    return text[:limit] if limit else text


def _not_future(errors: Errors, field: str, when: datetime | date | None, now: datetime, local_today: date) -> None:
    if when is None:
        return
    if isinstance(when, datetime):
        if when.tzinfo is None:
            errors[field] = [_("Give the time with its time zone.")]
        elif when > now:
            errors[field] = [_("This time is in the future.")]
    elif when > local_today:
        errors[field] = [_("This date is in the future.")]


def _local_today(animal: Animal, now: datetime) -> date:
    return local_today(animal.facility_id, now)


# --- exams -----------------------------------------------------------------------------

def _temperature(value, errors: Errors) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        temperature = Decimal(str(value)).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        temperature = None
    if temperature is None or not temperature.is_finite() or not Decimal("5") <= temperature <= Decimal("50"):
        errors["temperature_c"] = [_("A body temperature in °C between 5 and 50.")]
        return None
    return temperature


def record_exam(animal: Animal, *, user: User | None, examined_at: datetime | None = None, weight_g=None, bcs=None,
                temperature_c=None, now: datetime | None = None, **values) -> Exam:
    """An examination; a weight given joins the animal's weight history (one Weight row, linked)."""
    now = now or utcnow()
    check_in_care(animal)
    check_facility(user, animal)
    examined_at = examined_at or now
    errors: Errors = {}
    _not_future(errors, "examined_at", examined_at, now, _local_today(animal, now))
    if examined_at.tzinfo is not None and examined_at < animal.admitted_at:
        errors["examined_at"] = [_("This is before the animal was admitted.")]
    temperature = _temperature(temperature_c, errors)
    grams = None
    if weight_g not in (None, "") or bcs not in (None, ""):
        try:
            if weight_g in (None, ""):
                raise VetError({"weight_g": [_("Give the weight with the body condition.")]})
            grams, bcs = check_weight(weight_g, bcs if bcs not in (None, "") else None)
        except RuleError as error:
            errors.update({("weight_g" if k == "grams" else k): v for k, v in error.fields.items()})
    if not any(_text(values, k) for k in ("findings", "assessment", "plan")) and grams is None and temperature is None:
        errors.setdefault("findings", [_("Record at least the findings, a weight or a temperature.")])
    if errors:
        raise VetError(errors)
    weight = None
    if grams is not None:
        weight = Weight(animal_id=animal.id, measured_at=examined_at, grams=grams, bcs=bcs, recorded_at=now,
                        recorded_by_id=user.id if user else None)
        db.session.add(weight)
        db.session.flush()
    exam = Exam(animal_id=animal.id, facility_id=animal.facility_id, examined_at=examined_at,
                examined_by_id=user.id if user else None, weight_g=grams, bcs=bcs if grams is not None else None,
                weight_id=weight.id if weight else None, temperature_c=temperature, recorded_at=now,
                **{k: _text(values, k) for k in ("findings", "assessment", "plan")})
    db.session.add(exam)
    db.session.flush()
    return exam


# --- problems --------------------------------------------------------------------------

def _checked_problem(animal: Animal, values: dict, now: datetime, current: Problem | None = None) -> dict:
    errors: Errors = {}
    out = {}
    if "diagnosis" in values or current is None:
        out["diagnosis"] = _text(values, "diagnosis", 300)
        if not out["diagnosis"]:
            errors["diagnosis"] = [_("Give the diagnosis (or the problem as far as it is known).")]
    today = _local_today(animal, now)
    if "onset_on" in values:
        out["onset_on"] = values["onset_on"]
        _not_future(errors, "onset_on", values["onset_on"], now, today)
    if "notes" in values:
        out["notes"] = _text(values, "notes")
    status = values.get("status", current.status if current else ProblemStatus.ACTIVE)
    if status not in set(ProblemStatus):
        errors["status"] = [_("Active or resolved.")]
    out["status"] = status
    resolved_on = values.get("resolved_on", current.resolved_on if current else None)
    if status == ProblemStatus.RESOLVED:
        resolved_on = resolved_on or today
        _not_future(errors, "resolved_on", resolved_on, now, today)
        onset = out.get("onset_on", current.onset_on if current else None)
        if onset and resolved_on < onset:
            errors["resolved_on"] = [_("The problem cannot be resolved before its onset.")]
    else:
        resolved_on = None
    out["resolved_on"] = resolved_on
    if errors:
        raise VetError(errors)
    return out


def add_problem(animal: Animal, *, user: User | None, now: datetime | None = None, **values) -> Problem:
    """A new entry on the animal's problem list (active unless said otherwise)."""
    now = now or utcnow()
    check_in_care(animal)
    check_facility(user, animal)
    problem = Problem(animal_id=animal.id, facility_id=animal.facility_id, recorded_by_id=user.id if user else None,
                      **_checked_problem(animal, values, now))
    db.session.add(problem)
    db.session.flush()
    return problem


def update_problem(problem: Problem, values: dict, *, user: User | None, now: datetime | None = None) -> Problem:
    """Change a problem: its diagnosis as it becomes clear, or resolve it (resolved_on defaults to today)."""
    now = now or utcnow()
    animal = db.session.get(Animal, problem.animal_id)
    check_facility(user, animal)
    for key, value in _checked_problem(animal, values, now, current=problem).items():
        setattr(problem, key, value)
    db.session.flush()
    return problem


# --- lab results -----------------------------------------------------------------------

def _checked_interpretation(values: dict, errors: Errors) -> str | None:
    interpretation = values.get("interpretation") or None
    if interpretation is not None and interpretation not in set(Interpretation):
        errors["interpretation"] = [_("Negative, positive or inconclusive (or leave it empty while pending).")]
    return interpretation


def _checked_resulted_on(resulted_on: date | None, sampled_on: date | None, errors: Errors, now: datetime,
                         today: date) -> date:
    """The day a result came back: today unless given; not in the future, not before the sample."""
    resulted_on = resulted_on or today
    _not_future(errors, "resulted_on", resulted_on, now, today)
    if sampled_on is not None and resulted_on < sampled_on:
        errors["resulted_on"] = [_("The result cannot come back before the sample was taken.")]
    return resulted_on


def add_lab_result(animal: Animal, *, user: User | None, attachment: Attachment | None = None,
                   now: datetime | None = None, **values) -> LabResult:
    """A sample sent for a test; with an interpretation it is a result, without one it is pending."""
    now = now or utcnow()
    check_facility(user, animal)
    errors: Errors = {}
    test = _text(values, "test", 120)
    if not test:
        errors["test"] = [_("Name the test, for example faecal parasitology.")]
    sampled_on = values.get("sampled_on")
    today = _local_today(animal, now)
    if sampled_on is None:
        errors["sampled_on"] = [_("Give the day the sample was taken.")]
    else:
        _not_future(errors, "sampled_on", sampled_on, now, today)
    interpretation = _checked_interpretation(values, errors)
    resulted_on = _checked_resulted_on(values.get("resulted_on"), sampled_on, errors, now, today) \
        if interpretation else None
    if errors:
        raise VetError(errors)
    lab = LabResult(animal_id=animal.id, facility_id=animal.facility_id, test=test, sampled_on=sampled_on,
                    result=_text(values, "result"), interpretation=interpretation,
                    resulted_on=resulted_on,
                    attachment_id=attachment.id if attachment else None, recorded_by_id=user.id if user else None)
    db.session.add(lab)
    db.session.flush()
    return lab


def record_lab_outcome(lab: LabResult, *, user: User | None, attachment: Attachment | None = None,
                       now: datetime | None = None, **values) -> LabResult:
    """The result of a pending test comes back: result text, interpretation, optionally the lab's report.

    A result already interpreted is not changed: a correction is a new lab result.
    """
    now = now or utcnow()
    animal = db.session.get(Animal, lab.animal_id)
    check_facility(user, animal)
    if not lab.is_pending:
        raise VetError({"interpretation": [_("This result is already recorded; record a new one to correct it.")]})
    errors: Errors = {}
    interpretation = _checked_interpretation(values, errors)
    if interpretation is None and "interpretation" not in errors:
        errors["interpretation"] = [_("Choose negative, positive or inconclusive.")]
    resulted_on = _checked_resulted_on(values.get("resulted_on"), lab.sampled_on, errors, now,
                                       _local_today(animal, now))
    if errors:
        raise VetError(errors)
    lab.interpretation = interpretation
    lab.result = _text(values, "result") or lab.result
    lab.resulted_on = resulted_on
    if attachment is not None:
        lab.attachment_id = attachment.id
    db.session.flush()
    return lab


def latest_weight(animal_id: int) -> Weight | None:
    """The animal's most recent weighing (from care, an exam or a weigh task)."""
    return db.session.execute(
        select(Weight).where(Weight.animal_id == animal_id).order_by(Weight.measured_at.desc(), Weight.id.desc())
        .limit(1)
    ).scalar_one_or_none()
