"""Forms of the care-planning pages: schedules of animals and enclosures, species templates.

As on the reference pages, the forms check only the shape of the input (a number, a
date, a length); the rules (known kinds, times written HH:MM, an interval of 1 to 365
days, diet rows with a food) live in care.services, which the JSON API calls too, so
the page shows the API's messages. Times are typed in one box ("08:00, 16:00") and
kept as typed when refused.
"""

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FloatField,
    Form,
    FormField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional, ValidationError

from app.care.models import CareKind
from app.reference.forms import TAXON_CLASS_LABELS, RuleCheckedSelect, VersionField, choices

KIND_LABELS = {
    CareKind.FEED.value: _l("Feed"),
    CareKind.CLEAN.value: _l("Clean"),
    CareKind.ENRICH.value: _l("Enrichment"),
    CareKind.OBSERVE.value: _l("Observe"),
    CareKind.WEIGH.value: _l("Weigh"),
    CareKind.MEDICATE.value: _l("Medicate"),
}

# The kinds a schedule or template form offers: a medication is prescribed by a vet (a course made
# from the prescription), never planned here; the service refuses it too. KIND_LABELS keeps its
# label for the lists, where prescriptions' courses show.
PLANNED_KIND_LABELS = {kind: label for kind, label in KIND_LABELS.items() if kind != CareKind.MEDICATE.value}

DIET_ROWS = 3  # empty rows shown on a new form; empty rows are ignored when saved
_SHORT_HOUR = re.compile(r"^\d:\d\d$")


def labels() -> dict:
    """The label tables the care templates use."""
    return {"kind_labels": KIND_LABELS, "taxon_classes": TAXON_CLASS_LABELS}


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def parse_times(text: str | None) -> list[str]:
    """ "08:00, 16:00" (commas, semicolons or spaces) → ["08:00", "16:00"]; the service checks each one."""
    parts = [p for p in re.split(r"[\s,;]+", text or "") if p]
    # "8:00" is a common way of writing 08:00; anything else is left for the service to refuse.
    return ["0" + p if _SHORT_HOUR.match(p) else p for p in parts]


def times_text(times: list[str] | None) -> str:
    return ", ".join(times or [])


def _grams(value: float | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


class DietRowForm(Form):
    """One diet item: food, grams, preparation (a sub-form: the CSRF token is the outer form's)."""

    food = StringField(_l("Food"), filters=[_strip], validators=[Length(max=200)])
    grams = FloatField(_l("Grams"), validators=[Optional()])
    preparation = StringField(_l("Preparation"), filters=[_strip], validators=[Length(max=300)])


class PlanForm(FlaskForm):
    """What a schedule and a template share: kind, timing, instructions, diet."""

    kind = RuleCheckedSelect(_l("Kind of care"), choices=choices(PLANNED_KIND_LABELS),
                             default=CareKind.FEED.value)
    times = StringField(_l("Times of day"), filters=[_strip], validators=[Length(max=200)],
                        render_kw={"placeholder": "08:00, 16:00"})
    every_days = IntegerField(_l("Every … days"), validators=[Optional()], render_kw={"min": 1, "max": 365})
    instructions = TextAreaField(_l("Instructions"), validators=[Length(max=5000)], render_kw={"rows": 3})
    diet = FieldList(FormField(DietRowForm), min_entries=DIET_ROWS, max_entries=30)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.diet_messages: list[str] = []

    def plan_values(self) -> dict:
        """The form in the service's terms."""
        return {
            "kind": self.kind.data,
            "times": parse_times(self.times.data),
            "every_days": self.every_days.data,
            "instructions": self.instructions.data or "",
            "diet_items": [{"food": row.food.data or "", "grams": _grams(row.grams.data),
                            "preparation": row.preparation.data or ""} for row in self.diet],
        }

    def add_errors(self, fields: dict[str, list[str]]) -> None:
        """The service's messages next to their fields; the diet's under the diet table, others above the form."""
        for name, messages in fields.items():
            if name == "diet_items":
                self.diet_messages.extend(messages)
                continue
            field = self._fields.get(name)
            if field is not None and name not in ("version", "diet", "csrf_token"):
                field.errors = [*field.errors, *messages]
            else:
                self.form_errors.extend(messages)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or self.diet_messages)


def plan_data(record) -> dict:
    """A schedule's or template's values as form data (times as one text, diet padded with empty rows)."""
    diet = [dict(item) for item in record.diet_items or []]
    diet += [{} for _ in range(max(0, DIET_ROWS - len(diet)))]
    return {"kind": record.kind, "times": times_text(record.times), "every_days": record.every_days,
            "instructions": record.instructions, "diet": diet, "version": record.version}


class ScheduleForm(PlanForm):
    starts_on = DateField(_l("First day"), validators=[Optional()])
    ends_on = DateField(_l("Last day"), validators=[Optional()])

    def values(self) -> dict:
        return self.plan_values() | {"starts_on": self.starts_on.data, "ends_on": self.ends_on.data}


class EditScheduleForm(ScheduleForm):
    version = VersionField()


def schedule_data(schedule) -> dict:
    return plan_data(schedule) | {"starts_on": schedule.starts_on, "ends_on": schedule.ends_on}


def _optional_int(value):
    return int(value) if value not in (None, "") else None


class TemplateForm(PlanForm):
    """A new template: for one species, or for a whole taxon class (its species without their own)."""

    species_id = SelectField(_l("Species"), coerce=_optional_int)
    taxon_class = SelectField(_l("Taxon class"), choices=[SelectChoice("", "—"), *choices(TAXON_CLASS_LABELS)])

    def set_species(self, species) -> None:
        self.species_id.choices = [SelectChoice("", _l("— a whole taxon class —")),
                                   *(SelectChoice(s.id, str(s)) for s in species)]

    def validate_taxon_class(self, field):
        if field.data and self.species_id.data:
            raise ValidationError(_l("Choose a species or a taxon class, not both."))

    def values(self) -> dict:
        return self.plan_values() | {"species_id": self.species_id.data, "taxon_class": self.taxon_class.data or None}


class EditTemplateForm(PlanForm):
    """A template stays for its species or class; it can be switched off instead of deleted."""

    is_active = BooleanField(_l("Applied to new animals"))
    version = VersionField()

    def values(self) -> dict:
        return self.plan_values() | {"is_active": bool(self.is_active.data)}


def template_data(template) -> dict:
    return plan_data(template) | {"is_active": template.is_active}
