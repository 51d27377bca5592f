"""The append-only audit log, written from ORM session events in the same transaction.

Services never write audit rows themselves: every insert, update and delete of a
mapped object is captured here, with the acting user, so that nothing can change
without a trace. A model opts out with `__audit__ = False` and hides secret
columns with `__audit_exclude__`.
"""

import contextlib
import contextvars
import datetime as dt
import decimal
import enum
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, event, insert, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.common.db import Base, utcnow

# Columns whose change is bookkeeping, not a fact worth recording.
_NOISE = frozenset({"updated_at", "created_at"})


class AuditEvent(Base):
    """Who did what to which record, and when. Rows are inserted, never updated or deleted."""

    __tablename__ = "audit_events"
    __audit__ = False
    __table_args__ = (Index("ix_audit_events_entity", "entity_type", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    # No ON DELETE: a user who acted is evidence and can only be deactivated, never deleted.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(40))
    entity_type: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[str | None] = mapped_column(String(60))
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    ip_address: Mapped[str | None] = mapped_column(String(64))


# (actor_id, label) set for jobs and commands; requests resolve the signed-in user.
_actor_override: contextvars.ContextVar[tuple[int | None, str] | None] = contextvars.ContextVar(
    "audit_actor", default=None
)
_actor_resolver: Callable[[], tuple[int | None, str, str | None]] | None = None


def set_actor_resolver(resolver: Callable[[], tuple[int | None, str, str | None]]) -> None:
    """Registered by the auth package: returns (user id, label, ip address) for the request."""
    global _actor_resolver
    _actor_resolver = resolver


@contextlib.contextmanager
def acting_as(label: str, actor_id: int | None = None) -> Iterator[None]:
    """Attribute changes made inside the block to `label` (e.g. "cli", "system:overdue_tasks")."""
    token = _actor_override.set((actor_id, label))
    try:
        yield
    finally:
        _actor_override.reset(token)


def current_actor() -> tuple[int | None, str, str | None]:
    override = _actor_override.get()
    if override is not None:
        return override[0], override[1], None
    if _actor_resolver is not None:
        return _actor_resolver()
    return None, "system", None


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def _identity(obj) -> str | None:
    # Read from the attributes, not the identity key: during after_flush a row just
    # inserted has its primary key set but is not yet registered as persistent.
    key = inspect(obj).mapper.primary_key_from_instance(obj)
    if any(part is None for part in key):
        return None
    return ",".join(str(part) for part in key)


def _is_audited(obj) -> bool:
    return getattr(type(obj), "__audit__", True)


def _changes(obj, action: str) -> dict[str, Any]:
    """Column values (insert, delete) or old/new pairs (update), secrets left out."""
    state = inspect(obj)
    excluded = getattr(type(obj), "__audit_exclude__", frozenset())
    result: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        history = state.attrs[key].history
        if key in excluded:
            # Never the secret itself; only the fact that it was changed.
            if action == "update" and history.has_changes():
                result[key] = "<changed>"
            continue
        if action == "update":
            if key in _NOISE or key == "version" or not history.has_changes():
                continue
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            result[key] = {"old": _jsonable(old), "new": _jsonable(new)}
        else:
            value = state.attrs[key].value if action == "insert" else (
                history.deleted[0] if history.deleted else state.attrs[key].loaded_value
            )
            if value is not None and key not in _NOISE:
                result[key] = _jsonable(value)
    for rel in state.mapper.relationships:
        if not rel.uselist or rel.viewonly or rel.secondary is None:
            continue
        history = state.attrs[rel.key].history
        if history.has_changes():
            result[rel.key] = {
                "added": sorted(_identity(o) for o in history.added),
                "removed": sorted(_identity(o) for o in history.deleted),
            }
    return result


def _entity_type(obj) -> str:
    return type(obj).__name__


@event.listens_for(Session, "after_flush")
def _capture_changes(session: Session, _flush_context) -> None:
    """Write one audit row per changed object, in the flush's own transaction."""
    rows = []
    for action, objects in (("insert", session.new), ("update", session.dirty), ("delete", session.deleted)):
        for obj in objects:
            if not _is_audited(obj):
                continue
            if action == "update" and not session.is_modified(obj, include_collections=True):
                continue
            changes = _changes(obj, action)
            if action == "update" and not changes:
                continue
            rows.append((action, obj, changes))
    if not rows:
        return
    actor_id, actor, ip = current_actor()
    now = utcnow()
    session.connection().execute(
        insert(AuditEvent),
        [
            {
                "occurred_at": now,
                "actor_id": actor_id,
                "actor": actor,
                "action": action,
                "entity_type": _entity_type(obj),
                "entity_id": _identity(obj),
                "changes": changes,
                "ip_address": ip,
            }
            for action, obj, changes in rows
        ],
    )


def record_event(session: Session, action: str, entity_type: str, entity_id=None, details=None) -> None:
    """Record an event that is not a row change (login, refusal, token creation)."""
    actor_id, actor, ip = current_actor()
    session.add(
        AuditEvent(
            actor_id=actor_id,
            actor=actor,
            action=action,
            entity_type=entity_type,
            entity_id=None if entity_id is None else str(entity_id),
            changes=_jsonable(details) if details else None,
            ip_address=ip,
        )
    )
