"""Intake and housing: cases, admissions, lots and splits, moves, holds, custody. Each flushes."""

from collections.abc import Iterable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.animals.models import (
    AgeClass,
    Animal,
    AnimalStatus,
    Case,
    CaseSource,
    CustodyHandover,
    EvidenceHoldChange,
    HousingMove,
    Identifier,
    IdentifierKind,
    IntakeCondition,
    Releasability,
    Sex,
)
from app.animals.numbers import accession_numbers, case_reference
from app.animals.signals import animal_split, animals_admitted
from app.auth.models import Facility, User
from app.auth.permissions import can
from app.common.db import utcnow
from app.common.errors import RuleError
from app.extensions import db
from app.reference.models import Enclosure, Species

Errors = dict[str, list[str]]


class IntakeError(RuleError):
    """Refused intake input. `fields` for one record; `rows` maps an intake row's index to its errors."""

    def api_fields(self) -> dict:
        if self.rows:
            return {"animals": {str(i): errs for i, errs in self.rows.items()}}
        return self.fields


class EvidenceHoldError(ValueError):
    """The animal's case is under an evidence hold: it may not leave care."""

    def __init__(self, case: Case):
        self.case = case
        super().__init__(_(
            "Case %(ref)s is under an evidence hold: its animals may not be released, transferred or "
            "euthanised until a coordinator lifts the hold.", ref=case.reference))


def _choice(errors: Errors, field: str, value, allowed) -> None:
    if value is not None and value not in {m.value for m in allowed}:
        errors[field] = [_("Must be one of: %(choices)s.", choices=", ".join(m.value for m in allowed))]


def _local_year(facility: Facility, when: datetime) -> int:
    return when.astimezone(ZoneInfo(facility.timezone)).year


# --- cases -------------------------------------------------------------------------

CASE_FIELDS = ("occurred_at", "source", "agency", "officer", "legal_reference", "province", "district", "place",
               "latitude", "longitude", "suspect_details", "reporter", "notes")


def _check_case(values: dict) -> None:
    errors: Errors = {}
    _choice(errors, "source", values.get("source"), CaseSource)
    occurred_at = values.get("occurred_at")
    if occurred_at is not None and occurred_at > utcnow():
        errors["occurred_at"] = [_("The seizure cannot be in the future.")]
    if (values.get("latitude") is None) != (values.get("longitude") is None):
        errors["latitude"] = [_("Give both latitude and longitude, or neither.")]
    if errors:
        raise IntakeError(errors)


def create_case(*, facility: Facility, user: User | None, **values) -> Case:
    """A new case with the next reference of its year (C-YYYY-NNNN)."""
    _check_case(values)
    case = Case(
        facility_id=facility.id,
        reference=case_reference(_local_year(facility, values["occurred_at"])),
        created_by_id=user.id if user else None,
        **{k: v for k, v in values.items() if k in CASE_FIELDS},
    )
    db.session.add(case)
    db.session.flush()
    return case


def update_case(case: Case, values: dict) -> Case:
    # The coordinates are checked as a pair, so one given alone is checked with the stored other.
    _check_case({"latitude": case.latitude, "longitude": case.longitude, **values})
    for key, value in values.items():
        if key in CASE_FIELDS:
            setattr(case, key, value)
    db.session.flush()
    return case


def set_evidence_hold(case: Case, *, active: bool, reason: str, user: User | None) -> EvidenceHoldChange:
    """Set or lift the hold, with a reason, kept as history. Setting it twice is refused."""
    reason = (reason or "").strip()
    if not reason:
        raise IntakeError({"reason": [_("Give the reason for setting or lifting the hold.")]})
    if case.evidence_hold == active:
        message = (_("Case %(ref)s is already under an evidence hold.", ref=case.reference) if active
                   else _("Case %(ref)s is not under an evidence hold.", ref=case.reference))
        raise IntakeError({"active": [message]})
    case.evidence_hold = active
    case.evidence_hold_since = utcnow() if active else None
    change = EvidenceHoldChange(case_id=case.id, active=active, reason=reason, changed_by_id=user.id if user else None)
    db.session.add(change)
    db.session.flush()
    return change


