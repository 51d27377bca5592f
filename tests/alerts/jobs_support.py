"""Helpers for the job tests: the alerts as plain rows, a job run twice, an alert read afresh.

The jobs write with set-based statements that bypass the session, so alerts are read
here as rows of the table (never stale objects of the identity map).
"""

from sqlalchemy import select

from app.alerts.models import Alert, AlertStatus
from app.extensions import db

ALERTS = Alert.__table__


def rows(kind: str | None = None) -> list:
    """Every alert (of `kind`), oldest first, with every column."""
    stmt = select(ALERTS).order_by(ALERTS.c.id)
    if kind is not None:
        stmt = stmt.where(ALERTS.c.kind == kind)
    return list(db.session.execute(stmt).all())


def unresolved(kind: str | None = None) -> list:
    return [row for row in rows(kind) if row.status != AlertStatus.RESOLVED]


def by_key(key: str) -> list:
    return [row for row in rows() if row.dedup_key == key]


def summary(kind: str | None = None) -> list[tuple]:
    """(id, kind, severity, status, key) of every alert: what a second run must leave as it was."""
    return [(row.id, row.kind, row.severity, row.status, row.dedup_key) for row in rows(kind)]


def run_twice(job, now) -> int:
    """Run `job` as of `now` twice: the second run raises nothing and changes no row. Returns the first's count."""
    raised = job(now)
    first = rows()
    assert job(now) == 0
    assert rows() == first
    return raised


def fresh(alert_id: int) -> Alert:
    """The alert as stored now, as an object a service can change."""
    db.session.expire_all()
    return db.session.get(Alert, alert_id)


def assert_resolved_by_job(row, at) -> None:
    assert (row.status, row.resolved_at, row.resolved_by_id) == (AlertStatus.RESOLVED, at, None)
