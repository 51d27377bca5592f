"""Forms of the admin pages: a new user, a user's edit, and the audit log filters.

The password policy and the duplicate-email check live in auth.services, which
reports every problem at once (AccountError.fields); these forms only check the
shape of the input, so one submission shows all that is wrong with it.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    EmailField,
    Form,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, HiddenInput, ListWidget

from app.auth.forms import LANGUAGE_CHOICES, ROLE_CHOICES


def select_choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices (raw tuples are deprecated in WTForms 3.3)."""
    return [SelectChoice(value, label) for value, label in pairs]


ROLES = select_choices(ROLE_CHOICES)
LANGUAGES = select_choices(LANGUAGE_CHOICES)

class FacilitiesField(SelectMultipleField):
    """Facilities as a list of checkboxes: easier than a multi-select on a tablet."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("coerce", int)
        super().__init__(*args, **kwargs)


class NewUserForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    role = SelectField(_l("Role"), choices=ROLES)
    facility_ids = FacilitiesField(_l("Facilities"))
    locale = SelectField(_l("Language"), choices=LANGUAGES)
    # Named like the service's field, so AccountError.fields["password"] lands here.
    password = PasswordField(_l("Initial password"), validators=[DataRequired(), Length(max=200)])


class EditUserForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    role = SelectField(_l("Role"), choices=ROLES)
    facility_ids = FacilitiesField(_l("Facilities"))
    locale = SelectField(_l("Language"), choices=LANGUAGES)
    # The row version the form was loaded from; a different current one is a conflict.
    version = IntegerField(widget=HiddenInput(), validators=[Optional()])


class AuditFilterForm(Form):
    """Query-string filters of the audit log (a GET form: no CSRF, bookmarkable)."""

    entity_type = SelectField(_l("Record type"), choices=[], validate_choice=False)
    entity_id = StringField(_l("Record id"), validators=[Optional(), Length(max=60)])
    actor = StringField(_l("Who"), validators=[Optional(), Length(max=254)])
    action = StringField(_l("Action"), validators=[Optional(), Length(max=40)])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date is before the start date."))
