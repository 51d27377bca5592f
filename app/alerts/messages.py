"""An alert's message in the reader's language and time zone, from its kind, subject and figures.

Messages are composed when read, not stored, so a Khmer-speaking vet and an English-speaking
auditor read the same alert each in their own language.
"""

from datetime import timedelta
from zoneinfo import ZoneInfo

from flask_babel import format_date, format_datetime
from flask_babel import gettext as _

from app.alerts.models import Alert
from app.care.forms import KIND_LABELS


def _animal(alert: Alert) -> str:
    animal = alert.animal
    if animal is None:
        return ""
    return f"{animal.accession_number} ({animal.name})" if animal.name else animal.accession_number


def _day(value) -> str:
    return format_date(value, "medium") if value else ""


def _quarantine_end(alert: Alert):
    """The local day of intake at the animal's facility plus the species' days, as the vet's pages count it."""
    animal = alert.animal
    zone = ZoneInfo(alert.facility.timezone)
    return animal.admitted_at.astimezone(zone).date() + timedelta(days=animal.species.quarantine_days)


def message_for(alert: Alert) -> str:
    """One sentence saying what is wrong, about whom, since when (subject loaded by the query)."""
    kind = alert.kind
    animal = _animal(alert)
    if kind in ("care_overdue", "dose_overdue"):
        task = alert.task
        subject = animal or (task.enclosure.name if task.enclosure else "")
        due = format_datetime(alert.reference_at, "short")
        if kind == "dose_overdue":
            return _("The dose for %(animal)s due at %(due)s has not been recorded.", animal=subject, due=due)
        return _("%(kind)s for %(subject)s was due at %(due)s and has not been recorded.",
                 kind=KIND_LABELS.get(task.kind, task.kind), subject=subject, due=due)
    if kind == "quarantine_ending":
        return _("The quarantine of %(animal)s is expected to end on %(day)s: its tests and clearance are due.",
                 animal=animal, day=_day(_quarantine_end(alert)))
    if kind == "quarantine_overdue":
        return _("The quarantine of %(animal)s was expected to end on %(day)s and no vet has cleared it.",
                 animal=animal, day=_day(_quarantine_end(alert)))
    if kind == "weight_missing":
        if alert.reference_at is None:
            return _("%(animal)s has not been weighed since it was admitted.", animal=animal)
        return _("%(animal)s has not been weighed since %(day)s.", animal=animal, day=_day(alert.reference_at))
    if kind == "weight_loss":
        return _("%(animal)s weighed %(percent)s%% less on %(day)s than in the days before.",
                 animal=animal, percent=f"{alert.reference_value:g}", day=_day(alert.reference_at))
    if kind == "release_ready":
        return _("%(animal)s meets its release checklist and is not in a release plan yet.", animal=animal)
    if kind == "readiness_review":
        if alert.reference_at is None:
            return _("%(animal)s has been in care longer than expected and has never been assessed for release.",
                     animal=animal)
        return _("%(animal)s has been in care longer than expected; its last release assessment was on %(day)s.",
                 animal=animal, day=_day(alert.reference_at))
    if kind == "assessment_expiring":
        return _("A passed release assessment of %(animal)s expires on %(day)s: assess it again.",
                 animal=animal, day=_day(alert.reference_at))
    if kind == "hold_review":
        return _("The evidence hold on case %(case)s was last set or reviewed on %(day)s: confirm it or lift it.",
                 case=alert.case.reference, day=_day(alert.reference_at))
    return kind
