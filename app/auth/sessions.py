"""Server-side login sessions: the cookie names a row, and ending the row ends the session."""

import secrets
from datetime import timedelta

from flask import current_app, request, session
from flask_login import login_user, logout_user
from sqlalchemy import select, update

from app.auth.models import LoginSession, User
from app.common.db import utcnow
from app.extensions import db


def start_session(user: User) -> str:
    """Sign the user in on this device with a fresh session id (no session fixation).

    Flushes the new LoginSession; the caller commits.
    """
    session.clear()
    now = utcnow()
    row = LoginSession(
        id=secrets.token_urlsafe(32),
        user_id=user.id,
        created_at=now,
        expires_at=now + timedelta(seconds=current_app.config["PERMANENT_SESSION_LIFETIME"]),
        ip_address=(request.remote_addr or "")[:64],
        user_agent=(request.user_agent.string or "")[:300],
    )
    db.session.add(row)
    # A Core UPDATE: signing in is not an edit of the account, so it neither bumps
    # the row's version (which would turn an admin's open edit form stale) nor
    # writes an update to the audit log (the sign-in has its own "login" event).
    db.session.execute(update(User).where(User.id == user.id).values(last_login_at=now))
    db.session.flush()
    user.login_session_id = row.id
    session.permanent = True
    login_user(user)
    return row.id


def end_session(user: User) -> None:
    """Sign out this device: the session row is ended, so a copied cookie is refused too."""
    if user.login_session_id:
        db.session.execute(
            update(LoginSession)
            .where(LoginSession.id == user.login_session_id, LoginSession.ended_at.is_(None))
            .values(ended_at=utcnow())
        )
    logout_user()
    session.clear()


def end_all_sessions(user_id: int, *, except_id: str | None = None) -> None:
    """End every open session of a user (deactivation, password change or reset)."""
    stmt = update(LoginSession).where(LoginSession.user_id == user_id, LoginSession.ended_at.is_(None))
    if except_id:
        stmt = stmt.where(LoginSession.id != except_id)
    db.session.execute(stmt.values(ended_at=utcnow()))


def load_user_from_session(session_id: str) -> User | None:
    """Flask-Login's user loader: the user of an open, unexpired session of an active account."""
    user = db.session.execute(
        select(User)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(
            LoginSession.id == session_id,
            LoginSession.ended_at.is_(None),
            LoginSession.expires_at > utcnow(),
            User.is_active.is_(True),
        )
    ).scalar_one_or_none()
    if user is not None:
        user.login_session_id = session_id
    return user
