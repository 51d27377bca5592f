"""Animals leaving care: one outcome takes its count off the record's quantity. Flushes; callers commit.

Each kind's own rules (who may record a euthanasia, evidence holds, release plans)
are checked by the domain that records it (vet, releases); this module keeps the
one invariant they share: intake_quantity == quantity + outcomes + split off, and
a record whose quantity reaches 0 has left care.
"""

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from app.animals.models import Animal, AnimalStatus, Outcome, OutcomeKind
from app.animals.services import IntakeError
from app.animals.signals import animal_outcome
from app.auth.models import User
from app.common.db import utcnow
from app.extensions import db

# Details a caller may store with an outcome.
DETAIL_FIELDS = ("cause", "necropsy_findings", "reason", "authorised_by_id", "hold_override_reason",
                 "hold_override_by_id", "institution", "country", "permit_numbers", "notes")


def check_count(animal: Animal, count) -> int:
    """The number leaving: 1 for an individual, 1..quantity for a lot."""
    if count is None and not animal.is_lot:
        return 1
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= animal.quantity:
        raise IntakeError({"count": [_("Between 1 and %(n)d animals.", n=animal.quantity)]})
    return count


def check_occurred_at(animal: Animal, occurred_at: datetime | None, now: datetime) -> datetime:
    if occurred_at is None:
        raise IntakeError({"occurred_at": [_("Give the date and time.")]})
    if occurred_at.tzinfo is None:
        raise IntakeError({"occurred_at": [_("Give the time with its time zone.")]})
    if occurred_at > now:
        raise IntakeError({"occurred_at": [_("This time is in the future.")]})
    if occurred_at < animal.admitted_at:
        raise IntakeError({"occurred_at": [_("This is before the animal was admitted.")]})
    return occurred_at


def record_outcome(animal: Animal, *, kind: str, count: int | None, occurred_at: datetime | None,
                   user: User | None, now: datetime | None = None, **details) -> Outcome:
    """Take `count` animals off the record for good; at 0 its status becomes the outcome's kind.

    Listeners (care, vet) run in the same transaction.

    The record is re-read under a row lock (PostgreSQL; SQLite writes one at a time),
    so two outcomes recorded at once for the last animals of a lot cannot both succeed.
    """
    now = now or utcnow()
    if kind not in set(OutcomeKind):
        raise IntakeError({"kind": [_("Choose how the animals left care.")]})
    # Lock the row with a plain SELECT (the animal may have been read with outer-joined
    # relations, which FOR UPDATE refuses), then read its current quantity.
    db.session.execute(select(Animal.id).where(Animal.id == animal.id).with_for_update())
    db.session.refresh(animal)
    if animal.status != AnimalStatus.IN_CARE:
        raise IntakeError({"animal": [_("%(animal)s has already left care.", animal=animal.accession_number)]})
    count = check_count(animal, count)
    occurred_at = check_occurred_at(animal, occurred_at, now)
    animal.quantity -= count
    if animal.quantity == 0:
        animal.status = AnimalStatus(kind)  # the record says how its last animals left
    outcome = Outcome(animal_id=animal.id, facility_id=animal.facility_id, kind=kind, count=count,
                      occurred_at=occurred_at, recorded_at=now, recorded_by_id=user.id if user else None,
                      **{k: v for k, v in details.items() if k in DETAIL_FIELDS and v is not None})
    db.session.add(outcome)
    db.session.flush()
    animal_outcome.send(animal=animal, outcome=outcome, user=user)
    return outcome


def outcomes_of(animal_id: int) -> list[Outcome]:
    """An animal record's outcomes, oldest first (a record has a handful at most)."""
    return list(db.session.execute(
        select(Outcome).where(Outcome.animal_id == animal_id).order_by(Outcome.occurred_at, Outcome.id)
    ).scalars())
