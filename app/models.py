"""Imports every domain's models, so the mapper registry and Alembic see them all."""

from app.animals.models import (
    Animal,
    Attachment,
    Case,
    CustodyHandover,
    EvidenceHoldChange,
    HousingMove,
    Identifier,
    Sequence,
)
from app.auth.models import ApiToken, Facility, LoginSession, User, user_facilities
from app.care.models import CareLog, CareSchedule, CareTask, CareTemplate, Weight
from app.common.audit import AuditEvent
from app.common.idempotency import IdempotencyKey
from app.reference.models import Enclosure, Species

__all__ = [
    "Animal",
    "ApiToken",
    "Attachment",
    "AuditEvent",
    "CareLog",
    "CareSchedule",
    "CareTask",
    "CareTemplate",
    "Case",
    "CustodyHandover",
    "Enclosure",
    "EvidenceHoldChange",
    "Facility",
    "HousingMove",
    "IdempotencyKey",
    "Identifier",
    "LoginSession",
    "Sequence",
    "Species",
    "User",
    "Weight",
    "user_facilities",
]
