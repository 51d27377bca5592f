"""Reads of users and facilities."""

from flask import abort
from sqlalchemy import func, select

from app.auth.models import Facility, User
from app.common.pagination import paginate
from app.extensions import db


def get_user(user_id: int) -> User:
    """One user (facilities loaded) or 404."""
    return db.get_or_404(User, user_id)


def find_user_by_email(email: str) -> User | None:
    return db.session.execute(select(User).where(User.email == email.strip().lower())).scalar_one_or_none()


def list_users(*, page: int = 1, per_page: int = 50, q: str | None = None):
    """Users by name; facilities come in one extra SELECT ... IN for the whole page."""
    stmt = select(User).order_by(User.is_active.desc(), User.name)
    if q:
        like = f"%{q.strip().lower()}%"
        stmt = stmt.where(func.lower(User.name).like(like) | User.email.like(like))
    return paginate(stmt, page, per_page)


def list_facilities(*, active_only: bool = False) -> list[Facility]:
    stmt = select(Facility).order_by(Facility.code)
    if active_only:
        stmt = stmt.where(Facility.is_active.is_(True))
    return list(db.session.execute(stmt).scalars())


def get_facility(facility_id: int) -> Facility:
    facility = db.session.get(Facility, facility_id)
    if facility is None:
        abort(404)
    return facility


def get_facility_by_code(code: str) -> Facility | None:
    return db.session.execute(select(Facility).where(Facility.code == code)).scalar_one_or_none()
