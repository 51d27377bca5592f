"""Prescribing and stopping: the dose from the latest weight, the course of medicate tasks. Flushes.

A prescription makes all its doses as care tasks at once (app.care.courses), at the
standard dosing times (DOSING_TIMES) from its first day; they show in the keepers'
round as they fall due. Stopping it cancels the doses still to come.
"""

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import gettext as _

from app.animals.models import Animal
from app.auth.models import User
from app.care.courses import create_course, end_course
from app.care.models import CareSchedule
from app.common.db import utcnow
from app.extensions import db
from app.vet import dosing
from app.vet.models import Prescription, PrescriptionStatus, Route
from app.vet.services import Errors, VetError, _local_today, _text, check_facility, check_in_care, latest_weight

MAX_DAYS = 365
SMALLEST = Decimal("0.0001")  # the scale of the dose and concentration columns
LARGEST = Decimal("100000000")  # dose_mg and volume_ml hold 8 digits before the point


def _positive_decimal(value, field: str, errors: Errors, *, required: bool) -> Decimal | None:
    if value in (None, ""):
        if required:
            errors[field] = [_("Required.")]
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite() or not Decimal("0") < number <= Decimal("100000"):
        errors[field] = [_("A number greater than 0.")]
        return None
    if number < SMALLEST:
        # Stored with 4 decimals: a smaller number would be kept as 0.
        errors[field] = [_("At least %(n)s.", n=SMALLEST)]
        return None
    return number


def _check_storable(dose_mg: Decimal, volume: Decimal | None) -> None:
    """A dose or volume beyond its column (8 digits before the point) is a typing error, not a dose."""
    errors: Errors = {}
    if dose_mg >= LARGEST:
        errors["dose_mg_per_kg"] = [_("This gives a dose of more than 100 kg: check the dose and the weight.")]
    if volume is not None and volume >= LARGEST:
        errors["concentration_mg_per_ml"] = [_("This gives a volume of more than 100,000 litres: check the "
                                               "concentration.")]
    if errors:
        raise VetError(errors)


def _course_days(values: dict, errors: Errors) -> int | None:
    days, ends_on, starts_on = values.get("days"), values.get("ends_on"), values.get("starts_on")
    if days in (None, "") and ends_on is not None and starts_on is not None:
        days = (ends_on - starts_on).days + 1
        if days < 1:
            errors["ends_on"] = [_("The last day cannot be before the first.")]
            return None
    if days in (None, ""):
        errors["days"] = [_("Give the number of days, or the last day.")]
        return None
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_DAYS:
        errors["days"] = [_("Between 1 and %(n)d days.", n=MAX_DAYS)]
        return None
    return days


def dose_instructions(p: Prescription) -> str:
    """What the round card shows: the drug, the dose per animal, the volume, the route and the vet's words."""
    dose = f"{p.drug} {dosing.plain(p.dose_mg)} mg"
    if p.volume_ml is not None:
        dose += f" = {dosing.plain(p.volume_ml)} ml"
    dose += f" {p.route} · {p.frequency}"
    return f"{dose}. {p.instructions}".strip() if p.instructions else dose


