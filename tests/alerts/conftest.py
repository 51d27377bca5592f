"""Fixtures for alerts: a fixed now, and alerts made directly (as a job would leave them)."""

from datetime import UTC, datetime

import pytest

from app.alerts.models import Alert, AlertStatus
from app.extensions import db as _db

NOW = datetime(2026, 6, 10, 2, 30, tzinfo=UTC)  # 09:30 in Phnom Penh


@pytest.fixture
def make_alert(db, facility):
    """An alert as a job leaves it: kind, severity and subject; unique dedup key unless given."""
    made = []

    def _make(kind="weight_missing", *, animal=None, task=None, case=None, facility_id=None, severity="warning",
              status=AlertStatus.OPEN, dedup_key=None, reference_at=None, reference_value=None, raised_at=NOW):
        subject = animal or task or case
        alert = Alert(kind=kind, severity=severity, status=status,
                      dedup_key=dedup_key or f"{kind}:test:{len(made)}:{id(subject)}",
                      facility_id=facility_id or getattr(subject, "facility_id", None) or facility.id,
                      animal_id=animal.id if animal else (task.animal_id if task else None),
                      task_id=task.id if task else None, case_id=case.id if case else None,
                      reference_at=reference_at, reference_value=reference_value, raised_at=raised_at)
        _db.session.add(alert)
        _db.session.flush()
        made.append(alert)
        return alert

    return _make
