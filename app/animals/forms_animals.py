"""The animal edit form (the facts a coordinator may correct after intake)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, NumberRange, Optional

from app.animals.models import AgeClass, IntakeCondition, Releasability, Sex


def _choices(enum):
    return [SelectChoice(m.value, m.value.replace("_", " ")) for m in enum]


class AnimalForm(FlaskForm):
    name = StringField(_l("Name"), validators=[Optional(), Length(max=100)])
    sex = SelectField(_l("Sex"), choices=_choices(Sex))
    age_class = SelectField(_l("Age class"), choices=_choices(AgeClass))
    intake_condition = SelectField(_l("Condition at intake"), choices=_choices(IntakeCondition))
    intake_weight_g = IntegerField(_l("Weight at intake (g)"), validators=[Optional(), NumberRange(1, 1_000_000)])
    releasability = SelectField(_l("Releasability"), choices=_choices(Releasability))
    releasability_reason = TextAreaField(_l("Why (required for a lifetime resident)"),
                                         validators=[Optional(), Length(max=2000)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=10000)])
    version = HiddenField()

    def values(self) -> dict:
        return {name: getattr(self, name).data for name in (
            "name", "sex", "age_class", "intake_condition", "intake_weight_g", "releasability",
            "releasability_reason", "notes")} | {"name": (self.name.data or "").strip()}

    def add_errors(self, fields: dict[str, list[str]]) -> None:
        for name, messages in fields.items():
            field = getattr(self, name, None)
            target = field.errors if field is not None else self.form_errors
            target.extend(messages)

    def validate_version(self, field):
        field.data = int(field.data) if str(field.data or "").isdigit() else None