def review_evidence_hold(case: Case, *, reason: str, user: User | None) -> EvidenceHoldChange:
    """A coordinator confirms an active hold is still needed, with why; kept in the hold's history.

    The scheduler asks for this every HOLD_REVIEW_DAYS, so a hold is never left in place by oversight.
    """
    reason = (reason or "").strip()
    if not reason:
        raise IntakeError({"reason": [_("Say why the hold is still needed.")]})
    if not case.evidence_hold:
        raise IntakeError({"active": [_("Case %(ref)s is not under an evidence hold.", ref=case.reference)]})
    change = EvidenceHoldChange(case_id=case.id, active=True, is_review=True, reason=reason,
                                changed_by_id=user.id if user else None)
    db.session.add(change)
    db.session.flush()
    return change


def ensure_not_held(animals: Iterable[Animal]) -> None:
    """Raise EvidenceHoldError naming the first held case among these animals' cases."""
    case_ids = {a.case_id for a in animals}
    if not case_ids:
        return
    held = db.session.execute(
        select(Case).where(Case.id.in_(case_ids), Case.evidence_hold.is_(True)).order_by(Case.reference)
    ).scalars().first()
    if held is not None:
        raise EvidenceHoldError(held)


# --- admissions --------------------------------------------------------------------

def _row_errors(row: dict, case: Case, species: dict[int, Species], enclosures: dict[int, Enclosure],
                seen_identifiers: set[tuple[str, str]]) -> Errors:
    errors: Errors = {}
    if row.get("species_id") not in species:
        errors["species_id"] = [_("Choose a species from the catalogue.")]
    quantity = row.get("quantity", 1)
    if not isinstance(quantity, int) or quantity < 1:
        errors["quantity"] = [_("At least 1.")]
    elif quantity > 100_000:
        errors["quantity"] = [_("At most 100000 in one row.")]
    _choice(errors, "sex", row.get("sex"), Sex)
    _choice(errors, "age_class", row.get("age_class"), AgeClass)
    _choice(errors, "intake_condition", row.get("intake_condition"), IntakeCondition)
    weight = row.get("intake_weight_g")
    if weight is not None and (not isinstance(weight, int) or weight <= 0 or weight > 1_000_000):
        errors["intake_weight_g"] = [_("A weight in grams between 1 and 1000000.")]
    enclosure_id = row.get("enclosure_id")
    if enclosure_id is not None:
        enclosure = enclosures.get(enclosure_id)
        if enclosure is None or enclosure.facility_id != case.facility_id:
            errors["enclosure_id"] = [_("Choose an enclosure of the case's facility.")]
    identifier_errors = []
    for identifier in row.get("identifiers") or []:
        kind, value = identifier.get("kind"), (identifier.get("value") or "").strip()
        if kind not in {k.value for k in IdentifierKind} or not value:
            identifier_errors.append(_("Each identifier needs a kind (microchip, ring, tag, other) and a value."))
        elif (kind, value) in seen_identifiers:
            identifier_errors.append(_("%(kind)s %(value)s is already in use.", kind=kind, value=value))
        else:
            seen_identifiers.add((kind, value))
    if identifier_errors:
        errors["identifiers"] = identifier_errors
    return errors


def admit_animals(case: Case, rows: Sequence[dict], *, user: User | None, admitted_at: datetime | None = None
                  ) -> list[Animal]:
    """Admit every row of an intake table, or none: all rows are checked before anything is stored.

    A row with quantity 1 is an individual, more is a lot. Each record gets the
    next accession number of the year; its first housing is recorded as a move.
    """
    if not rows:
        raise IntakeError({"animals": [_("Add at least one row.")]})
    species_ids = {r.get("species_id") for r in rows if isinstance(r.get("species_id"), int)}
    enclosure_ids = {r.get("enclosure_id") for r in rows if isinstance(r.get("enclosure_id"), int)}
    species = {s.id: s for s in db.session.execute(select(Species).where(Species.id.in_(species_ids))).scalars()}
    enclosures = {e.id: e for e in db.session.execute(
        select(Enclosure).where(Enclosure.id.in_(enclosure_ids))).scalars()}
    wanted = {(i.get("kind"), (i.get("value") or "").strip()) for r in rows for i in r.get("identifiers") or []}
    taken = set()
    if wanted:
        values = {v for _, v in wanted}
        taken = {tuple(row) for row in db.session.execute(
            select(Identifier.kind, Identifier.value).where(Identifier.value.in_(values)))}
    seen = set(taken)
    row_errors = {i: errs for i, row in enumerate(rows) if (errs := _row_errors(row, case, species, enclosures, seen))}
    if row_errors:
        raise IntakeError(rows=row_errors)

    admitted_at = admitted_at or utcnow()
    facility = db.session.get(Facility, case.facility_id)
    numbers = accession_numbers(_local_year(facility, admitted_at), len(rows))
    animals = []
    for number, row in zip(numbers, rows, strict=True):
        quantity = row.get("quantity", 1)
        animal = Animal(
            accession_number=number, case_id=case.id, species_id=row["species_id"], facility_id=case.facility_id,
            enclosure_id=row.get("enclosure_id"), name=(row.get("name") or "").strip(),
            sex=row.get("sex") or (Sex.MIXED if quantity > 1 else Sex.UNKNOWN),
            age_class=row.get("age_class") or AgeClass.UNKNOWN,
            intake_condition=row.get("intake_condition") or IntakeCondition.FAIR,
            intake_weight_g=row.get("intake_weight_g"), intake_quantity=quantity, quantity=quantity,
            status=AnimalStatus.IN_CARE, releasability=Releasability.UNDETERMINED, admitted_at=admitted_at,
            identifiers=[Identifier(kind=i["kind"], value=i["value"].strip()) for i in row.get("identifiers") or []],
        )
        animals.append(animal)
    db.session.add_all(animals)
    db.session.flush()
    db.session.add_all(
        HousingMove(animal_id=a.id, to_enclosure_id=a.enclosure_id, moved_at=admitted_at, reason="Intake",
                    moved_by_id=user.id if user else None)
        for a in animals if a.enclosure_id is not None
    )
    db.session.flush()
    animals_admitted.send(animals=animals, user=user)
    return animals