def prescribe(animal: Animal, *, user: User | None, now: datetime | None = None, **values
              ) -> tuple[Prescription, list[str]]:
    """Prescribe a drug for an animal in care; returns the prescription and warnings for the vet.

    The dose is worked out from the latest weight (per animal, for a lot). No weight at
    all refuses the prescription; a weight older than STALE_WEIGHT_DAYS is used with a
    warning, which is also stored (weight_was_stale).
    """
    now = now or utcnow()
    check_in_care(animal)
    check_facility(user, animal)
    errors: Errors = {}
    drug = _text(values, "drug", 120)
    if not drug:
        errors["drug"] = [_("Name the drug.")]
    per_kg = _positive_decimal(values.get("dose_mg_per_kg"), "dose_mg_per_kg", errors, required=True)
    concentration = _positive_decimal(values.get("concentration_mg_per_ml"), "concentration_mg_per_ml", errors,
                                      required=False)
    route = values.get("route") or ""
    if route not in set(Route):
        errors["route"] = [_("Choose the route.")]
    frequency = (values.get("frequency") or "").strip()
    timing = dosing.parse_frequency(frequency)
    if timing is None:
        errors["frequency"] = [_("SID, BID, TID, QID, or every N hours as q<N>h where N divides 24 "
                                 "(q4h, q6h, q8h, q12h) or is whole days (q48h).")]
    today = _local_today(animal, now)
    starts_on = values.get("starts_on") or today
    values["starts_on"] = starts_on
    if starts_on < today:
        errors["starts_on"] = [_("A course starts today or later; record doses already given as notes.")]
    elif starts_on > today + timedelta(days=MAX_DAYS):
        errors["starts_on"] = [_("A course starts within a year from today.")]
    days = _course_days(values, errors)
    weight = latest_weight(animal.id)
    if weight is None:
        errors["weight"] = [_("%(animal)s has no weight recorded. Weigh the animal (or record an exam with its "
                              "weight) before prescribing: the dose is worked out from it.",
                              animal=animal.accession_number)]
    if errors:
        raise VetError(errors)
    dose_mg = dosing.dose_mg(per_kg, weight.grams)
    volume = dosing.volume_ml(dose_mg, concentration)
    _check_storable(dose_mg, volume)
    if not dose_mg:
        raise VetError({"dose_mg_per_kg": [_("This gives a dose under 0.001 mg, which cannot be measured: check "
                                             "the dose and the weight.")]})
    stale_after = timedelta(days=current_app.config["STALE_WEIGHT_DAYS"])
    stale = weight.measured_at < now - stale_after
    doses = timing.doses_for(days)
    prescription = Prescription(
        animal_id=animal.id, facility_id=animal.facility_id, drug=drug, dose_mg_per_kg=per_kg,
        concentration_mg_per_ml=concentration, route=route, frequency=frequency, starts_on=starts_on, days=days,
        ends_on=starts_on + timedelta(days=days - 1), doses=doses, instructions=_text(values, "instructions"),
        keeper_may_give=bool(values.get("keeper_may_give")), dose_mg=dose_mg, volume_ml=volume, weight_id=weight.id,
        weight_g_used=weight.grams, weight_measured_at=weight.measured_at, weight_was_stale=stale,
        prescribed_at=now, prescribed_by_id=user.id if user else None, status=PrescriptionStatus.ACTIVE,
    )
    schedule, _tasks = create_course(animal, user=user, times=timing.times, every_days=timing.every_days,
                                    first_on=starts_on, doses=doses, instructions=dose_instructions(prescription),
                                    keeper_may_do=prescription.keeper_may_give, now=now)
    prescription.schedule_id = schedule.id
    prescription.ends_on = schedule.ends_on
    db.session.add(prescription)
    db.session.flush()
    warnings = []
    if stale:
        warnings.append(_("The latest weight (%(grams)s g) is %(days)d days old: the dose may be wrong. Weigh the "
                          "animal and adjust the prescription if it changed.",
                          grams=dosing.plain(weight.grams), days=(now - weight.measured_at).days))
    if volume is not None and volume < Decimal("0.01"):
        warnings.append(_("The volume is under 0.01 ml: dilute the drug so it can be measured."))
    return prescription, warnings


def stop_prescription(prescription: Prescription, *, user: User | None, reason: str = "",
                      now: datetime | None = None) -> int:
    """Stop a prescription: its doses due from now on are cancelled; doses past stay to be recorded.

    Returns how many doses were cancelled.
    """
    now = now or utcnow()
    if prescription.status != PrescriptionStatus.ACTIVE:
        raise VetError({"prescription": [_("This prescription was already stopped.")]})
    check_facility(user, db.session.get(Animal, prescription.animal_id))
    prescription.status = PrescriptionStatus.STOPPED
    prescription.stopped_at = now
    prescription.stopped_by_id = user.id if user else None
    prescription.stop_reason = (reason or "").strip()
    db.session.flush()
    if prescription.schedule_id is None:
        return 0
    return end_course(db.session.get(CareSchedule, prescription.schedule_id), now=now)
