"""Changes to facilities, enclosures and species. Each flushes; the caller commits."""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import gettext as _
from sqlalchemy import select

from app.auth.models import Facility, FacilityKind
from app.common.errors import RuleError
from app.extensions import db
from app.reference.models import CitesAppendix, Enclosure, EnclosureKind, IucnStatus, KhCategory, Species, TaxonClass


class ReferenceError(RuleError):
    """A change refused by a reference-data rule."""


def _check_choice(errors: dict, field: str, value, allowed) -> None:
    if value is not None and value not in {m.value for m in allowed}:
        errors[field] = [_("Must be one of: %(choices)s.", choices=", ".join(m.value for m in allowed))]


def _check_timezone(errors: dict, value: str | None) -> None:
    if value is None:
        return
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        errors["timezone"] = [_("Unknown time zone; use an IANA name such as Asia/Phnom_Penh.")]


def _apply(obj, values: dict) -> None:
    for key, value in values.items():
        setattr(obj, key, value)


def create_facility(*, code: str, name: str, kind: str = FacilityKind.RESCUE_CENTRE, province: str = "",
                    timezone: str = "Asia/Phnom_Penh") -> Facility:
    errors: dict[str, list[str]] = {}
    _check_choice(errors, "kind", kind, FacilityKind)
    _check_timezone(errors, timezone)
    code = code.strip().upper()
    if db.session.execute(select(Facility.id).where(Facility.code == code)).first():
        errors["code"] = [_("A facility with this code already exists.")]
    if errors:
        raise ReferenceError(errors)
    facility = Facility(code=code, name=name.strip(), kind=kind, province=province, timezone=timezone)
    db.session.add(facility)
    db.session.flush()
    return facility


def update_facility(facility: Facility, values: dict) -> Facility:
    errors: dict[str, list[str]] = {}
    _check_choice(errors, "kind", values.get("kind"), FacilityKind)
    _check_timezone(errors, values.get("timezone"))
    if errors:
        raise ReferenceError(errors)
    _apply(facility, values)
    db.session.flush()
    return facility


def _check_enclosure(values: dict, enclosure: Enclosure | None = None) -> None:
    errors: dict[str, list[str]] = {}
    _check_choice(errors, "kind", values.get("kind"), EnclosureKind)
    facility_id = values.get("facility_id", enclosure.facility_id if enclosure else None)
    code = values.get("code", enclosure.code if enclosure else None)
    if "facility_id" in values and db.session.get(Facility, facility_id) is None:
        errors["facility_id"] = [_("Unknown facility.")]
    clash = select(Enclosure.id).where(Enclosure.facility_id == facility_id, Enclosure.code == code)
    if enclosure is not None:
        clash = clash.where(Enclosure.id != enclosure.id)
    if code and db.session.execute(clash).first():
        errors["code"] = [_("This facility already has an enclosure with this code.")]
    if values.get("capacity") is not None and values["capacity"] < 0:
        errors["capacity"] = [_("Capacity cannot be negative.")]
    if errors:
        raise ReferenceError(errors)


def create_enclosure(**values) -> Enclosure:
    _check_enclosure(values)
    enclosure = Enclosure(**values)
    db.session.add(enclosure)
    db.session.flush()
    return enclosure


def update_enclosure(enclosure: Enclosure, values: dict) -> Enclosure:
    _check_enclosure(values, enclosure)
    _apply(enclosure, values)
    db.session.flush()
    return enclosure


def delete_enclosure(enclosure: Enclosure) -> None:
    """Delete an enclosure. The database refuses (IntegrityError) when animals or moves refer to it:
    housing history is evidence, so such an enclosure can only be deactivated (is_active)."""
    db.session.delete(enclosure)
    db.session.flush()


def _check_species(values: dict, species: Species | None = None) -> None:
    errors: dict[str, list[str]] = {}
    _check_choice(errors, "taxon_class", values.get("taxon_class"), TaxonClass)
    _check_choice(errors, "iucn_status", values.get("iucn_status"), IucnStatus)
    _check_choice(errors, "cites_appendix", values.get("cites_appendix"), CitesAppendix)
    _check_choice(errors, "kh_category", values.get("kh_category"), KhCategory)
    name = values.get("scientific_name")
    if name:
        clash = select(Species.id).where(Species.scientific_name == name)
        if species is not None:
            clash = clash.where(Species.id != species.id)
        if db.session.execute(clash).first():
            errors["scientific_name"] = [_("This species is already in the catalogue.")]
    if values.get("quarantine_days") is not None and not 0 <= values["quarantine_days"] <= 365:
        errors["quarantine_days"] = [_("Between 0 and 365 days.")]
    if values.get("expected_stay_days") is not None and not 1 <= values["expected_stay_days"] <= 3650:
        errors["expected_stay_days"] = [_("Between 1 and 3650 days, or empty.")]
    if errors:
        raise ReferenceError(errors)


def create_species(**values) -> Species:
    _check_species(values)
    species = Species(**values)
    db.session.add(species)
    db.session.flush()
    return species


def update_species(species: Species, values: dict) -> Species:
    _check_species(values, species)
    _apply(species, values)
    db.session.flush()
    return species


def delete_species(species: Species) -> None:
    db.session.delete(species)
    db.session.flush()
