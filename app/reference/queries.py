"""Reads of facilities, enclosures and species, limited to what the current user may see."""

from flask import abort
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from app.auth.models import Facility
from app.auth.permissions import facility_clause, may_see_facility
from app.common.text import fold
from app.extensions import db
from app.reference.models import Enclosure, Species


def facilities_stmt() -> Select:
    """Facilities the current user belongs to (all of them for network-wide staff)."""
    return select(Facility).where(facility_clause(Facility.id)).order_by(Facility.code)


def visible_facilities() -> list[Facility]:
    """The facilities the current user may see, by code (for facility pickers on forms)."""
    return list(db.session.execute(facilities_stmt()).scalars())


def get_facility(facility_id: int) -> Facility:
    """A facility the user may see, or 404 (its existence is not theirs to know)."""
    facility = db.session.get(Facility, facility_id)
    if facility is None or not may_see_facility(facility.id):
        abort(404)
    return facility


def enclosures_stmt(*, facility_id: int | None = None, quarantine: bool | None = None,
                    include_inactive: bool = False) -> Select:
    """Enclosures at the user's facilities, with their facility eager-loaded (one JOIN)."""
    stmt = (
        select(Enclosure)
        .options(joinedload(Enclosure.facility))
        .where(facility_clause(Enclosure.facility_id))
        .order_by(Enclosure.facility_id, Enclosure.section, Enclosure.code)
    )
    if facility_id is not None:
        stmt = stmt.where(Enclosure.facility_id == facility_id)
    if quarantine is not None:
        stmt = stmt.where(Enclosure.is_quarantine.is_(quarantine))
    if not include_inactive:
        stmt = stmt.where(Enclosure.is_active.is_(True))
    return stmt


def get_enclosure(enclosure_id: int) -> Enclosure:
    """An enclosure at one of the user's facilities, facility loaded, or 404."""
    enclosure = db.session.execute(
        select(Enclosure).options(joinedload(Enclosure.facility)).where(Enclosure.id == enclosure_id)
    ).scalar_one_or_none()
    if enclosure is None or not may_see_facility(enclosure.facility_id):
        abort(404)
    return enclosure


def species_stmt(q: str | None = None, taxon_class: str | None = None) -> Select:
    """Species matching q in any of the three names (case- and Latin-accent-insensitive)."""
    stmt = select(Species).order_by(Species.common_name_en)
    if q and q.strip():
        folded = fold(q)
        escaped = folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(Species.search_text.like(f"%{escaped}%", escape="\\"))
        # Names that start with what was typed come first.
        stmt = stmt.order_by(None).order_by(
            Species.search_text.like(f"{escaped}%", escape="\\").desc(), Species.common_name_en
        )
    if taxon_class:
        stmt = stmt.where(Species.taxon_class == taxon_class)
    return stmt


def get_species(species_id: int) -> Species:
    return db.get_or_404(Species, species_id)
