"""Animals leaving for another facility of the network, or out of it; escapes. Each flushes.

Within the network the record moves with the animals (its history stays whole) and a
custody hand-over is recorded; part of a lot is split off first. Out of the network
(a zoo, a sanctuary abroad) is a `transferred` outcome with the receiving
institution, its country and the permit numbers (CITES and national). Neither is
allowed under an evidence hold: the animals are evidence until a coordinator lifts it.
"""

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import update

from app.animals.models import Animal, AnimalStatus, Case, CustodyHandover, HousingMove, Outcome, OutcomeKind
from app.animals.outcomes import record_outcome
from app.animals.services import split_animal
from app.animals.signals import animal_transferred
from app.auth.models import Facility, User
from app.common.db import utcnow
from app.extensions import db
from app.releases.models import Assessment, Transfer
from app.releases.services import HoldError, ReleaseError, check_facility


def _not_held(animal: Animal) -> None:
    case = db.session.get(Case, animal.case_id)
    if case.evidence_hold:
        raise HoldError({"animal": [_("Case %(case)s is under an evidence hold: its animals may not leave.",
                                      case=case.reference)]})


def _in_care(animal: Animal) -> None:
    if animal.status != AnimalStatus.IN_CARE:
        raise ReleaseError({"animal": [_("%(animal)s has left care.", animal=animal.accession_number)]})


def transfer_within_network(animal: Animal, *, to_facility: Facility, user: User | None, count: int | None = None,
                            reason: str = "", handed_to: str = "", transferred_at: datetime | None = None,
                            now: datetime | None = None) -> Transfer:
    """Move an animal record (or `count` of a lot, split off first) to another facility, with its custody."""
    now = now or utcnow()
    transferred_at = transferred_at or now
    _in_care(animal)
    check_facility(user, animal.facility_id)
    _not_held(animal)
    errors = {}
    if to_facility.id == animal.facility_id:
        errors["to_facility_id"] = [_("The animal is at this facility already.")]
    elif not to_facility.is_active:
        errors["to_facility_id"] = [_("This facility is closed.")]
    if count is not None and (not isinstance(count, int) or isinstance(count, bool)
                              or not 1 <= count <= animal.quantity):
        errors["count"] = [_("Between 1 and %(n)d animals.", n=animal.quantity)]
    if transferred_at.tzinfo is None or transferred_at > now:
        errors["transferred_at"] = [_("Give a time that is not in the future, with its time zone.")]
    elif transferred_at < animal.admitted_at:
        errors["transferred_at"] = [_("This is before the animal was admitted.")]
    if errors:
        raise ReleaseError(errors)
    if count is not None and count < animal.quantity:
        animal = split_animal(animal, quantity=count, enclosure=None, user=user,
                              reason=_("Transfer to %(facility)s", facility=to_facility.code))
    from_facility = db.session.get(Facility, animal.facility_id)
    handover = CustodyHandover(case_id=animal.case_id, animal_id=animal.id, from_party=from_facility.name,
                               to_party=(handed_to or "").strip() or to_facility.name, handed_at=transferred_at,
                               purpose=_("Transfer within the network"), recorded_by_id=user.id if user else None,
                               recorded_at=now)
    db.session.add(handover)
    db.session.flush()
    transfer = Transfer(animal_id=animal.id, from_facility_id=from_facility.id, to_facility_id=to_facility.id,
                        transferred_at=transferred_at, reason=(reason or "").strip(), handover_id=handover.id,
                        recorded_by_id=user.id if user else None, recorded_at=now)
    if animal.enclosure_id is not None:
        # Its housing history ends at the old facility; the receiving team houses it on arrival.
        db.session.add(HousingMove(animal_id=animal.id, from_enclosure_id=animal.enclosure_id, to_enclosure_id=None,
                                   moved_at=transferred_at, moved_by_id=user.id if user else None,
                                   reason=_("Transfer to %(facility)s", facility=to_facility.code)))
    animal.facility_id = to_facility.id
    animal.enclosure_id = None
    db.session.add(transfer)
    db.session.execute(update(Assessment).where(Assessment.animal_id == animal.id)
                       .values(facility_id=to_facility.id).execution_options(synchronize_session=False))
    db.session.flush()
    animal_transferred.send(animal=animal, from_facility_id=from_facility.id, user=user)
    return transfer


def transfer_out(animal: Animal, *, user: User | None, occurred_at: datetime | None, count: int | None = None,
                 institution: str = "", country: str = "", permit_numbers: str = "", notes: str = "",
                 now: datetime | None = None) -> Outcome:
    """Animals handed to an institution outside the network: a transferred outcome with its permits."""
    _in_care(animal)
    check_facility(user, animal.facility_id)
    _not_held(animal)
    errors = {}
    for field, value in (("institution", institution), ("country", country), ("permit_numbers", permit_numbers)):
        if not (value or "").strip():
            errors[field] = [_("Required for a transfer out of the network.")]
    if errors:
        raise ReleaseError(errors)
    return record_outcome(animal, kind=OutcomeKind.TRANSFERRED, count=count, occurred_at=occurred_at, user=user,
                          now=now, institution=institution.strip(), country=country.strip(),
                          permit_numbers=permit_numbers.strip(), notes=(notes or "").strip())


def record_escape(animal: Animal, *, user: User | None, occurred_at: datetime | None, count: int | None = None,
                  notes: str = "", now: datetime | None = None) -> Outcome:
    """Animals that escaped: they leave care (a recapture is a new intake)."""
    check_facility(user, animal.facility_id)
    return record_outcome(animal, kind=OutcomeKind.ESCAPED, count=count, occurred_at=occurred_at, user=user, now=now,
                          notes=(notes or "").strip())
