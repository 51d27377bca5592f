"""An animal's timeline: everything that happened to it, newest first, from every domain.

Each domain registers a source: a function (animal, limit) returning its newest
entries for that animal. A page of the timeline asks every source for as many
entries as the pages so far hold, merges them by time and cuts the page out:
one query per source, whatever the page size.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import aliased, joinedload

from app.animals.models import Animal, Attachment, CustodyHandover, EvidenceHoldChange, HousingMove
from app.auth.models import User
from app.common.audit import AuditEvent
from app.extensions import db
from app.reference.models import Enclosure


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # intake, move, custody, hold, photo, change, and later care, vet, outcome...
    title: str
    detail: str = ""
    actor: str = ""
    extra: dict = field(default_factory=dict, compare=False)


Source = Callable[[Animal, int], list[TimelineEntry]]
_sources: list[Source] = []


def timeline_source(func: Source) -> Source:
    """Register a source of timeline entries (domains call this at import)."""
    _sources.append(func)
    return func


@dataclass(frozen=True)
class TimelinePage:
    entries: list[TimelineEntry]
    page: int
    per_page: int
    has_next: bool

    @property
    def meta(self) -> "TimelinePage":
        return self


def timeline(animal: Animal, page: int = 1, per_page: int = 25) -> TimelinePage:
    """One page of the animal's timeline, newest first."""
    page = max(1, page)
    wanted = page * per_page + 1
    entries: list[TimelineEntry] = []
    for source in _sources:
        entries.extend(source(animal, wanted))
    entries.sort(key=lambda e: e.at, reverse=True)
    start = (page - 1) * per_page
    return TimelinePage(entries[start:start + per_page], page, per_page, len(entries) > page * per_page)


@timeline_source
def _intake(animal: Animal, _limit: int) -> list[TimelineEntry]:
    what = _l("Admitted: %(n)d animals", n=animal.intake_quantity) if animal.is_lot else _l("Admitted")
    if animal.parent_id:
        what = _l("Split off a lot: %(n)d animals", n=animal.intake_quantity)
    return [TimelineEntry(at=animal.admitted_at if not animal.parent_id else animal.created_at, kind="intake",
                          title=str(what), detail=animal.intake_condition)]


@timeline_source
def _moves(animal: Animal, limit: int) -> list[TimelineEntry]:
    to_enclosure = aliased(Enclosure)
    rows = db.session.execute(
        select(HousingMove, to_enclosure.code, User.name)
        .outerjoin(to_enclosure, HousingMove.to_enclosure_id == to_enclosure.id)
        .outerjoin(User, HousingMove.moved_by_id == User.id)
        .where(HousingMove.animal_id == animal.id).order_by(HousingMove.moved_at.desc()).limit(limit)
    )
    return [TimelineEntry(at=move.moved_at, kind="move", title=str(_l("Moved to %(code)s", code=code or "—")),
                          detail=move.reason, actor=actor or "") for move, code, actor in rows]


@timeline_source
def _custody(animal: Animal, limit: int) -> list[TimelineEntry]:
    rows = db.session.execute(
        select(CustodyHandover)
        .where(CustodyHandover.case_id == animal.case_id,
               (CustodyHandover.animal_id == animal.id) | CustodyHandover.animal_id.is_(None))
        .order_by(CustodyHandover.handed_at.desc()).limit(limit)
    ).scalars()
    return [TimelineEntry(at=h.handed_at, kind="custody",
                          title=str(_l("Custody: %(a)s → %(b)s", a=h.from_party, b=h.to_party)),
                          detail=" · ".join(x for x in (h.purpose, h.place, h.seal_ids) if x)) for h in rows]


@timeline_source
def _holds(animal: Animal, limit: int) -> list[TimelineEntry]:
    rows = db.session.execute(
        select(EvidenceHoldChange).options(joinedload(EvidenceHoldChange.changed_by))
        .where(EvidenceHoldChange.case_id == animal.case_id)
        .order_by(EvidenceHoldChange.changed_at.desc()).limit(limit)
    ).scalars()
    return [TimelineEntry(at=c.changed_at, kind="hold",
                          title=str(_l("Evidence hold confirmed") if c.is_review
                                    else _l("Evidence hold set") if c.active else _l("Evidence hold lifted")),
                          detail=c.reason, actor=c.changed_by.name if c.changed_by else "") for c in rows]


@timeline_source
def _photos(animal: Animal, limit: int) -> list[TimelineEntry]:
    rows = db.session.execute(
        select(Attachment).where(Attachment.animal_id == animal.id)
        .order_by(Attachment.uploaded_at.desc()).limit(limit)
    ).scalars()
    return [TimelineEntry(at=a.uploaded_at, kind="photo" if a.kind == "photo" else "document",
                          title=str(_l("Photo added") if a.kind == "photo" else _l("Document added")),
                          detail=a.caption, extra={"attachment_id": a.id}) for a in rows]


# Fields whose changes are told by other entries (moves, splits), or are bookkeeping.
_UNTOLD = {"enclosure_id", "quantity", "status", "version", "updated_at"}


@timeline_source
def _record_changes(animal: Animal, limit: int) -> list[TimelineEntry]:
    rows = db.session.execute(
        select(AuditEvent)
        .where(AuditEvent.entity_type == "Animal", AuditEvent.entity_id == str(animal.id),
               AuditEvent.action == "update")
        .order_by(AuditEvent.occurred_at.desc()).limit(limit)
    ).scalars()
    entries = []
    for event in rows:
        told = {k: v for k, v in (event.changes or {}).items() if k not in _UNTOLD}
        if told:
            detail = "; ".join(f"{k}: {v.get('old')} → {v.get('new')}" for k, v in told.items())
            entries.append(TimelineEntry(at=event.occurred_at, kind="change", title=str(_l("Record edited")),
                                         detail=detail, actor=event.actor))
    return entries
