"""The chain of custody of a case: hand-overs, moves, holds and audited changes, in time order.

Built in a fixed number of queries whatever the number of animals: one per kind
of record, each selecting by case.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import aliased

from app.animals.models import (
    Animal,
    Case,
    CustodyHandover,
    EvidenceHoldChange,
    HousingMove,
    Identifier,
)
from app.auth.models import User
from app.common.audit import AuditEvent
from app.extensions import db
from app.reference.models import Enclosure


@dataclass(frozen=True)
class CustodyEntry:
    at: datetime
    who: str
    what: str
    details: str


def _handovers(case: Case) -> list[CustodyEntry]:
    rows = db.session.execute(
        select(CustodyHandover, Animal.accession_number, User.name)
        .outerjoin(Animal, CustodyHandover.animal_id == Animal.id)
        .outerjoin(User, CustodyHandover.recorded_by_id == User.id)
        .where(CustodyHandover.case_id == case.id)
    )
    return [CustodyEntry(h.handed_at, who or "", f"Hand-over: {h.from_party} → {h.to_party}"
                         + (f" ({accession})" if accession else " (whole case)"),
                         " · ".join(x for x in (h.place, h.purpose, f"seals {h.seal_ids}" if h.seal_ids else "") if x))
            for h, accession, who in rows]


def _moves(case: Case) -> list[CustodyEntry]:
    to_enclosure, from_enclosure = aliased(Enclosure), aliased(Enclosure)
    rows = db.session.execute(
        select(HousingMove, Animal.accession_number, from_enclosure.code, to_enclosure.code, User.name)
        .join(Animal, HousingMove.animal_id == Animal.id)
        .outerjoin(from_enclosure, HousingMove.from_enclosure_id == from_enclosure.id)
        .outerjoin(to_enclosure, HousingMove.to_enclosure_id == to_enclosure.id)
        .outerjoin(User, HousingMove.moved_by_id == User.id)
        .where(Animal.case_id == case.id)
    )
    return [CustodyEntry(m.moved_at, who or "", f"Move: {accession} {source or '—'} → {target or '—'}", m.reason)
            for m, accession, source, target, who in rows]


def _holds(case: Case) -> list[CustodyEntry]:
    rows = db.session.execute(
        select(EvidenceHoldChange, User.name).outerjoin(User, EvidenceHoldChange.changed_by_id == User.id)
        .where(EvidenceHoldChange.case_id == case.id)
    )
    return [CustodyEntry(c.changed_at, who or "", "Evidence hold set" if c.active else "Evidence hold lifted",
                         c.reason) for c, who in rows]


def _audit(case: Case, restricted: bool) -> list[CustodyEntry]:
    # Audit rows name their entity by its id as text; the ids are selected in SQL, not in Python.
    animal_ids = select(Animal.id).where(Animal.case_id == case.id).scalar_subquery()
    animal_id_texts = select(db.cast(Animal.id, db.String)).where(Animal.case_id == case.id)
    move_ids = select(db.cast(HousingMove.id, db.String)).where(HousingMove.animal_id.in_(animal_ids))
    identifier_ids = select(db.cast(Identifier.id, db.String)).where(Identifier.animal_id.in_(animal_ids))
    handover_ids = select(db.cast(CustodyHandover.id, db.String)).where(CustodyHandover.case_id == case.id)
    hold_ids = select(db.cast(EvidenceHoldChange.id, db.String)).where(EvidenceHoldChange.case_id == case.id)
    events = db.session.execute(
        select(AuditEvent).where(or_(
            and_(AuditEvent.entity_type == "Case", AuditEvent.entity_id == str(case.id)),
            and_(AuditEvent.entity_type == "Animal", AuditEvent.entity_id.in_(animal_id_texts)),
            and_(AuditEvent.entity_type == "HousingMove", AuditEvent.entity_id.in_(move_ids)),
            and_(AuditEvent.entity_type == "Identifier", AuditEvent.entity_id.in_(identifier_ids)),
            and_(AuditEvent.entity_type == "CustodyHandover", AuditEvent.entity_id.in_(handover_ids)),
            and_(AuditEvent.entity_type == "EvidenceHoldChange", AuditEvent.entity_id.in_(hold_ids)),
        ))
    ).scalars()
    entries = []
    for event in events:
        changes = dict(event.changes or {})
        if not restricted:
            for name in Case.RESTRICTED:
                changes.pop(name, None)
        details = "; ".join(
            f"{k}: {v.get('old')} → {v.get('new')}" if isinstance(v, dict) and "new" in v else f"{k}: {v}"
            for k, v in changes.items()
        )
        entries.append(CustodyEntry(event.occurred_at, event.actor,
                                    f"Record {event.action}: {event.entity_type} {event.entity_id}", details))
    return entries


def chain_of_custody(case: Case, *, restricted: bool) -> list[CustodyEntry]:
    """Every entry of the case's chain of custody, oldest first. `restricted`: may see restricted fields."""
    entries = _handovers(case) + _moves(case) + _holds(case) + _audit(case, restricted)
    return sorted(entries, key=lambda e: e.at)