ANIMAL_FIELDS = ("name", "sex", "age_class", "intake_condition", "intake_weight_g", "notes", "releasability",
                 "releasability_reason")


def update_animal(animal: Animal, values: dict) -> Animal:
    errors: Errors = {}
    _choice(errors, "sex", values.get("sex"), Sex)
    _choice(errors, "age_class", values.get("age_class"), AgeClass)
    _choice(errors, "intake_condition", values.get("intake_condition"), IntakeCondition)
    _choice(errors, "releasability", values.get("releasability"), Releasability)
    if values.get("releasability") == Releasability.NON_RELEASABLE and not str(
        values.get("releasability_reason", animal.releasability_reason) or ""
    ).strip():
        errors["releasability_reason"] = [_("Say why the animal can never be released.")]
    if errors:
        raise IntakeError(errors)
    for key, value in values.items():
        if key in ANIMAL_FIELDS:
            setattr(animal, key, value)
    db.session.flush()
    return animal


# --- housing and lots --------------------------------------------------------------

def _leaving_quarantine_early(animals: Sequence[Animal], to_enclosure: Enclosure) -> list[Animal]:
    """Animals a vet has not cleared yet that this move would take from a quarantine enclosure to another kind."""
    if to_enclosure.is_quarantine:
        return []
    uncleared = [a for a in animals if a.in_quarantine and a.enclosure_id is not None]
    if not uncleared:
        return []
    quarantine_ids = set(db.session.execute(
        select(Enclosure.id).where(Enclosure.id.in_({a.enclosure_id for a in uncleared}),
                                   Enclosure.is_quarantine.is_(True))).scalars())
    return [a for a in uncleared if a.enclosure_id in quarantine_ids]


def move_animals(animals: Sequence[Animal], to_enclosure: Enclosure, *, reason: str, user: User | None,
                 moved_at: datetime | None = None, quarantine_override: str = "") -> list[HousingMove]:
    """Move animals (all in care, all at the enclosure's facility) and record each move.

    Out of a quarantine enclosure before a vet cleared the animal only by a coordinator
    (or admin) giving quarantine_override, the reason, which the move records.
    """
    errors: Errors = {}
    quarantine_override = (quarantine_override or "").strip()
    early = _leaving_quarantine_early(animals, to_enclosure)
    if early and not (quarantine_override and (user is None or can("quarantine.override", user))):
        numbers = ", ".join(a.accession_number for a in early)
        errors["quarantine_override"] = [
            _("%(animals)s: in quarantine until a vet clears it. A coordinator may move it out early, giving "
              "the reason.", animals=numbers) if user is None or can("quarantine.override", user) else
            _("%(animals)s: in quarantine until a vet clears it. Only a coordinator may move it out early.",
              animals=numbers)]
    if any(a.status != AnimalStatus.IN_CARE for a in animals):
        errors["animals"] = [_("Only animals in care can be moved.")]
    if any(a.facility_id != to_enclosure.facility_id for a in animals):
        errors["to_enclosure_id"] = [_("The enclosure is at another facility; transfer the animal instead.")]
    if not to_enclosure.is_active:
        errors["to_enclosure_id"] = [_("This enclosure is no longer in use.")]
    if errors:
        raise IntakeError(errors)
    moved_at = moved_at or utcnow()
    moves = []
    for animal in animals:
        if animal.enclosure_id == to_enclosure.id:
            continue
        moves.append(HousingMove(animal_id=animal.id, from_enclosure_id=animal.enclosure_id,
                                 to_enclosure_id=to_enclosure.id, moved_at=moved_at, reason=reason.strip(),
                                 moved_by_id=user.id if user else None,
                                 quarantine_override=quarantine_override if animal in early else ""))
        animal.enclosure_id = to_enclosure.id
    db.session.add_all(moves)
    db.session.flush()
    return moves


