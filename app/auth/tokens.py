"""API bearer tokens: created once, stored as SHA-256, revocable, optionally expiring."""

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import g
from sqlalchemy import select, update

from app.auth.models import ApiToken, User
from app.common.audit import record_event
from app.common.db import utcnow
from app.extensions import db

TOKEN_PREFIX = "rl_"  # noqa: S105 - a marker, not a secret
LAST_USED_RESOLUTION = timedelta(minutes=5)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(user: User, name: str, *, days: int | None = None) -> tuple[ApiToken, str]:
    """A new token for the user; returns the row and the plain token (never stored).

    Flushes; the caller commits. days=None or 0 means the token does not expire.
    """
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at: datetime | None = utcnow() + timedelta(days=days) if days else None
    token = ApiToken(
        user_id=user.id, name=name, token_hash=_digest(plain), prefix=plain[:10], expires_at=expires_at
    )
    db.session.add(token)
    db.session.flush()
    record_event(db.session, "token_created", "ApiToken", token.id, {"user_id": user.id, "name": name})
    return token, plain


def revoke_token(token: ApiToken) -> None:
    """Revoke now; later requests with it get 401. Flushes; the caller commits."""
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.flush()


def authenticate_bearer(plain: str) -> bool:
    """Make the token's user the current user for this request; False if the token is not usable."""
    token = db.session.execute(
        select(ApiToken).where(ApiToken.token_hash == _digest(plain))
    ).scalar_one_or_none()
    now = utcnow()
    if token is None or not token.is_usable(now) or not token.user.is_active:
        return False
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        # A hint for the tokens page, written at most every few minutes so that reads
        # stay reads; a Core UPDATE keeps it out of the audit log.
        db.session.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now))
        db.session.commit()
    g._login_user = token.user
    g.api_token = token
    return True


def list_tokens(user: User) -> list[ApiToken]:
    return list(
        db.session.execute(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc())
        ).scalars()
    )
