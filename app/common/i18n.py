"""Locale and time zone selection for Flask-Babel."""

from flask import current_app, has_request_context, request, session
from flask_login import current_user


def select_locale() -> str:
    """The user's saved preference, then ?lang= (remembered for the session), then the browser's."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    asked = request.args.get("lang")
    if asked in languages:
        session["lang"] = asked
        return asked
    preferred = getattr(current_user, "locale", None) if current_user else None
    if preferred in languages:
        return preferred
    if session.get("lang") in languages:
        return session["lang"]
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    """The time zone pages are shown in: the user's first facility's, else the default."""
    if not has_request_context():
        return current_app.config["DEFAULT_TIMEZONE"]
    zone = getattr(current_user, "display_timezone", None) if current_user else None
    return zone or current_app.config["DEFAULT_TIMEZONE"]
