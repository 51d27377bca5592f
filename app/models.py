"""Imports every domain's models, so the mapper registry and Alembic see them all."""

from app.auth.models import ApiToken, Facility, LoginSession, User, user_facilities
from app.common.audit import AuditEvent
from app.reference.models import Enclosure, Species

__all__ = [
    "ApiToken",
    "AuditEvent",
    "Enclosure",
    "Facility",
    "LoginSession",
    "Species",
    "User",
    "user_facilities",
]
