"""Security events for the audit log (sign-ins, refusals) and the acting user of a request."""

from flask import has_request_context, request
from flask_login import current_user

from app.common.audit import record_event
from app.extensions import db


def request_actor() -> tuple[int | None, str, str | None]:
    """(user id, label, address) for audit rows written during a request."""
    if not has_request_context():
        return None, "system", None
    ip = (request.remote_addr or "")[:64] or None
    user = current_user._get_current_object() if current_user else None
    if user is not None and getattr(user, "is_authenticated", False):
        return user.id, user.email, ip
    return None, "anonymous", ip


def record_login(user) -> None:
    record_event(db.session, "login", "User", user.id)


def record_login_failed(email: str) -> None:
    # The email typed is kept (it may be a real account under attack); never the password.
    record_event(db.session, "login_failed", "User", None, {"email": email[:254]})
    db.session.commit()


def record_logout(user) -> None:
    record_event(db.session, "logout", "User", user.id)


def record_access_denied(action: str) -> None:
    """A 403 is evidence too: who tried what. Committed at once, since the request aborts."""
    db.session.rollback()
    record_event(db.session, "access_denied", "Route", None, {"action": action, "path": request.path,
                                                                 "method": request.method})
    db.session.commit()
