"""Imports every domain's models, so the mapper registry and Alembic see them all."""

from app.alerts.models import Alert, DigestMark, JobRun, SchedulerLease
from app.animals.models import (
    Animal,
    Attachment,
    Case,
    CustodyHandover,
    EvidenceHoldChange,
    HousingMove,
    Identifier,
    Outcome,
    Sequence,
)
from app.auth.models import ApiToken, Facility, LoginSession, User, user_facilities
from app.care.models import CareLog, CareSchedule, CareTask, CareTemplate, Weight
from app.common.audit import AuditEvent
from app.common.idempotency import IdempotencyKey
from app.reference.models import Enclosure, Species
from app.releases.models import (
    Assessment,
    Observation,
    PlannedAnimal,
    ReleaseCriterion,
    ReleasePlan,
    ReleaseSite,
    Transfer,
)
from app.vet.models import EuthanasiaAuthorisation, Exam, LabResult, Prescription, Problem, QuarantineTest

__all__ = [
    "Alert",
    "Animal",
    "ApiToken",
    "Assessment",
    "Attachment",
    "AuditEvent",
    "CareLog",
    "CareSchedule",
    "CareTask",
    "CareTemplate",
    "Case",
    "CustodyHandover",
    "DigestMark",
    "Enclosure",
    "EuthanasiaAuthorisation",
    "EvidenceHoldChange",
    "Exam",
    "Facility",
    "HousingMove",
    "IdempotencyKey",
    "Identifier",
    "JobRun",
    "LabResult",
    "LoginSession",
    "Observation",
    "Outcome",
    "PlannedAnimal",
    "Prescription",
    "Problem",
    "QuarantineTest",
    "ReleaseCriterion",
    "ReleasePlan",
    "ReleaseSite",
    "SchedulerLease",
    "Sequence",
    "Species",
    "Transfer",
    "User",
    "Weight",
    "user_facilities",
]
