"""Account changes: create, edit, deactivate, passwords. Each flushes; the caller commits."""

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.auth.models import Facility, Role, User
from app.auth.passwords import hash_password, password_problems
from app.auth.sessions import end_all_sessions
from app.common.db import utcnow
from app.common.errors import RuleError
from app.extensions import db


class AccountError(RuleError):
    """A change refused by an account rule."""


def _facilities(ids: Iterable[int]) -> list[Facility]:
    ids = list(ids)
    if not ids:
        return []
    found = list(db.session.execute(select(Facility).where(Facility.id.in_(ids))).scalars())
    if len(found) != len(set(ids)):
        raise AccountError({"facility_ids": [str(_l("Unknown facility."))]})
    return found


def create_user(
    *, email: str, name: str, role: str, password: str, facility_ids: Iterable[int] = (),
    locale: str | None = None, must_change_password: bool = False,
) -> User:
    """A new active user. Refuses a taken email, an unknown role or a weak password."""
    email = email.strip().lower()
    errors: dict[str, list[str]] = {}
    if role not in Role.__members__.values():
        errors["role"] = [str(_l("Unknown role."))]
    if db.session.execute(select(User.id).where(User.email == email)).first():
        errors["email"] = [str(_l("A user with this email already exists."))]
    problems = password_problems(password, email=email, name=name)
    if problems:
        errors["password"] = problems
    if errors:
        raise AccountError(errors)
    user = User(
        email=email, name=name.strip(), role=role, password_hash=hash_password(password),
        facilities=_facilities(facility_ids), locale=locale or None, must_change_password=must_change_password,
    )
    db.session.add(user)
    db.session.flush()
    return user


def update_user(user: User, *, name: str, role: str, facility_ids: Iterable[int], locale: str | None) -> User:
    """Edit a user in one UPDATE (one audit row); a change of facilities alone bumps the version too."""
    if role not in Role.__members__.values():
        raise AccountError({"role": [str(_l("Unknown role."))]})
    facilities = _facilities(facility_ids)  # looked up first: a query here would flush a half-done edit
    if {f.id for f in facilities} != {f.id for f in user.facilities}:
        # Memberships live in another table; touching the row makes the optimistic
        # lock see the change, so a stale edit form cannot silently undo it.
        user.updated_at = utcnow()
    user.name = name.strip()
    user.role = role
    user.locale = locale or None
    user.facilities = facilities
    db.session.flush()
    return user


def deactivate_user(user: User) -> None:
    """The account can no longer sign in, and every open session of it ends now."""
    user.is_active = False
    end_all_sessions(user.id)
    db.session.flush()


def reactivate_user(user: User) -> None:
    user.is_active = True
    db.session.flush()


def set_password(user: User, password: str, *, must_change: bool, keep_session: str | None = None) -> None:
    """Replace the password; other sessions end (a reset also forces a change at next sign-in)."""
    problems = password_problems(password, email=user.email, name=user.name)
    if problems:
        raise AccountError({"password": problems})
    user.password_hash = hash_password(password)
    user.must_change_password = must_change
    end_all_sessions(user.id, except_id=keep_session)
    db.session.flush()
