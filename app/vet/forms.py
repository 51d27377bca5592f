"""Forms of the vet's record pages: exam, problem, prescription, its stop, lab result and its outcome.

As on the other domains' pages, the forms check only the shape of the input (a
number, a date, a length); the rules (a temperature between 5 and 50 °C, a frequency
that fits a daily clock, a weight to dose from, no date in the future) live in
app.vet.services and app.vet.prescriptions, which the JSON API calls too, so the page
shows the API's messages.
"""

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    DecimalField,
    IntegerField,
    RadioField,
    SelectChoice,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional

from app.reference.forms import RuleCheckedSelect, VersionField, choices
from app.vet.models import Frequency, Interpretation, ProblemStatus, Route

ROUTE_LABELS = {
    Route.PO.value: _l("PO (by mouth)"),
    Route.SC.value: _l("SC (under the skin)"),
    Route.IM.value: _l("IM (into a muscle)"),
    Route.IV.value: _l("IV (into a vein)"),
    Route.TOPICAL.value: _l("Topical (on the skin)"),
    Route.OPHTHALMIC.value: _l("Ophthalmic (in the eye)"),
    Route.INHALED.value: _l("Inhaled"),
    Route.OTHER.value: _l("Other (say how in the instructions)"),
}
EVERY_N_HOURS = "q"
FREQUENCY_LABELS = {
    Frequency.SID.value: _l("SID · once a day"),
    Frequency.BID.value: _l("BID · twice a day"),
    Frequency.TID.value: _l("TID · three times a day"),
    Frequency.QID.value: _l("QID · four times a day"),
    EVERY_N_HOURS: _l("Every … hours"),
}
STATUS_LABELS = {ProblemStatus.ACTIVE.value: _l("Active"), ProblemStatus.RESOLVED.value: _l("Resolved")}
INTERPRETATION_LABELS = {
    Interpretation.NEGATIVE.value: _l("Negative"),
    Interpretation.POSITIVE.value: _l("Positive"),
    Interpretation.INCONCLUSIVE.value: _l("Inconclusive"),
}
# Offered in the test box's list; any other test may be typed.
COMMON_TESTS = (
    _l("tuberculin test"),
    _l("herpes B serology"),
    _l("faecal parasitology"),
    _l("haematology"),
    _l("biochemistry"),
    _l("avian influenza PCR"),
    _l("Chlamydia psittaci PCR"),
    _l("salmonella culture"),
)
# The browser's own format first (it is how the default is written into the box).
LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
_EVERY_HOURS = re.compile(r"^q(\d{1,3})h$")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class ExamForm(FlaskForm):
    examined_at = DateTimeLocalField(_l("Examined at"), validators=[Optional()], format=LOCAL_FORMATS)
    weight_g = DecimalField(_l("Weight (g)"), places=1, validators=[Optional()], render_kw={"inputmode": "decimal"})
    bcs = IntegerField(_l("Body condition (1-9)"), validators=[Optional()], render_kw={"inputmode": "numeric"})
    temperature_c = DecimalField(_l("Temperature (°C)"), places=1, validators=[Optional()],
                                 render_kw={"inputmode": "decimal"})
    findings = TextAreaField(_l("Findings"), validators=[Length(max=20000)], render_kw={"rows": 4})
    assessment = TextAreaField(_l("Assessment"), validators=[Length(max=20000)], render_kw={"rows": 3})
    plan = TextAreaField(_l("Plan"), validators=[Length(max=20000)], render_kw={"rows": 3})


class ProblemForm(FlaskForm):
    diagnosis = StringField(_l("Diagnosis"), filters=[_strip], validators=[Length(max=300)])
    onset_on = DateField(_l("Onset"), validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Length(max=20000)], render_kw={"rows": 3})

    def values(self) -> dict:
        return {"diagnosis": self.diagnosis.data or "", "onset_on": self.onset_on.data, "notes": self.notes.data or ""}


