"""Sign in, sign out, change password, and the user's own API tokens."""


from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.auth import events, tokens
from app.auth.forms import ChangePasswordForm, LoginForm, TokenForm
from app.auth.models import ApiToken
from app.auth.passwords import verify_password
from app.auth.permissions import require
from app.auth.queries import find_user_by_email
from app.auth.services import AccountError, set_password
from app.auth.sessions import end_session, start_session
from app.auth.throttle import throttled
from app.common.security import is_local_path
from app.extensions import db

bp = Blueprint("auth", __name__)

# Pages a user who must change the password may still open.
_ALLOWED_BEFORE_CHANGE = {"auth.change_password", "auth.logout", "static", "core.healthz"}


def _safe_next(target: str | None) -> str:
    """Only local paths, so the sign-in page cannot be used to send people elsewhere."""
    if is_local_path(target):
        return target
    return url_for("core.home")


@bp.route("/login", methods=["GET", "POST"])
@throttled
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = find_user_by_email(form.email.data)
        if user and user.is_active and verify_password(user.password_hash, form.password.data):
            start_session(user)
            events.record_login(user)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
        events.record_login_failed(form.email.data)
        flash(_("Wrong email or password, or the account is not active."), "danger")
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    user = current_user._get_current_object()
    events.record_logout(user)
    end_session(user)
    db.session.commit()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    form._user_email = current_user.email
    if form.validate_on_submit():
        if not verify_password(current_user.password_hash, form.current_password.data):
            form.current_password.errors.append(_("This is not your current password."))
        else:
            try:
                set_password(current_user, form.new_password.data, must_change=False,
                             keep_session=current_user.login_session_id)
            except AccountError as error:
                form.new_password.errors.extend(error.fields.get("password", []))
            else:
                db.session.commit()
                flash(_("Your password is changed. Other devices were signed out."), "success")
                return redirect(url_for("core.home"))
    return render_template("auth/change_password.html", form=form)


@bp.route("/account/tokens", methods=["GET", "POST"])
@require("token.manage_own")
def api_tokens():
    form = TokenForm()
    new_token = None
    if form.validate_on_submit():
        _row, new_token = tokens.create_token(current_user, form.name.data, days=form.days.data)
        db.session.commit()
        form = TokenForm(formdata=None)
    return render_template(
        "auth/tokens.html", form=form, new_token=new_token, tokens=tokens.list_tokens(current_user),
    )


@bp.post("/account/tokens/<int:token_id>/revoke")
@require("token.manage_own")
def revoke_api_token(token_id: int):
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    tokens.revoke_token(token)
    db.session.commit()
    flash(_("The token is revoked."), "success")
    return redirect(url_for("auth.api_tokens"))


@bp.before_app_request
def _force_password_change():
    if (
        current_user.is_authenticated
        and current_user.must_change_password
        and not request.path.startswith("/api/")
        and request.endpoint not in _ALLOWED_BEFORE_CHANGE
    ):
        flash(_("Choose a new password before you continue."), "warning")
        return redirect(url_for("auth.change_password"))
    return None
