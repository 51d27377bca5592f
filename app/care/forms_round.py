"""Forms keepers submit: a task done from the round, an ad-hoc care log, a weighing.

Each carries a client id made when the form is shown, so a resubmission after a
dropped connection is stored once (app.care.records).
"""

import uuid

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateTimeLocalField, DecimalField, HiddenField, IntegerField, SelectField, TextAreaField
from wtforms.validators import NumberRange, Optional

from app.care.models import CareKind, DoseResult, Eaten

EATEN_LABELS = {Eaten.ALL: _l("All"), Eaten.MOST: _l("Most"), Eaten.HALF: _l("Half"), Eaten.LITTLE: _l("Little"),
                Eaten.NONE: _l("None")}
KIND_LABELS = {CareKind.FEED: _l("Feeding"), CareKind.CLEAN: _l("Cleaning"), CareKind.ENRICH: _l("Enrichment"),
               CareKind.OBSERVE: _l("Observation"), CareKind.WEIGH: _l("Weighing"),
               CareKind.MEDICATE: _l("Medication")}
# What became of a dose, in the order of the round's buttons (Given first: the usual answer).
DOSE_LABELS = {DoseResult.GIVEN: _l("Given"), DoseResult.REFUSED: _l("Refused"), DoseResult.VOMITED: _l("Vomited"),
               DoseResult.MISSED: _l("Missed")}


def new_client_id() -> str:
    return uuid.uuid4().hex


class _Retryable(FlaskForm):
    client_id = HiddenField(default=new_client_id)


class TaskForm(_Retryable):
    """A task done: the eaten amount (a feeding) or the dose's result (a medication) comes from the button
    tapped; the rest is optional."""

    eaten = HiddenField()
    given = HiddenField()
    notes = TextAreaField(_l("Note"), validators=[Optional()])
    grams = DecimalField(_l("Weight (g)"), places=1, validators=[Optional()])
    bcs = IntegerField(_l("Body condition (1-9)"), validators=[Optional(), NumberRange(1, 9)])
    photo = FileField(_l("Photo"))


class EnclosureDoneForm(_Retryable):
    """"All done in this enclosure": one tap, nothing to fill."""


class CareLogForm(_Retryable):
    kind = SelectField(_l("Kind of care"), choices=[(k.value, label) for k, label in KIND_LABELS.items()
                                                    if k != CareKind.MEDICATE])
    done_at = DateTimeLocalField(_l("Done at (leave empty for now)"), validators=[Optional()])
    eaten = SelectField(_l("Eaten (feedings)"), choices=[("", "—")] + [(k.value, v) for k, v in EATEN_LABELS.items()],
                        validators=[Optional()])
    appetite = SelectField(_l("Appetite"), validators=[Optional()],
                           choices=[("", "—"), ("good", _l("Good")), ("reduced", _l("Reduced")), ("none", _l("None"))])
    stool = SelectField(_l("Stool"), validators=[Optional()],
                        choices=[("", "—"), ("normal", _l("Normal")), ("soft", _l("Soft")),
                                 ("diarrhoea", _l("Diarrhoea")), ("none", _l("None seen")),
                                 ("blood", _l("Blood seen"))])
    behaviour = TextAreaField(_l("Behaviour"), validators=[Optional()])
    head_count = IntegerField(_l("Animals seen (lots)"), validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Optional()])


class WeightForm(_Retryable):
    grams = DecimalField(_l("Weight (g)"), places=1)
    bcs = IntegerField(_l("Body condition (1-9)"), validators=[Optional(), NumberRange(1, 9)])
    measured_at = DateTimeLocalField(_l("Weighed at (leave empty for now)"), validators=[Optional()])
