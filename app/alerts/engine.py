"""Keeping alerts in step with what a job found: raise the new, update the changed, resolve the cleared.

A job describes its findings as one SELECT with the columns of FINDING_COLUMNS; sync_alerts
turns it into three set-based statements, whatever the number of rows. Running it twice with
the same findings changes nothing the second time, and two runs at once cannot raise the
same key twice: the partial unique index on unresolved keys refuses the second insert.
"""

from datetime import datetime

from sqlalchemy import Select, and_, exists, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from app.alerts.models import UNRESOLVED, Alert, AlertStatus
from app.common.db import UTCDateTime
from app.extensions import db

# The columns every findings SELECT gives, in this order and with these labels.
FINDING_COLUMNS = ("dedup_key", "severity", "facility_id", "animal_id", "task_id", "case_id",
                   "reference_at", "reference_value")
# The columns an unresolved alert takes from each new finding of its key.
UPDATED_COLUMNS = ("severity", "facility_id", "reference_at", "reference_value")


def _insert():
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Alert)


def sync_alerts(kind: str, findings: Select, now: datetime) -> int:
    """Make the unresolved alerts of `kind` match `findings`; returns how many alerts were raised.

    An unresolved alert still found takes the finding's severity, facility and figures.

    A key already resolved by a person is not raised again: they said it was dealt with,
    and the key names the episode (a new weight, a new review makes a new key).
    Flushes nothing of the session's own objects; the caller commits.
    """
    found = findings.subquery("findings")
    now_param = literal(now, UTCDateTime())
    known = exists().where(Alert.dedup_key == found.c.dedup_key,
                           or_(Alert.status != AlertStatus.RESOLVED, Alert.resolved_by_id.is_not(None)))
    new_rows = select(literal(kind), literal(AlertStatus.OPEN.value), now_param,
                      *(found.c[name] for name in FINDING_COLUMNS)).where(~known)
    raise_new = (_insert()
                 .from_select(["kind", "status", "raised_at", *FINDING_COLUMNS], new_rows)
                 .on_conflict_do_nothing(index_elements=["dedup_key"], index_where=UNRESOLVED)
                 # An INSERT's rowcount is otherwise lost once its cursor closes (psycopg gives -1).
                 .execution_options(preserve_rowcount=True))
    raised = db.session.execute(raise_new).rowcount

    unresolved = and_(Alert.kind == kind, Alert.status != AlertStatus.RESOLVED)
    # What may change while the key (the subject and episode) stays: the severity, the facility
    # (an animal transferred within the network takes its alerts along) and the figures shown.
    current = {name: select(found.c[name]).where(found.c.dedup_key == Alert.dedup_key).scalar_subquery()
               for name in UPDATED_COLUMNS}
    changed = or_(*(found.c[name].is_distinct_from(getattr(Alert, name)) for name in UPDATED_COLUMNS))
    db.session.execute(
        update(Alert)
        .where(unresolved, exists().where(found.c.dedup_key == Alert.dedup_key, changed))
        .values(**current)
        .execution_options(synchronize_session=False))
    db.session.execute(
        update(Alert)
        .where(unresolved, Alert.dedup_key.not_in(select(found.c.dedup_key)))
        .values(status=AlertStatus.RESOLVED, resolved_at=now_param)
        .execution_options(synchronize_session=False))
    return raised
