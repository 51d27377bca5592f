"""Forms of the pages that end care or quarantine: death, euthanasia and its authorisation, necropsy, clearance.

They check only the shape of the input (a number, a date, a length); the rules (a
count within the lot, no time in the future, a reason for a euthanasia, an evidence
hold's authorisation, results for every required test) live in app.vet.deaths and
app.vet.quarantine, so the pages show the services' own messages next to the fields.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, DateTimeLocalField, IntegerField, MultipleFileField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from app.reference.forms import TAXON_CLASS_LABELS, RuleCheckedSelect, choices

TEXT_MAX = 10_000


class DeathForm(FlaskForm):
    """Animals found dead or dying in care; for a lot, how many of those in care."""

    occurred_at = DateTimeLocalField(_l("When (the facility's local time)"), validators=[Optional()])
    count = IntegerField(_l("How many"), validators=[Optional()])
    cause = TextAreaField(_l("Cause, as far as known"), validators=[Optional(), Length(max=TEXT_MAX)])
    necropsy_findings = TextAreaField(_l("Necropsy findings"), validators=[Optional(), Length(max=TEXT_MAX)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=TEXT_MAX)])
    files = MultipleFileField(_l("Necropsy photos or reports (PDF), optional"))


class EuthanasiaForm(DeathForm):
    """A vet's euthanasia: the same facts as a death, and the reason (required, checked by the service)."""

    reason = TextAreaField(_l("Reason for euthanasia"), validators=[Optional(), Length(max=TEXT_MAX)])


class AuthoriseEuthanasiaForm(FlaskForm):
    """A coordinator lets one euthanasia of an animal under an evidence hold go ahead, saying why."""

    reason = TextAreaField(_l("Why the evidence hold may be overridden"), validators=[Optional(),
                                                                                    Length(max=TEXT_MAX)])


class NecropsyForm(FlaskForm):
    """Findings that come days after the death, and the lab's photos or report."""

    necropsy_findings = TextAreaField(_l("Necropsy findings"), validators=[Optional(), Length(max=TEXT_MAX)])
    files = MultipleFileField(_l("Photos or reports (PDF), optional"))


class ClearQuarantineForm(FlaskForm):
    cleared_on = DateField(_l("Cleared on"), validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=TEXT_MAX)])


def _species_id(value):
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1  # not a species: refused by the choice check


class QuarantineTestForm(FlaskForm):
    """A test a species, or every species of a taxon class, needs a result for before clearance."""

    test = StringField(_l("Test"), validators=[Optional(), Length(max=120)])
    species_id = RuleCheckedSelect(_l("Species"), coerce=_species_id, validate_choice=True)
    taxon_class = RuleCheckedSelect(_l("or a whole taxon class"),
                                    choices=[SelectChoice("", "—"), *choices(TAXON_CLASS_LABELS)], validate_choice=True,
                                    default="")

    def set_species(self, species) -> None:
        self.species_id.choices = [SelectChoice("", "—")] + [
            SelectChoice(str(s.id), f"{s.common_name_en} · {s.scientific_name}") for s in species]


class RemoveQuarantineTestForm(FlaskForm):
    """Only the CSRF token: removing a required test is one button."""
