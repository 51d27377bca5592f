"""The kinds of alert: who each is for, and how it is named. One table, read by jobs, inbox and digest."""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from app.auth.models import Role

A, C, V, K = Role.ADMIN, Role.COORDINATOR, Role.VET, Role.KEEPER


@dataclass(frozen=True)
class AlertKind:
    name: str
    label: object  # a lazy string
    audience: frozenset[Role]


KINDS = {kind.name: kind for kind in (
    AlertKind("care_overdue", _l("Care overdue"), frozenset({A, C, K})),
    AlertKind("dose_overdue", _l("Dose overdue"), frozenset({A, C, V, K})),
    AlertKind("quarantine_ending", _l("Quarantine ending"), frozenset({A, C, V})),
    AlertKind("quarantine_overdue", _l("Quarantine past its end"), frozenset({A, C, V})),
    AlertKind("weight_missing", _l("No recent weight"), frozenset({A, C, V, K})),
    AlertKind("weight_loss", _l("Weight loss"), frozenset({A, C, V, K})),
    AlertKind("release_ready", _l("Ready for release"), frozenset({A, C})),
    AlertKind("readiness_review", _l("Readiness review overdue"), frozenset({A, C})),
    AlertKind("assessment_expiring", _l("Assessment expiring"), frozenset({A, C, V, K})),
    AlertKind("hold_review", _l("Evidence hold to review"), frozenset({A, C})),
)}


# Words for severities, shared by the inbox and the email digest.
SEVERITY_LABELS = {"critical": _l("Critical"), "warning": _l("Warning"), "info": _l("Information")}


def kinds_for(role: str) -> list[str]:
    """The kinds of alert a role sees (viewers see none)."""
    return [kind.name for kind in KINDS.values() if role in kind.audience]
