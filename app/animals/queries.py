"""Reads of cases and animals, limited to the current user's facilities."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import abort
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from app.animals.models import (
    LEFT_CARE,
    Animal,
    AnimalStatus,
    Attachment,
    Case,
    CustodyHandover,
    EvidenceHoldChange,
    HousingMove,
    Identifier,
)
from app.auth.permissions import facility_clause, may_see_facility
from app.common.text import fold
from app.extensions import db
from app.reference.models import Enclosure, Species


def _or_404(row):
    if row is None or not may_see_facility(row.facility_id):
        abort(404)
    return row


# --- cases -------------------------------------------------------------------------

def cases_stmt(*, q: str | None = None, facility_id: int | None = None, held: bool | None = None) -> Select:
    """Cases at the user's facilities, newest first, with their facility."""
    stmt = (select(Case).options(joinedload(Case.facility)).where(facility_clause(Case.facility_id))
            .order_by(Case.occurred_at.desc(), Case.id.desc()))
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(Case.reference.ilike(like), Case.legal_reference.ilike(like),
                              Case.agency.ilike(like), Case.place.ilike(like)))
    if facility_id is not None:
        stmt = stmt.where(Case.facility_id == facility_id)
    if held is not None:
        stmt = stmt.where(Case.evidence_hold.is_(held))
    return stmt


def get_case(case_id: int) -> Case:
    """A case the user may see (facility loaded), or 404."""
    stmt = select(Case).options(joinedload(Case.facility)).where(Case.id == case_id)
    return _or_404(db.session.execute(stmt).scalar_one_or_none())


def case_animals(case_id: int) -> list[Animal]:
    """Every animal record of a case with species, enclosure, case and identifiers (two queries)."""
    return list(db.session.execute(
        select(Animal).where(Animal.case_id == case_id)
        .options(joinedload(Animal.species), joinedload(Animal.enclosure), joinedload(Animal.case),
                 selectinload(Animal.identifiers))
        .order_by(Animal.accession_number)
    ).unique().scalars())


def case_animal_counts(case_ids: list[int]) -> dict[int, tuple[int, int]]:
    """{case id: (records, animals in care)} for many cases in one GROUP BY."""
    if not case_ids:
        return {}
    rows = db.session.execute(
        select(Animal.case_id, func.count(Animal.id), func.coalesce(func.sum(Animal.quantity), 0))
        .where(Animal.case_id.in_(case_ids)).group_by(Animal.case_id)
    )
    return {case_id: (records, in_care) for case_id, records, in_care in rows}


def hold_history(case_id: int) -> list[EvidenceHoldChange]:
    return list(db.session.execute(
        select(EvidenceHoldChange).options(joinedload(EvidenceHoldChange.changed_by))
        .where(EvidenceHoldChange.case_id == case_id).order_by(EvidenceHoldChange.changed_at.desc())
    ).scalars())


def case_handovers(case_id: int) -> list[CustodyHandover]:
    return list(db.session.execute(
        select(CustodyHandover).options(joinedload(CustodyHandover.animal))
        .where(CustodyHandover.case_id == case_id).order_by(CustodyHandover.handed_at)
    ).scalars())


def attachments_of(*, case_id: int | None = None, animal_id: int | None = None) -> list[Attachment]:
    stmt = select(Attachment).order_by(Attachment.uploaded_at.desc())
    stmt = stmt.where(Attachment.case_id == case_id) if case_id else stmt.where(Attachment.animal_id == animal_id)
    return list(db.session.execute(stmt).scalars())


# --- animals -----------------------------------------------------------------------

@dataclass
class AnimalFilters:
    facility_id: int | None = None
    species_id: int | None = None
    status: str | None = AnimalStatus.IN_CARE.value
    enclosure_id: int | None = None
    case_id: int | None = None
    q: str | None = None
    admitted_from: date | None = None
    admitted_to: date | None = None
    quarantine: bool | None = None
    held: bool | None = None
    sort: str = "-admitted"


SORTS = {
    "accession": (Animal.accession_number,),
    "-accession": (Animal.accession_number.desc(),),
    "admitted": (Animal.admitted_at, Animal.id),
    "-admitted": (Animal.admitted_at.desc(), Animal.id.desc()),
    "species": (Species.common_name_en, Animal.accession_number),
    "enclosure": (Enclosure.code, Animal.accession_number),
    "quantity": (Animal.quantity.desc(), Animal.accession_number),
}


