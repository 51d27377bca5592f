"""Forms of the pages where animals leave a facility: transfers within and out of the network, escapes,
and the observations of released animals.

They check only the shape of the input (a number, a time, a length); the rules (a
count within the lot, the permits a transfer out needs, an evidence hold, a
receiving facility that is open, an animal that was released) live in
app.releases.transfers and app.releases.monitoring, so the pages show the services'
own messages next to the fields.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, IntegerField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from app.reference.forms import RuleCheckedSelect
from app.releases.models import ObservationKind

TEXT_MAX = 10_000

OBSERVATION_KIND_LABELS = {
    ObservationKind.SIGHTING.value: _l("Sighting"),
    ObservationKind.TELEMETRY.value: _l("Telemetry fix"),
    ObservationKind.FOUND_DEAD.value: _l("Found dead"),
    ObservationKind.RECAPTURED.value: _l("Recaptured"),
}


def _facility_id(value):
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1  # not a facility: refused by the page's check


class TransferForm(FlaskForm):
    """Animals going to another facility of the network; for a lot, how many of those in care."""

    to_facility_id = RuleCheckedSelect(_l("To facility"), coerce=_facility_id)
    count = IntegerField(_l("How many"), validators=[Optional()])
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=TEXT_MAX)])
    handed_to = StringField(_l("Handed to (the person receiving them)"), validators=[Optional(), Length(max=200)])
    transferred_at = DateTimeLocalField(_l("Transferred at (the facility's local time)"), validators=[Optional()])

    def set_facilities(self, facilities) -> None:
        self.to_facility_id.choices = [SelectChoice("", "—")] + [
            SelectChoice(str(f.id), f"{f.code} · {f.name}") for f in facilities]


class TransferOutForm(FlaskForm):
    """Animals handed to an institution outside the network, with its country and the permits."""

    institution = StringField(_l("Receiving institution"), validators=[Optional(), Length(max=200)])
    country = StringField(_l("Country"), validators=[Optional(), Length(max=100)])
    permit_numbers = StringField(_l("Permit numbers (CITES and national)"), validators=[Optional(),
                                                                                         Length(max=300)])
    count = IntegerField(_l("How many"), validators=[Optional()])
    occurred_at = DateTimeLocalField(_l("When (the facility's local time)"), validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=TEXT_MAX)])


class EscapeForm(FlaskForm):
    """Animals that escaped; a recapture is a new intake."""

    count = IntegerField(_l("How many"), validators=[Optional()])
    occurred_at = DateTimeLocalField(_l("When (the facility's local time)"), validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=TEXT_MAX)])


class ObservationForm(FlaskForm):
    """A sighting, a telemetry fix, an animal found dead or recaptured, after its release."""

    kind = RadioField(_l("What was observed"), validate_choice=False,
                      choices=[SelectChoice(value, label) for value, label in OBSERVATION_KIND_LABELS.items()])
    observed_at = DateTimeLocalField(_l("When (the facility's local time)"), validators=[Optional()])
    count = IntegerField(_l("How many"), validators=[Optional()])
    latitude = StringField(_l("Latitude"), validators=[Optional(), Length(max=20)])
    longitude = StringField(_l("Longitude"), validators=[Optional(), Length(max=20)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=TEXT_MAX)])
