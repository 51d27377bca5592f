"""Sign-in, password and token forms (Flask-WTF: CSRF on every one)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, IntegerField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional, ValidationError

from app.auth.models import Role
from app.auth.passwords import password_problems

ROLE_CHOICES = [
    (Role.ADMIN.value, _l("Administrator")),
    (Role.COORDINATOR.value, _l("Coordinator")),
    (Role.VET.value, _l("Veterinarian")),
    (Role.KEEPER.value, _l("Keeper")),
    (Role.VIEWER.value, _l("Viewer")),
]
LANGUAGE_CHOICES = [("", _l("Browser default")), ("en", "English"), ("km", "ខ្មែរ")]


class NewPasswordMixin:
    """Checks a new password against the policy (length, common list, own name)."""

    def validate_new_password(self, field):
        email = getattr(getattr(self, "email", None), "data", None) or getattr(self, "_user_email", "")
        problems = password_problems(field.data or "", email=email or "")
        if problems:
            raise ValidationError(" ".join(problems))


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class ChangePasswordForm(NewPasswordMixin, FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)])
    confirm = PasswordField(
        _l("New password again"), validators=[DataRequired(), EqualTo("new_password", _l("The two do not match."))]
    )


class TokenForm(FlaskForm):
    name = StringField(_l("What is it for?"), validators=[DataRequired(), Length(max=100)])
    days = IntegerField(
        _l("Expires after (days, empty for never)"), validators=[Optional(), NumberRange(min=1, max=3650)]
    )


class ResetPasswordForm(NewPasswordMixin, FlaskForm):
    new_password = PasswordField(_l("Temporary password"), validators=[DataRequired(), Length(max=200)])