def animals_stmt(filters: AnimalFilters, *, tz=None) -> Select:
    """Animals at the user's facilities: species, enclosure and case joined; identifiers in one more SELECT."""
    stmt = (
        select(Animal)
        .join(Animal.species)
        .join(Animal.case)
        .outerjoin(Animal.enclosure)
        .options(joinedload(Animal.species), joinedload(Animal.enclosure), joinedload(Animal.case),
                 selectinload(Animal.identifiers))
        .where(facility_clause(Animal.facility_id))
    )
    f = filters
    for column, value in ((Animal.facility_id, f.facility_id), (Animal.species_id, f.species_id),
                          (Animal.enclosure_id, f.enclosure_id), (Animal.case_id, f.case_id)):
        if value is not None:
            stmt = stmt.where(column == value)
    if f.status == LEFT_CARE:
        stmt = stmt.where(Animal.status != AnimalStatus.IN_CARE)
    elif f.status:
        stmt = stmt.where(Animal.status == f.status)
    if f.q and f.q.strip():
        text = f.q.strip()
        like = f"%{text}%"
        identifier_match = select(Identifier.animal_id).where(Identifier.value.ilike(like))
        stmt = stmt.where(or_(Animal.accession_number.ilike(like), Animal.name.ilike(like),
                              Animal.id.in_(identifier_match), Species.search_text.like(f"%{fold(text)}%")))
    if f.admitted_from:
        stmt = stmt.where(Animal.admitted_at >= _start_of(f.admitted_from, tz))
    if f.admitted_to:
        stmt = stmt.where(Animal.admitted_at < _start_of(f.admitted_to + timedelta(days=1), tz))
    if f.quarantine is not None:
        # In quarantine until a vet clears it, wherever the animal is housed.
        uncleared = Animal.quarantine_cleared_on.is_(None) & (Animal.status == AnimalStatus.IN_CARE)
        stmt = stmt.where(uncleared if f.quarantine else ~uncleared)
    if f.held is not None:
        stmt = stmt.where(Case.evidence_hold.is_(f.held))
    return stmt.order_by(*SORTS.get(f.sort, SORTS["-admitted"]))


def _start_of(day: date, tz) -> datetime:
    from datetime import UTC

    return datetime.combine(day, time.min, tzinfo=tz or UTC)


def get_animal(animal_id: int) -> Animal:
    """One animal the user may see with species, enclosure, case and identifiers, or 404."""
    stmt = (select(Animal).where(Animal.id == animal_id)
            .options(joinedload(Animal.species), joinedload(Animal.enclosure), joinedload(Animal.case),
                     joinedload(Animal.parent), selectinload(Animal.identifiers)))
    return _or_404(db.session.execute(stmt).unique().scalar_one_or_none())


def get_animal_columns(animal_id: int) -> Animal:
    """One animal the user may see with no relation loaded (one small query), or 404.

    For writes that need only the animal's own columns (its facility, status,
    quantity), such as a care log posted from a tablet many times a minute.
    """
    return _or_404(db.session.get(Animal, animal_id))


def animals_by_ids(ids: list[int]) -> list[Animal]:
    """Animals the user may see among `ids` (others are left out), with their case."""
    if not ids:
        return []
    return list(db.session.execute(
        select(Animal).options(joinedload(Animal.case))
        .where(Animal.id.in_(ids), facility_clause(Animal.facility_id)).order_by(Animal.id)
    ).scalars())


def enclosure_occupants(enclosure_id: int) -> list[Animal]:
    return list(db.session.execute(
        select(Animal).options(joinedload(Animal.species))
        .where(Animal.enclosure_id == enclosure_id, Animal.status == AnimalStatus.IN_CARE)
        .order_by(Animal.accession_number)
    ).scalars())


def occupancy(enclosure_ids: list[int]) -> dict[int, int]:
    """{enclosure id: animals in care there} in one GROUP BY."""
    if not enclosure_ids:
        return {}
    rows = db.session.execute(
        select(Animal.enclosure_id, func.sum(Animal.quantity))
        .where(Animal.enclosure_id.in_(enclosure_ids), Animal.status == AnimalStatus.IN_CARE)
        .group_by(Animal.enclosure_id)
    )
    return {enclosure_id: int(total) for enclosure_id, total in rows}


def housing_history(animal_id: int, limit: int = 50) -> list[HousingMove]:
    return list(db.session.execute(
        select(HousingMove)
        .options(joinedload(HousingMove.from_enclosure), joinedload(HousingMove.to_enclosure))
        .where(HousingMove.animal_id == animal_id).order_by(HousingMove.moved_at.desc()).limit(limit)
    ).scalars())


@dataclass(frozen=True)
class Census:
    records: int
    animals: int
    held_cases: int


def census() -> Census:
    """Records and animals in care, and cases under an evidence hold, at the user's facilities (two queries)."""
    records, animals = db.session.execute(
        select(func.count(Animal.id), func.coalesce(func.sum(Animal.quantity), 0))
        .where(Animal.status == AnimalStatus.IN_CARE, facility_clause(Animal.facility_id))
    ).one()
    held = db.session.execute(
        select(func.count(Case.id)).where(Case.evidence_hold.is_(True), facility_clause(Case.facility_id))
    ).scalar_one()
    return Census(records=records, animals=int(animals), held_cases=held)
