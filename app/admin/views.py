"""User administration and the audit log browser (admin only).

Every view checks its permission with @require; writes go through auth.services and
are committed here, once, then POST/redirect/GET. CSRF is checked for every POST by
the app (common.security). The audit log is read-only.
"""

import re
from datetime import datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError
from wtforms import Field

from app.admin import queries as audit_queries
from app.admin.forms import AuditFilterForm, EditUserForm, NewUserForm, select_choices
from app.auth import services
from app.auth.forms import LANGUAGE_CHOICES, ROLE_CHOICES, ResetPasswordForm
from app.auth.models import NETWORK_ROLES, User
from app.auth.permissions import require
from app.auth.queries import get_user, list_facilities, list_users
from app.common.filters import localtime
from app.extensions import db

bp = Blueprint("admin", __name__, url_prefix="/admin")

# Actions the capture and the auth events write; offered as suggestions on the filter.
KNOWN_ACTIONS = ("insert", "update", "delete", "login", "login_failed", "logout", "access_denied")

# An instant as the audit capture stores it: ISO 8601 with a UTC offset.
_ISO_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)$")


def audit_time(value: str) -> str:
    """A stored value for display: instants in the page's time zone, anything else as it is."""
    if _ISO_INSTANT.match(value):
        try:
            return localtime(datetime.fromisoformat(value), "medium")
        except ValueError:
            return value
    return value


def _labels() -> dict:
    """Role and language labels for the templates."""
    return {
        "role_labels": dict(ROLE_CHOICES),
        "language_labels": dict(LANGUAGE_CHOICES),
        "network_roles": NETWORK_ROLES,
    }


def _facility_choices():
    choices = []
    for facility in list_facilities():
        label = f"{facility.code} — {facility.name}"
        if not facility.is_active:
            label += " (" + _("inactive") + ")"
        choices.append((facility.id, label))
    return select_choices(choices)


def _show_account_errors(form, error: services.AccountError) -> None:
    """Put the service's messages on the matching fields; the rest above the form."""
    for name, messages in error.fields.items():
        field = form._fields.get(name)
        if isinstance(field, Field):
            field.errors = [*field.errors, *messages]
        else:
            form.form_errors.extend(messages)


def _page_arg() -> int:
    return max(1, request.args.get("page", 1, type=int) or 1)


@bp.get("/users")
@require("user.manage")
def users():
    q = (request.args.get("q") or "").strip()
    page = list_users(page=_page_arg(), q=q or None)
    return render_template("admin/users.html", page=page, q=q, **_labels())


@bp.route("/users/new", methods=["GET", "POST"])
@require("user.manage")
def new_user():
    form = NewUserForm()
    form.facility_ids.choices = _facility_choices()
    if form.validate_on_submit():
        try:
            user = services.create_user(
                email=form.email.data, name=form.name.data, role=form.role.data, password=form.password.data,
                facility_ids=form.facility_ids.data or [], locale=form.locale.data or None,
                must_change_password=True,
            )
        except services.AccountError as error:
            db.session.rollback()
            _show_account_errors(form, error)
        else:
            db.session.commit()
            flash(_("%(name)s can now sign in with the initial password and will be asked to choose a new one.",
                    name=user.name), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=None, conflict=False, **_labels())


def _edit_data(user: User) -> dict:
    return {
        "name": user.name, "role": user.role, "locale": user.locale or "",
        "facility_ids": [f.id for f in user.facilities], "version": user.version,
    }


def _conflict(form: EditUserForm, user: User):
    """409: keep what was typed, show the current values, and arm the form with the current version."""
    form.version.data = user.version
    form.version.raw_data = [str(user.version)]
    return render_template("admin/user_form.html", form=form, user=user, conflict=True, **_labels()), 409


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@require("user.manage")
def edit_user(user_id: int):
    user = get_user(user_id)
    form = EditUserForm() if request.method == "POST" else EditUserForm(formdata=None, data=_edit_data(user))
    form.facility_ids.choices = _facility_choices()
    if form.validate_on_submit():
        if form.version.data != user.version:
            return _conflict(form, user)
        if user.id == current_user.id and form.role.data != user.role:
            form.role.errors = [*form.role.errors, _("You cannot change your own role. Ask another administrator.")]
        else:
            try:
                services.update_user(
                    user, name=form.name.data, role=form.role.data, facility_ids=form.facility_ids.data or [],
                    locale=form.locale.data or None,
                )
            except services.AccountError as error:
                db.session.rollback()
                _show_account_errors(form, error)
            except StaleDataError:
                # Changed between our read and our write: the same answer as a stale form.
                db.session.rollback()
                return _conflict(form, get_user(user_id))
            else:
                db.session.commit()
                flash(_("The changes to %(name)s are saved.", name=user.name), "success")
                return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=user, conflict=False,
                           **_labels())


@bp.post("/users/<int:user_id>/deactivate")
@require("user.manage")
def deactivate_user(user_id: int):
    user = get_user(user_id)
    if user.id == current_user.id:
        flash(_("You cannot deactivate your own account. Ask another administrator."), "danger")
    elif not user.is_active:
        flash(_("%(name)s is already inactive.", name=user.name), "info")
    else:
        services.deactivate_user(user)
        db.session.commit()
        flash(_("%(name)s is deactivated and signed out everywhere.", name=user.name), "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/reactivate")
@require("user.manage")
def reactivate_user(user_id: int):
    user = get_user(user_id)
    if user.is_active:
        flash(_("%(name)s is already active.", name=user.name), "info")
    else:
        services.reactivate_user(user)
        db.session.commit()
        flash(_("%(name)s can sign in again.", name=user.name), "success")
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/reset-password", methods=["GET", "POST"])
@require("user.manage")
def reset_password(user_id: int):
    user = get_user(user_id)
    if user.id == current_user.id:
        # A reset would sign the admin out mid-task; the own-password page keeps this session.
        flash(_("To change your own password, use this page."), "info")
        return redirect(url_for("auth.change_password"))
    form = ResetPasswordForm()
    form._user_email = user.email
    if form.validate_on_submit():
        try:
            services.set_password(user, form.new_password.data, must_change=True)
        except services.AccountError as error:
            db.session.rollback()
            form.new_password.errors = [*form.new_password.errors, *error.fields.get("password", [])]
        else:
            db.session.commit()
            flash(_("The password of %(name)s is reset: they are signed out and must choose a new one "
                    "at their next sign-in.", name=user.name), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/reset_password.html", form=form, user=user)


@bp.get("/audit")
@require("audit.view")
def audit_log():
    form = AuditFilterForm(request.args)
    types = audit_queries.list_entity_types()
    form.entity_type.choices = select_choices([("", _("Any type")), *((t, t) for t in types)])
    form.validate()
    zone = get_timezone()
    since, before = audit_queries.local_date_range(
        None if form.date_from.errors else form.date_from.data,
        None if form.date_to.errors else form.date_to.data,
        zone,
    )

    def text(field) -> str | None:
        return None if field.errors else (field.data or "").strip() or None

    filters = audit_queries.AuditFilters(
        entity_type=form.entity_type.data or None, entity_id=text(form.entity_id), actor=text(form.actor),
        action=(text(form.action) or "").lower() or None, since=since, before=before,
    )
    page = audit_queries.list_audit_events(filters, page=_page_arg())
    return render_template("admin/audit.html", form=form, page=page, known_actions=KNOWN_ACTIONS,
                           zone=str(zone), audit_time=audit_time)
