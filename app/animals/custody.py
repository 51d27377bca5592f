"""The chain of custody of a case: hand-overs, moves, holds and audited changes, in time order.

Built in a fixed number of queries whatever the number of animals: one per kind
of record, each selecting by case (the audit rows by entity type and id, the ids
chosen in SQL), so a case of 300 confiscated turtles prints as fast as one of a
single pangolin.
"""

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import String, and_, cast, or_, select
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
from app.auth.permissions import can
from app.common.audit import AuditEvent
from app.extensions import db
from app.reference.models import Enclosure


@dataclass(frozen=True)
class Entry:
    """One line of the chain of custody: when (aware UTC), who, what happened, and its details."""

    at: datetime
    who: str
    what: str
    details: str
    source: str  # handover | move | hold | audit: which record the line comes from


def _handovers(case: Case) -> list[Entry]:
    rows = db.session.execute(
        select(CustodyHandover, Animal.accession_number, User.name)
        .outerjoin(Animal, CustodyHandover.animal_id == Animal.id)
        .outerjoin(User, CustodyHandover.recorded_by_id == User.id)
        .where(CustodyHandover.case_id == case.id)
    )
    entries = []
    for handover, accession, who in rows:
        what = _("Hand-over: %(src)s → %(dst)s", src=handover.from_party, dst=handover.to_party)
        what += f" ({accession})" if accession else " (" + _("whole case") + ")"
        details = [handover.place, handover.purpose]
        if handover.seal_ids:
            details.append(_("seals %(ids)s", ids=handover.seal_ids))
        entries.append(Entry(handover.handed_at, who or "", what, " · ".join(d for d in details if d),
                                    "handover"))
    return entries


def _moves(case: Case) -> list[Entry]:
    to_enclosure, from_enclosure = aliased(Enclosure), aliased(Enclosure)
    rows = db.session.execute(
        select(HousingMove, Animal.accession_number, from_enclosure.code, to_enclosure.code, User.name)
        .join(Animal, HousingMove.animal_id == Animal.id)
        .outerjoin(from_enclosure, HousingMove.from_enclosure_id == from_enclosure.id)
        .outerjoin(to_enclosure, HousingMove.to_enclosure_id == to_enclosure.id)
        .outerjoin(User, HousingMove.moved_by_id == User.id)
        .where(Animal.case_id == case.id)
    )
    return [Entry(move.moved_at, who or "",
                         _("Move: %(acc)s %(src)s → %(dst)s", acc=accession, src=source or "—", dst=target or "—"),
                         move.reason, "move")
            for move, accession, source, target, who in rows]


def _holds(case: Case) -> list[Entry]:
    rows = db.session.execute(
        select(EvidenceHoldChange, User.name).outerjoin(User, EvidenceHoldChange.changed_by_id == User.id)
        .where(EvidenceHoldChange.case_id == case.id)
    )
    return [Entry(change.changed_at, who or "",
                         _("Evidence hold set") if change.active else _("Evidence hold lifted"), change.reason, "hold")
            for change, who in rows]


def _as_text(column):
    return cast(column, String)


def _audit(case: Case, restricted: bool) -> list[Entry]:
    # Audit rows name their entity by its id as text; the ids are selected in SQL, not listed in Python.
    animal_ids = select(Animal.id).where(Animal.case_id == case.id).scalar_subquery()
    animal_texts = select(_as_text(Animal.id)).where(Animal.case_id == case.id)
    move_texts = select(_as_text(HousingMove.id)).where(HousingMove.animal_id.in_(animal_ids))
    identifier_texts = select(_as_text(Identifier.id)).where(Identifier.animal_id.in_(animal_ids))
    handover_texts = select(_as_text(CustodyHandover.id)).where(CustodyHandover.case_id == case.id)
    hold_texts = select(_as_text(EvidenceHoldChange.id)).where(EvidenceHoldChange.case_id == case.id)
    events = db.session.execute(
        select(AuditEvent).where(or_(
            and_(AuditEvent.entity_type == "Case", AuditEvent.entity_id == str(case.id)),
            and_(AuditEvent.entity_type == "Animal", AuditEvent.entity_id.in_(animal_texts)),
            and_(AuditEvent.entity_type == "HousingMove", AuditEvent.entity_id.in_(move_texts)),
            and_(AuditEvent.entity_type == "Identifier", AuditEvent.entity_id.in_(identifier_texts)),
            and_(AuditEvent.entity_type == "CustodyHandover", AuditEvent.entity_id.in_(handover_texts)),
            and_(AuditEvent.entity_type == "EvidenceHoldChange", AuditEvent.entity_id.in_(hold_texts)),
        )).order_by(AuditEvent.occurred_at, AuditEvent.id)
    ).scalars()
    # Accession numbers name the animals, so that a printed page reads without database ids.
    accessions = {str(i): acc for i, acc in db.session.execute(
        select(Animal.id, Animal.accession_number).where(Animal.case_id == case.id))}
    entries = []
    for event in events:
        changes = dict(event.changes or {})
        if not restricted:
            for name in Case.RESTRICTED:
                changes.pop(name, None)
        details = "; ".join(
            f"{key}: {value.get('old')} → {value.get('new')}" if isinstance(value, dict) and "new" in value
            else f"{key}: {value}"
            for key, value in changes.items()
        )
        if event.entity_type == "Case":
            label = case.reference
        elif event.entity_type == "Animal":
            label = accessions.get(event.entity_id, event.entity_id)
        else:
            label = event.entity_id
        what = _("Record %(action)s: %(entity)s %(label)s", action=event.action, entity=event.entity_type,
                 label=label)
        entries.append(Entry(event.occurred_at, event.actor, what, details, "audit"))
    return entries


def chain_of_custody(case: Case, *, restricted: bool | None = None) -> list[Entry]:
    """Every entry of the case's chain of custody, oldest first.

    `restricted`: whether the reader may see restricted case fields (by default,
    whether the current user may); if not, their values are left out of the
    audited changes too.
    """
    if restricted is None:
        restricted = can("restricted_fields.view")
    entries = _handovers(case) + _moves(case) + _holds(case) + _audit(case, restricted)
    return sorted(entries, key=lambda e: e.at)