class EditProblemForm(ProblemForm):
    status = RuleCheckedSelect(_l("Status"), choices=choices(STATUS_LABELS), default=ProblemStatus.ACTIVE.value)
    resolved_on = DateField(_l("Resolved on (empty: today)"), validators=[Optional()])
    version = VersionField()

    def values(self) -> dict:
        return {**super().values(), "status": self.status.data, "resolved_on": self.resolved_on.data}


def problem_data(problem) -> dict:
    """An edit form's starting values: the problem as stored."""
    return {"diagnosis": problem.diagnosis, "onset_on": problem.onset_on, "notes": problem.notes,
            "status": problem.status, "resolved_on": problem.resolved_on, "version": problem.version}


class PrescriptionForm(FlaskForm):
    drug = StringField(_l("Drug"), filters=[_strip], validators=[Length(max=120)])
    dose_mg_per_kg = DecimalField(_l("Dose (mg/kg)"), validators=[Optional()], render_kw={"inputmode": "decimal"})
    concentration_mg_per_ml = DecimalField(_l("Concentration (mg/ml, liquids)"), validators=[Optional()],
                                           render_kw={"inputmode": "decimal"})
    route = RuleCheckedSelect(_l("Route"), choices=[SelectChoice("", "—"), *choices(ROUTE_LABELS)])
    frequency = RadioField(_l("Frequency"), choices=choices(FREQUENCY_LABELS), validate_choice=False)
    every_hours = IntegerField(_l("Every … hours"), validators=[Optional()],
                               render_kw={"inputmode": "numeric", "min": 1, "placeholder": "8"})
    starts_on = DateField(_l("First day"), validators=[Optional()])
    days = IntegerField(_l("Days"), validators=[Optional()], render_kw={"inputmode": "numeric", "min": 1})
    instructions = TextAreaField(_l("Instructions"), validators=[Length(max=5000)], render_kw={"rows": 2})
    keeper_may_give = BooleanField(_l("Keepers may give it"))

    def process(self, *args, **kwargs):
        super().process(*args, **kwargs)
        # "q8h" sent as the frequency itself (a bookmarked or scripted form) shows as "every 8 hours".
        match = _EVERY_HOURS.match(self.frequency.data or "")
        if match and self.every_hours.data is None:
            self.frequency.data, self.every_hours.data = EVERY_N_HOURS, int(match.group(1))

    def frequency_value(self) -> str:
        """The frequency in the service's terms: SID/BID/TID/QID or q<N>h."""
        if self.frequency.data == EVERY_N_HOURS:
            return f"q{self.every_hours.data}h" if self.every_hours.data is not None else ""
        return self.frequency.data or ""

    def values(self) -> dict:
        return {
            "drug": self.drug.data or "", "dose_mg_per_kg": self.dose_mg_per_kg.data,
            "concentration_mg_per_ml": self.concentration_mg_per_ml.data, "route": self.route.data or "",
            "frequency": self.frequency_value(), "starts_on": self.starts_on.data, "days": self.days.data,
            "instructions": self.instructions.data or "", "keeper_may_give": bool(self.keeper_may_give.data),
        }


class StopPrescriptionForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[Length(max=2000)], render_kw={"rows": 2})


class LabOutcomeForm(FlaskForm):
    """The result of a pending test."""

    result = TextAreaField(_l("Result"), validators=[Length(max=20000)], render_kw={"rows": 3})
    interpretation = RuleCheckedSelect(_l("Interpretation"),
                                       choices=[SelectChoice("", "—"), *choices(INTERPRETATION_LABELS)])
    file = FileField(_l("Lab report (PDF or photo, optional)"),
                     render_kw={"accept": "application/pdf,image/jpeg,image/png,image/webp"})


class LabResultForm(LabOutcomeForm):
    """A sample sent: with an interpretation it is a result, without one it is pending."""

    test = StringField(_l("Test"), filters=[_strip], validators=[Length(max=120)],
                       render_kw={"list": "common-tests", "autocomplete": "off"})
    sampled_on = DateField(_l("Sampled on"), validators=[Optional()])
    interpretation = RuleCheckedSelect(_l("Interpretation"),
                                       choices=[SelectChoice("", _l("Pending (no result yet)")),
                                                *choices(INTERPRETATION_LABELS)])
