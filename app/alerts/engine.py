"""Keeping alerts in step with what a job found: raise the new, update the changed, resolve the cleared.

A job describes its findings as one SELECT with the columns of FINDING_COLUMNS. sync_alerts
reads, in one statement, only the difference between those findings and the alerts of the
kind: findings with no alert yet, findings whose alert shows other figures, and unresolved
alerts no longer found. The findings are evaluated once (a CTE used twice is materialised
by both databases), whatever the population; then only the difference is written, usually
nothing. Running it twice with the same findings changes nothing the second time, and two
runs at once cannot raise the same key twice: the partial unique index on unresolved keys
refuses the second insert.
"""

from datetime import datetime

from sqlalchemy import Select, and_, bindparam, cast, null, or_, select, union_all, update
from sqlalchemy.dialects import postgresql, sqlite

from app.alerts.models import UNRESOLVED, Alert, AlertStatus
from app.extensions import db

# The columns every findings SELECT gives, in this order and with these labels.
FINDING_COLUMNS = ("kind", "dedup_key", "severity", "facility_id", "animal_id", "task_id", "case_id",
                   "reference_at", "reference_value")
# What may change while the key (the subject and episode) stays: the severity, the facility
# (an animal transferred within the network takes its alerts along) and the figures shown.
UPDATED_COLUMNS = ("severity", "facility_id", "reference_at", "reference_value")
# Ids per statement when resolving, well under SQLite's limit of bound parameters.
CHUNK = 5000

_alerts = Alert.__table__


def _insert():
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Alert)


def _difference(kinds: tuple[str, ...], findings: Select) -> Select:
    """Rows (alert_id, alert_status, *FINDING_COLUMNS): what differs between findings and alerts.

    alert_id empty: a finding to raise. Both set: an alert to update. Finding empty
    (dedup_key null): an unresolved alert no longer found. A key resolved by a person
    blocks its finding: they said it was dealt with, and the key names the episode.
    """
    found = findings.cte("findings")
    blocking = and_(_alerts.c.dedup_key == found.c.dedup_key,
                    or_(_alerts.c.status != AlertStatus.RESOLVED, _alerts.c.resolved_by_id.is_not(None)))
    changed = or_(*(found.c[name].is_distinct_from(_alerts.c[name]) for name in UPDATED_COLUMNS))
    raise_or_update = (
        select(_alerts.c.id.label("alert_id"), _alerts.c.status.label("alert_status"),
               *(found.c[name] for name in FINDING_COLUMNS))
        .select_from(found.outerjoin(_alerts, blocking))
        .where(or_(_alerts.c.id.is_(None), and_(_alerts.c.status != AlertStatus.RESOLVED, changed))))
    cleared = (
        select(_alerts.c.id, _alerts.c.status,
               *(cast(null(), _alerts.c[name].type).label(name) for name in FINDING_COLUMNS))
        .where(_alerts.c.kind.in_(kinds), _alerts.c.status != AlertStatus.RESOLVED,
               _alerts.c.dedup_key.not_in(select(found.c.dedup_key))))
    return union_all(raise_or_update, cleared)


def sync_alerts(kinds: tuple[str, ...], *findings: Select, now: datetime) -> int:
    """Make the unresolved alerts of `kinds` match the findings; returns how many alerts were raised.

    Several findings SELECTs (of these kinds) are read as one, so a job with two kinds of
    alert still reads its difference in one statement.

    An unresolved alert still found takes the finding's severity, facility and figures; one
    no longer found is resolved as of `now` (by nobody). Flushes nothing of the session's
    own objects; the caller commits.
    """
    found = findings[0] if len(findings) == 1 else union_all(*findings)
    rows = db.session.execute(_difference(kinds, found)).mappings().all()
    new = [{**{name: row[name] for name in FINDING_COLUMNS}, "status": AlertStatus.OPEN.value, "raised_at": now}
           for row in rows if row["alert_id"] is None]
    changed = [{"b_id": row["alert_id"], **{f"b_{name}": row[name] for name in UPDATED_COLUMNS}}
               for row in rows if row["alert_id"] is not None and row["dedup_key"] is not None]
    cleared = [row["alert_id"] for row in rows if row["dedup_key"] is None]

    raised = 0
    if new:
        inserted = db.session.execute(
            _insert().on_conflict_do_nothing(index_elements=["dedup_key"], index_where=UNRESOLVED)
            .returning(_alerts.c.id), new)
        raised = len(inserted.all())
    if changed:
        db.session.execute(
            update(_alerts)
            .where(_alerts.c.id == bindparam("b_id"), _alerts.c.status != AlertStatus.RESOLVED)
            .values({name: bindparam(f"b_{name}") for name in UPDATED_COLUMNS}), changed)
    for start in range(0, len(cleared), CHUNK):
        db.session.execute(
            update(_alerts)
            .where(_alerts.c.id.in_(cleared[start:start + CHUNK]), _alerts.c.status != AlertStatus.RESOLVED)
            .values(status=AlertStatus.RESOLVED, resolved_at=now))
    return raised