def split_animal(animal: Animal, *, quantity: int, enclosure: Enclosure | None, user: User | None,
                 reason: str = "") -> Animal:
    """Split `quantity` animals off a lot into a new record (a sub-lot, or an individual).

    Quantity moves from the parent to the child: nothing is created or lost. The
    child keeps the parent's case, species and admission time, and gets its own
    accession number.
    """
    errors: Errors = {}
    if animal.status != AnimalStatus.IN_CARE:
        errors["quantity"] = [_("Only animals in care can be split.")]
    elif not isinstance(quantity, int) or not 1 <= quantity < animal.quantity:
        errors["quantity"] = [_("Between 1 and %(n)d: the lot keeps at least one animal.", n=animal.quantity - 1)]
    if enclosure is not None and enclosure.facility_id != animal.facility_id:
        errors["enclosure_id"] = [_("Choose an enclosure of the animal's facility.")]
    if errors:
        raise IntakeError(errors)
    facility = db.session.get(Facility, animal.facility_id)
    (number,) = accession_numbers(_local_year(facility, utcnow()), 1)
    target_id = enclosure.id if enclosure is not None else animal.enclosure_id
    child = Animal(
        accession_number=number, case_id=animal.case_id, species_id=animal.species_id,
        facility_id=animal.facility_id, enclosure_id=target_id, parent_id=animal.id,
        sex=animal.sex if quantity > 1 else Sex.UNKNOWN, age_class=animal.age_class,
        intake_condition=animal.intake_condition, intake_quantity=quantity, quantity=quantity,
        status=AnimalStatus.IN_CARE, releasability=animal.releasability, admitted_at=animal.admitted_at,
        quarantine_cleared_on=animal.quarantine_cleared_on, quarantine_cleared_by_id=animal.quarantine_cleared_by_id,
        quarantine_notes=animal.quarantine_notes,
        notes=f"Split from {animal.accession_number}." + (f" {reason.strip()}" if reason.strip() else ""),
    )
    animal.quantity -= quantity
    db.session.add(child)
    db.session.flush()
    if target_id is not None:
        # The new record's housing history starts with the split, like an intake's does.
        db.session.add(HousingMove(animal_id=child.id, from_enclosure_id=animal.enclosure_id,
                                   to_enclosure_id=target_id, reason=reason.strip() or
                                   f"Split from {animal.accession_number}", moved_by_id=user.id if user else None))
        db.session.flush()
    animal_split.send(parent=animal, child=child, user=user)
    return child


def split_off_total(animal_id: int) -> int:
    """How many animals were split off this record into sub-lots."""
    return db.session.execute(
        select(func.coalesce(func.sum(Animal.intake_quantity), 0)).where(Animal.parent_id == animal_id)
    ).scalar_one()


# --- custody -----------------------------------------------------------------------

def record_handover(case: Case, *, animal: Animal | None, user: User | None, **values) -> CustodyHandover:
    errors: Errors = {}
    for field in ("from_party", "to_party"):
        if not (values.get(field) or "").strip():
            errors[field] = [_("Required.")]
    if values.get("handed_at") is None:
        errors["handed_at"] = [_("Required.")]
    elif values["handed_at"] > utcnow():
        errors["handed_at"] = [_("The hand-over cannot be in the future.")]
    if animal is not None and animal.case_id != case.id:
        errors["animal_id"] = [_("This animal belongs to another case.")]
    if errors:
        raise IntakeError(errors)
    handover = CustodyHandover(case_id=case.id, animal_id=animal.id if animal else None,
                               recorded_by_id=user.id if user else None, **values)
    db.session.add(handover)
    db.session.flush()
    return handover
