"""Wires accounts into the app: Flask-Login's loader, the sign-in redirect, the audit actor."""

from flask import Flask, redirect, request, url_for
from flask_babel import lazy_gettext as _l

from app.auth.events import request_actor
from app.auth.sessions import load_user_from_session
from app.common.audit import set_actor_resolver
from app.common.errors import json_error
from app.extensions import login_manager


def _unauthorized():
    if request.path.startswith("/api/"):
        return json_error(401, "Authentication required: send 'Authorization: Bearer <token>'.",
                          headers=[("WWW-Authenticate", "Bearer")])
    return redirect(url_for("auth.login", next=request.full_path if request.args else request.path))


def init_auth(app: Flask) -> None:
    login_manager.user_loader(load_user_from_session)
    login_manager.unauthorized_handler(_unauthorized)
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.login_message_category = "info"
    set_actor_resolver(request_actor)
