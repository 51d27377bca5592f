"""Forms of the case pages: a case (new and edit), the evidence hold, a custody hand-over.

The forms check only the shape of the input (lengths, a number, a date); the rules
(known sources, no future dates, coordinates as a pair, a reason for the hold) live
in animals.services, which the JSON API calls too, so that pages and API agree.
Restricted fields are removed from the form of a role that may not see them, so
such a role can neither see nor set them (see `strip_restricted`).
"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask_babel import get_timezone
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    DecimalField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.animals.models import Case, CaseSource
from app.auth.permissions import can
from app.reference.forms import VersionField

SOURCE_LABELS = {
    CaseSource.ENFORCEMENT_SEIZURE.value: _l("Enforcement seizure"),
    CaseSource.CUSTOMS_SEIZURE.value: _l("Customs seizure"),
    CaseSource.MARKET_INSPECTION.value: _l("Market inspection"),
    CaseSource.HOTLINE_REPORT.value: _l("Hotline report"),
    CaseSource.VOLUNTARY_SURRENDER.value: _l("Voluntary surrender"),
    CaseSource.FOUND_INJURED.value: _l("Found injured"),
    CaseSource.TRANSFER_IN.value: _l("Transfer in"),
    CaseSource.BORN_IN_CARE.value: _l("Born in care"),
}
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _zone() -> ZoneInfo:
    # Flask-Babel gives a pytz zone, which must not be used with replace(tzinfo=...) (that
    # gives the zone's first historical offset, e.g. +06:42 for Phnom Penh): use zoneinfo.
    zone = get_timezone()
    return ZoneInfo(getattr(zone, "zone", None) or str(zone))


def to_utc(local: datetime | None) -> datetime | None:
    """A naive datetime-local value, read in the facility's zone, as an aware UTC datetime."""
    if local is None:
        return None
    return local.replace(tzinfo=_zone()).astimezone(UTC)


def to_local(value: datetime | None) -> datetime | None:
    """A stored UTC datetime as the naive local value a datetime-local input shows."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(_zone()).replace(tzinfo=None)


class ServiceSelect(SelectField):
    """A select whose choice the service checks (its message is the one the user sees)."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("validate_choice", False)
        super().__init__(label, validators, **kwargs)


class CaseForm(FlaskForm):
    facility_id = SelectField(_l("Facility"), coerce=int, validators=[InputRequired()])
    occurred_at = DateTimeLocalField(_l("Date and time of the seizure"), format=LOCAL_FORMAT,
                                     validators=[InputRequired(message=_l("Give the date and time."))])
    # A blank first choice and no default: the source is evidence, so it is chosen, never assumed.
    source = ServiceSelect(_l("Source"),
                           choices=[SelectChoice("", _l("— choose —"))]
                           + [SelectChoice(k, v) for k, v in SOURCE_LABELS.items()],
                           validators=[InputRequired(message=_l("Choose the source."))])
    agency = StringField(_l("Agency"), filters=[_strip], validators=[Length(max=200)])
    officer = StringField(_l("Officer in charge"), filters=[_strip], validators=[Length(max=200)])
    legal_reference = StringField(_l("Legal case / evidence reference"), filters=[_strip],
                                  validators=[Length(max=200)])
    province = StringField(_l("Province"), filters=[_strip], validators=[Length(max=100)])
    district = StringField(_l("District"), filters=[_strip], validators=[Length(max=100)])
    place = StringField(_l("Place"), filters=[_strip], validators=[Length(max=300)])
    latitude = DecimalField(_l("Latitude"), places=None, validators=[Optional(), NumberRange(-90, 90)])
    longitude = DecimalField(_l("Longitude"), places=None, validators=[Optional(), NumberRange(-180, 180)])
    suspect_details = TextAreaField(_l("Suspect details"), filters=[_strip], validators=[Length(max=5000)])
    reporter = StringField(_l("Reporter"), filters=[_strip], validators=[Length(max=300)])
    notes = TextAreaField(_l("Notes"), filters=[_strip], validators=[Length(max=10000)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        strip_restricted(self)

    def values(self) -> dict:
        """What the form says, in the service's terms (facility and version excluded)."""
        values = {name: self[name].data for name in
                  ("source", "agency", "officer", "legal_reference", "province", "district", "place",
                   "latitude", "longitude", "suspect_details", "reporter", "notes") if name in self}
        for name in ("agency", "officer", "legal_reference", "province", "district", "place",
                     "suspect_details", "reporter", "notes"):
            if name in values and values[name] is None:
                values[name] = ""
        values["occurred_at"] = to_utc(self.occurred_at.data)
        return values


class EditCaseForm(CaseForm):
    """A case stays at the facility where it was recorded."""

    facility_id = None
    version = VersionField()


def strip_restricted(form: FlaskForm) -> None:
    """Roles that may not see restricted fields get a form without them (so they cannot set them)."""
    if not can("restricted_fields.view"):
        for name in Case.RESTRICTED:
            if name in form:
                del form[name]


class HoldForm(FlaskForm):
    active = HiddenField()
    # No "required" here: the service's message is the one the API gives too.
    reason = TextAreaField(_l("Reason"), filters=[_strip], validators=[Length(max=2000)])


class HandoverForm(FlaskForm):
    animal_id = SelectField(_l("What is handed over"), coerce=str, validate_choice=False)
    from_party = StringField(_l("From"), filters=[_strip], validators=[Length(max=200)])
    to_party = StringField(_l("To"), filters=[_strip], validators=[Length(max=200)])
    handed_at = DateTimeLocalField(_l("When"), format=LOCAL_FORMAT, validators=[Optional()])
    place = StringField(_l("Where"), filters=[_strip], validators=[Length(max=300)])
    purpose = StringField(_l("Purpose"), filters=[_strip], validators=[Length(max=300)])
    seal_ids = StringField(_l("Seal or label ids"), filters=[_strip], validators=[Length(max=300)])

    def values(self) -> dict:
        return {"from_party": self.from_party.data or "", "to_party": self.to_party.data or "",
                "handed_at": to_utc(self.handed_at.data), "place": self.place.data or "",
                "purpose": self.purpose.data or "", "seal_ids": self.seal_ids.data or ""}
