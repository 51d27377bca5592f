"""Reads of the audit log for the admin browser: filtered, newest first, one page at a time."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sqlalchemy import func, select

from app.common.audit import AuditEvent
from app.common.pagination import Page, paginate
from app.extensions import db


@dataclass(frozen=True)
class AuditFilters:
    """What the audit page asks for; None means "any". Instants are UTC."""

    entity_type: str | None = None
    entity_id: str | None = None
    actor: str | None = None
    action: str | None = None
    since: datetime | None = None  # inclusive
    before: datetime | None = None  # exclusive


def local_day_start(day: date, zone: tzinfo) -> datetime:
    """Midnight at the start of `day` in `zone`, as a UTC instant.

    pytz zones (what Flask-Babel hands out) need localize(); zoneinfo zones take tzinfo=.
    """
    naive = datetime.combine(day, time.min)
    local = zone.localize(naive) if hasattr(zone, "localize") else naive.replace(tzinfo=zone)
    return local.astimezone(UTC)


def local_date_range(start: date | None, end: date | None, zone: tzinfo) -> tuple[datetime | None, datetime | None]:
    """[start 00:00, the day after end 00:00) in `zone`, in UTC: `end` is included whole."""
    since = local_day_start(start, zone) if start else None
    before = local_day_start(end + timedelta(days=1), zone) if end else None
    return since, before


def list_audit_events(filters: AuditFilters, *, page: int = 1, per_page: int = 50) -> Page:
    """Audit events matching the filters, newest first: a COUNT and one page query, nothing per row.

    Entity type, id and action match exactly; the actor matches any part, ignoring case
    (it holds an email, "cli", "system:<job>" or "anonymous").
    """
    stmt = select(AuditEvent).order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    if filters.entity_type:
        stmt = stmt.where(AuditEvent.entity_type == filters.entity_type)
    if filters.entity_id:
        stmt = stmt.where(AuditEvent.entity_id == filters.entity_id)
    if filters.actor:
        stmt = stmt.where(func.lower(AuditEvent.actor).contains(filters.actor.lower(), autoescape=True))
    if filters.action:
        stmt = stmt.where(AuditEvent.action == filters.action)
    if filters.since:
        stmt = stmt.where(AuditEvent.occurred_at >= filters.since)
    if filters.before:
        stmt = stmt.where(AuditEvent.occurred_at < filters.before)
    return paginate(stmt, page, per_page)


def list_entity_types() -> list[str]:
    """The distinct record types in the log, for the filter's select (one query, index-backed)."""
    stmt = select(AuditEvent.entity_type).distinct().order_by(AuditEvent.entity_type)
    return list(db.session.execute(stmt).scalars())
